"""Jobs across real `dawsos serve` processes (issue 12, acceptance 2 and 3).

* Two server processes on one PostgreSQL database, 40 jobs posted to either: each job runs exactly once (one
  ``jobs.run.started`` line in the two servers' logs together, ``attempts == 1``), all complete.
* A server killed with SIGKILL while a job runs: after a restart the job is resumed and completes, or is failed
  with its reason — never left ``processing`` or ``pending``. On SQLite and on PostgreSQL.
"""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.integration.service_harness import (
    ServerProcess,
    bearer,
    make_users,
    module_database,
    poll_job,
    require_postgres,
    running_server,
)

pytestmark = pytest.mark.slow
CHEAP = {"optimization_type": "equal_weight", "frontier_points": 0}


def _started(servers: list[ServerProcess]) -> Counter[str]:
    return Counter(e["job_id"] for s in servers for e in s.log_events() if e.get("event") == "jobs.run.started")


@pytest.mark.postgres
def test_two_servers_on_one_postgres_run_each_of_40_jobs_once(
        request: pytest.FixtureRequest, tmp_path: Path) -> None:
    require_postgres()
    with module_database("postgres", request.getfixturevalue("_seeded_templates"), tmp_path) as url:
        token = make_users(url, {"alice": {"P1": "manager", "P2": "manager"}})["alice"]
        with running_server(url, tmp_path, workers=2, grpc=False, name="a") as a, \
                running_server(url, tmp_path, workers=2, grpc=False, name="b") as b:
            def post(i: int) -> str:
                server = (a, b)[i % 2]
                body = {"portfolio_id": ("P1", "P2")[(i // 2) % 2], **CHEAP}
                r = httpx.post(f"{server.base}/api/v1/optimizations", json=body, headers=bearer(token), timeout=60)
                assert r.status_code == 202, r.text
                return r.json()["optimization_id"]

            started = time.monotonic()
            with ThreadPoolExecutor(8) as pool:
                ids = list(pool.map(post, range(40)))
            with httpx.Client(base_url=a.base, timeout=60) as client:
                finals = [poll_job(client, f"/api/v1/optimizations/{i}", token, timeout=600) for i in ids]
            elapsed = time.monotonic() - started
            runs = _started([a, b])
    assert len(set(ids)) == 40
    assert [f["status"] for f in finals] == ["completed"] * 40, [f["error"] for f in finals if f["error"]]
    assert all(f["attempts"] == 1 for f in finals)
    assert {i: runs[i] for i in ids} == dict.fromkeys(ids, 1)  # each job ran exactly once, in one process
    by_server = {name: sum(1 for e in s.log_events() if e.get("event") == "jobs.run.finished")
                 for name, s in (("a", a), ("b", b))}
    print(f"\n40 jobs on 2 servers x 2 workers: {elapsed:.1f} s ({40 / elapsed:.2f} jobs/s); ran: {by_server}")


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_a_job_survives_a_killed_server(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    if backend == "postgres":
        require_postgres()
    with module_database(backend, request.getfixturevalue("_seeded_templates"), tmp_path) as url:
        token = make_users(url, {"alice": {"P1": "manager"}})["alice"]
        first = ServerProcess(url, tmp_path, workers=1, lease_seconds=2, grpc=False, name="first").start()
        try:
            body = {"portfolio_id": "P1", "optimization_type": "mean_variance", "frontier_points": 20}
            r = httpx.post(f"{first.base}/api/v1/optimizations", json=body, headers=bearer(token), timeout=60)
            job = r.json()["optimization_id"]
            with httpx.Client(base_url=first.base, timeout=60) as client:
                poll_job(client, f"/api/v1/optimizations/{job}", token, until=("processing",), timeout=60)
            first.kill()  # SIGKILL while the job runs: no shutdown, the lease is left behind
        finally:
            first.kill()
        with running_server(url, tmp_path, workers=1, lease_seconds=2, grpc=False, name="second") as second:
            with httpx.Client(base_url=second.base, timeout=60) as client:
                final = poll_job(client, f"/api/v1/optimizations/{job}", token, timeout=300)
            resumed = [e for e in second.log_events() if e.get("event") == "jobs.run.started"]
    assert final["status"] in ("completed", "failed")
    if final["status"] == "completed":
        assert final["attempts"] == 2 and final["target_allocation"]
        assert resumed and resumed[0]["job_id"] == job and resumed[0]["resumed_from"]
    else:
        assert final["error"], final
