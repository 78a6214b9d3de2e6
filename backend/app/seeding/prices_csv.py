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
from collections.abc import Iterator
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO

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


#: the header must end within the first this-many characters (a price CSV's header is a short line)
HEADER_MAX_CHARS = 64 * 1024


def _open_text(path: Path, name: str) -> IO[str]:
    try:
        return path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise PriceFileError(name, "", "file not found") from None
    except IsADirectoryError:
        raise PriceFileError(name, "", "is a folder, not a price CSV file") from None
    except PermissionError:
        raise PriceFileError(name, "", "permission denied") from None


def _read_header(handle: IO[str], name: str) -> list[str]:
    """The header row, read from the first :data:`HEADER_MAX_CHARS` characters only: a file that is not a
    price CSV is refused before the rest of it is read."""
    first = handle.readline(HEADER_MAX_CHARS)
    if len(first) >= HEADER_MAX_CHARS and not first.endswith("\n"):
        raise PriceFileError(name, "row 1", f"no line break in the first {HEADER_MAX_CHARS} characters: not a "
                             "price CSV (expected a header 'Date,SYMBOL,...')")
    cells = next(csv.reader([first]), [])
    if not any(cell.strip() for cell in cells):
        raise PriceFileError(name, "row 1", "empty file: expected a header 'Date,SYMBOL,...'")
    header = [cell.strip() for cell in cells]
    if header[0] != "Date":
        raise PriceFileError(name, "row 1 column 1", "first column must be 'Date'", cells[0][:80])
    symbols = header[1:]
    if not symbols:
        raise PriceFileError(name, "row 1", "no symbol columns after 'Date'")
    seen: set[str] = set()
    for i, symbol in enumerate(symbols, start=2):
        if not SYMBOL_RE.match(symbol):
            raise PriceFileError(name, f"row 1 column {i}", "not an upper-case ticker symbol", symbol[:80])
        if symbol in seen:
            raise PriceFileError(name, f"row 1 column {symbol}", "duplicate symbol column", symbol)
        seen.add(symbol)
    return header


def _read_rows(rows: Iterator[list[str]], header: list[str], name: str) -> tuple[list[date], list[list[Decimal]]]:
    """Dates and exact closes of the rows after the header, checked row by row as they are read."""
    symbols = header[1:]
    dates: list[date] = []
    values: list[list[Decimal]] = []
    for line_no, cells in enumerate(rows, start=2):
        if not cells or not any(c.strip() for c in cells):
            continue  # blank line
        if len(cells) != len(header):
            raise PriceFileError(
                name, f"row {line_no}", f"expected {len(header)} fields, found {len(cells)}", ",".join(cells)[:80]
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
    return dates, values


def read_price_csv(path_or_text: str | os.PathLike[str], *, source_name: str | None = None) -> pd.DataFrame:
    """Read and validate a price CSV.

    ``path_or_text``: a ``Path`` (or other ``os.PathLike``) is read as a file, streamed row by row after its
    header is checked from the first characters; a ``str`` is the CSV text itself. ``source_name`` names the
    file in error messages (default: the path).

    Returns a DataFrame of exact ``Decimal`` closes (currency per share): index ``Date``
    (``DatetimeIndex``, strictly increasing), one column per symbol in file order.
    """
    if isinstance(path_or_text, os.PathLike):
        name = source_name or str(path_or_text)
        handle = _open_text(Path(path_or_text), name)
    else:
        name = source_name or "<prices>"
        handle = io.StringIO(path_or_text.removeprefix("\ufeff"), newline="")
    with handle:
        try:
            header = _read_header(handle, name)
            dates, values = _read_rows(csv.reader(handle), header, name)
        except UnicodeDecodeError as exc:
            raise PriceFileError(name, "", f"not UTF-8 text ({exc.reason})") from None
        except csv.Error as exc:
            raise PriceFileError(name, "", f"not a CSV file ({exc})") from None
    if not dates:
        raise PriceFileError(name, "row 2", "no price rows after the header")
    index = pd.DatetimeIndex(pd.to_datetime([d.isoformat() for d in dates]), name="Date")
    return pd.DataFrame(values, index=index, columns=pd.Index(header[1:]), dtype=object)
