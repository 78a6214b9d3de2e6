"""One rebalance, end to end: returns → risk model → target → trade path → trades → metrics → report.

:func:`build_proposal` is pure (no database, no files, no clock in the output): the same
:class:`RebalanceInputs` give byte-identical canonical proposal bodies. :func:`build_proposal_timed`
also returns per-stage wall-clock seconds, kept out of the proposal.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from importlib import metadata
from typing import Any

import pandas as pd
import structlog

from app import ENGINE_VERSION
from app.analytics.estimators import estimate_risk_model
from app.analytics.inputs import RebalanceInputs
from app.analytics.metrics import portfolio_metrics
from app.analytics.report import build_constraint_report
from app.analytics.returns import daily_returns
from app.analytics.target import solve_target
from app.analytics.trade_path import SOLVER, solve_trade_path
from app.analytics.trades import TradeReason, build_trades
from app.analytics.universe import Universe, build_universe
from app.core.decimals import money, pct, ratio, strip_zeros, to_decimal
from app.core.errors import InfeasiblePolicyError
from app.domain.canonical import sha256_hex
from app.domain.enums import TradeAction
from app.domain.proposal import ProposalSummary, ProposedTrade, RebalanceProposal

STAGES = ("universe", "returns", "risk_model", "target", "trade_path", "trades", "report")

#: where :func:`build_proposal_timed` also writes its stage seconds, when a caller asked for them
_TIMING_SINK: ContextVar[dict[str, float] | None] = ContextVar("proposal_timing_sink", default=None)


@contextmanager
def record_stage_timings() -> Iterator[dict[str, float]]:
    """Collect the per-stage seconds (:data:`STAGES`) of every proposal built inside the block, also in
    threads started with ``asyncio.to_thread`` (they copy the context), e.g. through the agent::

        with record_stage_timings() as seconds:
            await agent.propose_trades(ctx, ...)
        seconds["target"]

    The timings never enter the proposal (nor its hash). A later proposal overwrites an earlier one's.
    """
    sink: dict[str, float] = {}
    token = _TIMING_SINK.set(sink)
    try:
        yield sink
    finally:
        _TIMING_SINK.reset(token)


def _norm(obj: Any) -> Any:
    """Decimals as plain strings without trailing zeros, recursively (dialect-independent hashing)."""
    if isinstance(obj, Decimal):
        return str(strip_zeros(obj))
    if isinstance(obj, dict):
        return {str(k): _norm(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_norm(v) for v in obj]
    return obj


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:  # pragma: no cover
        return "unknown"


def proposal_id_for(inputs: RebalanceInputs, universe: Universe) -> str:
    """SHA-256 of the canonical JSON of everything that determines the proposal."""
    syms = universe.symbols
    pack: dict[str, Any] = {"id": inputs.pack.id, "asof": inputs.pack.asof_date.isoformat(),
                            "content_hash": inputs.pack.content_hash}
    if not inputs.pack.content_hash:
        window = inputs.history.loc[:, list(syms)]
        digest = hashlib.sha256(pd.util.hash_pandas_object(window, index=True).to_numpy().tobytes())
        pack["history_sha256"] = digest.hexdigest()
    body = {
        "engine_version": ENGINE_VERSION,
        "portfolio_id": inputs.portfolio_id,
        "pack": pack,
        "policy": inputs.policy.model_dump(mode="python"),
        "holdings": {s: q for s, q in sorted(inputs.holdings.items())},
        "cash": to_decimal(inputs.cash),
        "securities": {s: inputs.securities[s].model_dump(mode="python") for s in syms},
        "quality": {s: inputs.quality.get(s) for s in syms},
        "benchmark": {s: float(inputs.benchmark.get(s, 0.0)) for s in syms},
        "asof_prices": {s: to_decimal(inputs.asof_prices[s]) for s in syms},
        "defaults": inputs.defaults.model_dump(mode="python"),
        "options": inputs.options.model_dump(mode="json"),
    }
    return sha256_hex(_norm(body))


def _round6(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


def _pct_str(x: float | None) -> str | None:
    return None if x is None else ("inf" if x == float("inf") else str(pct(float(x))))


def _rationale(line, universe: Universe, inputs: RebalanceInputs, after_w: float) -> str:
    i = universe.index(line.symbol)
    pol = inputs.policy
    if line.reason is TradeReason.FORCED_EXIT:
        q = universe.quality[i]
        if q is None:
            return f"forced exit: unrated (min quality {pol.min_quality_score:g})"
        return f"forced exit: quality {q:g} < {pol.min_quality_score:g}"
    if line.reason is TradeReason.TRIM_CAP:
        return f"trim to {pol.max_single_position_pct * 100:g} % cap"
    if line.reason is TradeReason.TRIM_SECTOR:
        return f"trim {universe.sectors[i]} toward {pol.max_sector_pct * 100:g} % sector cap"
    side = "buy" if line.action is TradeAction.BUY else "sell"
    return f"toward target: {side} to {pct(after_w)} %"


def build_proposal(inputs: RebalanceInputs, *, request_id: str | None = None) -> RebalanceProposal:
    """The trade proposal for ``inputs`` (see :func:`build_proposal_timed`)."""
    return build_proposal_timed(inputs, request_id=request_id)[0]


def build_proposal_timed(
    inputs: RebalanceInputs, *, request_id: str | None = None
) -> tuple[RebalanceProposal, dict[str, float]]:
    """Run every stage and return ``(proposal, {stage: seconds})``.

    Raises :class:`~app.core.errors.InputError` for malformed inputs, :class:`SolverError` when a solve
    fails, and, with ``inputs.strict``, :class:`InfeasiblePolicyError` carrying the constraint report when
    any limit is unmet.
    """
    log = structlog.get_logger()
    timings: dict[str, float] = {}
    sink = _TIMING_SINK.get()
    if sink is not None:
        sink.clear()
    opts, pol, dft = inputs.options, inputs.policy, inputs.defaults
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = now - clock
        if sink is not None:
            sink[stage] = timings[stage]
        clock = now

    universe = build_universe(
        benchmark=inputs.benchmark, holdings=inputs.holdings, cash=inputs.cash, securities=inputs.securities,
        quality=inputs.quality, asof_prices=inputs.asof_prices, policy=pol,
    )
    lap("universe")
    rets = daily_returns(history=inputs.history, symbols=universe.symbols, asof=inputs.pack.asof_date,
                         lookback_days=opts.lookback_days)
    lap("returns")
    log.info("optimizer.returns.built", n_assets=universe.n, n_days=len(rets),
             first=str(rets.index[0].date()), last=str(rets.index[-1].date()))
    risk = estimate_risk_model(returns=rets, asof=inputs.pack.asof_date, cov_method=opts.cov_estimator,
                               mean_method=opts.mean_estimator)
    lap("risk_model")
    ann = dft.annualization_factor
    target = solve_target(
        risk_model=risk, universe=universe, model=opts.model, objective=opts.objective,
        risk_measure=opts.risk_measure, risk_free_rate=dft.risk_free_rate, annualization=ann,
        risk_aversion=opts.risk_aversion, max_tracking_error=pol.max_tracking_error_pct,
    )
    lap("target")
    log.info("optimizer.target.solved", solver=target.solver, status=target.status, objective=target.objective,
             n_names=int((target.weights > 0).sum()), cash_weight=round(target.cash_weight, 6),
             te_constrained=target.te_constrained, working_set=target.working_set)
    path = solve_trade_path(
        universe=universe, risk_model=risk, target=target.weights, max_turnover=pol.max_turnover_pct,
        max_tracking_error=pol.max_tracking_error_pct, market_impact_bps=float(dft.market_impact_bps),
        commission_per_trade=float(dft.commission_per_trade), cost_weight=opts.cost_weight, annualization=ann,
    )
    lap("trade_path")
    log.info("optimizer.trade_path.solved", turnover=round(path.turnover, 6),
             turnover_bound=round(path.turnover_bound, 6), te_bound=round(path.te_bound, 6),
             min_turnover_needed=_round6(path.min_turnover_needed), statuses=path.statuses)
    tl = build_trades(
        universe=universe, weights=path.weights.to_numpy(), commission_per_trade=dft.commission_per_trade,
        market_impact_bps=dft.market_impact_bps, min_trade_value=dft.min_trade_value,
        max_turnover=pol.max_turnover_pct if path.turnover_limit_met else None,
        top_up_max_turnover=path.turnover_bound,
    )
    lap("trades")
    log.info("optimizer.trades.built", n_trades=len(tl.trades), cash_after=str(tl.cash_after),
             total_cost=str(tl.total_cost), n_dropped=len(tl.dropped))

    before_shares = dict(zip(universe.symbols, universe.shares))
    after_shares = dict(before_shares)
    for t in tl.trades:
        after_shares[t.symbol] = t.target_shares
    rf = dft.risk_free_rate
    before = portfolio_metrics(universe=universe, risk_model=risk, shares=before_shares, cash=universe.cash,
                               risk_free_rate=rf, annualization=ann)
    after = portfolio_metrics(universe=universe, risk_model=risk, shares=after_shares, cash=tl.cash_after,
                              risk_free_rate=rf, annualization=ann)
    lines = build_constraint_report(universe=universe, policy=pol, trades=tl, before=before, after=after,
                                    path=path)
    unmet = [c for c in lines if not c.satisfied]
    trades = tuple(
        ProposedTrade(
            symbol=t.symbol, security_id=t.symbol, action=t.action, current_shares=strip_zeros(t.current_shares),
            target_shares=strip_zeros(t.target_shares), delta_shares=strip_zeros(t.delta_shares),
            price=t.price, trade_value=t.trade_value,
            current_weight_pct=pct(float(before.weights[universe.index(t.symbol)])),
            target_weight_pct=pct(float(after.weights[universe.index(t.symbol)])),
            commission=t.commission, market_impact=t.market_impact, estimated_cost=t.estimated_cost,
            rationale=_rationale(t, universe, inputs, float(after.weights[universe.index(t.symbol)])),
        )
        for t in tl.trades
    )
    traded_value = sum((t.trade_value for t in tl.trades), Decimal(0))
    summary = ProposalSummary(
        portfolio_value=money(universe.value), cash_before=money(universe.cash), cash_after=money(tl.cash_after),
        turnover_pct=pct(traded_value / universe.value), estimated_total_cost=money(tl.total_cost),
        te_before_pct=pct(before.tracking_error), te_after_pct=pct(after.tracking_error),
        expected_return_before_pct=pct(before.expected_return), expected_return_after_pct=pct(after.expected_return),
        volatility_before_pct=pct(before.volatility), volatility_after_pct=pct(after.volatility),
        sharpe_before=ratio(before.sharpe, 4), sharpe_after=ratio(after.sharpe, 4),
        avg_quality_before=ratio(before.avg_quality, 2), avg_quality_after=ratio(after.avg_quality, 2),
        n_trades=len(trades), all_constraints_satisfied=not unmet,
    )
    warnings = (*universe.warnings, *risk.warnings, *target.warnings, *path.warnings, *(str(w) for w in tl.warnings),
                *(f"dropped {d}" for d in tl.dropped))
    metadata_ = {
        "engine_version": ENGINE_VERSION,
        "solver": SOLVER,
        "riskfolio_version": _version("riskfolio-lib"),
        "cvxpy_version": _version("cvxpy"),
        "options": opts.model_dump(mode="json"),
        "risk_model": {
            "cov_method": risk.cov_method.value, "mean_method": risk.mean_method.value,
            "lookback_days": risk.lookback_days, "window_start": rets.index[0].date().isoformat(),
            "window_end": rets.index[-1].date().isoformat(), "ridge_added": risk.ridge > 0,
        },
        "universe": {"n_assets": universe.n, "n_buyable": int(universe.buyable.sum()),
                     "capacity_pct": str(pct(universe.capacity))},
        "stages": {
            "target": {"solver": target.solver, "status": target.status, "objective": target.objective,
                       "te_constrained": target.te_constrained,
                       **({"working_set": target.working_set} if target.working_set else {})},
            "trade_path": dict(sorted(path.statuses.items())),
        },
        "trade_path": {
            "turnover_bound_pct": _pct_str(path.turnover_bound), "te_bound_pct": _pct_str(path.te_bound),
            "min_turnover_needed_pct": _pct_str(path.min_turnover_needed),
            "te_min_achievable_pct": _pct_str(path.te_min_achievable),
            "turnover_needed_for_te_pct": _pct_str(path.turnover_needed_for_te),
            "te_min_unbounded_pct": _pct_str(path.te_min_unbounded),
        },
    }
    proposal = RebalanceProposal(
        proposal_id=proposal_id_for(inputs, universe), portfolio_id=inputs.portfolio_id, policy_id=pol.id,
        policy_version=pol.version, method_version=pol.method_version, pricing_pack_id=inputs.pack.id,
        asof_date=inputs.pack.asof_date, request_id=request_id, trades=trades, summary=summary,
        constraints=lines, warnings=tuple(warnings),
        target_weights={s: pct(float(w)) for s, w in target.weights.items() if pct(float(w)) != 0},
        metadata=metadata_,
    )
    lap("report")
    log.info("optimizer.report.built", n_unmet=len(unmet), unmet=[c.name for c in unmet],
             turnover_pct=str(summary.turnover_pct), te_after_pct=str(summary.te_after_pct))
    if inputs.strict and unmet:
        raise InfeasiblePolicyError(
            f"policy {pol.id} cannot hold for portfolio {inputs.portfolio_id}: "
            + "; ".join(f"{c.name} ({c.detail})" if c.detail else c.name for c in unmet),
            report=lines,
        )
    return proposal, timings
