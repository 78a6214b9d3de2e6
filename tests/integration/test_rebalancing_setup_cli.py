"""`dawsos rebalancing ...` and `dawsos notifications send` in a subprocess, on SQLite and PostgreSQL: set a
portfolio up, check, propose, approve; bad files exit 2 and write nothing; refusals exit 3; the SMTP sender
against a real aiosmtpd server."""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from app.db.models import RebalanceSettingsRow
from app.db.repositories.outbox import OutboxRepository
from app.db.repositories.users import UserRepository
from app.notifications.smtp import message_id
from tests.cli_process import dawsos, ok_json
from tests.conftest import row_counts
from tests.integration.rebalancing_setup import APPROVER, OWNER, PACK, WEIGHTS, configure_p1
from tests.integration.test_rebalancing_notifications import FlakyHandler, running_smtp


def write(path: Path, document: Any) -> Path:
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


async def settings_row(session_factory) -> tuple[Any, ...]:  # noqa: ANN001
    async with session_factory() as s:
        row = await s.get(RebalanceSettingsRow, "P1")
        return (row.approval_threshold, row.config, row.updated_at) if row else ()


async def test_set_up_check_propose_and_approve_from_the_cli(seeded_database_url, tmp_path) -> None:  # noqa: ANN001
    url = seeded_database_url
    weights = write(tmp_path / "weights.json", {"weights": {s: str(w) for s, w in WEIGHTS.items()}})
    model = ok_json(url, "rebalancing", "model", "set", "M_CLI", "--file", str(weights), "--pack", PACK)
    assert model["pricing_pack_id"] == PACK and {s: D(w) for s, w in model["weights"].items()} == WEIGHTS

    settings = write(tmp_path / "settings.json", {"model_portfolio_id": "M_CLI", "drift_abs_band": "0.05",
                                                  "approval_threshold": 10000, "tax_rates": {"short_term": 0.35}})
    stored = ok_json(url, "rebalancing", "settings", "set", "P1", "--file", str(settings))
    assert ok_json(url, "rebalancing", "settings", "show", "P1") == stored
    assert stored["model_portfolio_id"] == "M_CLI" and D(stored["tax_rates"]["short_term"]) == D("0.35")

    refused = dawsos(url, "rebalancing", "approvers", "set", "P1", OWNER, "--role", "owner")
    assert refused.returncode == 3 and refused.stderr == f"refused: unknown user '{OWNER}'; create it first: " \
                                                         f"dawsos users create {OWNER}\n"
    approver = ok_json(url, "users", "create", APPROVER)["token"]["token"]  # printed once, used below
    ok_json(url, "users", "create", OWNER)
    assert dawsos(url, "rebalancing", "approvers", "set", "P1", OWNER, "--role", "owner").returncode == 0
    roles = ok_json(url, "rebalancing", "approvers", "set", "P1", APPROVER, "--role", "approver")
    assert roles["approvers"] == [{"user_id": OWNER, "role": "owner"}, {"user_id": APPROVER, "role": "approver"},
                                  {"user_id": "local", "role": "owner"}]  # the local identity: `dawsos seed`'s
    restricted = ok_json(url, "rebalancing", "restricted", "set", "P1", "--symbol", "AMD", "--reason", "compliance")
    assert restricted["symbols"] == {"AMD": "compliance"}
    lots = write(tmp_path / "lots.json", {"lots": [
        {"lot_id": "CLI-AAPL-1", "symbol": "AAPL", "quantity": 100, "cost_basis": "80", "acquired": "2019-05-01"}]})
    stored_lots = ok_json(url, "rebalancing", "lots", "set", "P1", "--file", str(lots))
    assert [lot["lot_id"] for lot in stored_lots["lots"]] == ["CLI-AAPL-1"]
    assert any(w.startswith("XOM:") for w in stored_lots["warnings"])  # held, but no lot

    check = ok_json(url, "rebalancing", "check", "P1", "--pack", PACK)
    assert check["due"] and "MSFT" in {r["symbol"] for r in check["reasons"]}
    proposed = ok_json(url, "rebalancing", "propose", "P1", "--pack", PACK)
    assert proposed["status"] == "pending_approval" and proposed["notifications"] == 2
    assert proposed["plan"]["target_id"] == "M_CLI" and "AMD" not in proposed["plan"]["after_pct"]

    approved = ok_json(url, "proposals", "approve", proposed["proposal_id"][:12], DAWSOS_TOKEN=approver)
    assert approved["status"] == "approved" and approved["transitions"][-1]["actor"] == APPROVER
    table = dawsos(url, "rebalancing", "scheduled", "--pack", PACK)
    assert table.returncode == 0 and "P1:" in table.stdout, table.stderr


