"""Proposal life cycle (DESIGN.md "Proposal lifecycle") and who may move it.

::

    proposed ──> pending_approval ──> approved ──> executed
        ├──────> approved | rejected       └────> rejected (from pending_approval)
        └──────> executed                  (a proposal that needs no approval)
    every live state ──> expired    (its pricing pack superseded by a newer sealed pack)
                     └─> superseded (a newer proposal for the same portfolio and pack)

A new proposal starts ``proposed`` and moves on to ``pending_approval`` at once when its total trade value
exceeds the account's approval threshold. Approve, reject and execute need the approver (or owner) role on
the portfolio, checked by the orchestrator before the call (:mod:`app.orchestrator.identity`). ``rejected``,
``executed``, ``expired`` and ``superseded`` are final.
"""

from __future__ import annotations

from decimal import Decimal

from app.core.errors import ProposalStateError
from app.domain.rebalancing import ProposalStatus

S = ProposalStatus
OPEN = frozenset({S.PROPOSED, S.PENDING_APPROVAL})
LIVE = frozenset({S.PROPOSED, S.PENDING_APPROVAL, S.APPROVED})
_ENDINGS = frozenset({S.EXPIRED, S.SUPERSEDED})
ALLOWED: dict[ProposalStatus, frozenset[ProposalStatus]] = {
    S.PROPOSED: frozenset({S.PENDING_APPROVAL, S.APPROVED, S.REJECTED, S.EXECUTED}) | _ENDINGS,
    S.PENDING_APPROVAL: frozenset({S.APPROVED, S.REJECTED}) | _ENDINGS,
    S.APPROVED: frozenset({S.EXECUTED}) | _ENDINGS,
    S.REJECTED: frozenset(),
    S.EXECUTED: frozenset(),
    S.EXPIRED: frozenset(),
    S.SUPERSEDED: frozenset(),
}



def needs_approval(total_trade_value: Decimal, threshold: Decimal) -> bool:
    """True when ``total_trade_value`` (currency) exceeds the approval ``threshold`` (currency)."""
    return total_trade_value > threshold


def initial_status(total_trade_value: Decimal, threshold: Decimal) -> ProposalStatus:
    """Where a new proposal settles: ``pending_approval`` when it needs approval, else ``proposed``."""
    return S.PENDING_APPROVAL if needs_approval(total_trade_value, threshold) else S.PROPOSED


def check_executable(proposal_id: str, current: ProposalStatus, requires_approval: bool) -> None:
    """ProposalStateError unless the proposal is approved, or proposed and needing no approval."""
    if current is S.APPROVED or (current is S.PROPOSED and not requires_approval):
        return
    raise ProposalStateError(proposal_id, current.value, S.EXECUTED.value
                             + (" (it needs approval first)" if current in OPEN else ""))


def check_transition(proposal_id: str, current: ProposalStatus, wanted: ProposalStatus) -> None:
    """ProposalStateError unless ``current → wanted`` is allowed."""
    if wanted not in ALLOWED[current]:
        raise ProposalStateError(proposal_id, current.value, wanted.value)
