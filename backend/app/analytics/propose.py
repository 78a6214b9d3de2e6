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
from dataclasses import replace
from decimal import Decimal
from importlib import metadata
from typing import Any

import pandas as pd
import structlog

from app import ENGINE_VERSION
from app.analytics.account import AccountPlan, plan_account
from app.analytics.assemble import account_outcome, blocked_buys_line, proposed_trades, summary_of
from app.analytics.engine import PathObjective, TradePath, solve_trade_path
from app.analytics.estimators import RiskModel, estimate_risk_model
from app.analytics.inputs import RebalanceInputs
from app.analytics.metrics import PortfolioMetrics, objective_record, portfolio_metrics
from app.analytics.report import build_constraint_report
from app.analytics.returns import daily_returns
from app.analytics.solver_kit import SOLVER
from app.analytics.target import TargetWeights, solve_target
from app.analytics.trades import TradeList, assign_lots, build_trades, sell_tax
from app.analytics.universe import Universe, build_universe
from app.core.decimals import money, pct, strip_zeros, to_decimal
from app.core.errors import InfeasiblePolicyError, InputError, NoRiskModelError
from app.domain.account import AccountRules
from app.domain.canonical import sha256_hex
from app.domain.enums import ObjectiveMode, SecurityStatus
from app.domain.proposal import RebalanceProposal

STAGES = ("universe", "returns", "risk_model", "target", "trade_path", "trades", "report")

#: the rules of a run that has a given target but no account rules
_NO_RULES = AccountRules()

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
    if inputs.account is not None:  # only then: plain policy runs keep their ids
        body["account"] = inputs.account.model_dump(mode="json")
    if inputs.target is not None:
        body["target"] = inputs.target.model_dump(mode="json")
    return sha256_hex(_norm(body))


def _round6(x: float | None) -> float | None:
    return None if x is None else round(x, 6)


def _pct_str(x: float | None) -> str | None:
    return None if x is None else ("inf" if x == float("inf") else str(pct(float(x))))


def prepare_universe(inputs: RebalanceInputs) -> tuple[Universe, AccountPlan | None]:
    """The universe, with the account's rules resolved when the inputs carry them."""
    pol = inputs.policy
    kw = dict(benchmark=inputs.benchmark, holdings=inputs.holdings, cash=inputs.cash, securities=inputs.securities,
              quality=inputs.quality, asof_prices=inputs.asof_prices, policy=pol)
    if inputs.account is None and inputs.target is None:
        return build_universe(**kw), None
    given = tuple(sorted(inputs.target.weights)) if inputs.target is not None else ()
    candidates = tuple(sorted(set(inputs.benchmark) | set(inputs.holdings) | set(given)))
    halted = frozenset(s for s in candidates
                       if s in inputs.securities and inputs.securities[s].status is SecurityStatus.HALTED)
    plan = plan_account(inputs.account or _NO_RULES, holdings=inputs.holdings, prices=inputs.asof_prices,
                        halted=halted, candidates=candidates, asof=inputs.pack.asof_date)
    limits = replace(plan.limits, extra_symbols=tuple(sorted(set(plan.limits.extra_symbols) | set(given))))
    return build_universe(**kw, account=limits), plan


def run_returns(inputs: RebalanceInputs, universe: Universe) -> pd.DataFrame:
    """Daily returns over the lookback window; :class:`NoRiskModelError` when the pack cannot give them."""
    try:
        return daily_returns(history=inputs.history, symbols=universe.symbols, asof=inputs.pack.asof_date,
                             lookback_days=inputs.options.lookback_days)
    except InputError as exc:
        raise NoRiskModelError(str(exc), pricing_pack_id=inputs.pack.id) from exc


def run_risk_model(inputs: RebalanceInputs, rets: pd.DataFrame) -> RiskModel:
    """The run's risk model (the one Σ that constrains and reports TE); :class:`NoRiskModelError` when none can
    be estimated: the engine makes no covariance up."""
    opts = inputs.options
    try:
        return estimate_risk_model(returns=rets, asof=inputs.pack.asof_date, cov_method=opts.cov_estimator,
                                   mean_method=opts.mean_estimator)
    except InputError as exc:
        raise NoRiskModelError(str(exc), pricing_pack_id=inputs.pack.id) from exc


def given_target(inputs: RebalanceInputs, universe: Universe, plan: AccountPlan | None) -> TargetWeights:
    """The caller's target over the universe (a harvested name's weight passes to its substitute)."""
    weights = {s: float(w) for s, w in inputs.target.weights.items()}
    for symbol, substitute in (plan.target_moves.items() if plan is not None else ()):
        weights[substitute] = weights.get(substitute, 0.0) + weights.pop(symbol, 0.0)
    series = pd.Series(weights, dtype=float).reindex(list(universe.symbols)).fillna(0.0)
    return TargetWeights(weights=series, cash_weight=float(1.0 - series.sum()), solver="given",
                         status=f"given: {inputs.target.id}", objective="given")


