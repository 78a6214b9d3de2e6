"""Reading and validating a price table CSV (first column ``Date``, one column per symbol).

Rules, each failure a :class:`~app.core.errors.PriceFileError` naming ``row N column SYM`` (N is the line
number in the file, the header being row 1) and the bad value:

* header: first column exactly ``Date``; symbols upper-case tickers, none repeated;
* dates: ISO ``YYYY-MM-DD``, strictly increasing (a repeated or earlier date is an error, never re-sorted);
* prices: present, numeric, finite, > 0, at most :data:`MAX_PRICE_DECIMALS` decimal places (stored exactly,
  never rounded on the way in).
"""

from __future__ import annotations

import csv
import io
import os
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pandas as pd

from app.core.errors import PriceFileError
from app.domain.models import SYMBOL_RE

ISO_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
#: the ``pack_prices.close`` column is NUMERIC(20, 6)
MAX_PRICE_DECIMALS = 6
MAX_PRICE_INTEGER_DIGITS = 14


def _parse_price(text: str, *, file: str, where: str) -> Decimal:
    raw = text.strip()
    if not raw:
        raise PriceFileError(file, where, "missing price (blank cell)", text)
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise PriceFileError(file, where, "price is not a number", text) from None
    if not value.is_finite():
        raise PriceFileError(file, where, "price is not a finite number (NaN/inf)", text)
    if value <= 0:
        raise PriceFileError(file, where, "price must be > 0", text)
    exponent = int(value.normalize().as_tuple().exponent)
    if -exponent > MAX_PRICE_DECIMALS:
        raise PriceFileError(file, where, f"price has more than {MAX_PRICE_DECIMALS} decimal places", text)
    if value >= Decimal(10) ** MAX_PRICE_INTEGER_DIGITS:
        raise PriceFileError(file, where, "price is implausibly large", text)
    return value


def _parse_date(text: str, *, file: str, where: str) -> date:
    raw = text.strip()
    if not ISO_DATE_RE.match(raw):
        raise PriceFileError(file, where, "date is not ISO YYYY-MM-DD", text)
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise PriceFileError(file, where, "not a calendar date", text) from None


def read_price_csv(path_or_text: str | os.PathLike[str], *, source_name: str | None = None) -> pd.DataFrame:
    """Read and validate a price CSV.

    ``path_or_text``: a ``Path`` (or other ``os.PathLike``) is read as a file; a ``str`` is the CSV text
    itself. ``source_name`` names the file in error messages (default: the path).

    Returns a DataFrame of exact ``Decimal`` closes (currency per share): index ``Date``
    (``DatetimeIndex``, strictly increasing), one column per symbol in file order.
    """
    if isinstance(path_or_text, os.PathLike):
        path = Path(path_or_text)
        name = source_name or str(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise PriceFileError(name, "", "file not found") from None
        except UnicodeDecodeError as exc:
            raise PriceFileError(name, "", f"not UTF-8 text ({exc.reason})") from None
    else:
        text = path_or_text.removeprefix("\ufeff")
        name = source_name or "<prices>"

    rows = list(csv.reader(io.StringIO(text)))
    if not rows or not any(cell.strip() for cell in rows[0]):
        raise PriceFileError(name, "row 1", "empty file: expected a header 'Date,SYMBOL,...'")
    header = [cell.strip() for cell in rows[0]]
    if header[0] != "Date":
        raise PriceFileError(name, "row 1 column 1", "first column must be 'Date'", rows[0][0])
    symbols = header[1:]
    if not symbols:
        raise PriceFileError(name, "row 1", "no symbol columns after 'Date'")
    seen: set[str] = set()
    for i, symbol in enumerate(symbols, start=2):
        if not SYMBOL_RE.match(symbol):
            raise PriceFileError(name, f"row 1 column {i}", "not an upper-case ticker symbol", symbol)
        if symbol in seen:
            raise PriceFileError(name, f"row 1 column {symbol}", "duplicate symbol column", symbol)
        seen.add(symbol)

    dates: list[date] = []
    values: list[list[Decimal]] = []
    for line_no, cells in enumerate(rows[1:], start=2):
        if not cells or not any(c.strip() for c in cells):
            continue  # blank line
        if len(cells) != len(header):
            raise PriceFileError(
                name, f"row {line_no}", f"expected {len(header)} fields, found {len(cells)}", ",".join(cells)
            )
        d = _parse_date(cells[0], file=name, where=f"row {line_no} column Date")
        if dates and d == dates[-1]:
            raise PriceFileError(name, f"row {line_no} column Date", "duplicate date", cells[0])
        if dates and d < dates[-1]:
            raise PriceFileError(
                name,
                f"row {line_no} column Date",
                f"dates must be strictly increasing (previous row is {dates[-1].isoformat()})",
                cells[0],
            )
        dates.append(d)
        values.append(
            [
                _parse_price(cell, file=name, where=f"row {line_no} column {symbol}")
                for symbol, cell in zip(symbols, cells[1:], strict=True)
            ]
        )
    if not dates:
        raise PriceFileError(name, "row 2", "no price rows after the header")
    index = pd.DatetimeIndex(pd.to_datetime([d.isoformat() for d in dates]), name="Date")
    return pd.DataFrame(values, index=index, columns=pd.Index(symbols), dtype=object)
