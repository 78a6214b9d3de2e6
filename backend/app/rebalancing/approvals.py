"""Proposal life cycle and who may move it.

::

    proposed ─────────┬─> approved
    pending_approval ─┼─> rejected
                      └─> expired   (its pricing pack superseded by a newer sealed pack)

A new proposal is ``pending_approval`` when its total trade value exceeds the portfolio's approval
threshold, else ``proposed``. Approve and reject need the owner or an approver role on the portfolio.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Mapping

from app.core.errors import ApprovalRefusedError, ProposalStateError
from app.domain.rebalancing import ApproverRole, ProposalStatus

OPEN = frozenset({ProposalStatus.PROPOSED, ProposalStatus.PENDING_APPROVAL})
ALLOWED: dict[ProposalStatus, frozenset[ProposalStatus]] = {
    ProposalStatus.PROPOSED: frozenset({ProposalStatus.APPROVED, ProposalStatus.REJECTED, ProposalStatus.EXPIRED}),
    ProposalStatus.PENDING_APPROVAL: frozenset(
        {ProposalStatus.APPROVED, ProposalStatus.REJECTED, ProposalStatus.EXPIRED}
    ),
    ProposalStatus.APPROVED: frozenset(),
    ProposalStatus.REJECTED: frozenset(),
    ProposalStatus.EXPIRED: frozenset(),
}
DECIDERS = frozenset({ApproverRole.OWNER, ApproverRole.APPROVER})


def initial_status(total_trade_value: Decimal, threshold: Decimal) -> ProposalStatus:
    """``pending_approval`` when ``total_trade_value`` (currency) exceeds ``threshold``, else ``proposed``."""
    return ProposalStatus.PENDING_APPROVAL if total_trade_value > threshold else ProposalStatus.PROPOSED


def check_transition(proposal_id: str, current: ProposalStatus, wanted: ProposalStatus) -> None:
    """ProposalStateError unless ``current → wanted`` is allowed."""
    if wanted not in ALLOWED[current]:
        raise ProposalStateError(proposal_id, current.value, wanted.value)


def authorise(
    *, user: str | None, action: str, proposal_id: str, portfolio_id: str, roles: Mapping[str, ApproverRole]
) -> ApproverRole:
    """The user's deciding role; ApprovalRefusedError when the user has none on the portfolio."""
    role = roles.get(user or "")
    if role not in DECIDERS:
        raise ApprovalRefusedError(user or "(anonymous)", action, proposal_id, portfolio_id)
    return role