def choose_target(inputs: RebalanceInputs, universe: Universe, risk: RiskModel,
                  plan: AccountPlan | None) -> TargetWeights:
    """The caller's target when given, else the policy's target (:func:`solve_target`)."""
    if inputs.target is not None:
        return given_target(inputs, universe, plan)
    opts, pol, dft = inputs.options, inputs.policy, inputs.defaults
    target = solve_target(
        risk_model=risk, universe=universe, model=opts.model, objective=opts.objective,
        risk_measure=opts.risk_measure, risk_free_rate=dft.risk_free_rate, annualization=dft.annualization_factor,
        risk_aversion=opts.risk_aversion, max_tracking_error=pol.max_tracking_error_pct,
    )
    if plan is None or not plan.target_moves:
        return target
    moved = target.weights.copy()
    for symbol, substitute in plan.target_moves.items():
        moved[substitute] = moved.get(substitute, 0.0) + moved.get(symbol, 0.0)
        moved[symbol] = 0.0
    return replace(target, weights=moved)


def trade_toward(inputs: RebalanceInputs, universe: Universe, risk: RiskModel, target: TargetWeights,
                 plan: AccountPlan | None) -> TradePath:
    """The trade path under the hierarchy (taxes from the account's lots as part of the cost term)."""
    pol, dft = inputs.policy, inputs.defaults
    return solve_trade_path(
        universe=universe, risk_model=risk, target=target.weights, max_turnover=pol.max_turnover_pct,
        max_tracking_error=pol.max_tracking_error_pct, market_impact_bps=float(dft.market_impact_bps),
        commission_per_trade=float(dft.commission_per_trade), annualization=dft.annualization_factor,
        objective=PathObjective(mode=inputs.options.objective_mode, te_aversion=inputs.options.te_aversion),
        reinvest_proceeds=inputs.options.reinvest_proceeds,
        sell_tax=None if plan is None else sell_tax(universe, plan),
    )


def whole_shares(inputs: RebalanceInputs, universe: Universe, path: TradePath, plan: AccountPlan | None) -> TradeList:
    """Whole-share trades from the path's weights, with the lots each sell takes."""
    pol, dft = inputs.policy, inputs.defaults
    tl = build_trades(
        universe=universe, weights=path.weights.to_numpy(), commission_per_trade=dft.commission_per_trade,
        market_impact_bps=dft.market_impact_bps, min_trade_value=dft.min_trade_value,
        max_turnover=pol.max_turnover_pct if path.turnover_limit_met else None,
        top_up_max_turnover=path.turnover_bound,
        max_trades=None if inputs.account is None else inputs.account.max_trades,
        keep_cash=money(to_decimal(repr(path.target_cash)) * universe.value),
    )
    return tl if plan is None else assign_lots(tl, plan)


def _metadata(inputs: RebalanceInputs, universe: Universe, rets: pd.DataFrame, risk: RiskModel,
              target: TargetWeights, path: TradePath, objective: dict[str, Any]) -> dict[str, Any]:
    opts = inputs.options
    meta: dict[str, Any] = {
        "engine_version": ENGINE_VERSION, "solver": SOLVER, "riskfolio_version": _version("riskfolio-lib"),
        "cvxpy_version": _version("cvxpy"), "options": opts.model_dump(mode="json"),
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
            "trade_path": dict(sorted({**path.statuses, **path.notes}.items())),
        },
        "objective": objective,
        "trade_path": {
            "turnover_bound_pct": _pct_str(path.turnover_bound), "te_bound_pct": _pct_str(path.te_bound),
            "min_turnover_needed_pct": _pct_str(path.min_turnover_needed),
            "te_min_achievable_pct": _pct_str(path.te_min_achievable),
            "turnover_needed_for_te_pct": _pct_str(path.turnover_needed_for_te),
            "te_min_unbounded_pct": _pct_str(path.te_min_unbounded),
        },
    }
    return meta


def _objective(inputs: RebalanceInputs, universe: Universe, risk: RiskModel, target: TargetWeights, tl: TradeList,
               after: PortfolioMetrics, taxes: Decimal) -> dict[str, Any]:
    """The trade path's objective (mode, λ, value) recomputed from the final trades."""
    opts = inputs.options
    return objective_record(
        mode=opts.objective_mode.value,
        te_aversion=opts.te_aversion if opts.objective_mode is ObjectiveMode.COST_AWARE else None,
        weights_after=after.weights, target=target.weights.reindex(list(universe.symbols)).fillna(0.0).to_numpy(),
        cov=risk.cov, total_cost=tl.total_cost, value_before=universe.value, taxes=taxes,
        annualization=inputs.defaults.annualization_factor,
    )


