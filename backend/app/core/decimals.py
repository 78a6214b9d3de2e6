"""Decimal rules in one place.

* money: Decimal quantised to cents, ROUND_HALF_EVEN;
* shares: multiples of the security's lot size;
* percents in output: 2 decimal places, ROUND_HALF_EVEN;
* floats only inside analytics; :func:`to_decimal` goes through ``repr`` so a float never
  leaks binary noise into money.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal, InvalidOperation

CENT = Decimal("0.01")
PCT_QUANTUM = Decimal("0.01")
PRICE_QUANTUM = Decimal("0.0001")
WEIGHT_QUANTUM = Decimal("0.000001")
ZERO = Decimal("0")
HUNDRED = Decimal("100")
BPS = Decimal("10000")


def to_decimal(value: object) -> Decimal:
    """Exact Decimal from str/int/Decimal, or from a float through its shortest repr."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise TypeError("bool is not a number")
    if isinstance(value, int):
        return Decimal(int(value))
    if isinstance(value, float):  # includes numpy.float64; repr(float(...)) avoids "np.float64(0.2)"
        return Decimal(repr(float(value)))
    try:
        return Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise ValueError(f"not a decimal number: {value!r}") from exc


def _clean_zero(d: Decimal) -> Decimal:
    return d.copy_abs() if d.is_zero() else d


def money(value: object) -> Decimal:
    """Round to cents with ROUND_HALF_EVEN (units: currency)."""
    return _clean_zero(to_decimal(value).quantize(CENT, rounding=ROUND_HALF_EVEN))


def price(value: object) -> Decimal:
    """Round a price to 4 dp (ROUND_HALF_EVEN); pack prices are stored at this precision."""
    return _clean_zero(to_decimal(value).quantize(PRICE_QUANTUM, rounding=ROUND_HALF_EVEN))


def pct(fraction: object) -> Decimal:
    """A fraction of 1 as a percent with 2 dp: ``pct(0.185) == Decimal('18.50')``."""
    return _clean_zero((to_decimal(fraction) * HUNDRED).quantize(PCT_QUANTUM, rounding=ROUND_HALF_EVEN))


def ratio(value: object, places: int = 4) -> Decimal:
    """A plain ratio (e.g. Sharpe) rounded to ``places`` dp, ROUND_HALF_EVEN."""
    q = Decimal(1).scaleb(-places)
    return _clean_zero(to_decimal(value).quantize(q, rounding=ROUND_HALF_EVEN))


def floor_to_lot(shares: object, lot_size: object) -> Decimal:
    """Largest multiple of ``lot_size`` not above ``shares`` (towards zero for negatives)."""
    s, lot = to_decimal(shares), to_decimal(lot_size)
    if lot <= 0:
        raise ValueError(f"lot_size must be > 0, got {lot}")
    lots = (s / lot).to_integral_value(rounding=ROUND_DOWN)
    return _clean_zero(lots * lot)


def round_to_lot(shares: object, lot_size: object) -> Decimal:
    """Nearest multiple of ``lot_size`` (ROUND_HALF_EVEN on the lot count)."""
    s, lot = to_decimal(shares), to_decimal(lot_size)
    if lot <= 0:
        raise ValueError(f"lot_size must be > 0, got {lot}")
    lots = (s / lot).to_integral_value(rounding=ROUND_HALF_EVEN)
    return _clean_zero(lots * lot)


def is_lot_multiple(shares: Decimal, lot_size: Decimal) -> bool:
    return (shares % lot_size).is_zero()


def trade_cost(
    trade_value: Decimal, *, commission_per_trade: Decimal, market_impact_bps: Decimal
) -> tuple[Decimal, Decimal, Decimal]:
    """Cost of one trade: (commission, market impact, total), each in currency, cents.

    impact = market_impact_bps / 10,000 × |trade value|. Selling 100 AAPL at 232.50:
    (5.00, 34.88, 39.88).
    """
    commission = money(commission_per_trade)
    impact = money(abs(trade_value) * to_decimal(market_impact_bps) / BPS)
    return commission, impact, commission + impact


def strip_zeros(value: Decimal) -> Decimal:
    """Same number without trailing fractional zeros, never in exponent form.

    ``Decimal('100.000000') -> 100``, ``Decimal('125.674000') -> 125.674``. Used when reading NUMERIC
    columns so SQLite (text) and PostgreSQL (fixed scale) give identical Decimals.
    """
    if not value.is_finite():
        raise ValueError(f"not a finite number: {value}")
    if value == value.to_integral_value():
        return _clean_zero(value.quantize(Decimal(1)))
    return _clean_zero(value.normalize())
