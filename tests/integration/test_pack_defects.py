"""Pricing packs that no rebalance could use, the default pack's tie-break, and price files that are not
price files: refused with one line naming the pack or file, exit 2, nothing written, little memory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.cli_process import DAWSOS, assert_one_line, dawsos
from tests.conftest import REPO_ROOT, row_counts

SEED_PACK = "PP_2022-12-28"
SEED_CSV = REPO_ROOT / "data" / "SEEDS" / "optimizer" / "prices" / f"{SEED_PACK}.csv"


def _last_rows(path: Path, n: int) -> Path:
    """A CSV holding the seed pack's header and its last ``n`` dates (same as-of date)."""
    lines = SEED_CSV.read_text().splitlines()
    path.write_text("\n".join([lines[0], *lines[-n:]]) + "\n")
    return path


async def _seal_short_pack(session_factory, pack_id: str, n_dates: int) -> None:  # noqa: ANN001
    """A sealed pack of ``n_dates`` dates, written through the repository (as an older release allowed)."""
    from app.db.repositories import PricingPackRepository

    async with session_factory() as s, s.begin():
        packs = PricingPackRepository(s)
        rows = [r for r in await packs.price_rows(SEED_PACK)]
        dates = sorted({d for d, _, _ in rows})[-n_dates:]
        await packs.create(pack_id, asof_date=dates[-1], source="test: a short pack")
        await packs.add_prices(pack_id, [r for r in rows if r[0] in set(dates)])
        await packs.seal(pack_id)


async def test_a_pack_shorter_than_the_shortest_lookback_is_refused(  # noqa: ANN001
    seeded_database_url, seeded_session_factory, tmp_path: Path
) -> None:
    before = await row_counts(seeded_session_factory)
    csv_path = _last_rows(tmp_path / "five_dates.csv", 5)
    result = dawsos(seeded_database_url, "packs", "import", "--id", "PP_T20", "--prices", str(csv_path))
    assert_one_line(result, 2, "PP_T20", str(csv_path), "5 dates", "21")
    assert await row_counts(seeded_session_factory) == before


async def test_the_default_pack_skips_short_packs_and_names_the_pack_when_history_is_short(  # noqa: ANN001
    seeded_database_url, seeded_session_factory
) -> None:
    await _seal_short_pack(seeded_session_factory, "PP_T20", 5)  # same as-of date, sealed later, id sorts later
    listed = json.loads(dawsos(seeded_database_url, "packs", "list", "--json").stdout)
    assert {p["id"] for p in listed["pricing_packs"]} == {SEED_PACK, "PP_T20"}
    default = dawsos(seeded_database_url, "rebalance", "--portfolio", "P1", "--policy", "quality_focused", "--json")
    assert default.returncode == 0, default.stderr[-600:]
    assert json.loads(default.stdout)["pricing_pack_id"] == SEED_PACK
    short = dawsos(seeded_database_url, "rebalance", "--portfolio", "P1", "--policy", "quality_focused",
                   "--pack", "PP_T20")
    assert_one_line(short, 2, "pricing pack 'PP_T20'", "found 5")


def _max_rss_kib(url: str, *args: str) -> tuple[int, subprocess.CompletedProcess[str]]:
    """Peak RSS (KiB) of one `dawsos` process, measured by a fresh parent (RUSAGE_CHILDREN is per parent)."""
    probe = (
        "import json, resource, subprocess, sys\n"
        "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "print(json.dumps([resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode, r.stderr]))\n"
    )
    env = {**os.environ, "DATABASE_URL": url, "DAWSOS_LOG_LEVEL": "WARNING"}
    out = subprocess.run([sys.executable, "-c", probe, DAWSOS, *args], capture_output=True, text=True, env=env,
                         timeout=600, check=True)
    rss, code, stderr = json.loads(out.stdout)
    return rss, subprocess.CompletedProcess(args, code, "", stderr)


@pytest.mark.parametrize("database_backend", ["sqlite"], indirect=True)
async def test_a_50_mb_junk_csv_is_refused_from_its_first_bytes(  # noqa: ANN001
    seeded_database_url, seeded_session_factory, tmp_path: Path
) -> None:
    junk = tmp_path / "junk.csv"
    line = ("x" * 99 + ",") * 10 + "\n"
    with junk.open("w") as handle:
        for _ in range(50 * 1024 * 1024 // len(line)):
            handle.write(line)
    small = tmp_path / "small_junk.csv"
    small.write_text(line * 3)
    before = await row_counts(seeded_session_factory)
    base_rss, base = _max_rss_kib(seeded_database_url, "packs", "import", "--id", "PP_SMALL", "--prices", str(small))
    junk_rss, refused = _max_rss_kib(seeded_database_url, "packs", "import", "--id", "PP_JUNK", "--prices", str(junk))
    assert_one_line(base, 2, str(small), "row 1 column 1", "'Date'")
    assert_one_line(refused, 2, str(junk), "row 1 column 1", "'Date'")
    print(f"peak RSS: 50 MB junk {junk_rss / 1024:.0f} MiB, 300-byte junk {base_rss / 1024:.0f} MiB")
    assert junk_rss - base_rss < 20 * 1024, (junk_rss, base_rss)  # KiB: the file is not read into memory
    assert await row_counts(seeded_session_factory) == before


@pytest.mark.parametrize("database_backend", ["sqlite"], indirect=True)
async def test_unknown_symbols_name_the_flag_and_the_file_path(  # noqa: ANN001
    seeded_database_url, seeded_session_factory, tmp_path: Path
) -> None:
    folder = tmp_path / "incoming"
    folder.mkdir()
    csv_path = folder / "new.csv"
    start = date(2022, 1, 3)
    csv_path.write_text("Date,ZZZQ\n" + "".join(f"{start + timedelta(days=i)},{10 + i}\n" for i in range(30)))
    before = await row_counts(seeded_session_factory)
    result = dawsos(seeded_database_url, "packs", "import", "--id", "PP_NEW", "--prices", str(csv_path))
    assert_one_line(result, 3, "ZZZQ", str(csv_path), "--create-securities")
    assert await row_counts(seeded_session_factory) == before


def test_a_folder_given_as_the_price_file_is_one_line(tmp_path: Path) -> None:
    from app.core.errors import PriceFileError
    from app.seeding import read_price_csv

    with pytest.raises(PriceFileError, match="is a folder, not a price CSV file"):
        read_price_csv(tmp_path)
