"""Upper bounds of every number a user gives us (shares, money, prices, costs, bands), in one place.

Storage holds shares as ``NUMERIC(24, 8)`` and money as ``NUMERIC(20, 4)``; the engine multiplies them
(shares × price, value × bps). These bounds are far above any real account yet keep every product and sum
the engine forms inside those columns, so an absurd input is refused where it is given — with the file,
field and value — instead of failing later with SQL text or ``InvalidOperation``.

* :data:`MAX_SHARES` — 1,000,000,000 shares of one security (or in one tax lot, or per lot size).
* :data:`MAX_MONEY` — 1,000,000,000,000 in the base currency (cash, thresholds, minimum trade values).
* :data:`MAX_PRICE` — 1,000,000 currency per share (prices, cost bases).
* :data:`MAX_COMMISSION` — 10,000 currency per trade.
* :data:`MAX_IMPACT_BPS` — 1,000 basis points (10 % of the trade value).
* bands and thresholds given as fractions of 1 are at most 1 (100 %).
* :data:`MIN_LOOKBACK_DAYS` — 20 daily returns, the shortest lookback; a pricing pack with fewer than
  :data:`MIN_PACK_DATES` (21) dates up to its as-of date could serve no rebalance, so it is not imported
  and never the default pack.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field

MAX_SHARES = Decimal(10**9)
MAX_MONEY = Decimal(10**12)
MAX_PRICE = Decimal(10**6)
MAX_COMMISSION = Decimal(10**4)
MAX_IMPACT_BPS = Decimal(1000)
MAX_LAMBDA = Decimal(10**6)
#: the shortest lookback a rebalance may use (daily returns), and so the fewest dates a usable pack has
MIN_LOOKBACK_DAYS = 20
MIN_PACK_DATES = MIN_LOOKBACK_DAYS + 1

#: shares held or traded: 0 ≤ shares ≤ MAX_SHARES, at most 8 decimal places (the column's scale)
Shares = Annotated[Decimal, Field(ge=0, le=MAX_SHARES, decimal_places=8, allow_inf_nan=False)]
#: a positive quantity of shares (a tax lot, a lot size)
PositiveShares = Annotated[Decimal, Field(gt=0, le=MAX_SHARES, decimal_places=8, allow_inf_nan=False)]
#: money in the base currency: 0 ≤ amount ≤ MAX_MONEY, at most 4 decimal places
Money = Annotated[Decimal, Field(ge=0, le=MAX_MONEY, decimal_places=4, allow_inf_nan=False)]
#: a price or cost basis per share: 0 ≤ price ≤ MAX_PRICE (no scale: analytics derive cost bases from prices)
PerShare = Annotated[Decimal, Field(ge=0, le=MAX_PRICE, allow_inf_nan=False)]
#: commission per trade in the base currency
Commission = Annotated[Decimal, Field(ge=0, le=MAX_COMMISSION, decimal_places=4, allow_inf_nan=False)]
#: market impact in basis points of |trade value|
ImpactBps = Annotated[Decimal, Field(ge=0, le=MAX_IMPACT_BPS, decimal_places=4, allow_inf_nan=False)]
#: a band or threshold as a fraction of 1, above 0 (0.05 = 5 %)
Band = Annotated[Decimal, Field(gt=0, le=1, allow_inf_nan=False)]
