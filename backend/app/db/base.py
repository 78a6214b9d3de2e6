"""Declarative base, naming convention and the dialect-independent Decimal column type."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, MetaData, Numeric, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator, TypeEngine

from app.core.decimals import strip_zeros

#: Constraint names are derived, never left to the database, so Alembic diffs stay stable.
NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def json_column() -> TypeEngine[Any]:
    """A JSON column: ``JSONB`` on PostgreSQL, ``JSON`` (text) on SQLite."""
    return JSON().with_variant(JSONB(), "postgresql")


def utcnow() -> datetime:
    """The current time, timezone-aware UTC (the default of every ``created_at``-style column)."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Base of every ORM row. Rows never leave ``app.db``: repositories return domain models."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class DecimalType(TypeDecorator[Decimal]):
    """Exact decimal column that reads back the same ``Decimal`` on SQLite and PostgreSQL.

    * PostgreSQL: ``NUMERIC(precision, scale)``.
    * SQLite: ``TEXT`` holding the plain decimal string (SQLite's NUMERIC affinity goes through a
      C double and loses digits). Text compares lexically in SQL: do arithmetic and ordering in
      Python, not in SQL, on these columns.

    Binding refuses floats (money never goes through binary floating point), non-finite values and
    values that do not fit ``NUMERIC(precision, scale)`` — PostgreSQL would round extra decimal places
    silently and SQLite would keep them, so the two would disagree. Reading returns
    :func:`app.core.decimals.strip_zeros` of the stored value on both dialects: ``100``, never
    ``100.000000``; ``125.674``, never ``125.674000``.
    """

    impl = Numeric
    cache_ok = True

    def __init__(self, precision: int = 20, scale: int = 6) -> None:
        if not 0 <= scale <= precision:
            raise ValueError(f"DecimalType needs 0 <= scale <= precision, got ({precision}, {scale})")
        super().__init__(precision=precision, scale=scale, asdecimal=True)
        self.precision = precision
        self.scale = scale

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Text())
        return dialect.type_descriptor(Numeric(self.precision, self.scale, asdecimal=True))

    def _checked(self, value: object) -> Decimal:
        if isinstance(value, bool) or isinstance(value, float):
            raise TypeError(f"DecimalType binds Decimal, int or str, not {type(value).__name__} ({value!r})")
        if isinstance(value, Decimal):
            dec = value
        elif isinstance(value, (int, str)):
            dec = Decimal(value)
        else:
            raise TypeError(f"DecimalType binds Decimal, int or str, not {type(value).__name__}")
        if not dec.is_finite():
            raise ValueError(f"DecimalType refuses non-finite value {dec}")
        sign, digits, exponent = dec.as_tuple()
        if isinstance(exponent, int) and exponent < 0 and digits[-1] == 0:  # trailing fractional zeros
            dec = strip_zeros(dec)
            exponent = dec.as_tuple().exponent
        if -int(exponent) > self.scale:
            raise ValueError(
                f"{dec} has more than {self.scale} decimal places (column NUMERIC({self.precision}, {self.scale}))"
            )
        if dec and dec.adjusted() >= self.precision - self.scale:
            raise ValueError(f"{dec} does not fit NUMERIC({self.precision}, {self.scale})")
        return dec

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        dec = self._checked(value)
        return format(dec, "f") if dialect.name == "sqlite" else dec

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        dec = value if isinstance(value, Decimal) else Decimal(str(value))
        return strip_zeros(dec)

    def process_literal_param(self, value: Any, dialect: Dialect) -> str:
        if value is None:
            return "NULL"
        text = format(self._checked(value), "f")
        return f"'{text}'" if dialect.name == "sqlite" else text

    @property
    def python_type(self) -> type[Decimal]:
        return Decimal
