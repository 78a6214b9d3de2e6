"""Identities and roles (DESIGN.md "Identity"): who may do what on which portfolio.

* :class:`Role` — per-portfolio roles, ordered ``viewer < manager < approver < owner``; each includes the ones
  below it: a viewer reads; a manager also proposes and changes the portfolio's rebalancing settings, models,
  lots and restricted symbols; an approver also approves, rejects and executes; an owner also grants roles on
  that portfolio.
* ``admin`` is a flag of the user, not a role: admins manage users, tokens and pricing packs and may grant
  roles on any portfolio, but hold no portfolio role unless one is granted.
* :class:`Principal` — an authenticated caller (what the interfaces put in the request context's ``user_id``).
* :class:`Access` — what a capability declares it needs (checked by the orchestrator before any work).
* :class:`UserInfo`, :class:`TokenInfo`, :class:`RoleGrant`, :class:`IssuedToken` — what the users
  capabilities return (never a token hash; a token's secret only once, when it is issued).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Role(StrEnum):
    """A role on one portfolio; compares by rank (``Role.OWNER > Role.APPROVER``)."""

    VIEWER = "viewer"
    MANAGER = "manager"
    APPROVER = "approver"
    OWNER = "owner"

    @property
    def rank(self) -> int:
        """0 (viewer) to 3 (owner)."""
        return _RANKS[self]

    def includes(self, needed: Role) -> bool:
        """True when this role allows what ``needed`` allows (it ranks at least as high)."""
        return self.rank >= Role(needed).rank

    def __lt__(self, other: object) -> bool:
        return self.rank < Role(other).rank if isinstance(other, str) else NotImplemented

    def __le__(self, other: object) -> bool:
        return self.rank <= Role(other).rank if isinstance(other, str) else NotImplemented

    def __gt__(self, other: object) -> bool:
        return self.rank > Role(other).rank if isinstance(other, str) else NotImplemented

    def __ge__(self, other: object) -> bool:
        return self.rank >= Role(other).rank if isinstance(other, str) else NotImplemented


_RANKS = {Role.VIEWER: 0, Role.MANAGER: 1, Role.APPROVER: 2, Role.OWNER: 3}

#: the CLI's built-in identity (an admin; owner of every seeded portfolio)
LOCAL_USER = "local"


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: the user id and whether the user is an admin (when it was authenticated)."""

    user_id: str
    is_admin: bool = False


@dataclass(frozen=True)
class Access:
    """What a capability needs from its caller (see :func:`app.agents.base.capability`).

    * ``role``: the portfolio role needed, on the portfolios the argument ``on`` names, read as ``via`` says:
      ``"portfolio"`` (the argument is a portfolio id, or a tuple of them: the role is needed on each),
      ``"proposal"`` (a proposal id or prefix: its portfolio) or ``"model"`` (a model portfolio id: every
      portfolio whose rebalancing settings use that model). An argument left None, or a model no portfolio
      uses, names no portfolio: no role is needed, and a capability that lists things limits what it returns
      to the caller's portfolios.
    * ``read_unless``: a boolean argument; when it is False the call only reads, and ``viewer`` is enough
      (``optimizer.propose_trades`` with ``persist=False``).
    * ``admin``: an admin may call it (alone: only an admin; with ``role``: an admin or a holder of ``role``).
    * ``self_arg``: the argument naming a user; that user may call it about themself.
    * ``record_refusal``: a refused call on a proposal is recorded against the proposal (decisions).
    * ``owner_of``: the argument ``on`` names a service resource (``"optimization"``, ``"rebalance_plan"``):
      the role is needed on that resource's portfolio (:meth:`resource`).
    * neither ``role`` nor ``admin``: any signed-in user (reference data: packs, policies).
    """

    role: Role | None = None
    admin: bool = False
    on: str = "portfolio_id"
    via: Literal["portfolio", "proposal", "model"] = "portfolio"
    self_arg: str | None = None
    record_refusal: bool = False
    read_unless: str | None = None
    owner_of: str | None = None

    @classmethod
    def portfolio(cls, role: Role, *, on: str = "portfolio_id", or_admin: bool = False,
                  read_unless: str | None = None) -> Access:
        """``role`` on the portfolio(s) named by argument ``on`` (an admin too, with ``or_admin``)."""
        return cls(role=role, on=on, admin=or_admin, read_unless=read_unless)

    @classmethod
    def proposal(cls, role: Role, *, record_refusal: bool = False) -> Access:
        """``role`` on the portfolio of the proposal named by ``proposal_id``."""
        return cls(role=role, on="proposal_id", via="proposal", record_refusal=record_refusal)

    @classmethod
    def model(cls, role: Role) -> Access:
        """``role`` on every portfolio whose settings use the model portfolio named by ``model_portfolio_id``."""
        return cls(role=role, on="model_portfolio_id", via="model")

    def needed(self, args: Any) -> Role | None:
        """The role this call needs given its arguments (viewer when ``read_unless`` names a False argument)."""
        if self.role is not None and self.read_unless and getattr(args, self.read_unless, True) is False:
            return Role.VIEWER
        return self.role

    @classmethod
    def resource(cls, role: Role, kind: str, *, on: str) -> Access:
        """``role`` on the portfolio of the ``kind`` resource (optimization, rebalance_plan) named by ``on``."""
        return cls(role=role, on=on, owner_of=kind)

    @classmethod
    def admin_only(cls, *, self_arg: str | None = None) -> Access:
        """An admin (or, with ``self_arg``, the user that argument names)."""
        return cls(admin=True, self_arg=self_arg)

    @classmethod
    def signed_in(cls) -> Access:
        """Any signed-in user (reference data that belongs to no portfolio)."""
        return cls()

    def describe(self) -> str:
        """One phrase for docs and errors, e.g. ``'approver on the proposal's portfolio'``."""
        if self.role is None:
            return "admin" if self.admin else "any signed-in user"
        where = {"proposal": "the proposal's portfolio", "model": "every portfolio using the model"}.get(
            self.via, f"the portfolio {self.on!r} names")
        if self.owner_of:
            where = f"the {self.owner_of}'s portfolio"
        return f"{self.role.value} on {where}" + (" or admin" if self.admin else "")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RoleGrant(_Frozen):
    portfolio_id: str
    user_id: str
    role: Role
    granted_by: str | None = None
    granted_at: datetime | None = None


class TokenInfo(_Frozen):
    """A token's public record (its hash never leaves the database)."""

    token_id: str
    user_id: str
    label: str = ""
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class UserInfo(_Frozen):
    user_id: str
    email: str | None = None
    is_admin: bool = False
    created_at: datetime | None = None
    roles: tuple[RoleGrant, ...] = ()
    tokens: tuple[TokenInfo, ...] = ()


class IssuedToken(_Frozen):
    """A new token: ``token`` is the secret, shown once and stored only as an Argon2id hash."""

    user_id: str
    token_id: str
    label: str = ""
    token: str = Field(description="dawsos_<token_id>_<secret>; shown once, never stored")

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
