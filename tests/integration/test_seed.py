"""Seeding: idempotent on both databases, malformed files refused with a clear one-line error and no write,
policy versions kept, sealed packs never silently rewritten."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.core.errors import PriceFileError, SealedPackConflictError, SeedFileError
from app.db.models import SecurityRow
from app.db.repositories import PolicyRepository
from app.seeding import run_seed
from tests.conftest import REPO_ROOT, row_counts

EXPECTED_COUNTS = {
    "securities": 20,
    "quality_ratings": 20,
    "pricing_packs": 1,
    "pack_prices": 1260 * 20,
    "benchmarks": 1,
    "benchmark_weights": 20,
    "portfolios": 2,
    "holdings": 23,
    "optimizer_policies": 3,
    "constraint_defaults": 1,
    "rebalance_proposals": 0,
    "proposal_requests": 0,
    # 0002_rebalancing: seeding writes none of these
    **{t: 0 for t in ("rebalance_settings", "restricted_symbols", "model_portfolios",
                      "model_weights", "tax_lots", "portfolio_transactions", "cash_flows", "rebalance_runs",
                      "proposal_transitions", "approval_refusals", "notification_outbox")},
    # 0004_one_proposal_lifecycle: nor these
    "proposal_fills": 0,
    # 0005_identity: the command line's built-in identity `local` (made by the migration) owns both portfolios
    "users": 1,
    "api_tokens": 0,
    "portfolio_roles": 2,
    # 0006_service: seeding writes none of seed 003's tables
    **{t: 0 for t in ("optimization_requests", "optimization_results", "efficient_frontier_requests",
                      "efficient_frontier_results", "rebalance_requests", "rebalance_results",
                      "portfolio_optimizations", "efficient_frontiers", "rebalance_plans")},
}


def edit_json(path: Path, change: Callable[[Any], None]) -> None:
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data, indent=2))


async def test_seeding_twice_is_idempotent(session_factory, seeds_dir: Path) -> None:  # type: ignore[no-untyped-def]
    first = await run_seed(session_factory, seeds_dir)
    counts = await row_counts(session_factory)
    assert counts == EXPECTED_COUNTS
    assert first.changed
    assert first.tables["pack_prices"].inserted == 25200
    assert first.tables["optimizer_policies"].inserted == 3

    second = await run_seed(session_factory, seeds_dir)
    assert await row_counts(session_factory) == counts
    assert not second.changed
    assert all(c.inserted == c.updated == c.deleted == 0 for c in second.tables.values())
    assert second.tables["pack_prices"].unchanged == 25200
    assert second.lines()[-1].startswith("nothing changed")


# (what to break, file, JSON path, text the message must contain)
def _bad_json(d: Path) -> None:
    (d / "portfolios.json").write_text('{"schema_version": "1.0", "portfolios": [\n  {"id": "P1",, }\n]}')


def _missing_field(d: Path) -> None:
    edit_json(d / "policy_templates.json", lambda j: j["policies"][1].pop("max_sector_pct"))


def _wrong_type(d: Path) -> None:
    edit_json(
        d / "policy_templates.json", lambda j: j["policies"][0].__setitem__("max_turnover_pct", "twenty")
    )


def _out_of_range(d: Path) -> None:
    edit_json(d / "policy_templates.json", lambda j: j["policies"][1].__setitem__("max_sector_pct", 1.5))


def _negative_cost(d: Path) -> None:
    edit_json(d / "constraint_defaults.json", lambda j: j.__setitem__("commission_per_trade", -5))


def _unknown_holding(d: Path) -> None:
    edit_json(
        d / "portfolios.json", lambda j: j["portfolios"][0]["holdings"][1].__setitem__("symbol", "ZZZZ")
    )


def _unknown_rating(d: Path) -> None:
    edit_json(d / "quality_ratings.json", lambda j: j["ratings"][3].__setitem__("symbol", "NOPE"))


def _benchmark_sum(d: Path) -> None:
    edit_json(d / "benchmarks.json", lambda j: j["benchmarks"][0]["weights"].__setitem__("AAPL", "0.200000"))


def _extra_field(d: Path) -> None:
    edit_json(d / "securities.json", lambda j: j["securities"][0].__setitem__("ticker", "AAPL"))


def _duplicate_key(d: Path) -> None:
    path = d / "constraint_defaults.json"
    path.write_text(
        path.read_text().replace('"min_trade_value"', '"market_impact_bps": 20,\n  "min_trade_value"')
    )


def _bad_price(d: Path) -> None:
    path = d / "prices" / "PP_2022-12-28.csv"
    lines = path.read_text().splitlines()
    cells = lines[4].split(",")
    cells[3] = "NaN"
    lines[4] = ",".join(cells)
    path.write_text("\n".join(lines) + "\n")


def _asof_not_in_csv(d: Path) -> None:
    edit_json(
        d / "pricing_packs.json", lambda j: j["pricing_packs"][0].__setitem__("asof_date", "2022-12-25")
    )


MALFORMED = {
    "bad_json": (_bad_json, "portfolios.json", "line 2 column", "invalid JSON"),
    "missing_field": (
        _missing_field,
        "policy_templates.json",
        "policies[1].max_sector_pct",
        "Field required",
    ),
    "wrong_type": (_wrong_type, "policy_templates.json", "policies[0].max_turnover_pct", "value='twenty'"),
    "out_of_range": (_out_of_range, "policy_templates.json", "policies[1].max_sector_pct", "value=1.5"),
    "negative_cost": (_negative_cost, "constraint_defaults.json", "commission_per_trade", "value=-5"),
    "unknown_holding": (
        _unknown_holding,
        "portfolios.json",
        "portfolios[0].holdings[1].symbol",
        "value='ZZZZ'",
    ),
    "unknown_rating": (_unknown_rating, "quality_ratings.json", "ratings[3].symbol", "value='NOPE'"),
    "benchmark_sum": (
        _benchmark_sum,
        "benchmarks.json",
        "benchmarks[0].weights",
        "sum to 1 (value='1.100000')",
    ),
    "extra_field": (
        _extra_field,
        "securities.json",
        "securities[0].ticker",
        "Extra inputs are not permitted",
    ),
    "duplicate_key": (_duplicate_key, "constraint_defaults.json", "", "duplicate key 'market_impact_bps'"),
    "bad_price": (_bad_price, "prices/PP_2022-12-28.csv", "row 5 column BAC", "value='NaN'"),
    "asof_not_in_csv": (
        _asof_not_in_csv,
        "pricing_packs.json",
        "pricing_packs[0].asof_date",
        "value='2022-12-25'",
    ),
}


@pytest.mark.parametrize("case", list(MALFORMED))
async def test_malformed_seed_file_is_refused_and_nothing_written(
    case: str,
    seeded_session_factory,
    seeds_copy: Path,  # type: ignore[no-untyped-def]
) -> None:
    breaker, file, path, text = MALFORMED[case]
    breaker(seeds_copy)
    before = await row_counts(seeded_session_factory)
    with pytest.raises((SeedFileError, PriceFileError)) as caught:
        await run_seed(seeded_session_factory, seeds_copy)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{file}: {path}"), message
    assert text in message, message
    assert await row_counts(seeded_session_factory) == before


async def test_malformed_seed_on_empty_database_writes_nothing(session_factory, seeds_copy: Path) -> None:  # type: ignore[no-untyped-def]
    _unknown_holding(seeds_copy)
    before = await row_counts(session_factory)
    assert {t: n for t, n in before.items() if n} == {"users": 1}  # only the CLI's identity `local` (0005)
    with pytest.raises(SeedFileError):
        await run_seed(session_factory, seeds_copy)
    assert await row_counts(session_factory) == before


async def test_changed_policy_becomes_version_2_and_version_1_stays(
    seeded_session_factory, seeds_copy: Path
) -> None:  # type: ignore[no-untyped-def]
    edit_json(
        seeds_copy / "policy_templates.json", lambda j: j["policies"][0].__setitem__("max_turnover_pct", 0.25)
    )
    report = await run_seed(seeded_session_factory, seeds_copy)
    assert report.tables["optimizer_policies"].inserted == 1
    assert report.tables["optimizer_policies"].unchanged == 2
    assert sum(c.inserted + c.updated + c.deleted for c in report.tables.values()) == 1

    async with seeded_session_factory() as session:
        repo = PolicyRepository(session)
        assert await repo.versions("quality_focused") == [1, 2]
        v1, latest = await repo.get("quality_focused", 1), await repo.get("quality_focused")
        assert (v1.version, v1.max_turnover_pct) == (1, 0.20)
        assert (latest.version, latest.max_turnover_pct) == (2, 0.25)
        assert {p.id: p.version for p in await repo.list_latest()} == {
            "aggressive_growth": 1,
            "conservative_income": 1,
            "quality_focused": 2,
        }
    again = await run_seed(seeded_session_factory, seeds_copy)
    assert not again.changed


async def test_pinned_policy_version_cannot_be_rewritten(seeded_session_factory, seeds_copy: Path) -> None:  # type: ignore[no-untyped-def]
    def pin_and_change(j: Any) -> None:
        j["policies"][2]["version"] = 1
        j["policies"][2]["min_quality_score"] = 7.5

    edit_json(seeds_copy / "policy_templates.json", pin_and_change)
    before = await row_counts(seeded_session_factory)
    with pytest.raises(
        SeedFileError, match=r"policy_templates.json: policies\[2\].version: version 1 .* immutable"
    ):
        await run_seed(seeded_session_factory, seeds_copy)
    assert await row_counts(seeded_session_factory) == before


async def test_reseeding_a_sealed_pack_with_other_prices_writes_nothing(
    seeded_session_factory, seeds_copy: Path
) -> None:  # type: ignore[no-untyped-def]
    csv = seeds_copy / "prices" / "PP_2022-12-28.csv"
    csv.write_text(csv.read_text().replace("125.674", "125.675"))
    edit_json(
        seeds_copy / "securities.json", lambda j: j["securities"][0].__setitem__("name", "Renamed Inc.")
    )
    before = await row_counts(seeded_session_factory)
    with pytest.raises(SealedPackConflictError, match="PP_2022-12-28.*sealed with different content"):
        await run_seed(seeded_session_factory, seeds_copy)
    assert await row_counts(seeded_session_factory) == before
    async with seeded_session_factory() as session:  # the security rename was rolled back with the rest
        assert (
            await session.scalar(select(SecurityRow.name).where(SecurityRow.symbol == "AAPL")) == "Apple Inc."
        )


async def test_reference_updates_are_reported_and_applied(seeded_session_factory, seeds_copy: Path) -> None:  # type: ignore[no-untyped-def]
    def change(j: Any) -> None:
        p1 = j["portfolios"][0]
        p1["cash"] = "1000.50"
        p1["holdings"] = [h for h in p1["holdings"] if h["symbol"] != "XOM"] + [
            {"symbol": "MSFT", "shares": "10"}
        ]

    edit_json(seeds_copy / "portfolios.json", change)
    report = await run_seed(seeded_session_factory, seeds_copy)
    assert (report.tables["portfolios"].updated, report.tables["portfolios"].unchanged) == (1, 1)
    holdings = report.tables["holdings"]
    assert (holdings.inserted, holdings.deleted, holdings.unchanged) == (1, 1, 22)
    from app.db.repositories import PortfolioRepository

    async with seeded_session_factory() as session:
        p1 = await PortfolioRepository(session).get("P1")
    assert str(p1.cash) == "1000.5"
    assert [(h.symbol, str(h.shares)) for h in p1.holdings] == [
        ("AAPL", "100"),
        ("JNJ", "150"),
        ("MSFT", "10"),
    ]


def _run_script(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    return subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "seed.py"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        cwd=REPO_ROOT,
    )


def test_seed_script_reports_and_repeats_cleanly(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'new' / 'dawsos.sqlite3'}"
    first = _run_script("--database-url", url)
    assert first.returncode == 0, first.stderr
    assert "pack_prices" in first.stdout and "25200" in first.stdout
    second = _run_script("--database-url", url)
    assert second.returncode == 0, second.stderr
    assert "nothing changed" in second.stdout


def test_seed_script_malformed_file_exits_2_with_one_line(tmp_path: Path, seeds_copy: Path) -> None:
    _out_of_range(seeds_copy)
    url = f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite3'}"
    result = _run_script("--database-url", url, "--seeds-dir", str(seeds_copy))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "policy_templates.json: policies[1].max_sector_pct" in lines[0] and "value=1.5" in lines[0]
    assert not (tmp_path / "db.sqlite3").exists()  # validated before the database was touched
