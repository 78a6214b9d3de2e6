#!/usr/bin/env python
"""End-to-end benchmark of ``optimizer.propose_trades`` on synthetic universes (issue 3, acceptance 5).

For each size N a seeded factor model (market + 11 GICS sector factors + 3 style factors + idiosyncratic
noise) gives 756 + 1 daily closes; quality scores (some below the policy minimum), a cap-weighted-looking
benchmark over all N names and a portfolio with cash are written into a temporary SQLite file through the
validated :class:`~app.seeding.SeedBundle` / ``apply_seed_bundle`` path (setup, reported apart). Two cases
(``--case``, default both, one table each):

* ``unreachable``: 35-80 held names, about 28 % of the universe below the quality minimum; the 2 % TE limit
  is out of reach, so the trade path runs its full lexicographic sequence (a), (b), extra TE solves, (c);
* ``reachable``: an index-like book (every name held at its benchmark weight times log-normal noise), about
  3 % of names below the quality minimum; both policy limits are reachable, so the trade path's direct
  attempt of stage (c) at the policy bounds is optimal and (a), (b) are skipped.

Then the agent proposes trades under ``quality_focused``, timed per stage:

* ``load``      the agent's ``gather_inputs`` (repositories, SQLite);
* ``estimate``  universe + daily returns + Riskfolio estimators (risk model);
* ``target``    Riskfolio ``Portfolio.optimization`` (above 150 names on certified working sets);
* ``path``      the lexicographic trade path (cvxpy + Clarabel; (c) in a second thread beside the TE
                reports when those run);
* ``decimals``  whole-share Decimal trades + metrics + constraint report + proposal;
* ``persist``   ``ProposalRepository.save``;
* ``total``     the whole ``propose_trades`` call (includes the agent's own glue).

Imports (riskfolio, cvxpy, ...) are done once before anything is timed, and one warm-up proposal at
N = 50 runs first. Memory: ``tracemalloc`` peak of one extra, separately run propose call (Python and
numpy allocations; tracemalloc slows Python code, so that run is not timed) and the process's max RSS
(``resource.getrusage``, whole process so far).

Usage: ``python bench/bench_propose.py [--sizes 50,500,2000] [--repeat 1] [--seed 7] [--case both]
[--no-tracemalloc]``
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import math
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "backend"))

SECTORS = (
    "Communication Services", "Consumer Discretionary", "Consumer Staples", "Energy", "Financials",
    "Health Care", "Industrials", "Information Technology", "Materials", "Real Estate", "Utilities",
)
N_DAYS = 756
POLICY_ID = "quality_focused"
PORTFOLIO_ID = "BENCH"
BENCHMARK_ID = "BENCH_IDX"
PORTFOLIO_VALUE = 10_000_000.0
CASES = ("unreachable", "reachable")
STAGES = ("load", "estimate", "target", "path", "decimals", "persist")
#: load / persist seconds of the latest call, written by the bench's wrappers (see Bench._instrument)
_SECONDS: dict[str, float] = {}


@dataclass(frozen=True)
class Synthetic:
    symbols: list[str]
    sectors: list[str]
    quality: np.ndarray
    dates: object  # pandas DatetimeIndex
    closes: np.ndarray  # (N_DAYS + 1) x N, currency, 2 dp
    bench: list[Decimal]
    holdings: dict[str, Decimal]
    cash: Decimal


def synthesize(n: int, seed: int, case: str = "unreachable") -> Synthetic:
    """A seeded factor-model universe of ``n`` names, portfolio per ``case`` (see the module docstring)."""
    import pandas as pd

    rng = np.random.default_rng([seed, n])
    t = N_DAYS
    symbols = [f"S{i:04d}" for i in range(n)]
    sector_idx = rng.integers(0, len(SECTORS), size=n)
    sector_idx[: len(SECTORS)] = np.arange(min(n, len(SECTORS)))  # every sector present
    sectors = [SECTORS[k] for k in sector_idx]
    # factor returns (daily): market, 11 sectors, 3 styles
    market = rng.normal(0.0003, 0.010, size=t)
    sector_f = rng.normal(0.0, 0.006, size=(t, len(SECTORS)))
    style_f = rng.normal(0.0, 0.004, size=(t, 3))
    beta_m = rng.normal(1.0, 0.25, size=n)
    beta_s = rng.normal(1.0, 0.2, size=n)
    beta_y = rng.normal(0.0, 0.5, size=(n, 3))
    idio_vol = rng.uniform(0.008, 0.025, size=n)
    alpha = rng.normal(0.0001, 0.0003, size=n)
    rets = (
        alpha + np.outer(market, beta_m) + sector_f[:, sector_idx] * beta_s + style_f @ beta_y.T
        + rng.normal(size=(t, n)) * idio_vol
    )
    rets = np.clip(rets, -0.5, 0.5)
    p0 = np.exp(rng.normal(np.log(60.0), 0.8, size=n)).clip(5.0, 900.0)
    closes = np.vstack([p0, p0 * np.cumprod(1.0 + rets, axis=0)])
    closes = np.maximum(np.round(closes, 2), 0.01)
    dates = pd.bdate_range(end="2024-12-31", periods=t + 1)
    quality = np.round(rng.uniform(4.5, 9.9, size=n), 1)  # about 28 % below quality_focused's 6.0
    if case == "reachable":  # about 3 % below the minimum (drawn after the above: same prices either way)
        quality = np.where(rng.uniform(size=n) < 0.03, np.round(rng.uniform(4.5, 5.9, size=n), 1),
                           np.round(rng.uniform(6.0, 9.9, size=n), 1))

    # benchmark: log-normal "caps", 10 dp, the largest absorbs the rounding so the sum is exactly 1
    caps = np.exp(rng.normal(0.0, 1.0, size=n))
    raw = caps / caps.sum()
    bench = [Decimal(f"{w:.10f}") for w in raw]
    top = int(np.argmax(raw))
    bench[top] += Decimal(1) - sum(bench, Decimal(0))

    # unreachable: 35-80 names (some below the quality minimum: forced exits), about 3 % cash;
    # reachable: every name at its benchmark weight times log-normal noise, about 3 % cash
    if case == "reachable":
        held = np.arange(n)
        w = raw * np.exp(rng.normal(0.0, 0.3, size=n))
    else:
        h = min(80, max(20, int(0.7 * n)))
        held = np.sort(rng.choice(n, size=h, replace=False))
        w = np.exp(rng.normal(0.0, 0.6, size=h))
    w = 0.97 * w / w.sum()
    last = closes[-1]
    holdings = {}
    invested = 0.0
    for k, i in enumerate(held):
        shares = math.floor(w[k] * PORTFOLIO_VALUE / last[i])
        if shares > 0:
            holdings[symbols[i]] = Decimal(shares)
            invested += shares * last[i]
    cash = Decimal(f"{PORTFOLIO_VALUE - invested:.2f}")
    return Synthetic(symbols, sectors, quality, dates, closes, bench, holdings, cash)


def seed_bundle(u: Synthetic):  # noqa: ANN201 - SeedBundle
    """The synthetic universe as a validated SeedBundle (the same models and checks as the seed files)."""
    import json

    import pandas as pd

    from app.core.settings import Settings
    from app.seeding.loader import bundle_from_documents

    seeds = Settings().seeds_dir
    templates = json.loads((seeds / "policy_templates.json").read_text(encoding="utf-8"))
    policy = next(p for p in templates["policies"] if p["id"] == POLICY_ID)
    defaults = json.loads((seeds / "constraint_defaults.json").read_text(encoding="utf-8"))
    asof: date = u.dates[-1].date()
    pack_id = f"PP_BENCH_{len(u.symbols)}"
    src = f"bench N={len(u.symbols)}"
    securities = {"schema_version": "1.0", "securities": [
        {"symbol": s, "name": s, "sector": sec, "lot_size": "1"} for s, sec in zip(u.symbols, u.sectors)
    ]}
    ratings = {"schema_version": "1.0", "asof_date": asof.isoformat(), "source": "bench",
               "ratings": [{"symbol": s, "score": Decimal(f"{q:.1f}")} for s, q in zip(u.symbols, u.quality)]}
    benchmarks = {"schema_version": "1.0", "benchmarks": [
        {"id": BENCHMARK_ID, "name": "bench index", "weights": {s: str(w) for s, w in zip(u.symbols, u.bench)}}
    ]}
    portfolios = {"schema_version": "1.0", "portfolios": [{
        "id": PORTFOLIO_ID, "name": "bench portfolio", "cash": str(u.cash), "benchmark_id": BENCHMARK_ID,
        "holdings": [{"symbol": s, "shares": str(q)} for s, q in u.holdings.items()],
    }]}
    packs = {"schema_version": "1.0", "pricing_packs": [
        {"id": pack_id, "asof_date": asof.isoformat(), "prices_csv": "<synthetic>", "source": src}
    ]}
    cells = [[Decimal(f"{x:.2f}") for x in row] for row in u.closes]
    frame = pd.DataFrame(cells, index=pd.DatetimeIndex(u.dates, name="Date"), columns=pd.Index(u.symbols),
                         dtype=object)
    documents = {
        "securities.json": securities,
        "quality_ratings.json": ratings,
        "benchmarks.json": benchmarks,
        "portfolios.json": portfolios,
        "policy_templates.json": {"schema_version": "1.0", "policies": [policy]},
        "constraint_defaults.json": defaults,
        "pricing_packs.json": packs,
    }
    return bundle_from_documents(seeds_dir=ROOT, documents=documents, prices=frame, source=src), pack_id


class Bench:
    """One SQLite file with one synthetic universe, and the agent on it."""

    def __init__(self, n: int, seed: int, workdir: Path, case: str = "unreachable") -> None:
        self.n, self.seed, self.workdir, self.case = n, seed, workdir, case
        self.url = f"sqlite+aiosqlite:///{workdir / f'bench_{case}_{n}_{seed}.sqlite3'}"

    async def setup(self) -> float:
        from app.agents.optimizer import OptimizerAgent
        from app.db.engine import make_engine, make_session_factory
        from app.db.migrate import upgrade_to_head
        from app.seeding import apply_seed_bundle

        t0 = time.perf_counter()
        bundle, self.pack_id = seed_bundle(synthesize(self.n, self.seed, self.case))
        self.engine = make_engine(self.url, create=True)  # the bench makes its own database, as `dawsos seed` does
        await upgrade_to_head(self.engine)
        self.session_factory = make_session_factory(self.engine)
        await apply_seed_bundle(self.session_factory, bundle)
        self.agent = OptimizerAgent(self.session_factory)
        self._instrument()
        return time.perf_counter() - t0

    def _instrument(self) -> None:
        """Time the agent's load (its own ``gather_inputs``) and persist (``ProposalRepository.save``)."""
        from app.db.repositories import ProposalRepository

        gather = self.agent.gather_inputs

        async def timed_gather(*a, **kw):  # noqa: ANN002, ANN003, ANN202
            t0 = time.perf_counter()
            try:
                return await gather(*a, **kw)
            finally:
                _SECONDS["load"] = time.perf_counter() - t0

        self.agent.gather_inputs = timed_gather  # instance attribute: the class is untouched
        if not getattr(ProposalRepository.save, "_bench_timed", False):
            save = ProposalRepository.save

            async def timed_save(repo, *a, **kw):  # noqa: ANN001, ANN002, ANN003, ANN202
                t0 = time.perf_counter()
                try:
                    return await save(repo, *a, **kw)
                finally:
                    _SECONDS["persist"] = time.perf_counter() - t0

            timed_save._bench_timed = True  # type: ignore[attr-defined]
            ProposalRepository.save = timed_save  # type: ignore[method-assign]

    async def propose(self):  # noqa: ANN201 - RebalanceProposal
        """One ``propose_trades`` call through the agent (either calling convention of the agent)."""
        from app.agents import optimizer as opt
        from app.core.context import RequestCtx

        ctx = RequestCtx(pricing_pack_id=self.pack_id)
        args_model = getattr(opt, "ProposeTradesArgs", None)
        if args_model is not None:
            return await self.agent.propose_trades(ctx, args_model(portfolio_id=PORTFOLIO_ID, policy_id=POLICY_ID))
        return await self.agent.propose_trades(ctx, portfolio_id=PORTFOLIO_ID, policy_id=POLICY_ID)

    async def run(self) -> tuple[dict[str, float], object]:
        from app.analytics.propose import record_stage_timings

        _SECONDS.clear()
        gc.collect()
        with record_stage_timings() as a:
            t0 = time.perf_counter()
            proposal = await self.propose()
            total = time.perf_counter() - t0
        out = {
            "load": _SECONDS.get("load", float("nan")),
            "estimate": a["universe"] + a["returns"] + a["risk_model"],
            "target": a["target"],
            "path": a["trade_path"],
            "decimals": a["trades"] + a["report"],
            "persist": _SECONDS.get("persist", float("nan")),
            "total": total,
        }
        return out, proposal

    async def traced_peak(self) -> float:
        """tracemalloc peak (MiB) of one propose call (Python + numpy allocations)."""
        gc.collect()
        tracemalloc.start()
        try:
            await self.propose()
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        return peak / 2**20

    async def close(self) -> None:
        await self.engine.dispose()


