"""Pricing packs: the real 20-stock pack, CSV import checks, and sealed packs immutable in the repository
AND in the database (triggers) on both dialects."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from app.core.decimals import money
from app.core.errors import (
    DuplicatePackError,
    PriceFileError,
    PricingPackError,
    SealedPackError,
    UnknownPricingPackError,
    UnknownSecurityError,
)
from app.db.repositories import PricingPackRepository, SecurityRepository
from app.seeding import import_pack, load_seed_bundle
from tests.conftest import MARKET_DATA, SEEDS_DIR, row_counts

PACK = "PP_2022-12-28"


async def test_seeded_pack_matches_the_market_data_and_covers_three_years(seeded_session_factory) -> None:  # type: ignore[no-untyped-def]
    if not MARKET_DATA.exists():
        pytest.skip(f"market data not found at {MARKET_DATA}")
    source = pd.read_csv(MARKET_DATA, index_col=0, parse_dates=True, dtype=str)
    last_day, last_row = source.index[-1], source.iloc[-1]
    async with seeded_session_factory() as session:
        repo = PricingPackRepository(session)
        pack = await repo.get(PACK)
        asof = await repo.asof_prices(PACK)
        history = await repo.history(PACK)
    assert pack.asof_date == last_day.date() == date(2022, 12, 28)
    assert pack.sealed and pack.content_hash == load_seed_bundle(SEEDS_DIR).packs[0].content_hash
    assert (pack.n_dates, pack.n_symbols, pack.first_date) == (1260, 20, date(2017, 12, 27))
    assert sorted(asof) == sorted(last_row.index)
    for symbol, stored in asof.items():
        assert money(stored) == money(Decimal(last_row[symbol])), symbol
    assert str(asof["AAPL"]) == "125.674"

    assert len(history) >= 756
    assert list(history.columns) == sorted(asof)
    assert history.index.is_monotonic_increasing and history.index[-1] == last_day
    assert history.index.name == "Date" and all(dtype == "float64" for dtype in history.dtypes)
    assert history.iloc[-1].to_dict() == {s: float(v) for s, v in asof.items()}
    # the pack's history equals the source rows for the same dates
    source_tail = source.loc[history.index, list(history.columns)].astype(float)
    pd.testing.assert_frame_equal(history, source_tail, check_names=False, check_freq=False)


async def test_history_window_and_symbol_selection(seeded_session_factory) -> None:  # type: ignore[no-untyped-def]
    async with seeded_session_factory() as session:
        repo = PricingPackRepository(session)
        window = await repo.history(PACK, symbols=["XOM", "AAPL"], start=date(2022, 1, 1))
        assert list(window.columns) == ["XOM", "AAPL"]
        assert window.index[0] >= pd.Timestamp("2022-01-01")
        with pytest.raises(PricingPackError, match="no prices for ZZZ"):
            await repo.history(PACK, symbols=["AAPL", "ZZZ"])
        with pytest.raises(UnknownPricingPackError, match="unknown pricing pack 'NOPE'"):
            await repo.history("NOPE")
        assert [p.id for p in await repo.list()] == [PACK]


def _csv(tmp_path: Path, body: str, name: str = "prices.csv") -> Path:
    path = tmp_path / name
    path.write_text(body)
    return path


#: the shortest pack a rebalance can use has MIN_PACK_DATES dates: 20 made-up December dates lead in
LEAD_IN = "".join(f"2022-12-{day:02d},120.{day:02d},100.{day:02d}\n" for day in range(1, 21))
GOOD = "Date,AAPL,XOM\n" + LEAD_IN + "2023-01-03,125.07,110.1\n2023-01-04,126.36,111.2\n2023-01-05,125.02,112.3\n"

BAD_CSVS = {
    "nan": ("Date,AAPL,XOM\n2023-01-03,125.07,NaN\n", "row 2 column XOM", "value='NaN'"),
    "blank": (
        "Date,AAPL,XOM\n2023-01-03,125.07,110.1\n2023-01-04,,111.2\n",
        "row 3 column AAPL",
        "missing price",
    ),
    "zero": ("Date,AAPL,XOM\n2023-01-03,0,110.1\n", "row 2 column AAPL", "must be > 0 (value='0')"),
    "negative": ("Date,AAPL,XOM\n2023-01-03,125.07,-1.5\n", "row 2 column XOM", "must be > 0 (value='-1.5')"),
    "non_numeric": (
        "Date,AAPL,XOM\n2023-01-03,abc,110.1\n",
        "row 2 column AAPL",
        "not a number (value='abc')",
    ),
    "unsorted": (
        "Date,AAPL,XOM\n2023-01-04,125.07,110.1\n2023-01-03,126.36,111.2\n",
        "row 3 column Date",
        "strictly increasing",
    ),
    "duplicate_date": (
        "Date,AAPL,XOM\n2023-01-03,125.07,110.1\n2023-01-03,126.36,111.2\n",
        "row 3 column Date",
        "duplicate date (value='2023-01-03')",
    ),
    "duplicate_symbol": (
        "Date,AAPL,AAPL\n2023-01-03,125.07,110.1\n",
        "row 1 column AAPL",
        "duplicate symbol column",
    ),
    "bad_date": ("Date,AAPL,XOM\n03/01/2023,125.07,110.1\n", "row 2 column Date", "ISO"),
    "no_date_column": ("Day,AAPL\n2023-01-03,1\n", "row 1 column 1", "first column must be 'Date'"),
    "too_precise": ("Date,AAPL\n2023-01-03,1.1234567\n", "row 2 column AAPL", "more than 6 decimal places"),
}


@pytest.mark.parametrize("case", list(BAD_CSVS))
async def test_bad_price_csv_is_refused_and_nothing_written(
    case: str,
    seeded_session_factory,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    body, where, text_ = BAD_CSVS[case]
    path = _csv(tmp_path, body)
    before = await row_counts(seeded_session_factory)
    with pytest.raises(PriceFileError) as caught:
        async with seeded_session_factory.begin() as session:
            await import_pack(session, pack_id="PP_NEW", csv_path=path)
    message = str(caught.value)
    assert message.startswith(f"{path}: {where}: "), message
    assert text_ in message, message
    assert await row_counts(seeded_session_factory) == before


async def test_import_refusals_leave_counts_unchanged(seeded_session_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    before = await row_counts(seeded_session_factory)
    unknown = _csv(tmp_path, "Date,AAPL,ZZZ1,ZZZ2\n2023-01-03,1,2,3\n")
    with pytest.raises(UnknownSecurityError, match="ZZZ1, ZZZ2.*--create-securities"):
        async with seeded_session_factory.begin() as session:
            await import_pack(session, pack_id="PP_NEW", csv_path=unknown)
    with pytest.raises(DuplicatePackError, match=PACK):
        async with seeded_session_factory.begin() as session:
            await import_pack(session, pack_id=PACK, csv_path=_csv(tmp_path, GOOD))
    with pytest.raises(PriceFileError, match="as-of date is not a date of the file.*'2023-01-07'"):
        async with seeded_session_factory.begin() as session:
            await import_pack(session, pack_id="PP_NEW", csv_path=_csv(tmp_path, GOOD), asof=date(2023, 1, 7))
    assert await row_counts(seeded_session_factory) == before


async def test_import_builds_a_sealed_pack(seeded_session_factory, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    before = await row_counts(seeded_session_factory)
    path = _csv(tmp_path, GOOD.replace("XOM", "NEWCO"))
    async with seeded_session_factory.begin() as session:
        pack = await import_pack(
            session, pack_id="PP_2023-01-04", csv_path=path, asof=date(2023, 1, 4), create_securities=True
        )
    assert pack.sealed and pack.asof_date == date(2023, 1, 4)
    assert (pack.n_dates, pack.n_symbols) == (23, 2)
    after = await row_counts(seeded_session_factory)
    assert after["pack_prices"] == before["pack_prices"] + 46
    assert after["securities"] == before["securities"] + 1
    async with seeded_session_factory() as session:
        repo = PricingPackRepository(session)
        assert await repo.asof_prices("PP_2023-01-04") == {
            "AAPL": Decimal("126.36"),
            "NEWCO": Decimal("111.2"),
        }
        history = await repo.history("PP_2023-01-04")  # stops at the as-of date: no look-ahead
        assert list(history.index.strftime("%Y-%m-%d"))[-2:] == ["2023-01-03", "2023-01-04"]
        assert len(history) == 22
        assert (await SecurityRepository(session).get_many(["NEWCO"]))["NEWCO"].sector == "Unclassified"


async def test_sealed_pack_refused_by_the_repository(seeded_session_factory) -> None:  # type: ignore[no-untyped-def]
    before = await row_counts(seeded_session_factory)
    rows = [(date(2023, 1, 3), "AAPL", Decimal("130"))]
    with pytest.raises(SealedPackError, match=f"{PACK}.*sealed"):
        async with seeded_session_factory.begin() as session:
            await PricingPackRepository(session).add_prices(PACK, rows)
    with pytest.raises(SealedPackError):
        async with seeded_session_factory.begin() as session:
            await PricingPackRepository(session).seal(PACK)
    assert await row_counts(seeded_session_factory) == before


RAW_WRITES = {
    "update_price": "UPDATE pack_prices SET close = close WHERE pack_id = 'PP_2022-12-28' AND symbol = 'AAPL'",
    "insert_price": "INSERT INTO pack_prices (pack_id, symbol, price_date, close) "
    "VALUES ('PP_2022-12-28', 'AAPL', '2022-12-29', '130')",
    "delete_price": "DELETE FROM pack_prices WHERE pack_id = 'PP_2022-12-28' AND symbol = 'AAPL'",
    "unseal": "UPDATE pricing_packs SET sealed = false WHERE id = 'PP_2022-12-28'",
    "rehash": "UPDATE pricing_packs SET content_hash = 'x' WHERE id = 'PP_2022-12-28'",
    "move_asof": "UPDATE pricing_packs SET asof_date = '2022-12-27' WHERE id = 'PP_2022-12-28'",
    "delete_pack": "DELETE FROM pricing_packs WHERE id = 'PP_2022-12-28'",
}


@pytest.mark.parametrize("case", list(RAW_WRITES))
async def test_sealed_pack_refused_by_the_database(case: str, seeded_engine, seeded_session_factory) -> None:  # type: ignore[no-untyped-def]
    before = await row_counts(seeded_session_factory)
    with pytest.raises(DBAPIError, match="pricing pack.*is sealed"):
        async with seeded_engine.begin() as conn:
            await conn.execute(text(RAW_WRITES[case]))
    assert await row_counts(seeded_session_factory) == before


async def test_unsealed_pack_is_writable_until_sealed(session_factory) -> None:  # type: ignore[no-untyped-def]
    from app.domain import Security

    async with session_factory.begin() as session:
        await SecurityRepository(session).add(Security(symbol="AAA", name="A", sector="Tech"))
        repo = PricingPackRepository(session)
        await repo.create("PK", asof_date=date(2024, 1, 2), source="test")
        await repo.add_prices(
            "PK", [(date(2024, 1, 1), "AAA", Decimal("10")), (date(2024, 1, 2), "AAA", Decimal("11"))]
        )
        await session.execute(text("UPDATE pack_prices SET close = '10.5' WHERE price_date = '2024-01-01'"))
        await repo.create("PK_EMPTY", asof_date=date(2024, 1, 2))
        with pytest.raises(PricingPackError, match="'PK_EMPTY' has no prices on its as-of date"):
            await repo.seal("PK_EMPTY")
        pack = await repo.seal("PK")
    assert pack.sealed and pack.content_hash
    async with session_factory() as session:
        repo = PricingPackRepository(session)
        assert await repo.asof_prices("PK") == {"AAA": Decimal("11")}
        assert (await repo.price_rows("PK"))[0][2] == Decimal("10.5")
    with pytest.raises(DBAPIError, match="is sealed"):
        async with session_factory.begin() as session:
            await session.execute(text("UPDATE pack_prices SET close = '12' WHERE pack_id = 'PK'"))
