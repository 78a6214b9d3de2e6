"""`dawsos proposals ...` and `dawsos history` in a subprocess: exit codes, one-line refusals, JSON output."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest

from app.bootstrap import build_orchestrator
from app.core.context import RequestCtx
from tests.cli_process import dawsos
from tests.integration.rebalancing_setup import APPROVER, PACK, STRANGER, configure_p1, sign_in


@pytest.mark.parametrize("database_backend", ["sqlite"], indirect=True)
async def test_proposals_cli(seeded_database_url, seeded_session_factory) -> None:  # noqa: ANN001
    await configure_p1(seeded_session_factory)
    result = (await build_orchestrator(seeded_session_factory).call(
        "rebalance.propose", RequestCtx(pricing_pack_id=PACK), portfolio_id="P1")).data
    pid = result.proposal_id

    listed = dawsos(seeded_database_url, "proposals", "list", "--portfolio", "P1", "--json")
    assert listed.returncode == 0, listed.stderr
    doc = json.loads(listed.stdout)
    assert [(p["proposal_id"], p["status"]) for p in doc["proposals"]] == [(pid, "pending_approval")]

    stranger, approver = (await sign_in(seeded_session_factory, STRANGER),  # signed in, no role on P1
                          await sign_in(seeded_session_factory, APPROVER))
    refused = dawsos(seeded_database_url, "proposals", "approve", pid[:12], **stranger)
    assert refused.returncode == 3 and refused.stdout == ""
    assert refused.stderr.count("\n") == 1 and refused.stderr.startswith("refused: ") and STRANGER in refused.stderr

    approved = dawsos(seeded_database_url, "proposals", "approve", pid[:12], "--json", **approver)
    assert approved.returncode == 0, approved.stderr
    body = json.loads(approved.stdout)
    assert body["status"] == "approved" and body["transitions"][-1]["actor"] == APPROVER

    again = dawsos(seeded_database_url, "proposals", "reject", pid, "--user", APPROVER, "--reason", "too late",
                   **approver)
    assert again.returncode == 3 and "cannot become rejected" in again.stderr

    hist = dawsos(seeded_database_url, "history", "P1", "--json")
    assert hist.returncode == 0, hist.stderr
    entries = json.loads(hist.stdout)["entries"]
    assert len(entries) == 1 and entries[0]["outcome"] == "approved"
    assert sum(D(v) for v in entries[0]["after_pct"].values()) == D("100.00")
    table = dawsos(seeded_database_url, "history", "P1")
    assert table.returncode == 0 and "approved" in table.stdout