BAD_FILES = {
    "wrong type": ({"model_portfolio_id": "M_P1", "max_trades": "many"}, 2, "max_trades", "'many'"),
    "unknown field": ({"model_portfolio_id": "M_P1", "drift_band": 0.1}, 2, "drift_band", "0.1"),
    "out of range": ({"model_portfolio_id": "M_P1", "drift_abs_band": -0.05}, 2, "drift_abs_band", "-0.05"),
    "nested out of range": ({"model_portfolio_id": "M_P1", "tax_rates": {"long_term": 1.5}}, 2,
                            "tax_rates.long_term", "1.5"),
    "unknown model (refused)": ({"model_portfolio_id": "M_NOPE"}, 3, "model portfolio", "'M_NOPE'"),
    "unknown substitute (refused)": ({"model_portfolio_id": "M_P1", "substitutes": {"XOM": "ZZZZ"}}, 3,
                                     "security", "'ZZZZ'"),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
async def test_a_bad_settings_file_changes_nothing(  # noqa: ANN001
    case: str, seeded_database_url, seeded_session_factory, tmp_path
) -> None:
    await configure_p1(seeded_session_factory)
    before, counts = await settings_row(seeded_session_factory), await row_counts(seeded_session_factory)
    document, code, field, value = BAD_FILES[case]
    bad = write(tmp_path / "bad_settings.json", document)

    done = dawsos(seeded_database_url, "rebalancing", "settings", "set", "P1", "--file", str(bad))
    assert done.returncode == code and done.stdout == "", done.stderr
    assert done.stderr.count("\n") == 1 and field in done.stderr and value in done.stderr, done.stderr
    if code == 2:
        assert done.stderr.startswith(f"error: {bad}: {field}: ")
    assert await settings_row(seeded_session_factory) == before
    assert await row_counts(seeded_session_factory) == counts


@pytest.mark.parametrize("args", [
    ["rebalancing", "settings", "show", "P9"],
    ["rebalancing", "approvers", "set", "P9", OWNER, "--role", "owner"],
    ["rebalancing", "restricted", "list", "P9"],
    ["rebalancing", "lots", "list", "P9"],
    ["rebalancing", "check", "P9", "--pack", PACK],
])
async def test_unknown_portfolio_is_refused_in_one_line(  # noqa: ANN001
    args: list[str], seeded_database_url, seeded_session_factory
) -> None:
    counts = await row_counts(seeded_session_factory)
    done = dawsos(seeded_database_url, *args)
    assert done.returncode == 3 and done.stdout == ""
    assert done.stderr == "refused: unknown portfolio 'P9'\n"
    assert await row_counts(seeded_session_factory) == counts


async def _queue(session_factory, *ids: str) -> None:  # noqa: ANN001
    async with session_factory() as s, s.begin():
        for i in ids:
            await UserRepository(s).set_email(f"{i}@example.com", f"{i}@example.com")
            await OutboxRepository(s).add(notification_id=i, proposal_id=None, recipient=f"{i}@example.com",
                                          subject=f"subject {i}", body="body")


def _use(smtp: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the ``dawsos`` subprocesses at ``smtp`` through the environment (DAWSOS_SMTP_*)."""
    monkeypatch.setenv("DAWSOS_SMTP_HOST", smtp.host)
    monkeypatch.setenv("DAWSOS_SMTP_PORT", str(smtp.port))
    monkeypatch.setenv("DAWSOS_SMTP_FROM", "dawsos@test")


async def test_notifications_send_delivers_once(session_factory, database_url, monkeypatch) -> None:  # noqa: ANN001
    await _queue(session_factory, "n1", "n2")
    handler = FlakyHandler(fail_first=0)
    with running_smtp(handler) as smtp:
        _use(smtp, monkeypatch)
        first = dawsos(database_url, "notifications", "send", "--json")
        second = dawsos(database_url, "notifications", "send")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["sent"] == ["n1", "n2"] and json.loads(first.stdout)["failed"] == []
    assert second.returncode == 0 and "0 sent, 0 failed" in second.stdout
    assert sorted(m["Message-ID"] for m in handler.received) == [message_id("n1"), message_id("n2")]


async def test_a_refused_delivery_exits_1_and_stays_pending(session_factory, database_url, monkeypatch) -> None:  # noqa: ANN001
    await _queue(session_factory, "n1")
    with running_smtp(FlakyHandler(fail_first=99)) as smtp:
        _use(smtp, monkeypatch)
        done = dawsos(database_url, "notifications", "send")
    assert done.returncode == 1 and "failed n1" in done.stdout and "451" in done.stdout
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: 1 of 1 notifications failed")
    async with session_factory() as s:
        (n,) = await OutboxRepository(s).all()
    assert (n.status, n.attempts) == ("pending", 1) and "451" in (n.last_error or "")