def max_rss_mib() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return kb / 1024 if sys.platform != "darwin" else kb / 2**20


def warm_imports() -> float:
    t0 = time.perf_counter()
    import clarabel  # noqa: F401
    import cvxpy  # noqa: F401
    import riskfolio  # noqa: F401

    import app.agents.optimizer  # noqa: F401
    import app.analytics.propose  # noqa: F401
    import app.db.repositories  # noqa: F401
    import app.seeding  # noqa: F401

    return time.perf_counter() - t0


async def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="50,500,2000", help="comma-separated N (default 50,500,2000)")
    ap.add_argument("--repeat", type=int, default=1, help="timed runs per size; the table shows the fastest")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--case", choices=(*CASES, "both"), default="both",
                    help="unreachable: TE limit out of reach (full sequence); reachable: both limits "
                         "reachable (direct stage c); both (default): one table each")
    ap.add_argument("--no-tracemalloc", action="store_true", help="skip the (extra, untimed) traced run")
    ap.add_argument("--keep", action="store_true", help="keep the SQLite files (path printed)")
    args = ap.parse_args(argv)
    try:
        sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    except ValueError:
        ap.error(f"--sizes: expected integers like 50,500,2000, got {args.sizes!r}")
    if not sizes or min(sizes) < 12 or args.repeat < 1:
        ap.error("--sizes must be >= 12 (11 sectors) and --repeat >= 1")

    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    t_import = warm_imports()
    workdir = Path(tempfile.mkdtemp(prefix="dawsos-bench-"))
    print(f"imports (excluded): {t_import:.2f} s; cores: {os.cpu_count()}; SQLite files in {workdir}", flush=True)

    warm = Bench(50, args.seed + 1000, workdir)
    await warm.setup()
    await warm.run()  # warm-up: first-call costs (cvxpy/Clarabel code paths, SQLAlchemy compilation caches)
    await warm.close()

    for case in (CASES if args.case == "both" else (args.case,)):
        rows = []
        for n in sizes:
            b = Bench(n, args.seed, workdir, case)
            setup = await b.setup()
            runs = []
            proposal = None
            for _ in range(args.repeat):
                r, proposal = await b.run()
                runs.append(r)
            best = min(runs, key=lambda r: r["total"])
            peak = float("nan") if args.no_tracemalloc else await b.traced_peak()
            s = proposal.summary
            rows.append((n, setup, best, peak, max_rss_mib(), len(proposal.trades), s, proposal))
            print(f"[{case}] N={n}: setup {setup:.1f} s, total {best['total']:.2f} s, "
                  f"{len(proposal.trades)} trades, "
                  f"turnover {s.turnover_pct} %, TE {s.te_before_pct} -> {s.te_after_pct} %, "
                  f"all limits met: {s.all_constraints_satisfied}", flush=True)
            await b.close()

        head = (f"{'N':>6} " + " ".join(f"{k:>9}" for k in (*STAGES, "total"))
                + f" {'tm-peak':>9} {'maxRSS':>8} {'setup':>7}")
        print()
        print(f"case {case}: seconds per stage (fastest of {args.repeat} run(s); imports excluded; "
              "memory in MiB)")
        print(head)
        print("-" * len(head))
        for n, setup, best, peak, rss, _, _, _ in rows:
            print(f"{n:>6} " + " ".join(f"{best[k]:>9.3f}" for k in (*STAGES, "total"))
                  + f" {peak:>9.1f} {rss:>8.0f} {setup:>7.1f}")
        print()
        for n, *_, proposal in rows:
            st = proposal.metadata.get("stages", {})
            print(f"N={n}: target {st.get('target')}, trade path {st.get('trade_path')}")
            for w in proposal.warnings:
                if "dropped" not in w:
                    print(f"    warning: {w}")
    if not args.keep:
        for f in workdir.glob("*"):
            f.unlink()
        workdir.rmdir()
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
