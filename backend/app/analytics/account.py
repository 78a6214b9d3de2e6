"""The account's rules for one rebalance, resolved against its holdings and prices (pure).

From :class:`~app.domain.account.AccountRules` to what the engine's stages read:

* never bought: restricted symbols, names a wash sale blocks (a loss sale within the window), harvested names;
* tax-loss harvests (:mod:`app.analytics.taxes.harvesting`): their lots must be sold and the substitute takes
  the harvested name's target weight;
* loss lots a wash sale forbids selling (bought within the window) are kept;
* lots reconciled with the holdings: shares without a lot get one at the as-of price (zero gain), noted;
* a pending withdrawal is raised and kept in cash (see :class:`~app.analytics.universe.AccountLimits`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from app.analytics.notes import Note, NoteKind
from app.analytics.taxes import find_harvests
from app.analytics.taxes.harvesting import Harvest
from app.analytics.taxes.wash_sale import buy_blocked, loss_sale_blocked
from app.analytics.universe import AccountLimits
from app.core.decimals import ZERO, money, to_decimal
from app.domain.account import AccountRules
from app.domain.rebalancing import TaxLot


@dataclass(frozen=True)
class AccountPlan:
    """The rules resolved for one rebalance.

    * ``limits``: the universe's per-name rules; ``harvests``: the tax-loss harvests proposed;
    * ``lots``: symbol → the lots a sale may take (reconciled with the holdings, blocked loss lots removed);
    * ``harvest_lots``: symbol → ids of the lots a harvest sells (sold first);
    * ``target_moves``: harvested symbol → its substitute (which takes the symbol's target weight);
    * ``trade_date``: the session the trades are for; ``notes``: what was not done and why.
    """

    rules: AccountRules
    trade_date: date
    limits: AccountLimits
    harvests: tuple[Harvest, ...] = ()
    lots: Mapping[str, tuple[TaxLot, ...]] = field(default_factory=dict)
    harvest_lots: Mapping[str, frozenset[str]] = field(default_factory=dict)
    target_moves: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[Note, ...] = ()

    @property
    def substitutes_bought(self) -> frozenset[str]:
        return frozenset(self.target_moves.values())


def _reconciled_lots(rules: AccountRules, holdings: Mapping[str, Decimal], prices: Mapping[str, Decimal],
                     trade_date: date) -> tuple[dict[str, list[TaxLot]], list[Note]]:
    """Lots by symbol (id order); shares without lots get an ``untracked`` lot at the as-of price."""
    by_symbol: dict[str, list[TaxLot]] = {}
    notes: list[Note] = []
    for lot in sorted(rules.lots, key=lambda x: x.lot_id):
        by_symbol.setdefault(lot.symbol, []).append(lot)
    for s in sorted(holdings):
        shares = to_decimal(holdings[s])
        in_lots = sum((x.quantity for x in by_symbol.get(s, [])), ZERO)
        if shares > in_lots and s in prices:
            by_symbol.setdefault(s, []).append(TaxLot(lot_id=f"{s}-untracked", symbol=s, quantity=shares - in_lots,
                                                      cost_basis=to_decimal(prices[s]), acquired=trade_date))
            if in_lots > 0:
                notes.append(Note(NoteKind.UNTRACKED_SHARES, f"{s}: {shares - in_lots} shares have no tax lot; "
                                  "cost basis taken at the price", s))
        elif in_lots > shares:
            notes.append(Note(NoteKind.LOTS_EXCEED_POSITION,
                              f"{s}: lots hold {in_lots} shares but the position is {shares}; sales capped", s))
    return by_symbol, notes


def _no_buy(rules: AccountRules, symbols: list[str], trade_date: date) -> tuple[dict[str, str], list[Note]]:
    no_buy: dict[str, str] = {}
    notes: list[Note] = []
    for s in sorted(set(rules.restricted)):
        no_buy[s] = f"{s}: restricted for this account, never bought"
        notes.append(Note(NoteKind.RESTRICTED, no_buy[s], s))
    for s in symbols:
        why = buy_blocked(s, on=trade_date, transactions=rules.transactions)
        if why and s not in no_buy:
            no_buy[s] = why
            notes.append(Note(NoteKind.WASH_SALE_BUY, why, s))
    return no_buy, notes


def _blocked_loss_lots(lots: dict[str, list[TaxLot]], rules: AccountRules, prices: Mapping[str, Decimal],
                       trade_date: date, skip: set[str]) -> tuple[dict[str, Decimal], set[str], list[Note]]:
    """Loss lots a wash sale forbids selling: shares kept per symbol, their ids, and a note per symbol."""
    keep: dict[str, Decimal] = {}
    ids: set[str] = set()
    notes: list[Note] = []
    for s in sorted(lots):
        if s in skip or s not in prices:
            continue
        price = to_decimal(prices[s])
        losers = [x for x in lots[s] if x.cost_basis > price]
        gainers = [x for x in lots[s] if x.cost_basis <= price]
        if losers and loss_sale_blocked(s, on=trade_date, transactions=rules.transactions, lots=gainers):
            keep[s] = sum((x.quantity for x in losers), ZERO)
            ids |= {x.lot_id for x in losers}
            notes.append(Note(NoteKind.WASH_SALE_LOSS_SALE,
                              f"{s}: {len(losers)} loss lot(s) not sold (wash sale: bought within 31 days)", s))
    return keep, ids, notes


def plan_account(
    rules: AccountRules,
    *,
    holdings: Mapping[str, Decimal],
    prices: Mapping[str, Decimal],
    halted: frozenset[str],
    candidates: tuple[str, ...],
    asof: date,
) -> AccountPlan:
    """Resolve ``rules`` for one rebalance.

    ``holdings``: symbol → shares; ``prices``: as-of price per symbol (currency); ``halted``: symbols
    never traded; ``candidates``: every symbol the target may buy (the wash-sale buy check); ``asof``: the
    pack's date (the trade date when ``rules.trade_date`` is None).
    """
    trade_date = rules.trade_date or asof
    held = {s: to_decimal(q) for s, q in holdings.items() if to_decimal(q) > 0}
    lots, notes = _reconciled_lots(rules, held, prices, trade_date)
    if not rules.market_open:
        notes.insert(0, Note(NoteKind.MARKET_CLOSED, f"market closed on {asof.isoformat()}: proposal marked for "
                             f"the next session {trade_date.isoformat()}"))
    symbols = sorted(set(candidates) | set(rules.substitutes.values()))
    no_buy, buy_notes = _no_buy(rules, symbols, trade_date)
    notes += buy_notes
    harvests: tuple[Harvest, ...] = ()
    if rules.harvest_threshold is not None:
        harvests, harvest_notes = find_harvests(
            lots=[x for s in sorted(lots) if s not in halted for x in lots[s]], prices=prices,
            threshold=rules.harvest_threshold, substitutes=rules.substitutes, sale_date=trade_date,
            transactions=rules.transactions, not_buyable=set(no_buy) | set(halted))
        notes += harvest_notes
    for h in harvests:
        no_buy.setdefault(h.symbol, f"{h.symbol}: harvested at a loss, not bought back (wash sale)")
    keep, blocked_ids, keep_notes = _blocked_loss_lots(lots, rules, prices, trade_date,
                                                       skip={h.symbol for h in harvests} | set(halted))
    notes += keep_notes
    limits = AccountLimits(
        no_buy=no_buy, keep_shares=keep, sell_shares={h.symbol: h.quantity for h in harvests},
        withdrawal=money(to_decimal(rules.withdrawal)), extra_symbols=tuple(sorted({h.substitute for h in harvests})),
        harvest_substitutes=frozenset(h.substitute for h in harvests),
    )
    return AccountPlan(
        rules=rules, trade_date=trade_date, limits=limits, harvests=harvests,
        lots={s: tuple(x for x in ls if x.lot_id not in blocked_ids) for s, ls in lots.items()},
        harvest_lots={h.symbol: frozenset(x.lot_id for x in h.lots) for h in harvests},
        target_moves={h.symbol: h.substitute for h in harvests}, notes=tuple(notes),
    )
