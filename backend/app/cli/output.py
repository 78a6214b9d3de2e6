"""How the CLI writes for a person: one console width rule, one number format, tables that never cut money.

* Width: ``COLUMNS`` when set, else the terminal's, else (a pipe or a file) 100 columns.
* Money: thousands separators and two decimals, ROUND_HALF_EVEN (``60,005.55``, ``0.00``, ``150.00``).
* Prices: at least two decimals, every stored decimal kept (``125.674``, ``150.00``).
* Tables: number columns never wrap; :func:`show` prints a table wider than the console rather than cut a
  number (columns of words wrap first).
"""

from __future__ import annotations

import os
import sys
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

#: width of piped output when COLUMNS is not set
PIPE_WIDTH = 100
CENTS = Decimal("0.01")


def output_width() -> int | None:
    """Columns to write: ``COLUMNS``, else None (the terminal's own), else :data:`PIPE_WIDTH` when piped."""
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    return None if sys.stdout.isatty() else PIPE_WIDTH


def new_console() -> Console:
    """A console on stdout at :func:`output_width`."""
    return Console(width=output_width(), soft_wrap=False)


def as_decimal(value: Any) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def money(value: Any) -> str:
    """``value`` (currency units) as ``60,005.55``: cents, ROUND_HALF_EVEN, thousands separators, no ``-0.00``
    (``None`` shows as nothing)."""
    if value is None:
        return ""
    cents = as_decimal(value).quantize(CENTS, rounding=ROUND_HALF_EVEN)
    return f"{cents + 0:,.2f}" if cents else "0.00"


def price(value: Any) -> str:
    """A price (currency units per share) with thousands separators, at least two decimals, none dropped."""
    if value is None:
        return ""
    dec = as_decimal(value)
    places = max(2, -dec.as_tuple().exponent if isinstance(dec.as_tuple().exponent, int) else 2)
    return f"{dec:,.{places}f}"


def pct(value: Any) -> str:
    """A percent value (already in percent, e.g. ``Decimal("20.94")``) as ``20.94 %`` (``None``: nothing)."""
    if value is None:
        return ""
    return f"{as_decimal(value).quantize(CENTS, rounding=ROUND_HALF_EVEN) + 0:.2f} %"


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 run``, ``2 runs``."""
    return f"{count} {noun if count == 1 else (nouns or noun + 's')}"


def readable(value: Any) -> str:
    """A JSON-ready value as text: ``a=1, b=2`` for a mapping, ``x, y`` for a list, else ``str``."""
    if isinstance(value, dict):
        return ", ".join(f"{k}={readable(v)}" for k, v in value.items()) or "none"
    if isinstance(value, (list, tuple)):
        return ", ".join(readable(v) for v in value) or "none"
    return "" if value is None else str(value)


def number_column(table: Table, header: str) -> None:
    """A right-aligned column that never wraps or is cut."""
    table.add_column(header, justify="right", no_wrap=True)


def text_column(table: Table, header: str, *, wrap: bool = False) -> None:
    """A left-aligned column; ids and dates (``wrap=False``) are never cut, free text wraps."""
    table.add_column(header, justify="left", no_wrap=not wrap, overflow="fold")


def cell_width(cell: Any, *, wrap: bool) -> int:
    """Columns a cell needs: its whole text, or its longest word when the column wraps."""
    text = Text.from_markup(cell) if isinstance(cell, str) else Text(str(cell))
    if wrap:
        return max((Text(word).cell_len for word in text.plain.split()), default=0)
    return max((Text(line).cell_len for line in text.plain.splitlines()), default=0)


def table_width(table: Table) -> int:
    """The narrowest width at which ``table`` shows every no-wrap cell (numbers, ids, dates) whole."""
    total = 1  # the left edge
    for column in table.columns:
        wrap = not column.no_wrap
        cells = [column.header, *column.cells]
        total += max(cell_width(cell, wrap=wrap) for cell in cells) + 3  # padding 2 + border 1
    return total


def show(console: Console, table: Table) -> None:
    """Print ``table``, wider than the console when needed rather than cutting a number or an id; a column
    of free text wraps between words, never inside one."""
    for column in table.columns:
        if not column.no_wrap:
            column.min_width = max(cell_width(cell, wrap=True) for cell in [column.header, *column.cells])
    width = console.width
    console.width = max(width, table_width(table))  # Console.print(width=) never exceeds the console's width
    try:
        console.print(table, crop=False)
    finally:
        console.width = width
