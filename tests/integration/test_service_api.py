"""The service against a REAL `dawsos serve` subprocess on 127.0.0.1 (one server per backend for this module),
on SQLite and PostgreSQL: REST and gRPC, identities and roles, the job lifecycle, errors, log lines.

Acceptance (issue 12): 1 — an optimization polled to ``completed`` has the target `dawsos optimize` prints for the
same inputs; a REST rebalance's proposal is `dawsos rebalance --json`'s body byte for byte; approval 200 as an
approver, 403 as a viewer and as another portfolio's user, 401 without a token. 4 — a real grpc client gets the
same numbers from CreateOptimization/GetOptimization and GenerateRebalancePlan.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest

from app.domain import canonical_json
from tests.integration.service_harness import (
    PACK,
    ServerProcess,
    bearer,
    dawsos,
    make_users,
    module_database,
    poll_job,
    require_postgres,
    running_server,
)

pytestmark = pytest.mark.slow
GRANTS = {"alice": {"P1": "approver"}, "victor": {"P1": "viewer"}, "oscar": {"P2": "owner"}}
OPTIMIZATION = {"portfolio_id": "P1", "optimization_type": "mean_variance", "objective": "maximize_sharpe",
                "risk_measure": "volatility", "constraints": {"max_position_size": 0.10}, "frontier_points": 5}


@dataclass
class Api:
    url: str
    server: ServerProcess
    tokens: dict[str, str]
    client: httpx.Client

    def get(self, path: str, user: str | None = "alice", headers: dict[str, str] | None = None,
            **kw: Any) -> httpx.Response:
        sent = {**(bearer(self.tokens[user]) if user else {}), **(headers or {})}
        return self.client.get(path, headers=sent, **kw)

    def post(self, path: str, body: Any = None, user: str | None = "alice", headers: dict[str, str] | None = None,
             **kw: Any) -> httpx.Response:
        sent = {**(bearer(self.tokens[user]) if user else {}), **(headers or {})}
        return self.client.post(path, json=body, headers=sent, **kw)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    if request.param == "postgres":
        require_postgres()
    folder = tmp_path_factory.mktemp(f"service-{request.param}")
    with module_database(request.param, request.getfixturevalue("_seeded_templates"), folder) as url:
        tokens = make_users(url, GRANTS, admins=("root",))
        with running_server(url, folder, workers=2) as server:
            with httpx.Client(base_url=server.base, timeout=120) as client:
                yield Api(url=url, server=server, tokens=tokens, client=client)


def grpc_stub(api: Api) -> tuple[Any, Any]:
    from app.api.grpc.gen.portfolio_optimization.v1 import portfolio_optimization_pb2 as pb
    from app.api.grpc.gen.portfolio_optimization.v1 import portfolio_optimization_pb2_grpc as pb_grpc

    channel = grpc.insecure_channel(api.server.grpc_target)
    return pb, pb_grpc.PortfolioOptimizationServiceStub(channel)


def meta(api: Api, user: str, **extra: str) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {api.tokens[user]}"), *extra.items()]


# ---- health, docs, authentication -----------------------------------------------------------------
def test_health_readiness_openapi_and_docs(api: Api) -> None:
    assert api.get("/healthz", user=None).json() == {"status": "ok"}
    ready = api.get("/readyz", user=None).json()
    assert ready["status"] == "ready" and ready["default_pricing_pack"] == PACK and ready["workers"] == 2
    doc = api.get("/openapi.json", user=None).json()
    for path in ("/api/v1/optimizations", "/api/v1/optimizations/{optimization_id}",
                 "/api/v1/portfolios/{portfolio_id}/efficient-frontier", "/api/v1/portfolios/{portfolio_id}/rebalance",
                 "/api/v1/proposals/{proposal_id}/approve", "/api/v1/portfolios/{portfolio_id}/history",
                 "/api/v1/packs", "/api/v1/policies"):
        assert path in doc["paths"], path
    assert "ApiToken" in doc["components"]["securitySchemes"]
    assert "swagger" in api.get("/docs", user=None).text.lower()


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer dawsos_nope_nope"}, {"Authorization": "Basic x"}])
def test_no_or_bad_token_is_401_problem(api: Api, headers: dict[str, str]) -> None:
    r = api.client.get("/api/v1/packs", headers=headers)
    assert r.status_code == 401, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.headers["www-authenticate"].startswith("Bearer")
    body = r.json()
    assert body["status"] == 401 and body["detail"].startswith("error: ") and "nope_nope" not in body["detail"]


def test_reference_data_reads(api: Api) -> None:
    packs = api.get("/api/v1/packs", user="victor").json()["pricing_packs"]
    assert PACK in [p["id"] for p in packs]
    shown = api.get(f"/api/v1/packs/{PACK}", user="victor").json()
    assert shown["pricing_pack"]["sealed"] is True and Decimal(shown["asof_prices"]["AAPL"]) > 0
    policies = api.get("/api/v1/policies", user="oscar").json()["policies"]
    assert "quality_focused" in [p["id"] for p in policies]
    assert api.get("/api/v1/policies/quality_focused", user="oscar").json()["id"] == "quality_focused"


# ---- optimizations (jobs) -------------------------------------------------------------------------
def test_optimization_job_target_equals_dawsos_optimize(api: Api) -> None:
    first = api.post("/api/v1/optimizations", OPTIMIZATION, headers={"Idempotency-Key": "opt-accept-1"})
    assert first.status_code == 202, first.text
    job = first.json()
    assert job["status"] == "pending" and job["optimization_id"].startswith("opt-")
    assert first.headers["location"] == f"/api/v1/optimizations/{job['optimization_id']}"
    again = api.post("/api/v1/optimizations", OPTIMIZATION, headers={"Idempotency-Key": "opt-accept-1"})
    assert again.status_code == 202 and again.json()["optimization_id"] == job["optimization_id"]
    other = api.post("/api/v1/optimizations", {**OPTIMIZATION, "frontier_points": 0},
                     headers={"Idempotency-Key": "opt-accept-1"})
    assert other.status_code == 422 and "Idempotency-Key" in other.json()["detail"]

    done = poll_job(api.client, first.headers["location"], api.tokens["alice"])
    assert done["status"] == "completed", done
    cli = dawsos(api.url, "optimize", "--pack", PACK, "--model", "Classic", "--objective", "Sharpe",
                 "--risk-measure", "MV", "--max-weight", "0.10", "--json")
    assert cli.returncode == 0, cli.stderr
    assert done["target_allocation"] == json.loads(cli.stdout)["weights"]
    m = done["metrics"]
    assert set(m) >= {"expected_return", "expected_volatility", "sharpe_ratio", "max_drawdown", "turnover",
                      "information_ratio"}
    assert Decimal(m["expected_volatility"]) == Decimal(json.loads(cli.stdout)["metrics"]["volatility"])
    assert 0 < Decimal(m["max_drawdown"]) < 1 and Decimal(m["turnover"]) > 0
    assert len(done["efficient_frontier"]) == 5 and done["trades"], done
    assert abs(sum(Decimal(v) for v in done["current_allocation"].values()) - 1) < Decimal("1e-6")
    assert done["completed_at"] and done["error"] is None and done["attempts"] == 1

    pb, stub = grpc_stub(api)  # acceptance 4: the same job read over gRPC
    got = stub.GetOptimization(pb.GetOptimizationRequest(optimization_id=job["optimization_id"]),
                               metadata=meta(api, "alice"))
    assert got.status == "completed"
    assert dict(got.target_allocation) == {s: float(v) for s, v in done["target_allocation"].items()}
    assert got.metrics.sharpe_ratio == float(m["sharpe_ratio"]) and got.metrics.max_drawdown == float(m["max_drawdown"])
    assert [(t.instrument_id, t.quantity) for t in got.trades] == [
        (t["instrument_id"], float(t["quantity"])) for t in done["trades"]]


def test_grpc_create_and_get_optimization_same_target_as_rest(api: Api) -> None:
    pb, stub = grpc_stub(api)
    created = stub.CreateOptimization(pb.CreateOptimizationRequest(
        portfolio_id="P1", optimization_type="mean_variance", objective="maximize_sharpe", risk_measure="volatility",
        constraints=pb.OptimizationConstraints(max_position_size=0.10)), metadata=meta(api, "alice"))
    assert created.status == "pending" and created.optimization_id.startswith("opt-")
    rest = poll_job(api.client, f"/api/v1/optimizations/{created.optimization_id}", api.tokens["alice"])
    got = stub.GetOptimization(pb.GetOptimizationRequest(optimization_id=created.optimization_id),
                               metadata=meta(api, "alice"))
    assert got.status == rest["status"] == "completed"
    assert dict(got.target_allocation) == {s: float(v) for s, v in rest["target_allocation"].items()}
    cli_weights = {s: float(v) for s, v in rest["target_allocation"].items()}
    assert max(cli_weights.values()) <= 0.10 + 1e-9


def test_cancel_a_job_and_finished_jobs_refuse(api: Api) -> None:
    body = {"portfolio_id": "P1", "optimization_type": "equal_weight", "frontier_points": 0}
    ids = [api.post("/api/v1/optimizations", body).json()["optimization_id"] for _ in range(4)]
    cancelled = api.post(f"/api/v1/optimizations/{ids[-1]}/cancel", {"reason": "not needed"})
    assert cancelled.status_code == 200, cancelled.text
    final = poll_job(api.client, f"/api/v1/optimizations/{ids[-1]}", api.tokens["alice"])
    assert final["status"] in ("cancelled", "completed")
    if final["status"] == "cancelled":
        assert final["error"] == "cancelled by alice: not needed"
    finished = poll_job(api.client, f"/api/v1/optimizations/{ids[0]}", api.tokens["alice"])
    again = api.client.delete(f"/api/v1/optimizations/{finished['optimization_id']}",
                              headers=bearer(api.tokens["alice"]))
    assert again.status_code == 409 and again.json()["detail"].startswith("refused: optimization")


def test_optimization_errors_name_the_field_and_the_role(api: Api) -> None:
    bad = api.post("/api/v1/optimizations", {"portfolio_id": "P1", "constraints": {"max_position_size": 5}})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")
    assert bad.json()["errors"][0]["field"] == "body.constraints.max_position_size"
    unsupported = api.post("/api/v1/optimizations", {"portfolio_id": "P1", "constraints": {"max_turnover": 0.2}})
    assert unsupported.status_code == 422 and "max_turnover is not supported" in unsupported.json()["detail"]
    wrong = api.post("/api/v1/optimizations", {"portfolio_id": "P1", "optimization_type": "magic"})
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "body.optimization_type"
    assert api.post("/api/v1/optimizations", {"portfolio_id": "P2"}).status_code == 403
    viewer = api.post("/api/v1/optimizations", {"portfolio_id": "P1"}, user="victor")
    assert viewer.status_code == 403 and viewer.json()["detail"].startswith("refused: not permitted: victor")
    assert api.get("/api/v1/optimizations/opt-00000000000000000000000000000000").status_code == 404
    assert api.get("/api/v1/policies/no_such_policy").json()["detail"] == (
        "refused: unknown policy 'no_such_policy'; list policies with `dawsos policies list`")


# ---- rebalance: a proposal in the one lifecycle ---------------------------------------------------
def test_rebalance_is_dawsos_rebalance_byte_for_byte_and_approval_roles(api: Api) -> None:
    r = api.post("/api/v1/portfolios/P1/rebalance", {"target_type": "optimal", "policy_id": "quality_focused"})
    assert r.status_code == 201, r.text
    plan = r.json()
    assert r.headers["location"] == f"/api/v1/rebalance-plans/{plan['rebalance_id']}"
    cli = dawsos(api.url, "rebalance", "--portfolio", "P1", "--policy", "quality_focused", "--json")
    assert cli.returncode == 0, cli.stderr
    from_cli = json.loads(cli.stdout)
    body_rest = {k: v for k, v in plan["proposal"].items() if k != "request_id"}
    body_cli = {k: v for k, v in from_cli.items() if k != "request_id"}
    assert canonical_json(body_rest, indent=2).encode() == canonical_json(body_cli, indent=2).encode()
    assert plan["proposal_id"] == from_cli["proposal_id"]
    assert [t["priority"] for t in plan["trades"]] == list(range(1, len(plan["trades"]) + 1))
    assert Decimal(plan["metrics"]["turnover"]) * 100 == Decimal(from_cli["summary"]["turnover_pct"])
    assert api.get(f"/api/v1/rebalance-plans/{plan['rebalance_id']}").json()["proposal_id"] == plan["proposal_id"]

    pid = plan["proposal_id"]
    assert api.get(f"/api/v1/proposals/{pid}").json()["status"] == "pending_approval"
    assert api.get(f"/api/v1/proposals/{pid}", user="oscar").status_code == 403  # no role on P1: cannot read it
    assert pid not in [p["proposal_id"] for p in api.get("/api/v1/proposals", user="oscar").json()["proposals"]]
    assert api.post(f"/api/v1/proposals/{pid}/approve", {}, user=None).status_code == 401
    viewer = api.post(f"/api/v1/proposals/{pid}/approve", {"reason": "x"}, user="victor")
    assert viewer.status_code == 403 and viewer.json()["detail"].startswith("refused: not permitted: victor")
    assert api.post(f"/api/v1/proposals/{pid}/approve", {}, user="oscar").status_code == 403
    ok = api.post(f"/api/v1/proposals/{pid}/approve", {"reason": "within mandate"})
    assert ok.status_code == 200 and ok.json()["status"] == "approved"
    assert ok.json()["transitions"][-1]["actor"] == "alice"
    history = api.get("/api/v1/portfolios/P1/history", user="victor").json()
    assert pid in [e["proposal_id"] for e in history["entries"]]
    listed = api.get("/api/v1/proposals", params={"portfolio_id": "P1"}, user="victor").json()["proposals"]
    assert pid in [p["proposal_id"] for p in listed]

    pb, stub = grpc_stub(api)  # acceptance 4: the same plan over gRPC
    got = stub.GenerateRebalancePlan(pb.RebalancePlanRequest(portfolio_id="P1", target_type="optimal"),
                                     metadata=meta(api, "alice", **{"policy-id": "quality_focused"}))
    assert [(t.instrument_id, t.action, t.quantity, t.estimated_value, t.priority) for t in got.trades] == [
        (t["instrument_id"], t["action"], float(t["quantity"]), float(t["estimated_value"]), t["priority"])
        for t in plan["trades"]]
    assert got.metrics.turnover == float(plan["metrics"]["turnover"])
    assert got.metrics.transaction_costs == float(plan["metrics"]["transaction_costs"])


def test_rebalance_refusals(api: Api) -> None:
    assert api.post("/api/v1/portfolios/P1/rebalance", {"target_type": "optimal"}).json()["detail"].startswith(
        "error: policy_id: required")
    assert api.post("/api/v1/portfolios/P1/rebalance", {"policy_id": "quality_focused"},
                    user="victor").status_code == 403
    unknown = api.post("/api/v1/portfolios/P1/rebalance", {"policy_id": "no_such"})
    assert unknown.status_code == 404 and "unknown policy 'no_such'" in unknown.json()["detail"]


def test_efficient_frontier(api: Api) -> None:
    r = api.get("/api/v1/portfolios/P1/efficient-frontier", params={"points": 6, "max_position_size": 0.2},
                user="victor")
    assert r.status_code == 200, r.text
    f = r.json()
    risks = [Decimal(p["risk"]) for p in f["efficient_frontier"]]
    assert len(risks) == 6 and risks == sorted(risks)
    for key in ("current_portfolio", "optimal_portfolio", "min_risk_portfolio", "max_return_portfolio"):
        assert set(f[key]) >= {"return", "risk", "sharpe"}
    again = api.get("/api/v1/portfolios/P1/efficient-frontier", params={"points": 6, "max_position_size": 0.2},
                    user="victor").json()
    assert again["frontier_id"] == f["frontier_id"]  # the read model answers the same request on the same pack
    some = api.get("/api/v1/portfolios/P1/efficient-frontier",
                   params={"points": 6, "max_position_size": 0.2, "max_risk": str(risks[2] + Decimal("1e-8"))},
                   user="victor").json()
    assert len(some["efficient_frontier"]) == 3
    assert api.get("/api/v1/portfolios/P2/efficient-frontier", user="victor").status_code == 403
    pb, stub = grpc_stub(api)
    got = stub.GenerateEfficientFrontier(pb.EfficientFrontierRequest(
        portfolio_id="P1", points=6, constraints=pb.OptimizationConstraints(max_position_size=0.2)),
        metadata=meta(api, "victor"))
    assert [p.risk for p in got.efficient_frontier] == [float(x) for x in risks]


# ---- gRPC errors ----------------------------------------------------------------------------------
def test_grpc_status_codes(api: Api) -> None:
    pb, stub = grpc_stub(api)
    cases = [
        (lambda: stub.GetOptimization(pb.GetOptimizationRequest(optimization_id="opt-x")),
         grpc.StatusCode.UNAUTHENTICATED),
        (lambda: stub.GetOptimization(pb.GetOptimizationRequest(optimization_id="opt-x"),
                                      metadata=meta(api, "alice")), grpc.StatusCode.NOT_FOUND),
        (lambda: stub.CreateOptimization(pb.CreateOptimizationRequest(portfolio_id="P1", optimization_type="magic"),
                                         metadata=meta(api, "alice")), grpc.StatusCode.INVALID_ARGUMENT),
        (lambda: stub.GenerateRebalancePlan(pb.RebalancePlanRequest(portfolio_id="P1"),
                                            metadata=meta(api, "victor", **{"policy-id": "quality_focused"})),
         grpc.StatusCode.PERMISSION_DENIED),
    ]
    for call, code in cases:
        with pytest.raises(grpc.RpcError) as info:
            call()
        assert info.value.code() == code, (code, info.value.details())
    with pytest.raises(grpc.RpcError) as info:
        stub.AnalyzeFactorExposures(pb.FactorExposureRequest(portfolio_id="P1"), metadata=meta(api, "alice"))
    assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert "factor analytics do not exist yet" in info.value.details()


# ---- logs -----------------------------------------------------------------------------------------
def test_every_request_logs_request_id_user_and_route(api: Api) -> None:
    r = api.get("/api/v1/policies", user="victor", headers={"X-Request-ID": "trace-me-12345678"})
    assert r.headers["x-request-id"] == "trace-me-12345678"
    lines = [e for e in api.server.log_events() if e.get("event") == "http.request"]
    mine = [e for e in lines if e.get("request_id") == "trace-me-12345678"]
    assert mine and mine[0]["user"] == "victor" and mine[0]["route"] == "/api/v1/policies"
    assert mine[0]["status"] == 200 and "duration_ms" in mine[0]
    assert all("request_id" in e and "route" in e for e in lines)
    calls = [e for e in api.server.log_events() if e.get("request_id") == "trace-me-12345678"
             and e.get("event") == "orchestrator.call.finished"]
    assert calls and calls[0]["capability"] == "policies.list"


def test_server_stops_gracefully_on_sigterm(api: Api, tmp_path: Path) -> None:
    with running_server(api.url, tmp_path, workers=1, grpc=False) as other:
        assert httpx.get(f"{other.base}/healthz").status_code == 200
        code = other.stop(timeout=30)
    assert code == 0
    events = [e["event"] for e in other.log_events()]
    assert "serve.signal" in events and events.index("jobs.stopped") < events.index("serve.stopped")


def test_a_busy_port_is_one_error_line(api: Api) -> None:
    done = dawsos(api.url, "serve", "--port", str(api.server.port), "--grpc-port", "0", timeout=120)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1] == (
        f"error: --port {api.server.port}: cannot listen on 127.0.0.1:{api.server.port} (Address already in use)")
