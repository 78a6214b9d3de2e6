"""Typed notes of one rebalance: what was skipped or could not be done, and why.

Callers branch on :class:`NoteKind` and read ``symbol``; ``text`` is the sentence a person reads (the
proposal's ``warnings[]`` carry it unchanged). Nothing ever parses the text.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class NoteKind(StrEnum):
    BELOW_MIN_TRADE_VALUE = "below_min_trade_value"
    MAX_TRADES = "max_trades"
    NO_CASH = "no_cash"
    SALE_BELOW_COST = "sale_below_cost"
    FIXUP_UNSETTLED = "fixup_unsettled"
    RESTRICTED = "restricted"
    HALTED = "halted"
    WASH_SALE_BUY = "wash_sale_buy"
    WASH_SALE_LOSS_SALE = "wash_sale_loss_sale"
    HARVESTED = "harvested"
    HARVEST_NOT_POSSIBLE = "harvest_not_possible"
    MARKET_CLOSED = "market_closed"
    UNTRACKED_SHARES = "untracked_shares"
    LOTS_EXCEED_POSITION = "lots_exceed_position"
    WITHDRAWAL_SHORT = "withdrawal_short"


@dataclass(frozen=True)
class Note:
    """One typed note: ``kind``, the ``symbol`` it is about (None: the whole proposal) and its ``text``."""

    kind: NoteKind
    text: str
    symbol: str | None = None

    def __str__(self) -> str:
        return self.text
