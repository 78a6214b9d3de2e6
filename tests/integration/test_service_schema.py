"""Schemathesis against a real `dawsos serve`'s /openapi.json (issue 12, acceptance 5): generated requests to every
operation, a bounded number of examples each, find no server error (5xx), no response that breaks its documented
schema and no undocumented content type. SQLite (the schema is the same on both databases). And the bounded
load test (acceptance 6): bench/bench_service.py at a small size, no error and no lost job."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.service_harness import make_users, module_database, running_server

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
ST = str(Path(sys.executable).with_name("st"))


def test_schemathesis_finds_no_server_error_and_no_schema_break(request: pytest.FixtureRequest,
                                                                tmp_path: Path) -> None:
    with module_database("sqlite", request.getfixturevalue("_seeded_templates"), tmp_path) as url:
        token = make_users(url, {"fuzz": {"P1": "owner", "P2": "viewer"}}, admins=("fuzz",))["fuzz"]
        with running_server(url, tmp_path, workers=1, grpc=False) as server:
            done = subprocess.run(
                [ST, "run", f"{server.base}/openapi.json", "-H", f"Authorization: Bearer {token}",
                 "--checks", "not_a_server_error,response_schema_conformance,content_type_conformance",
                 "--max-examples", "3", "--phases", "examples,fuzzing", "--seed", "12",
                 "--generation-database", "none", "--no-shrink", "--workers", "2", "--request-timeout", "120",
                 "--no-color", "--exclude-path-regex", "^/(docs|openapi.json)$"],
                capture_output=True, text=True, timeout=900, cwd=tmp_path)
            crashed = [e for e in server.log_events() if e.get("event") in ("http.crashed", "jobs.run.crashed")]
    summary = done.stdout[-3000:]
    assert done.returncode == 0, summary
    assert "0 failed" in summary or " failed" not in summary.split("SUMMARY", 1)[-1], summary
    assert not crashed, crashed[:3]


def test_bounded_load_has_no_error_and_loses_no_job(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(REPO / "bench" / "bench_service.py"), "--clients", "10",
                           "--requests", "6", "--json"], capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["errors"] == 0 and summary["jobs_not_completed"] == [] and summary["jobs"] > 0
    assert summary["requests"] == 60
