"""Glue for ``optimizer.analyze_impact``: apply a list of trades to the gathered inputs and measure both
sides with the analytics' own functions (universe, returns, risk model, :func:`portfolio_metrics`).

Pure (no database, no asyncio); runs in a worker thread. Limits are checked plainly against the
after-trade weights (no one-lot allowance): a proposal's constraint report stays the authority.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from app.analytics.estimators import estimate_risk_model
from app.analytics.inputs import RebalanceInputs
from app.analytics.metrics import PortfolioMetrics, portfolio_metrics
from app.analytics.returns import daily_returns
from app.analytics.universe import Universe, build_universe
from app.core.decimals import ZERO, is_lot_multiple, money, pct, ratio, trade_cost
from app.core.errors import ArgumentError
from app.domain.enums import TradeAction
from app.domain.impact import ImpactAnalysis, ImpactTrade, LimitCheck, PortfolioSnapshot, TradeInput
from app.domain.models import Policy


def _snapshot(m: PortfolioMetrics, symbols: Sequence[str]) -> PortfolioSnapshot:
    weights = {s: pct(float(w)) for s, w in zip(symbols, m.weights)}
    return PortfolioSnapshot(
        value=money(m.total),
        cash=money(m.cash),
        te_pct=pct(m.tracking_error),
        volatility_pct=pct(m.volatility),
        expected_return_pct=pct(m.expected_return),
        sharpe=ratio(m.sharpe, 4),
        avg_quality=ratio(m.avg_quality, 2),
        max_position_pct=pct(max((float(w) for w in m.weights), default=0.0)),
        max_sector_pct=pct(max(m.sector_weights.values(), default=0.0)),
        weights_pct={s: w for s, w in weights.items() if w != 0},
        sector_weights_pct={k: pct(v) for k, v in m.sector_weights.items()},
    )


def impact_of_trades(inputs: RebalanceInputs, trades: Sequence[TradeInput]) -> ImpactAnalysis:
    """Before/after metrics of ``trades`` (signed whole shares) on the portfolio in ``inputs``.

    Raises :class:`ArgumentError` naming ``trades[i]`` for a symbol outside the universe (benchmark ∪
    holdings), a symbol given twice, or a sale of more shares than held (long only).
    """
    opts, dft, pol = inputs.options, inputs.defaults, inputs.policy
    universe = build_universe(
        benchmark=inputs.benchmark, holdings=inputs.holdings, cash=inputs.cash, securities=inputs.securities,
        quality=inputs.quality, asof_prices=inputs.asof_prices, policy=pol,
    )
    rets = daily_returns(history=inputs.history, symbols=universe.symbols, asof=inputs.pack.asof_date,
                         lookback_days=opts.lookback_days, pack_id=inputs.pack.id)
    risk = estimate_risk_model(returns=rets, asof=inputs.pack.asof_date, cov_method=opts.cov_estimator,
                               mean_method=opts.mean_estimator)
    before_shares = dict(zip(universe.symbols, universe.shares))
    after_shares = dict(before_shares)
    cash = universe.cash
    warnings: list[str] = list(universe.warnings) + list(risk.warnings)
    lines: list[ImpactTrade] = []
    seen: set[str] = set()
    for i, trade in enumerate(trades):
        line = _priced_line(i, trade, inputs=inputs, universe=universe, before_shares=before_shares, seen=seen,
                            warnings=warnings)
        if line is None:
            continue
        cash += (-line.trade_value if line.action is TradeAction.BUY else line.trade_value) - line.estimated_cost
        after_shares[trade.symbol] = before_shares[trade.symbol] + trade.delta_shares
        lines.append(line)
    cash = money(cash)
    if cash < 0:
        warnings.append(f"cash after the trades is {cash}: they need margin")
    rf, ann = dft.risk_free_rate, dft.annualization_factor
    before = portfolio_metrics(universe=universe, risk_model=risk, shares=before_shares, cash=universe.cash,
                               risk_free_rate=rf, annualization=ann)
    after = portfolio_metrics(universe=universe, risk_model=risk, shares=after_shares, cash=cash,
                              risk_free_rate=rf, annualization=ann)
    traded = sum((line.trade_value for line in lines), ZERO)
    turnover = traded / universe.value
    b, a = _snapshot(before, universe.symbols), _snapshot(after, universe.symbols)

    limits = _limit_checks(pol, b, after, float(turnover))
    return ImpactAnalysis(
        portfolio_id=inputs.portfolio_id, policy_id=pol.id, policy_version=pol.version,
        pricing_pack_id=inputs.pack.id, trades=tuple(lines), turnover_pct=pct(turnover),
        estimated_total_cost=money(sum((line.estimated_cost for line in lines), ZERO)),
        before=b, after=a, limits=limits, warnings=tuple(warnings),
    )


def _priced_line(
    i: int,
    trade: TradeInput,
    *,
    inputs: RebalanceInputs,
    universe: Universe,
    before_shares: Mapping[str, Decimal],
    seen: set[str],
    warnings: list[str],
) -> ImpactTrade | None:
    """``trades[i]`` checked against the universe and holdings and priced with its cost (dollars); None for a
    zero-share trade. Notes about halted, ineligible or odd-lot trades go to ``warnings``."""
    if trade.symbol not in before_shares:
        raise ArgumentError(
            f"trades[{i}].symbol: {trade.symbol!r} is not in portfolio {inputs.portfolio_id}'s universe "
            "(benchmark constituents and holdings)"
        )
    if trade.symbol in seen:
        raise ArgumentError(f"trades[{i}].symbol: {trade.symbol!r} appears more than once")
    seen.add(trade.symbol)
    k = universe.index(trade.symbol)
    if trade.delta_shares == 0:
        warnings.append(f"{trade.symbol}: zero-share trade ignored")
        return None
    if before_shares[trade.symbol] + trade.delta_shares < 0:
        raise ArgumentError(
            f"trades[{i}].delta_shares: sells {-trade.delta_shares} {trade.symbol} but "
            f"{before_shares[trade.symbol]} are held (long only)"
        )
    if not is_lot_multiple(trade.delta_shares, universe.lot_sizes[k]):
        warnings.append(f"{trade.symbol}: {trade.delta_shares} is not a multiple of the lot size "
                        f"{universe.lot_sizes[k]}")
    if universe.halted[k]:
        warnings.append(f"{trade.symbol} is halted: it cannot be traded")
    buy = trade.delta_shares > 0
    if buy and not universe.buyable[k]:
        warnings.append(f"{trade.symbol}: bought although not eligible (quality below "
                        f"{inputs.policy.min_quality_score:g} or unrated)")
    value = money(abs(trade.delta_shares) * universe.prices[k])
    _, _, cost = trade_cost(value, commission_per_trade=inputs.defaults.commission_per_trade,
                            market_impact_bps=inputs.defaults.market_impact_bps)
    return ImpactTrade(symbol=trade.symbol, action=TradeAction.BUY if buy else TradeAction.SELL,
                       delta_shares=trade.delta_shares, price=universe.prices[k], trade_value=value,
                       estimated_cost=cost)


def _limit_checks(
    pol: Policy, before: PortfolioSnapshot, after: PortfolioMetrics, turnover: float
) -> tuple[LimitCheck, ...]:
    """The policy's four limits after the trades (fractions in, percent out), against the before snapshot."""

    def check(name: str, limit: float, before_pct: Decimal | None, after_value: float) -> LimitCheck:
        return LimitCheck(name=name, limit_pct=pct(limit), before_pct=before_pct, after_pct=pct(after_value),
                          satisfied=after_value <= limit + 1e-12)

    return (
        check("max_single_position", pol.max_single_position_pct, before.max_position_pct,
              max((float(w) for w in after.weights), default=0.0)),
        check("max_sector", pol.max_sector_pct, before.max_sector_pct, max(after.sector_weights.values(), default=0.0)),
        check("max_turnover", pol.max_turnover_pct, None, turnover),
        check("max_tracking_error", pol.max_tracking_error_pct, before.te_pct, after.tracking_error),
    )
