"""One exception tree, grouped by cause.

Every error carries a one-line message that names the field, file or value at fault.
Interfaces map *classes* to exit codes (``exit_code``), never message text:

* :class:`InputError` (exit 2) — the caller gave us something malformed.
* :class:`DomainRefusal` (exit 3) — well-formed request the domain refuses
  (unknown pack, sealed pack, infeasible policy with ``strict``...).
* :class:`SolverError` (exit 4) — a numerical solve failed.
"""

from __future__ import annotations

from typing import Any


class DawsosError(Exception):
    """Base of every error we raise on purpose."""

    exit_code: int = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:  # one line, always
        return " ".join(self.message.split("\n"))


def exit_code_of(exc: BaseException) -> int:
    """The exit code of ``exc`` (DESIGN.md: 2 input, 3 refusal, 4 solver; 1 anything else)."""
    return exc.exit_code if isinstance(exc, DawsosError) else 1


def one_line(exc: BaseException) -> str:
    """The one line every interface shows for ``exc``: ``refused: <message>`` for a domain refusal (exit 3),
    ``error: <message>`` otherwise (the command line's stderr line; the service's problem ``detail``)."""
    kind = "refused" if exit_code_of(exc) == 3 else "error"
    return f"{kind}: {exc}"


# ---- bad input (exit 2) -------------------------------------------------------------------------
class InputError(DawsosError):
    """The caller's input is malformed."""

    exit_code = 2


class NoRiskModelError(InputError):
    """No risk model can be estimated for a rebalance (too little price history, gaps): the engine refuses
    rather than make a covariance up."""

    def __init__(self, reason: str, *, pricing_pack_id: str | None = None) -> None:
        self.reason = reason
        self.pricing_pack_id = pricing_pack_id
        where = f" on pricing pack {pricing_pack_id!r}" if pricing_pack_id else ""
        super().__init__(f"no risk model{where}: {reason}; the trade engine does not make a covariance up "
                         "(use a pack with more history or a shorter lookback_days)")


class JsonFileError(InputError):
    """A JSON input file (rebalancing settings, weights, lots...) fails validation.
    Message: ``file: json.path: problem (value=...)``."""

    def __init__(self, file: str, path: str, problem: str, value: Any = None) -> None:
        self.file, self.path, self.problem, self.value = file, path, problem, value
        where = f"{file}: {path}" if path else file
        shown = f" (value={value!r})" if value is not None else ""
        super().__init__(f"{where}: {problem}{shown}")


class SeedFileError(JsonFileError):
    """A seed file fails validation (message as :class:`JsonFileError`)."""


class PriceFileError(InputError):
    """A price CSV fails validation. Message: ``file: row/column: problem (value=...)``."""

    def __init__(self, file: str, where: str, problem: str, value: Any = None) -> None:
        self.file, self.where, self.problem, self.value = file, where, problem, value
        shown = f" (value={value!r})" if value is not None else ""
        loc = f"{file}: {where}" if where else file
        super().__init__(f"{loc}: {problem}{shown}")


class ScenarioError(InputError):
    """A scenario file fails validation."""


class ArgumentError(InputError):
    """A capability or CLI argument is missing, unknown or of the wrong type."""


class ConfigurationError(InputError):
    """Settings are invalid (bad DATABASE_URL, missing seed folder...)."""


class DatabaseUnavailableError(ConfigurationError):
    """``DATABASE_URL`` names a database that cannot be used: no such file or PostgreSQL database, a refused
    port, a file that is not SQLite. Message: ``DATABASE_URL <url>: <problem>`` (password hidden)."""

    def __init__(self, url: str, problem: str) -> None:
        self.url, self.problem = url, problem
        super().__init__(f"DATABASE_URL {url}: {problem}")


# ---- domain refusals (exit 3) -------------------------------------------------------------------
class DomainRefusal(DawsosError):
    """A well-formed request that the domain refuses."""

    exit_code = 3


class NotFoundError(DomainRefusal):
    """Something named by id does not exist."""

    kind = "object"

    def __init__(self, identifier: str, hint: str = "") -> None:
        self.identifier = identifier
        extra = f"; {hint}" if hint else ""
        super().__init__(f"unknown {self.kind} {identifier!r}{extra}")


class UnknownPolicyError(NotFoundError):
    kind = "policy"


class UnknownPortfolioError(NotFoundError):
    kind = "portfolio"


class UnknownSecurityError(NotFoundError):
    kind = "security"


