"""Daily simple returns over the lookback window that ends at the pricing pack's as-of date."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import numpy as np
import pandas as pd

from app.core.errors import InputError


def daily_returns(
    *, history: pd.DataFrame, symbols: Sequence[str], asof: date, lookback_days: int, pack_id: str | None = None
) -> pd.DataFrame:
    """Simple daily returns ``close_t / close_{t-1} - 1`` (fractions, per trading day).

    * ``history``: daily closes (currency per share), index ascending dates, one column per symbol.
    * ``symbols``: the universe; the result has exactly these columns in this order.
    * ``asof``: last date of the window (the pack's as-of date); later rows are ignored.
    * ``lookback_days``: number of returns wanted (needs ``lookback_days + 1`` closes).
    * ``pack_id``: the pricing pack the history comes from, named in errors.

    Raises :class:`InputError` when a symbol is missing, the window is too short, or a close in the
    window is missing or not positive.
    """
    if lookback_days < 2:
        raise InputError(f"lookback_days must be >= 2, got {lookback_days}")
    missing = [s for s in symbols if s not in history.columns]
    if missing:
        raise InputError(f"price history has no column for universe symbol(s) {', '.join(missing)}")
    idx = pd.to_datetime(history.index)
    if not idx.is_monotonic_increasing or idx.has_duplicates:
        raise InputError("price history index must be strictly ascending dates")
    mask = idx <= pd.Timestamp(asof)
    window = history.loc[mask, list(symbols)]
    if len(window) < lookback_days + 1:
        source = f"pricing pack {pack_id!r}: " if pack_id else ""
        raise InputError(
            f"{source}price history too short: lookback_days={lookback_days} needs {lookback_days + 1} closes "
            f"up to {asof.isoformat()}, found {len(window)}"
            + ("; choose another pack with --pack or a shorter --lookback-days" if pack_id else "")
        )
    window = window.iloc[-(lookback_days + 1):].astype(float)
    values = window.to_numpy()
    bad = ~np.isfinite(values) | (values <= 0)
    if bad.any():
        row, col = np.argwhere(bad)[0]
        raise InputError(
            f"price history gap for {window.columns[col]} on {pd.Timestamp(window.index[row]).date()}: "
            f"close is missing or not positive (value={values[row, col]!r}) inside the "
            f"{lookback_days}-day window"
        )
    rets = values[1:] / values[:-1] - 1.0
    return pd.DataFrame(rets, index=window.index[1:], columns=list(symbols))
