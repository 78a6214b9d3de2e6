"""Command-line defects of issue 11, each in a real `dawsos` subprocess on SQLite and PostgreSQL: a README
command that crashed, folders where files are expected, restricted symbols that must be added, a blank
approver, logs that leaked onto a failed command's stderr, and messages that named the wrong thing."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

from app.bootstrap import build_orchestrator
from app.core.context import RequestCtx
from app.db.repositories.users import UserRepository
from tests.conftest import row_counts
from tests.integration.rebalancing_setup import APPROVER, OWNER, PACK, STRANGER, configure_p1, sign_in

DAWSOS = str(Path(sys.executable).parent / "dawsos")


def dawsos(url: str, *args: str, log_file: Path | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, "DATABASE_URL": url, "DAWSOS_LOG_LEVEL": "INFO", **env}
    if log_file is not None:
        full_env["DAWSOS_LOG_FILE"] = str(log_file)
    return subprocess.run([DAWSOS, *args], capture_output=True, text=True, env=full_env, timeout=180)


def assert_one_line(result: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    assert result.returncode == code, (result.returncode, result.stderr[-600:])
    assert result.stderr.count("\n") == 1, result.stderr[-600:]
    assert "Traceback" not in result.stderr and "{" not in result.stderr.split(":", 1)[0]
    for needle in needles:
        assert needle in result.stderr, result.stderr


def test_policies_show_from_the_readme(seeded_database_url, tmp_path: Path) -> None:  # noqa: ANN001
    table = dawsos(seeded_database_url, "policies", "show", "quality_focused", log_file=tmp_path / "log")
    assert table.returncode == 0 and table.stderr == "", table.stderr[-600:]
    assert "quality_focused" in table.stdout
    doc = json.loads(dawsos(seeded_database_url, "policies", "show", "quality_focused", "--json").stdout)
    assert doc["policy"]["id"] == "quality_focused" and [v["version"] for v in doc["versions"]] == [1]


async def test_a_folder_where_a_file_is_expected_is_one_line(  # noqa: ANN001
    seeded_database_url, seeded_session_factory, tmp_path: Path
) -> None:
    folder = tmp_path / "somedir"
    folder.mkdir()
    before = await row_counts(seeded_session_factory)
    for args in (["packs", "import", "--id", "PP_X", "--prices", str(folder)],
                 ["rebalancing", "model", "set", "M", "--file", str(folder), "--pack", PACK],
                 ["rebalancing", "settings", "set", "P1", "--file", str(folder)],
                 ["rebalancing", "lots", "set", "P1", "--file", str(folder)]):
        assert_one_line(dawsos(seeded_database_url, *args), 2, str(folder), "is a folder")
    assert await row_counts(seeded_session_factory) == before


def test_restricted_set_adds_and_replaces_only_when_told(seeded_database_url) -> None:  # noqa: ANN001
    url = seeded_database_url

    def restricted(*args: str) -> dict[str, str]:
        result = dawsos(url, "rebalancing", "restricted", "set", "P1", *args, "--json")
        assert result.returncode == 0, result.stderr[-600:]
        return json.loads(result.stdout)["symbols"]

    assert restricted("--symbol", "AAPL", "--reason", "policy", "--symbol", "MSFT", "--reason", "esg") == {
        "AAPL": "policy", "MSFT": "esg"}
    assert restricted("--symbol", "XOM", "--reason", "esg") == {"AAPL": "policy", "MSFT": "esg", "XOM": "esg"}
    assert restricted("--symbol", "JNJ", "--replace") == {"JNJ": ""}
    neither = dawsos(url, "rebalancing", "restricted", "set", "P1")
    assert_one_line(neither, 2, "no symbols given", "--symbol", "--file")
    assert "not both" not in neither.stderr


async def test_a_blank_approver_is_bad_usage_and_changes_nothing(  # noqa: ANN001
    seeded_database_url, seeded_session_factory
) -> None:
    await configure_p1(seeded_session_factory)
    proposal = (await build_orchestrator(seeded_session_factory).call(
        "rebalance.propose", RequestCtx(pricing_pack_id=PACK), portfolio_id="P1")).data
    before = await row_counts(seeded_session_factory)
    for command in ("approve", "reject"):
        for blank in ("", "  "):
            result = dawsos(seeded_database_url, "proposals", command, proposal.proposal_id[:12], "--user", blank)
            assert_one_line(result, 2, "--user")
    assert await row_counts(seeded_session_factory) == before


async def test_a_refused_approval_prints_one_line_and_logs_to_the_log_file(  # noqa: ANN001
    seeded_database_url, seeded_session_factory, tmp_path: Path
) -> None:
    await configure_p1(seeded_session_factory)
    proposal = (await build_orchestrator(seeded_session_factory).call(
        "rebalance.propose", RequestCtx(pricing_pack_id=PACK), portfolio_id="P1")).data
    log_file = tmp_path / "logs" / "dawsos.log"
    stranger = await sign_in(seeded_session_factory, STRANGER)  # signed in, holding no role on P1
    refused = dawsos(seeded_database_url, "proposals", "approve", proposal.proposal_id[:12], log_file=log_file,
                     **stranger)
    assert_one_line(refused, 3, "refused: ", STRANGER)
    events = [json.loads(line) for line in log_file.read_text().splitlines()]
    assert any(e["event"] == "proposals.decision.refused" and e["user"] == STRANGER for e in events)
    verbose = dawsos(seeded_database_url, "--verbose", "proposals", "approve", proposal.proposal_id[:12],
                     log_file=log_file, **stranger)
    assert verbose.returncode == 3 and "proposals.decision.refused" in verbose.stderr


async def test_smtp_failures_print_one_error_line(seeded_database_url, seeded_session_factory, tmp_path: Path) -> None:  # noqa: ANN001
    await configure_p1(seeded_session_factory)
    result = (await build_orchestrator(seeded_session_factory).call(
        "rebalance.propose", RequestCtx(pricing_pack_id=PACK), portfolio_id="P1")).data
    assert result.notifications >= 2
    async with seeded_session_factory() as s, s.begin():  # mail goes to configured addresses only
        for user in (OWNER, APPROVER):
            await UserRepository(s).set_email(user, user)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log_file = tmp_path / "dawsos.log"
    sent = dawsos(seeded_database_url, "notifications", "send", log_file=log_file, DAWSOS_SMTP_HOST="127.0.0.1",
                  DAWSOS_SMTP_PORT=str(port), DAWSOS_SMTP_TIMEOUT="2")
    assert_one_line(sent, 1, f"{result.notifications} of {result.notifications} notifications failed")
    assert "notifications.smtp.failed" in log_file.read_text()


def test_optimize_says_min_position_is_above_max_weight(seeded_database_url) -> None:  # noqa: ANN001
    result = dawsos(seeded_database_url, "optimize", "--min-position", "0.5", "--max-weight", "0.1")
    assert_one_line(result, 2, "min_position 0.5 > max_weight 0.1")
    assert "upper bound is 0" not in result.stderr