class UnknownProposalError(NotFoundError):
    kind = "proposal"


class PricingPackError(DomainRefusal):
    """The pricing pack cannot be used for this call (missing from the context, unsealed...)."""


class UnknownPricingPackError(NotFoundError, PricingPackError):
    """No pack with this id (also a PricingPackError: the pack guard's refusals share one base)."""

    kind = "pricing pack"


class SealedPackError(DomainRefusal):
    """An attempt to change a sealed (immutable) pricing pack."""

    def __init__(self, pack_id: str) -> None:
        self.pack_id = pack_id
        super().__init__(f"pricing pack {pack_id!r} is sealed: its prices cannot be added, changed or removed")


class DuplicatePackError(DomainRefusal):
    def __init__(self, pack_id: str) -> None:
        self.pack_id = pack_id
        super().__init__(f"pricing pack {pack_id!r} already exists; packs are immutable, choose a new id")


class InfeasiblePolicyError(DomainRefusal):
    """Raised with ``strict=True`` when a policy limit cannot hold; carries the constraint report."""

    def __init__(self, message: str, report: Any = None) -> None:
        self.report = report
        super().__init__(message)


# ---- numerical failure (exit 4) -----------------------------------------------------------------
class SolverError(DawsosError):
    """A convex solve failed or returned an unusable status."""

    exit_code = 4

    def __init__(self, message: str, *, stage: str = "", tried: list[str] | None = None) -> None:
        self.stage = stage
        self.tried = tried or []
        super().__init__(message)


# ---- persistence (appended by the data layer) ---------------------------------------------------
class UnknownBenchmarkError(NotFoundError):
    kind = "benchmark"


class UnknownConstraintDefaultsError(NotFoundError):
    kind = "constraint defaults"


class ProposalConflictError(DomainRefusal):
    """A proposal id is already stored with a different body: the same inputs must give the same bytes."""

    def __init__(self, proposal_id: str) -> None:
        self.proposal_id = proposal_id
        super().__init__(
            f"proposal {proposal_id!r} is already stored with a different body; the engine is not "
            "deterministic for these inputs or its version was not bumped"
        )


class SealedPackConflictError(SealedPackError):
    """Seeding or importing different prices under the id of a sealed pack."""

    def __init__(self, pack_id: str, *, stored_hash: str | None, new_hash: str, source: str) -> None:
        DomainRefusal.__init__(
            self,
            f"pricing pack {pack_id!r} is sealed with different content (stored hash {str(stored_hash)[:12]}, "
            f"{source} hash {new_hash[:12]}); sealed packs are immutable: give the new prices a new pack id. "
            "Nothing was written",
        )
        self.pack_id = pack_id
        self.stored_hash, self.new_hash, self.source = stored_hash, new_hash, source


# ---- orchestration (capability calls, patterns) -------------------------------------------------
class UnknownCapabilityError(ArgumentError):
    """A capability name that no registered agent declares."""

    def __init__(self, name: str, known: list[str] | tuple[str, ...] = ()) -> None:
        self.name = name
        hint = f" (known: {', '.join(sorted(known))})" if known else ""
        super().__init__(f"unknown capability {name!r}{hint}")


class PatternError(InputError):
    """A pattern file fails validation. Message: ``file: step 'name': problem``."""

    def __init__(self, file: str, step: str | None, problem: str) -> None:
        self.file, self.step, self.problem = file, step, problem
        where = f"{file}: step {step!r}" if step else file
        super().__init__(f"{where}: {problem}")


class DeadlineExceededError(DomainRefusal):
    """A capability call ran past its context's deadline; it was cancelled and its work rolled back."""

    def __init__(self, capability: str, deadline: Any, *, started: bool = True) -> None:
        self.capability, self.deadline = capability, deadline
        when = "was cancelled: it ran past" if started else "was not started: already past"
        super().__init__(f"capability {capability!r} {when} its deadline {deadline}; nothing was written")


class CapabilityRegistryError(DawsosError):
    """The agents declare capabilities that cannot be registered (duplicate name, bad declaration)."""


class CapabilityFailedError(DawsosError):
    """A capability raised an unexpected (non-Dawsos) exception; the original is chained."""

    def __init__(self, capability: str, exc: BaseException) -> None:
        self.capability = capability
        super().__init__(f"capability {capability!r} failed: {type(exc).__name__}: {exc}")


# ---- identity (authentication, permissions) -----------------------------------------------------
class NotAuthenticatedError(InputError):
    """No token, or one that is malformed, unknown or revoked (exit 2; HTTP 401). The message never repeats
    the token."""


