"""Tax-loss harvesting: lots whose loss exceeds a threshold are sold and a configured substitute bought.

A lot is a candidate when ``(price − cost basis) / cost basis ≤ −threshold`` (default 3 %: a lot 3.1 %
under water is harvested, one 2.9 % under is not). A symbol is harvested only when it has a substitute
configured, the substitute can be bought (not restricted, not halted, no wash sale) and the loss sale is
not itself a wash sale. All of the symbol's candidate lots are sold; its target weight passes to the
substitute.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from app.analytics.notes import Note, NoteKind
from app.analytics.taxes.wash_sale import buy_blocked, loss_sale_blocked
from app.domain.rebalancing import TaxLot, Transaction


@dataclass(frozen=True)
class Harvest:
    symbol: str
    substitute: str
    lots: tuple[TaxLot, ...]
    loss_fraction: Decimal

    @property
    def quantity(self) -> Decimal:
        return sum((x.quantity for x in self.lots), Decimal(0))


def loss_fraction(lot: TaxLot, price: Decimal) -> Decimal:
    """(price − basis) / basis: negative for a loss (−0.031 = 3.1 % under water)."""
    return (price - lot.cost_basis) / lot.cost_basis if lot.cost_basis > 0 else Decimal(0)


def find_harvests(
    *,
    lots: Iterable[TaxLot],
    prices: Mapping[str, Decimal],
    threshold: Decimal,
    substitutes: Mapping[str, str],
    sale_date: date,
    transactions: Iterable[Transaction] = (),
    not_buyable: Iterable[str] = (),
) -> tuple[tuple[Harvest, ...], tuple[Note, ...]]:
    """The harvests to propose (by symbol) and why other candidates were not harvested."""
    lots, transactions, blocked_buys = list(lots), list(transactions), set(not_buyable)
    notes: list[Note] = []
    harvests: list[Harvest] = []
    by_symbol: dict[str, list[TaxLot]] = {}
    for lot in lots:
        price = prices.get(lot.symbol)
        if price is not None and loss_fraction(lot, price) <= -threshold:
            by_symbol.setdefault(lot.symbol, []).append(lot)
    for symbol in sorted(by_symbol):
        candidates = sorted(by_symbol[symbol], key=lambda x: x.lot_id)
        worst = min(loss_fraction(x, prices[symbol]) for x in candidates)
        substitute = substitutes.get(symbol)
        why = None
        if substitute is None:
            why = f"{symbol}: harvestable loss {worst:.4f} but no substitute configured"
        elif substitute in blocked_buys or substitute not in prices:
            why = f"{symbol}: substitute {substitute} cannot be bought (restricted, halted or unpriced)"
        else:
            selling = [x.lot_id for x in candidates]
            why = (loss_sale_blocked(symbol, on=sale_date, transactions=transactions, lots=lots, selling=selling)
                   or buy_blocked(substitute, on=sale_date, transactions=transactions))
        if why:
            notes.append(Note(NoteKind.HARVEST_NOT_POSSIBLE, why, symbol))
            continue
        harvests.append(Harvest(symbol=symbol, substitute=substitute, lots=tuple(candidates), loss_fraction=worst))
    return tuple(harvests), tuple(notes)
