"""A notification's subject and body, rendered from the proposal's state (when queued, and again when sent).

Two kinds: ``status`` ("proposal X is pending_approval: approve with ...") is only true while the proposal is
still in that status — once it moved on (approved, expired, superseded, ...) the message is skipped, never sent
as if the proposal were live; ``decided`` ("proposal X was approved by bob") reports a past transition and says
the proposal's status now.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from app.domain.lifecycle import LIVE, StoredProposal
from app.domain.rebalancing import ProposalStatus


class NotificationKind(StrEnum):
    STATUS = "status"
    DECIDED = "decided"


@dataclass(frozen=True)
class Message:
    subject: str
    body: str


@dataclass(frozen=True)
class Skip:
    reason: str


def _why(p: StoredProposal) -> str:
    last = p.transitions[-1] if p.transitions else None
    return f" ({last.reason})" if last is not None and last.reason else ""


def _status_message(p: StoredProposal, recipient: str) -> Message:
    short = p.proposal_id[:12]
    lines = [f"Portfolio {p.portfolio_id}, pricing pack {p.pricing_pack_id} (as of {p.asof_date}), "
             f"made by {p.source.value}.",
             f"{len(p.trades)} trades worth {p.total_trade_value}, estimated cost {p.total_cost}, "
             f"estimated tax {p.estimated_tax}.",
             f"Status: {p.status.value}."]
    if p.status in LIVE and p.status is not ProposalStatus.APPROVED:
        lines.append(f"Approve: dawsos proposals approve {short} --user {recipient}")
    return Message(subject=f"[dawsos] {p.portfolio_id}: rebalance proposal {short} is {p.status.value}",
                   body="\n".join(lines) + "\n")


def _decided_message(p: StoredProposal, about: ProposalStatus) -> Message:
    short = p.proposal_id[:12]
    moved = [t for t in p.transitions if t.to_status is about]
    by = moved[-1].actor if moved else "?"
    reason = f" {moved[-1].reason}" if moved and moved[-1].reason else ""
    now = "" if p.status is about else f" It is {p.status.value} now{_why(p)}."
    return Message(subject=f"[dawsos] {p.portfolio_id}: proposal {short} {about.value} by {by}",
                   body=f"Proposal {p.proposal_id} was {about.value} by {by}.{reason}{now}".strip() + "\n")


def render(kind: NotificationKind, about: ProposalStatus, proposal: StoredProposal, recipient: str) -> Message | Skip:
    """The message for ``recipient`` about ``proposal`` as it is now, or why it is not to be sent."""
    if kind is NotificationKind.DECIDED:
        return _decided_message(proposal, about)
    if proposal.status is not about:
        return Skip(f"proposal {proposal.proposal_id[:12]} is {proposal.status.value}{_why(proposal)}, no longer "
                    f"{about.value}: not sent as if it were")
    return _status_message(proposal, recipient)
