"""`dawsos users ...` and `DAWSOS_TOKEN` in real subprocesses, on SQLite and PostgreSQL: tokens printed once and
stored only hashed, the command line acting as the token's user (or `local`), bad and revoked tokens exit 2,
roles checked for approvals and grants (exit 3), `--user` only repeating the signed-in user."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from app.bootstrap import build_orchestrator
from app.core.context import RequestCtx
from app.db.repositories import ProposalRepository

DAWSOS = str(Path(sys.executable).parent / "dawsos")
PACK = "PP_2022-12-28"


def dawsos(url: str, *args: str, token: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": url, "DAWSOS_LOG_LEVEL": "ERROR"}
    env.pop("DAWSOS_TOKEN", None)
    if token is not None:
        env["DAWSOS_TOKEN"] = token
    return subprocess.run([DAWSOS, *args], capture_output=True, text=True, env=env, timeout=300)


def ok(url: str, *args: str, token: str | None = None) -> dict:
    done = dawsos(url, *args, "--json", token=token)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def refused(done: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    assert done.returncode == code, (done.returncode, done.stderr)
    assert done.stdout == "" and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    for needle in needles:
        assert needle in done.stderr, done.stderr


async def test_tokens_users_and_roles_from_the_command_line(seeded_database_url, seeded_session_factory) -> None:  # noqa: ANN001
    url = seeded_database_url
    # nothing configured: the local identity (an admin owning the seeded portfolios) creates users
    amy = ok(url, "users", "create", "amy", "--email", "amy@example.org")
    token = amy["token"]["token"]
    assert token.startswith(f"dawsos_{amy['token']['token_id']}_") and amy["user"]["is_admin"] is False
    table = dawsos(url, "users", "create", "vic")
    assert table.returncode == 0 and "dawsos_" in table.stdout and "shown this once" in table.stdout
    vic = next(line for line in table.stdout.splitlines() if line.startswith("dawsos_"))
    async with seeded_session_factory() as s:
        stored = repr((await s.execute(text("SELECT * FROM api_tokens"))).all())
    assert token not in stored and vic not in stored and stored.count("$argon2id$") == 2

    # roles: local owns P1 and grants; amy approves, vic views
    assert ok(url, "users", "grant", "amy", "--portfolio", "P1", "--role", "approver")["role"] == "approver"
    ok(url, "users", "grant", "vic", "--portfolio", "P1", "--role", "viewer")
    shown = ok(url, "users", "show", "amy", token=token)  # a user may see themself
    assert [(g["portfolio_id"], g["role"]) for g in shown["roles"]] == [("P1", "approver")]
    assert [t["token_id"] for t in shown["tokens"]] == [amy["token"]["token_id"]] and "argon2" not in json.dumps(shown)
    refused(dawsos(url, "users", "list", token=token), 3, "not permitted: amy is not an admin")
    refused(dawsos(url, "users", "create", "eve", token=token), 3, "not permitted: amy is not an admin")
    refused(dawsos(url, "users", "grant", "vic", "--portfolio", "P1", "--role", "owner", token=token), 3,
            "not permitted: amy holds no owner role on portfolio P1")
    assert {u["user_id"] for u in ok(url, "users", "list")["users"]} == {"amy", "local", "vic"}

    # approvals: as the token's user; a viewer is refused; --user must be the signed-in user
    made = (await build_orchestrator(seeded_session_factory).call(
        "optimizer.propose_trades", RequestCtx(pricing_pack_id=PACK), portfolio_id="P1",
        policy_id="quality_focused")).data
    pid = made.proposal_id[:12]
    refused(dawsos(url, "proposals", "approve", pid, token=vic), 3,
            "refused: not permitted: vic holds no approver role on portfolio P1")
    refused(dawsos(url, "proposals", "approve", pid, "--user", "amy"), 2, "'amy'", "'local'")
    refused(dawsos(url, "proposals", "approve", pid, "--user", "vic", token=token), 2, "'vic'", "'amy'")
    approved = ok(url, "proposals", "approve", pid, "--user", "amy", token=token)
    assert approved["status"] == "approved" and approved["transitions"][-1]["actor"] == "amy"
    async with seeded_session_factory() as s:
        assert [r["user"] for r in await ProposalRepository(s).refusals(made.proposal_id)] == ["vic"]

    # a bad, unknown or revoked token: one line, exit 2, for any command
    refused(dawsos(url, "policies", "list", token="nonsense"), 2, "error: malformed API token")
    refused(dawsos(url, "packs", "list", token=token[:-4] + "AAAA"), 2, "does not verify")
    second = ok(url, "users", "token", "amy", "--label", "ci", token=token)  # a user makes their own tokens
    assert second["label"] == "ci" and second["token"] != token
    revoked = ok(url, "users", "token", "amy", "--revoke", amy["token"]["token_id"], token=second["token"])
    assert revoked["revoked_at"] is not None
    refused(dawsos(url, "proposals", "show", pid, token=token), 2, "unknown or revoked API token")
    assert ok(url, "proposals", "show", pid, token=second["token"])["status"] == "approved"
    refused(dawsos(url, "users", "token", "vic", "--revoke", second["token_id"]), 3, "unknown API token")

    # revoke a role: vic reads P1 no more
    assert ok(url, "users", "revoke", "vic", "--portfolio", "P1")["previous"] == "viewer"
    refused(dawsos(url, "history", "P1", token=vic), 3, "vic holds no viewer role on portfolio P1")
    assert ok(url, "proposals", "list", token=vic)["proposals"] == []  # lists only what vic may read


async def test_an_owner_grants_on_their_portfolio_only(seeded_database_url, seeded_session_factory) -> None:  # noqa: ANN001
    url = seeded_database_url
    olga = ok(url, "users", "create", "olga")["token"]["token"]
    ok(url, "users", "create", "ben")
    ok(url, "rebalancing", "approvers", "set", "P1", "olga", "--role", "owner")  # the alias of users grant
    assert ok(url, "users", "grant", "ben", "--portfolio", "P1", "--role", "manager", token=olga)["role"] == "manager"
    refused(dawsos(url, "users", "grant", "ben", "--portfolio", "P2", "--role", "viewer", token=olga), 3,
            "not permitted: olga holds no owner role on portfolio P2")
    refused(dawsos(url, "users", "grant", "nobody", "--portfolio", "P1", "--role", "viewer", token=olga), 3,
            "unknown user 'nobody'")
    refused(dawsos(url, "users", "grant", "ben", "--portfolio", "P1", "--role", "boss"), 2, "role")
    refused(dawsos(url, "users", "create", "olga"), 3, "already exists")
