"""Reading a fills file: CSV with the header ``symbol,shares,price,date`` (and optionally ``fees``).

``shares`` are signed (+ bought, − sold, never 0), ``price`` currency per share (> 0), ``date`` ISO
``YYYY-MM-DD``, ``fees`` the actual fees in currency (≥ 0; default: see :mod:`app.rebalancing.execution`).
Several lines may fill one trade (partial fills). Every line is validated with pydantic; the first problem is a
:class:`~app.core.errors.FillsFileError` naming the file, the line (the header is line 1), the field and the
value. Nothing is read into the database here.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from app.core.errors import FillsFileError
from app.domain.lifecycle import Fill

REQUIRED = ("symbol", "shares", "price", "date")
OPTIONAL = ("fees",)


class FillLine(BaseModel):
    """One line as written (strings in, typed out)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    symbol: str = Field(min_length=1, max_length=16, pattern=r"^[A-Z0-9.\-]+$")
    shares: Decimal = Field(allow_inf_nan=False)
    price: Decimal = Field(gt=0, allow_inf_nan=False, max_digits=20, decimal_places=6)
    date: date
    fees: Decimal | None = Field(default=None, ge=0, allow_inf_nan=False, max_digits=20, decimal_places=4)

    @field_validator("shares")
    @classmethod
    def _not_zero(cls, value: Decimal) -> Decimal:
        if value == 0:
            raise ValueError("must not be 0 (+ bought, - sold)")
        return value

    @field_validator("fees", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value


def _text(path: Path, name: str) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise FillsFileError(name, None, "", "file not found") from None
    except UnicodeDecodeError as exc:
        raise FillsFileError(name, None, "", f"not UTF-8 text ({exc.reason})") from None


def _header(reader: csv.DictReader, name: str) -> None:
    columns = [c.strip() for c in reader.fieldnames or []]
    missing = [c for c in REQUIRED if c not in columns]
    unknown = [c for c in columns if c not in REQUIRED + OPTIONAL]
    if missing or unknown:
        problem = "; ".join(p for p in (f"missing column(s) {', '.join(missing)}" if missing else "",
                                        f"unknown column(s) {', '.join(unknown)}" if unknown else "") if p)
        raise FillsFileError(name, 1, "header", f"{problem} (expected {','.join(REQUIRED)}[,fees])",
                             ",".join(reader.fieldnames or []))
    reader.fieldnames = columns


def read_fills(path: Path, *, source_name: str | None = None) -> list[Fill]:
    """The fills in ``path``, in file order; FillsFileError on the first bad line."""
    name = source_name or str(path)
    reader = csv.DictReader(io.StringIO(_text(path, name)))
    _header(reader, name)
    fills = []
    for row in reader:
        line = reader.line_num
        if None in row or any(v is None for v in row.values()):
            raise FillsFileError(name, line, "", "wrong number of values for the header", None)
        try:
            parsed = FillLine.model_validate(row)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            field = str(first["loc"][0]) if first["loc"] else ""
            raise FillsFileError(name, line, field, first["msg"].removeprefix("Value error, "),
                                 row.get(field)) from None
        fills.append(Fill(line=line, **parsed.model_dump()))
    if not fills:
        raise FillsFileError(name, None, "", "no fill lines after the header")
    return fills
