"""Importing a price CSV as a new, sealed pricing pack."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import ArgumentError, DuplicatePackError, PriceFileError, UnknownSecurityError
from app.core.logging import get_logger
from app.db.models import PricingPackRow
from app.db.repositories import PricingPackRepository, SecurityRepository
from app.domain import PricingPack, Security
from app.domain.bounds import MIN_LOOKBACK_DAYS, MIN_PACK_DATES
from app.domain.models import ID_RE
from app.seeding.prices_csv import read_price_csv

log = get_logger("app.seeding")

#: sector given to securities created by ``import_pack(create_securities=True)``
UNCLASSIFIED_SECTOR = "Unclassified"


def _refuse_short(pack_id: str, csv_path: Path, dates: pd.DatetimeIndex, asof: date) -> None:
    """PriceFileError when the pack would have fewer than ``MIN_PACK_DATES`` dates up to ``asof``."""
    usable_dates = int((dates <= pd.Timestamp(asof)).sum())
    if usable_dates < MIN_PACK_DATES:
        raise PriceFileError(
            str(csv_path),
            "column Date",
            f"pricing pack {pack_id!r} would have {usable_dates} dates up to its as-of date {asof.isoformat()}; "
            f"no rebalance could use it: the shortest lookback ({MIN_LOOKBACK_DAYS} daily returns) needs "
            f"{MIN_PACK_DATES}. Nothing was imported",
            usable_dates,
        )


async def import_pack(
    session: AsyncSession,
    *,
    pack_id: str,
    csv_path: Path,
    asof: date | None = None,
    create_securities: bool = False,
    source: str | None = None,
    csv_text: str | None = None,
) -> PricingPack:
    """Build and seal a pricing pack from a price CSV (see :func:`app.seeding.read_price_csv` for its rules).

    ``asof``: the pack's as-of date, one of the file's dates (default: its last date). Symbols must be known
    securities unless ``create_securities`` (then they are added with sector ``Unclassified``, lot size 1).

    Every check (id free, file valid, symbols known, as-of date present) runs before anything is written.
    Runs inside the caller's transaction and does not commit: ``async with factory.begin() as s: ...``.
    A pack with fewer than ``MIN_PACK_DATES`` dates up to its as-of date is refused (PriceFileError): no
    rebalance could use it, and sealed packs cannot be removed. ``csv_text``: the CSV itself (an upload; then
    ``csv_path`` only names it in messages).
    Raises ArgumentError (bad id), DuplicatePackError, PriceFileError, UnknownSecurityError.
    """
    if not ID_RE.match(pack_id):
        raise ArgumentError(f"pack id {pack_id!r} is not valid: letters, digits and _ . : - (at most 64)")
    csv_path = Path(csv_path)
    if await session.get(PricingPackRow, pack_id) is not None:
        raise DuplicatePackError(pack_id)
    prices = read_price_csv(csv_path if csv_text is None else csv_text, source_name=str(csv_path))
    dates = prices.index
    if asof is None:
        asof = dates[-1].date()
    elif pd.Timestamp(asof) not in dates:
        raise PriceFileError(
            str(csv_path),
            "column Date",
            f"as-of date is not a date of the file (it runs {dates[0].date()} .. {dates[-1].date()})",
            asof.isoformat(),
        )

    securities = SecurityRepository(session)
    missing = await securities.missing(prices.columns)
    if missing and not create_securities:
        raise UnknownSecurityError(
            ", ".join(missing), hint=f"in {csv_path}: seed them first or import with --create-securities"
        )
    _refuse_short(pack_id, csv_path, dates, asof)
    for symbol in missing:
        await securities.add(Security(symbol=symbol, name=symbol, sector=UNCLASSIFIED_SECTOR))

    packs = PricingPackRepository(session)
    await packs.create(
        pack_id, asof_date=asof, source=source if source is not None else f"imported from {csv_path.name}"
    )
    await packs.add_prices(pack_id, prices)
    pack = await packs.seal(pack_id)
    log.info(
        "packs.imported", pack_id=pack_id, n_dates=pack.n_dates, n_symbols=pack.n_symbols, created=missing
    )
    return pack
