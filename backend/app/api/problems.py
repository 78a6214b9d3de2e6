"""Our typed errors as transport statuses: one table, used by REST (HTTP status, problem+json) and gRPC (status
code). The message is the command line's one line (:func:`app.core.errors.one_line`), so a refusal reads the same
whichever interface shows it. Classes decide, never message text; the most specific class listed wins.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.core import errors as e

PROBLEM_BASE = "https://dawsos.dev/problems/"


@dataclass(frozen=True)
class Problem:
    """``status`` (HTTP), ``grpc`` (a ``grpc.StatusCode`` name), ``slug`` (the problem type) and ``title``."""

    status: int
    grpc: str
    slug: str
    title: str

    @property
    def type(self) -> str:
        return PROBLEM_BASE + self.slug


#: most specific first: the first class ``isinstance`` matches decides
PROBLEMS: tuple[tuple[type[BaseException], Problem], ...] = (
    (e.NotAuthenticatedError, Problem(401, "UNAUTHENTICATED", "not-authenticated", "Not authenticated")),
    (e.PermissionDeniedError, Problem(403, "PERMISSION_DENIED", "not-permitted", "Not permitted")),
    (e.NotImplementedYetError, Problem(501, "UNIMPLEMENTED", "not-implemented", "Not implemented yet")),
    (e.NotFoundError, Problem(404, "NOT_FOUND", "not-found", "Not found")),
    (e.DeadlineExceededError, Problem(504, "DEADLINE_EXCEEDED", "deadline-exceeded", "Deadline exceeded")),
    (e.DatabaseUnavailableError, Problem(503, "UNAVAILABLE", "database-unavailable", "Database unavailable")),
    (e.IdempotencyConflictError, Problem(422, "INVALID_ARGUMENT", "idempotency-key-reused",
                                         "Idempotency-Key reused with another body")),
    (e.InputError, Problem(422, "INVALID_ARGUMENT", "invalid-input", "Invalid input")),
    (e.InfeasiblePolicyError, Problem(422, "FAILED_PRECONDITION", "infeasible-policy", "Infeasible policy")),
    (e.DomainRefusal, Problem(409, "FAILED_PRECONDITION", "refused", "Refused")),
    (e.SolverError, Problem(422, "FAILED_PRECONDITION", "solver-failed", "The solver failed")),
)

INTERNAL = Problem(500, "INTERNAL", "internal", "Internal error")


def problem_of(exc: BaseException) -> Problem:
    """The transport status of ``exc`` (INTERNAL for anything that is not one of our typed errors)."""
    for cls, problem in PROBLEMS:
        if isinstance(exc, cls):
            return problem
    return INTERNAL