def assemble_proposal(inputs: RebalanceInputs, *, universe: Universe, plan: AccountPlan | None, rets: pd.DataFrame,
                      risk: RiskModel, target: TargetWeights, path: TradePath, tl: TradeList,
                      request_id: str | None) -> RebalanceProposal:
    """Metrics before/after, the constraint report and the proposal, all from the final trades."""
    dft, pol = inputs.defaults, inputs.policy
    after_shares = dict(zip(universe.symbols, universe.shares))
    for t in tl.trades:
        after_shares[t.symbol] = t.target_shares
    kw = dict(universe=universe, risk_model=risk, risk_free_rate=dft.risk_free_rate,
              annualization=dft.annualization_factor)
    before = portfolio_metrics(shares=dict(zip(universe.symbols, universe.shares)), cash=universe.cash, **kw)
    after = portfolio_metrics(shares=after_shares, cash=tl.cash_after, **kw)
    lines = build_constraint_report(universe=universe, policy=pol, trades=tl, before=before, after=after, path=path)
    notes = plan.notes if plan is not None else ()
    outcome = None
    if plan is not None:
        lines = (*lines, blocked_buys_line(tl, universe))
        outcome = account_outcome(tl, plan, universe, notes, inputs.target.id if inputs.target else None)
    tax = outcome.realised.tax_total if outcome else None
    warnings = (*universe.warnings, *risk.warnings, *target.warnings, *map(str, path.warnings), *map(str, tl.warnings),
                *(f"dropped {d}" for d in tl.dropped), *(str(n) for n in notes))
    return RebalanceProposal(
        proposal_id=proposal_id_for(inputs, universe), portfolio_id=inputs.portfolio_id, policy_id=pol.id,
        policy_version=pol.version, method_version=pol.method_version, pricing_pack_id=inputs.pack.id,
        asof_date=inputs.pack.asof_date, request_id=request_id,
        trades=proposed_trades(tl, universe, inputs, before, after),
        summary=summary_of(tl, universe, before, after, lines, tax),
        constraints=lines, warnings=tuple(warnings),
        target_weights={s: pct(float(w)) for s, w in target.weights.items() if pct(float(w)) != 0},
        metadata=_metadata(inputs, universe, rets, risk, target, path,
                           _objective(inputs, universe, risk, target, tl, after, tax or Decimal(0))),
        account=outcome,
    )


def build_proposal(inputs: RebalanceInputs, *, request_id: str | None = None) -> RebalanceProposal:
    """The trade proposal for ``inputs`` (see :func:`build_proposal_timed`)."""
    return build_proposal_timed(inputs, request_id=request_id)[0]


class _Laps:
    """Per-stage wall-clock seconds, also written to the caller's sink (see :func:`record_stage_timings`)."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self.sink = _TIMING_SINK.get()
        if self.sink is not None:
            self.sink.clear()
        self.clock = time.perf_counter()

    def __call__(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[stage] = now - self.clock
        if self.sink is not None:
            self.sink[stage] = self.timings[stage]
        self.clock = now


def build_proposal_timed(
    inputs: RebalanceInputs, *, request_id: str | None = None
) -> tuple[RebalanceProposal, dict[str, float]]:
    """Run every stage and return ``(proposal, {stage: seconds})``.

    Raises :class:`~app.core.errors.InputError` for malformed inputs (:class:`NoRiskModelError` when no risk
    model can be estimated), :class:`SolverError` when a solve fails, and, with ``inputs.strict``,
    :class:`InfeasiblePolicyError` carrying the constraint report when any limit is unmet.
    """
    log = structlog.get_logger()
    lap = _Laps()
    universe, plan = prepare_universe(inputs)
    lap("universe")
    rets = run_returns(inputs, universe)
    lap("returns")
    risk = run_risk_model(inputs, rets)
    lap("risk_model")
    log.info("optimizer.returns.built", n_assets=universe.n, n_days=len(rets),
             first=str(rets.index[0].date()), last=str(rets.index[-1].date()))
    target = choose_target(inputs, universe, risk, plan)
    lap("target")
    log.info("optimizer.target.solved", solver=target.solver, status=target.status, objective=target.objective,
             n_names=int((target.weights > 0).sum()), cash_weight=round(target.cash_weight, 6),
             te_constrained=target.te_constrained, working_set=target.working_set)
    path = trade_toward(inputs, universe, risk, target, plan)
    lap("trade_path")
    log.info("optimizer.trade_path.solved", turnover=round(path.turnover, 6),
             turnover_bound=round(path.turnover_bound, 6), te_bound=round(path.te_bound, 6),
             min_turnover_needed=_round6(path.min_turnover_needed),
             statuses={k: v.value for k, v in path.statuses.items()})
    tl = whole_shares(inputs, universe, path, plan)
    lap("trades")
    log.info("optimizer.trades.built", n_trades=len(tl.trades), cash_after=str(tl.cash_after),
             total_cost=str(tl.total_cost), n_dropped=len(tl.dropped))
    proposal = assemble_proposal(inputs, universe=universe, plan=plan, rets=rets, risk=risk, target=target,
                                 path=path, tl=tl, request_id=request_id)
    lap("report")
    unmet = proposal.unmet_constraints
    log.info("optimizer.report.built", n_unmet=len(unmet), unmet=[c.name for c in unmet],
             turnover_pct=str(proposal.summary.turnover_pct), te_after_pct=str(proposal.summary.te_after_pct))
    if inputs.strict and unmet:
        raise InfeasiblePolicyError(
            f"policy {inputs.policy.id} cannot hold for portfolio {inputs.portfolio_id}: "
            + "; ".join(f"{c.name} ({c.detail})" if c.detail else c.name for c in unmet),
            report=proposal.constraints,
        )
    return proposal, lap.timings