class PermissionDeniedError(DomainRefusal):
    """The caller holds no role (or not a high enough one) for what it asked (exit 3; HTTP 403).

    ``role`` is the role needed (``"admin"`` for admin-only calls); ``portfolio_id`` the portfolio it is needed
    on (None for admin-only calls). Message: ``not permitted: alice holds no approver role on portfolio P1``.
    """

    def __init__(self, user: str, role: str, portfolio_id: str | None = None, *, detail: str = "") -> None:
        self.user, self.role, self.portfolio_id = user, role, portfolio_id
        where = f"holds no {role} role on portfolio {portfolio_id}" if portfolio_id else f"is not {_article(role)}"
        super().__init__(f"not permitted: {user} {where}" + (f" ({detail})" if detail else ""))


class UnknownUserError(NotFoundError):
    kind = "user"


class UnknownTokenError(NotFoundError):
    kind = "API token"


class UserExistsError(DomainRefusal):
    """``users create`` of an id that is already a user (a token is issued with ``users token`` instead)."""

    def __init__(self, user_id: str) -> None:
        self.user_id = user_id
        super().__init__(f"user {user_id!r} already exists; give them a new token with `dawsos users token "
                         f"{user_id}`")


def _article(role: str) -> str:
    return f"an {role}" if role[:1] in "aeiou" else f"a {role}"


# ---- rebalancing (proposal life cycle) ----------------------------------------------------------

class ProposalStateError(DomainRefusal):
    """A status change the proposal life cycle does not allow (e.g. approving an expired proposal)."""

    def __init__(self, proposal_id: str, current: str, wanted: str) -> None:
        self.proposal_id, self.current, self.wanted = proposal_id, current, wanted
        super().__init__(f"proposal {proposal_id[:12]} is {current}: it cannot become {wanted}")


class RebalanceConfigError(DomainRefusal):
    """A portfolio's rebalancing set-up is missing or incomplete (no settings, no target...)."""


# ---- execution (fills recorded against a proposal) ----------------------------------------------
class _FileLineMessage:
    """``file: line N: field: problem (value=...)`` (the parts that are known)."""

    def _located(self, file: str, line: int | None, field: str, problem: str, value: Any) -> str:
        self.file, self.line, self.field, self.problem, self.value = file, line, field, problem, value
        where = ": ".join(p for p in (file, f"line {line}" if line is not None else "", field) if p)
        shown = f" (value={value!r})" if value is not None else ""
        return f"{where}: {problem}{shown}"


class FillsFileError(_FileLineMessage, InputError):
    """A fills file (CSV) is unreadable or a line fails validation (exit 2)."""

    def __init__(self, file: str, line: int | None, field: str, problem: str, value: Any = None) -> None:
        super().__init__(self._located(file, line, field, problem, value))


class FillRefusedError(_FileLineMessage, DomainRefusal):
    """A fill that does not match its proposal: unknown symbol, wrong side, more shares than proposed (exit 3)."""

    def __init__(self, file: str, line: int | None, field: str, problem: str, value: Any = None) -> None:
        super().__init__(self._located(file, line, field, problem, value))


class PortfolioChangedError(DomainRefusal):
    """The portfolio no longer holds what the proposal started from: its fills cannot be applied."""


# ---- the service (optimization jobs, frontiers, rebalance plans) ------------------------------------
class UnknownOptimizationError(NotFoundError):
    kind = "optimization"


class UnknownRebalancePlanError(NotFoundError):
    kind = "rebalance plan"


class JobStateError(DomainRefusal):
    """A change an optimization job's state does not allow (cancelling a finished job)."""

    def __init__(self, job_id: str, current: str, wanted: str) -> None:
        self.job_id, self.current, self.wanted = job_id, current, wanted
        super().__init__(f"optimization {job_id!r} is {current}: it cannot be {wanted}")


class IdempotencyConflictError(InputError):
    """An ``Idempotency-Key`` already used by this user for a request with a different body."""

    def __init__(self, key: str, job_id: str) -> None:
        self.key, self.job_id = key, job_id
        super().__init__(f"Idempotency-Key {key!r} was already used for optimization {job_id!r} with a different "
                         "body; use a new key for a new request")


class NotImplementedYetError(DomainRefusal):
    """A capability the specification names that this version does not have yet (HTTP 501, gRPC UNIMPLEMENTED)."""
