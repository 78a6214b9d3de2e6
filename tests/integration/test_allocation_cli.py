"""`dawsos optimize` and `dawsos frontier` in subprocesses on a temporary SQLite database that `dawsos seed`
fills (DATABASE_URL): JSON contract, exit codes, and the frontier picture written."""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from tests.cli_process import dawsos

PACK = "PP_2022-12-28"


@pytest.fixture(scope="module")
def db_url(tmp_path_factory: pytest.TempPathFactory, seeded_sqlite_template: Path) -> str:
    path = tmp_path_factory.mktemp("alloc") / "dawsos.sqlite3"
    shutil.copyfile(seeded_sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


def floats_in(doc: object, path: str = "") -> list[str]:
    """Paths of the raw JSON floats in ``doc``."""
    if isinstance(doc, float):
        return [path]
    if isinstance(doc, dict):
        return [p for k, v in doc.items() for p in floats_in(v, f"{path}.{k}")]
    if isinstance(doc, list):
        return [p for i, v in enumerate(doc) for p in floats_in(v, f"{path}[{i}]")]
    return []



@pytest.mark.slow
def test_frontier_json_and_plot(db_url: str, tmp_path: Path) -> None:
    png = tmp_path / "out.png"
    done = dawsos(db_url, "frontier", "--pack", PACK, "--points", "12", "--max-weight", "0.10",
                   "--portfolio", "P1", "--json", "--plot", str(png))
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)  # exactly one JSON document
    assert not floats_in(doc)  # Decimal strings, as every other document
    risks = [Decimal(p["risk"]) for p in doc["points"]]
    assert len(risks) == 12 and risks == sorted(risks)
    assert set(doc["points"][0]) >= {"risk", "return", "sharpe", "weights"}
    assert Decimal(doc["max_sharpe"]["sharpe"]) >= max(Decimal(p["sharpe"]) for p in doc["points"]) - Decimal("1e-8")
    assert doc["current"] is not None and doc["current_portfolio_id"] == "P1"
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000


@pytest.mark.slow
def test_optimize_json_contract(db_url: str) -> None:
    done = dawsos(db_url, "optimize", "--pack", PACK, "--model", "Classic", "--objective", "Sharpe",
                   "--risk-measure", "MV", "--max-weight", "0.10", "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    assert not floats_in(doc), floats_in(doc)  # no raw float (budget was 0.9999999999999998)
    budget = next(c for c in doc["constraints"] if c["name"] == "budget")
    assert budget["value"] == "1.00000000"
    w = {s: Decimal(v) for s, v in doc["weights"].items()}
    assert abs(sum(w.values()) - 1) <= Decimal("1e-6") and max(w.values()) <= Decimal("0.10000001")
    assert {"expected_return", "volatility", "sharpe", "risk"} <= set(doc["metrics"])
    assert 0 < Decimal(doc["metrics"]["volatility"]) < 1  # annualised fraction, not percent
    assert doc["constraints_satisfied"] is True


@pytest.mark.parametrize(("args", "code", "message"), [
    (["optimize", "--pack", PACK, "--max-weight", "0.04"], 2,
     "error: max_weight 0.04 x 20 eligible names = 0.80 < 1.00 budget"),
    (["optimize", "--pack", PACK, "--model", "Markowitz"], 2, "error: optimizer.optimize: argument 'model'"),
    (["optimize", "--pack", "PP_1999-01-01"], 3, "refused: unknown pricing pack 'PP_1999-01-01'"),
    (["frontier", "--pack", PACK, "--plot", "out.jpg"], 2, "error: --plot: the picture is a PNG file"),
])
def test_errors_are_one_line_with_exit_codes(db_url: str, args: list[str], code: int, message: str) -> None:
    done = dawsos(db_url, *args)
    assert done.returncode == code, done.stderr
    assert done.stdout == ""
    assert done.stderr.startswith(message) and done.stderr.count("\n") == 1
