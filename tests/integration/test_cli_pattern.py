"""`dawsos pattern run` and `dawsos rebalance` take one path: same inputs, same proposal (subprocesses on a
seeded temporary SQLite database named by DATABASE_URL)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

DAWSOS = str(Path(sys.executable).with_name("dawsos"))


def _env(url: str) -> dict[str, str]:
    return {**os.environ, "DATABASE_URL": url, "DAWSOS_LOG_LEVEL": "WARNING"}


def _start(args: list[str], url: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([DAWSOS, *args], env=_env(url), cwd=cwd, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.slow
@pytest.mark.parametrize("database_backend", ["sqlite"], indirect=True)
def test_pattern_run_gives_the_same_proposal_as_rebalance(seeded_database_url: str, tmp_path: Path) -> None:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    rebalance = _start(["rebalance", "--portfolio", "P2", "--policy", "aggressive_growth", "--json"],
                       seeded_database_url, cwd)
    pattern = _start(["pattern", "run", "policy_rebalance", "--input", "portfolio_id=P2",
                      "--input", "policy_id=aggressive_growth", "--pack", "PP_2022-12-28", "--json"],
                     seeded_database_url, cwd)
    r_out, r_err = rebalance.communicate(timeout=120)
    p_out, p_err = pattern.communicate(timeout=120)
    assert rebalance.returncode == 0, r_err
    assert pattern.returncode == 0, p_err
    direct = json.loads(r_out)
    run = json.loads(p_out)
    proposal = run["outputs"]["proposal"]
    assert proposal["proposal_id"] == direct["proposal_id"]
    assert {k: v for k, v in proposal.items() if k != "request_id"} == {
        k: v for k, v in direct.items() if k != "request_id"}
    assert [s["name"] for s in run["steps"]] == ["pack", "policy", "proposal", "impact"]
    assert run["outputs"]["impact"]["after"]["te_pct"] == direct["summary"]["te_after_pct"]
    assert list(cwd.iterdir()) == []  # nothing written where it ran


@pytest.mark.parametrize("database_backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["pattern", "run", "policy_rebalance", "--input", "portfolio_id=P1"], 2,
         "error: pattern policy_rebalance: missing input 'policy_id'"),
        (["pattern", "run", "policy_rebalance", "--input", "portfolio_id"], 2,
         "error: --input: expected KEY=VALUE (value='portfolio_id')"),
        (["pattern", "run", "no_such_pattern"], 2, "error: no_such_pattern: no such pattern in"),
        (["pattern", "run", "policy_rebalance", "--input", "portfolio_id=P1", "--input", "policy_id=quality_focused",
          "--pack", "PP_NOPE"], 3, "refused: unknown pricing pack 'PP_NOPE'"),
    ],
    ids=["missing-input", "bad-input", "unknown-pattern", "unknown-pack"],
)
def test_pattern_run_errors_are_one_line(seeded_database_url: str, tmp_path: Path, args, code, message) -> None:  # noqa: ANN001
    done = subprocess.run([DAWSOS, *args, "--json"], env=_env(seeded_database_url), cwd=tmp_path, text=True,
                          capture_output=True, timeout=120)
    assert done.returncode == code
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith(message), done.stderr
