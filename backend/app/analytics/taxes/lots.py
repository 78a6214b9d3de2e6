"""Tax lots: which lots a sale uses, the gains it realises (short/long term) and the tax on them.

* term: long-term when sold more than one year after acquisition (after the first anniversary; a
  29 February acquisition's anniversary is 1 March), else short-term;
* HIFO (tax-minimising): losses first, then long-term gains, then short-term gains; within each group
  long-term before short-term, then highest cost basis first, then oldest, then lot id;
* FIFO: oldest first (then lot id); SPECIFIC: the lots named, in the order given;
* money to the cent (ROUND_HALF_EVEN) per lot: proceeds = qty × price, cost = qty × basis, gain = the
  difference;
* tax: short- and long-term nets offset each other when of opposite sign; tax = rate × positive net per
  term; a net loss left over is reported as ``loss_carryforward`` (no negative tax).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal

from app.core.decimals import ZERO, money
from app.core.errors import InputError
from app.domain.rebalancing import HoldingTerm, LotMethod, LotSale, RealisedGains, TaxLot, TaxRates


def anniversary(acquired: date) -> date:
    """One year after ``acquired`` (29 Feb → 1 Mar of the next year)."""
    try:
        return acquired.replace(year=acquired.year + 1)
    except ValueError:
        return date(acquired.year + 1, 3, 1)


def holding_term(acquired: date, sold: date) -> HoldingTerm:
    """Long-term when held more than one year (sold after the first anniversary)."""
    return HoldingTerm.LONG if sold > anniversary(acquired) else HoldingTerm.SHORT


def order_lots(
    lots: Iterable[TaxLot],
    *,
    method: LotMethod,
    price: Decimal,
    sale_date: date,
    specific: Sequence[str] = (),
) -> list[TaxLot]:
    """The lots in the order a sale takes them under ``method`` (see the module docstring)."""
    lots = list(lots)
    if method is LotMethod.FIFO:
        return sorted(lots, key=lambda x: (x.acquired, x.lot_id))
    if method is LotMethod.SPECIFIC:
        by_id = {x.lot_id: x for x in lots}
        unknown = [i for i in specific if i not in by_id]
        if unknown or not specific:
            raise InputError(f"specific lots: unknown or no lot ids ({', '.join(unknown) or 'none given'})")
        return [by_id[i] for i in specific]

    def key(lot: TaxLot) -> tuple:
        is_gain = price > lot.cost_basis
        short = holding_term(lot.acquired, sale_date) is HoldingTerm.SHORT
        return (is_gain, short, -lot.cost_basis, lot.acquired, lot.lot_id)

    return sorted(lots, key=key)


def sale_of_lot(lot: TaxLot, quantity: Decimal, *, price: Decimal, sale_date: date) -> LotSale:
    proceeds, cost = money(quantity * price), money(quantity * lot.cost_basis)
    return LotSale(
        lot_id=lot.lot_id, symbol=lot.symbol, quantity=quantity, acquired=lot.acquired, cost_basis=lot.cost_basis,
        price=price, proceeds=proceeds, cost=cost, gain=proceeds - cost, term=holding_term(lot.acquired, sale_date),
    )


def sell_from_lots(
    lots: Iterable[TaxLot],
    quantity: Decimal,
    *,
    price: Decimal,
    sale_date: date,
    method: LotMethod = LotMethod.HIFO,
    specific: Sequence[str] = (),
) -> tuple[LotSale, ...]:
    """Sell ``quantity`` shares from ``lots`` in ``method`` order; InputError when the lots hold fewer."""
    remaining = quantity
    sales: list[LotSale] = []
    for lot in order_lots(lots, method=method, price=price, sale_date=sale_date, specific=specific):
        if remaining <= 0:
            break
        take = min(lot.quantity, remaining)
        sales.append(sale_of_lot(lot, take, price=price, sale_date=sale_date))
        remaining -= take
    if remaining > 0:
        raise InputError(f"lots: selling {quantity} shares needs {remaining} more than the lots hold")
    return tuple(sales)


def realised_gains(sales: Iterable[LotSale], rates: TaxRates) -> RealisedGains:
    """Short/long-term gains of ``sales`` and the tax after netting (see the module docstring)."""
    sales = list(sales)
    st = sum((s.gain for s in sales if s.term is HoldingTerm.SHORT), ZERO)
    lt = sum((s.gain for s in sales if s.term is HoldingTerm.LONG), ZERO)
    net_st, net_lt = st, lt
    if net_st < 0 < net_lt:
        net_lt, net_st = max(net_lt + net_st, ZERO), min(net_st + net_lt, ZERO)
    elif net_lt < 0 < net_st:
        net_st, net_lt = max(net_st + net_lt, ZERO), min(net_lt + net_st, ZERO)
    tax_st = money(max(net_st, ZERO) * rates.short_term)
    tax_lt = money(max(net_lt, ZERO) * rates.long_term)
    carry = -(min(net_st, ZERO) + min(net_lt, ZERO))
    return RealisedGains(short_term=money(st), long_term=money(lt), tax_short_term=tax_st, tax_long_term=tax_lt,
                         tax_total=tax_st + tax_lt, loss_carryforward=money(carry))


def marginal_tax_rate(lot: TaxLot, *, price: Decimal, sale_date: date, rates: TaxRates) -> Decimal:
    """Tax per currency unit of proceeds when selling from ``lot`` (negative for a loss)."""
    if price <= 0:
        raise InputError(f"price must be > 0, got {price}")
    rate = rates.long_term if holding_term(lot.acquired, sale_date) is HoldingTerm.LONG else rates.short_term
    return rate * (price - lot.cost_basis) / price
