#!/usr/bin/env python
"""Load test of the service on loopback (issue 12, acceptance 6): many concurrent clients, mixed reads and POSTs,
against a real ``dawsos serve`` process; p50/p95 latency per route, job throughput, no error, no lost job.

Set-up (not timed): a temporary SQLite database filled by ``dawsos seed`` (or ``--database-url``, which must be
seeded), one user with a manager role on P1 and P2 and an API token, and ``dawsos serve`` on free ports
(``--workers`` job workers). Then ``--clients`` asyncio clients (one HTTP connection each) send ``--requests``
requests each, in this mix per client (request k of the client takes ``MIX[(client + k) % len(MIX)]``):
reference reads (policies, packs, one pack), history, proposals, the efficient frontier (the same request:
answered from the read model after the first), POST /optimizations (equal weight, no frontier: a job), GET of
the client's last job, and one rebalance in ``len(MIX)`` requests (a proposal through the one trade engine).

Afterwards every posted job is polled until it is final: each must be ``completed`` (no job lost or failed). The
table gives per route: requests, errors (any status other than the route's success code), p50, p95 and max
latency in milliseconds; then requests/s over the load phase and jobs/s from the first POST to the last job's
completion. Exit code 1 on any error or lost job.

Usage: ``python bench/bench_service.py [--clients 50] [--requests 20] [--workers 2] [--database-url URL]
[--json]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

DAWSOS = str(Path(sys.executable).with_name("dawsos"))
PACK = "PP_2022-12-28"
#: (route label, method, path, body, success status)
MIX: tuple[tuple[str, str, str, Any, int], ...] = (
    ("GET /policies", "GET", "/api/v1/policies", None, 200),
    ("POST /optimizations", "POST", "/api/v1/optimizations",
     {"portfolio_id": "P1", "optimization_type": "equal_weight", "frontier_points": 0}, 202),
    ("GET /packs", "GET", "/api/v1/packs", None, 200),
    ("GET /optimizations/{id}", "GET", "{last_job}", None, 200),
    ("GET /portfolios/{id}/history", "GET", "/api/v1/portfolios/P1/history", None, 200),
    ("GET /portfolios/{id}/efficient-frontier", "GET", "/api/v1/portfolios/P1/efficient-frontier?points=10",
     None, 200),
    ("GET /proposals", "GET", "/api/v1/proposals?portfolio_id=P1", None, 200),
    ("GET /packs/{id}", "GET", f"/api/v1/packs/{PACK}", None, 200),
    ("POST /optimizations", "POST", "/api/v1/optimizations",
     {"portfolio_id": "P2", "optimization_type": "equal_weight", "frontier_points": 0}, 202),
    ("GET /optimizations/{id}", "GET", "{last_job}", None, 200),
    ("GET /policies/{id}", "GET", "/api/v1/policies/quality_focused", None, 200),
    ("GET /healthz", "GET", "/healthz", None, 200),
    ("GET /proposals", "GET", "/api/v1/proposals", None, 200),
    ("GET /portfolios/{id}/history", "GET", "/api/v1/portfolios/P2/history", None, 200),
    ("GET /packs", "GET", "/api/v1/packs", None, 200),
    ("GET /policies", "GET", "/api/v1/policies", None, 200),
    ("GET /optimizations/{id}", "GET", "{last_job}", None, 200),
    ("GET /portfolios/{id}/efficient-frontier", "GET", "/api/v1/portfolios/P1/efficient-frontier?points=10",
     None, 200),
    ("GET /policies/{id}", "GET", "/api/v1/policies/aggressive_growth", None, 200),
    ("GET /proposals", "GET", "/api/v1/proposals?portfolio_id=P2", None, 200),
    ("GET /packs/{id}", "GET", f"/api/v1/packs/{PACK}", None, 200),
    ("GET /healthz", "GET", "/healthz", None, 200),
    ("GET /policies", "GET", "/api/v1/policies", None, 200),
    ("GET /optimizations/{id}", "GET", "{last_job}", None, 200),
    ("POST /portfolios/{id}/rebalance", "POST", "/api/v1/portfolios/P2/rebalance",
     {"target_type": "optimal", "policy_id": "aggressive_growth"}, 201),
)


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    jobs: list[str] = field(default_factory=list)

    def add(self, route: str, ms: float, error: str | None) -> None:
        self.latencies.setdefault(route, []).append(ms)
        if error is not None:
            self.errors.setdefault(route, []).append(error)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


async def client_run(n: int, requests: int, base: str, token: str, tally: Tally) -> None:
    last_job = "/api/v1/optimizations"
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=300) as http:
        for k in range(requests):
            route, method, path, body, ok = MIX[(n + k) % len(MIX)]
            if path == "{last_job}":
                path = last_job
                route = "GET /optimizations" if path == "/api/v1/optimizations" else route
            started = time.perf_counter()
            try:
                r = await http.request(method, path, json=body)
                error = None if r.status_code == ok else f"{r.status_code}: {r.text[:200]}"
            except httpx.HTTPError as exc:
                r, error = None, f"{type(exc).__name__}: {exc}"
            tally.add(route, (time.perf_counter() - started) * 1000, error)
            if r is not None and error is None and route == "POST /optimizations":
                last_job = r.headers["location"]
                tally.jobs.append(r.json()["optimization_id"])


async def load(clients: int, requests: int, base: str, token: str, tally: Tally) -> None:
    """``clients`` concurrent clients, ``requests`` each (at most 30 minutes)."""
    runs = (client_run(n, requests, base, token, tally) for n in range(clients))
    await asyncio.wait_for(asyncio.gather(*runs), timeout=1800)


async def wait_jobs(base: str, token: str, ids: list[str], timeout: float) -> tuple[dict[str, str], float]:
    """Final status per job and when the last one finished (monotonic clock)."""
    final: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
        while len(final) < len(ids) and time.monotonic() < deadline:
            for job in [j for j in ids if j not in final]:
                doc = (await http.get(f"/api/v1/optimizations/{job}")).json()
                if doc["status"] in ("completed", "failed", "cancelled"):
                    final[job] = doc["status"] if doc["status"] == "completed" else f"{doc['status']}: {doc['error']}"
            if len(final) < len(ids):
                await asyncio.sleep(0.25)
    return final, time.monotonic()


def setup(database_url: str | None, folder: Path) -> tuple[str, str]:
    """(database URL, API token) — a seeded database and a manager of P1 and P2."""
    url = database_url or f"sqlite+aiosqlite:///{folder / 'dawsos.sqlite3'}"
    env = {**os.environ, "DATABASE_URL": url, "DAWSOS_LOG_LEVEL": "WARNING"}
    if database_url is None:
        subprocess.run([DAWSOS, "seed"], env=env, check=True, capture_output=True, timeout=600)
    return url, asyncio.run(make_token(url))


async def make_token(url: str) -> str:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backend"))
    from app.db.engine import make_engine, make_session_factory
    from app.db.repositories.identity import IdentityRepository
    from app.domain.identity import Role

    engine = make_engine(url)
    try:
        async with make_session_factory(engine).begin() as session:
            repo = IdentityRepository(session)
            user = f"bench-{os.getpid()}"
            await repo.ensure_user(user)
            for portfolio in ("P1", "P2"):
                await repo.grant(portfolio, user, Role.MANAGER, granted_by="bench")
            return (await repo.issue_token(user, label="bench")).token
    finally:
        await engine.dispose()


def start_server(url: str, folder: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "DAWSOS_LOG_FILE": str(folder / "serve.log")}
    proc = subprocess.Popen([DAWSOS, "serve", "--port", str(port), "--grpc-port", "0", "--workers", str(workers)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return proc, base
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("dawsos serve did not start")


def report(tally: Tally, load_s: float, jobs_s: float, final: dict[str, str], as_json: bool) -> dict[str, Any]:
    rows = []
    for route in sorted(tally.latencies):
        ms = tally.latencies[route]
        rows.append({"route": route, "requests": len(ms), "errors": len(tally.errors.get(route, [])),
                     "p50_ms": round(percentile(ms, 50), 1), "p95_ms": round(percentile(ms, 95), 1),
                     "max_ms": round(max(ms), 1)})
    total = sum(r["requests"] for r in rows)
    lost = [j for j in tally.jobs if final.get(j) != "completed"]
    summary = {"routes": rows, "requests": total, "errors": sum(r["errors"] for r in rows),
               "load_seconds": round(load_s, 2), "requests_per_second": round(total / load_s, 1),
               "jobs": len(tally.jobs), "jobs_not_completed": lost, "jobs_seconds": round(jobs_s, 2),
               "jobs_per_second": round(len(tally.jobs) / jobs_s, 2) if jobs_s else None,
               "first_errors": [e for errs in tally.errors.values() for e in errs][:5]}
    if as_json:
        print(json.dumps(summary))
        return summary
    print(f"{'route':42} {'n':>5} {'err':>4} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for r in rows:
        print(f"{r['route']:42} {r['requests']:5d} {r['errors']:4d} {r['p50_ms']:8.1f} {r['p95_ms']:8.1f} "
              f"{r['max_ms']:8.1f}")
    print(f"{total} requests in {load_s:.1f} s ({summary['requests_per_second']} req/s); {summary['errors']} errors; "
          f"{len(tally.jobs)} jobs, all completed after {jobs_s:.1f} s ({summary['jobs_per_second']} jobs/s); "
          f"not completed: {len(lost)}")
    return summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2, help="job workers of the server")
    parser.add_argument("--database-url", default=None, help="a seeded database (default: a new SQLite file)")
    parser.add_argument("--json", action="store_true", help="one JSON summary on stdout")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-service-") as tmp:
        folder = Path(tmp)
        url, token = setup(args.database_url, folder)
        proc, base = start_server(url, folder, args.workers)
        try:
            tally = Tally()
            started = time.monotonic()
            asyncio.run(load(args.clients, args.requests, base, token, tally))
            load_s = time.monotonic() - started
            final, last = asyncio.run(wait_jobs(base, token, tally.jobs, timeout=1800))
            summary = report(tally, load_s, last - started, final, args.json)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
    return 1 if summary["errors"] or summary["jobs_not_completed"] else 0


if __name__ == "__main__":
    sys.exit(main())
