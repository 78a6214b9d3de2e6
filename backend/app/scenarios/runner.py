"""Run a scenario file: write it into a database (in-memory by default) and propose through the agent.

The scenario becomes a validated :class:`~app.seeding.SeedBundle`, so it passes the same checks and the
same writes as the seed files, and the proposal comes from the same orchestrator call
(``optimizer.propose_trades``) as ``dawsos rebalance --portfolio``, on an orchestrator built over the
scenario's database. Nothing touches the default database.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import structlog

from app.core.context import RequestCtx
from app.core.errors import ScenarioError
from app.core.settings import Settings
from app.domain.models import Policy
from app.domain.proposal import RebalanceProposal
from app.scenarios.schema import Scenario, load_scenario

log = structlog.get_logger()

IN_MEMORY_URL = "sqlite+aiosqlite://"


def _prices_frame(scenario: Scenario, source: str):  # noqa: ANN202 - pandas DataFrame
    from app.seeding import read_price_csv

    pack = scenario.pricing_pack
    if pack.prices_csv is not None:
        base = scenario.source or Path.cwd()
        csv_path = (base / pack.prices_csv).resolve()
        if not csv_path.is_file():
            raise ScenarioError(f"{source}: pricing_pack.prices_csv: file not found (value={pack.prices_csv!r})")
        frame = read_price_csv(csv_path, source_name=str(csv_path))
    else:
        table = pack.prices or {}
        if "Date" not in table:
            raise ScenarioError(f"{source}: pricing_pack.prices: needs a 'Date' column")
        lengths = {k: len(v) for k, v in table.items()}
        if len(set(lengths.values())) != 1:
            raise ScenarioError(f"{source}: pricing_pack.prices: columns differ in length ({lengths})")
        symbols = [k for k in table if k != "Date"]
        buf = io.StringIO()
        buf.write(",".join(["Date", *symbols]) + "\n")
        for i, day in enumerate(table["Date"]):
            buf.write(",".join([str(day), *("" if table[s][i] is None else str(table[s][i]) for s in symbols)]) + "\n")
        frame = read_price_csv(buf.getvalue(), source_name=f"{source}: pricing_pack.prices")
    listed = {s.symbol for s in scenario.securities}
    missing = sorted(listed - set(frame.columns))
    if missing:
        raise ScenarioError(f"{source}: pricing_pack: no prices for securities {', '.join(missing)}")
    return frame[[c for c in frame.columns if c in listed]]


def _policy_seed(scenario: Scenario, settings: Settings, source: str) -> dict[str, Any]:
    if isinstance(scenario.policy, Policy):
        return scenario.policy.model_dump(mode="json")
    templates = json.loads((settings.seeds_dir / "policy_templates.json").read_text(encoding="utf-8"))
    for template in templates["policies"]:
        if template["id"] == scenario.policy:
            return template
    known = ", ".join(t["id"] for t in templates["policies"])
    raise ScenarioError(f"{source}: policy: unknown template {scenario.policy!r} (known: {known})")


def scenario_bundle(scenario: Scenario, *, settings: Settings | None = None, source: str = "<scenario>"):  # noqa: ANN201
    """The scenario as a validated :class:`~app.seeding.SeedBundle` (same models as the seed files)."""
    import pandas as pd

    from app.seeding.loader import bundle_from_documents

    settings = settings or Settings()
    pack = scenario.pricing_pack
    securities = {
        "schema_version": "1.0",
        "securities": [
            {
                "symbol": s.symbol, "name": s.name or s.symbol, "sector": s.sector, "asset_class": s.asset_class,
                "currency": s.currency, "lot_size": str(s.lot_size), "status": s.status.value,
            }
            for s in scenario.securities
        ],
    }
    ratings = {
        "schema_version": "1.0", "asof_date": pack.asof.isoformat(), "source": f"scenario {scenario.scenario_id}",
        "ratings": [{"symbol": s.symbol, "score": s.quality_score} for s in scenario.securities],
    }
    benchmarks = {
        "schema_version": "1.0",
        "benchmarks": [{"id": scenario.benchmark.id, "name": scenario.benchmark.name,
                        "weights": {k: str(v) for k, v in scenario.benchmark.weights.items()}}],
    }
    portfolio = scenario.portfolio
    portfolios = {
        "schema_version": "1.0",
        "portfolios": [{
            "id": portfolio.id, "name": portfolio.name or portfolio.id, "cash": str(portfolio.cash),
            "benchmark_id": scenario.benchmark.id,
            "holdings": [{"symbol": h.symbol, "shares": str(h.shares)} for h in portfolio.holdings],
        }],
    }
    if scenario.constraint_defaults is not None:
        defaults = json.loads(json.dumps(scenario.constraint_defaults.model_dump(mode="json")))
    else:
        defaults = json.loads((settings.seeds_dir / "constraint_defaults.json").read_text(encoding="utf-8"))
    policy = _policy_seed(scenario, settings, source)
    frame = _prices_frame(scenario, source)
    packs = {"schema_version": "1.0", "pricing_packs": [{
        "id": pack.id, "asof_date": pack.asof.isoformat(), "prices_csv": pack.prices_csv or "<inline>",
        "source": f"scenario {scenario.scenario_id}",
    }]}
    if pd.Timestamp(pack.asof) not in frame.index:
        raise ScenarioError(
            f"{source}: pricing_pack.asof: not a date of the price table (value={pack.asof.isoformat()!r})")
    documents = {
        "securities.json": securities,
        "quality_ratings.json": ratings,
        "benchmarks.json": benchmarks,
        "portfolios.json": portfolios,
        "policy_templates.json": {"schema_version": "1.0", "policies": [policy]},
        "constraint_defaults.json": defaults,
        "pricing_packs.json": packs,
    }
    return bundle_from_documents(seeds_dir=scenario.source or Path.cwd(), documents=documents, prices=frame,
                                 source=source)


async def run_scenario(
    scenario: Scenario | str | Path,
    *,
    database_url: str | None = None,
    strict: bool | None = None,
    ctx: RequestCtx | None = None,
    settings: Settings | None = None,
) -> RebalanceProposal:
    """Propose trades for a scenario. ``database_url=None`` uses a private in-memory SQLite database;
    a URL must name an empty database (tests use a fresh one per run)."""
    from sqlalchemy.ext.asyncio import create_async_engine
    from sqlalchemy.pool import StaticPool

    from app.bootstrap import build_orchestrator
    from app.db.engine import make_engine, make_session_factory
    from app.db.migrate import upgrade_to_head
    from app.seeding import apply_seed_bundle

    if not isinstance(scenario, Scenario):
        source = str(scenario)
        scenario = load_scenario(scenario)
    else:
        source = f"scenario {scenario.scenario_id}"
    settings = settings or Settings()
    bundle = scenario_bundle(scenario, settings=settings, source=source)
    if database_url is None:
        engine = create_async_engine(IN_MEMORY_URL, poolclass=StaticPool, connect_args={"check_same_thread": False})
    else:
        engine = make_engine(database_url, create=True)  # the scenario seeds it: a new file is fine
    try:
        await upgrade_to_head(engine)
        session_factory = make_session_factory(engine)
        await apply_seed_bundle(session_factory, bundle)
        ctx = (ctx or RequestCtx()).model_copy(update={"pricing_pack_id": scenario.pricing_pack.id})
        policy_id = scenario.policy.id if isinstance(scenario.policy, Policy) else scenario.policy
        envelope = await build_orchestrator(session_factory).call(
            "optimizer.propose_trades",
            ctx,
            portfolio_id=scenario.portfolio.id,
            policy_id=policy_id,
            strict=scenario.strict if strict is None else strict,
            options=scenario.options,
        )
        return envelope.data
    finally:
        await engine.dispose()
