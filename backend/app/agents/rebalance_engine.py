"""How ``rebalance.propose`` makes its trades: the account's rules read from the database, then the ONE trade
engine (``optimizer.propose_trades`` through the orchestrator, the same capability ``dawsos rebalance`` uses),
then the engine's proposal seen as the :class:`~app.domain.rebalancing.RebalancePlan` the rebalancing record
stores. No maths here: the engine is :mod:`app.analytics.propose`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from app.core.decimals import ZERO, money
from app.core.errors import NotFoundError, PricingPackError
from app.domain.account import AccountRules, GivenTarget
from app.domain.proposal import RebalanceProposal
from app.domain.rebalancing import (
    HoldingTerm,
    ModelPortfolio,
    PlannedTrade,
    RebalancePlan,
    RebalanceSettings,
    TradePurpose,
    TriggerCheck,
    TriggerReason,
)

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession


def trade_session(asof: date, calendar: str) -> tuple[date, bool]:
    """``(the session the trades are for, whether the pack's date is one)`` from the exchange calendar."""
    from app.rebalancing.calendar import next_session

    day = next_session(asof, calendar=calendar)
    return day, day == asof


async def account_rules(session: AsyncSession, settings: RebalanceSettings, *, asof: date,
                        pending_cash_flow: Decimal) -> AccountRules:
    """The account's rules for a rebalance on ``asof``: lots, the wash-sale window's transactions, restricted
    symbols, lot method and tax settings, harvesting, a pending withdrawal, the account's own cost settings."""
    from app.db.repositories.ledger import LedgerRepository
    from app.db.repositories.rebalance_config import RebalanceConfigRepository

    ledger = LedgerRepository(session)
    trade_date, market_open = trade_session(asof, settings.calendar)
    return AccountRules(
        trade_date=trade_date, market_open=market_open,
        restricted=tuple(sorted(await RebalanceConfigRepository(session).restricted(settings.portfolio_id))),
        lots=tuple(await ledger.lots(settings.portfolio_id)),
        transactions=tuple(await ledger.transactions(settings.portfolio_id, around=trade_date)),
        lot_method=settings.lot_method, tax_rates=settings.tax_rates, harvest_threshold=settings.harvest_threshold,
        substitutes=dict(settings.substitutes), withdrawal=max(-money(pending_cash_flow), ZERO),
        max_trades=settings.max_trades, commission_per_trade=settings.commission_per_trade,
        market_impact_bps=settings.market_impact_bps, min_trade_value=settings.min_trade_value,
    )


def engine_arguments(settings: RebalanceSettings, rules: AccountRules, model: ModelPortfolio | None) -> dict:
    """Keyword arguments of ``optimizer.propose_trades`` for this account (nothing persisted by it: the
    rebalancing record stores the proposal). A model target is given; an optimizer target is the policy's. The
    account's objective mode and λ (``te_penalty_lambda``) are the engine options; the rest are defaults, as
    for ``dawsos rebalance``."""
    from app.agents.optimizer import MODEL_POLICY
    from app.analytics.inputs import RebalanceOptions

    options = RebalanceOptions(objective_mode=settings.objective_mode,
                               **({"te_aversion": float(settings.te_penalty_lambda)}
                                  if settings.te_penalty_lambda > 0 else {}))
    args: dict = {"policy_id": settings.policy_id or MODEL_POLICY.id, "account": rules, "persist": False,
                  "options": options}
    if model is not None:
        args["target"] = GivenTarget(id=model.id, weights=dict(model.weights))
    return args


def optimizer_model(proposal: RebalanceProposal, settings: RebalanceSettings) -> ModelPortfolio:
    """The optimizer's target of ``proposal`` as a model portfolio (fractions), stored with its pack."""
    from app.domain.rebalancing import TargetSource

    return ModelPortfolio(id=f"{settings.policy_id}@{proposal.pricing_pack_id}"[:64],
                          name=f"optimizer target of {settings.policy_id}", pricing_pack_id=proposal.pricing_pack_id,
                          source=TargetSource.OPTIMIZER,
                          weights={s: w / Decimal(100) for s, w in proposal.target_weights.items() if w > 0})


def _purpose(symbol: str, proposal: RebalanceProposal) -> TradePurpose:
    harvests = proposal.account.harvests if proposal.account else ()
    if any(h.symbol == symbol for h in harvests):
        return TradePurpose.HARVEST
    if any(h.substitute == symbol for h in harvests):
        return TradePurpose.HARVEST_SUBSTITUTE
    return TradePurpose.REBALANCE


def _planned(proposal: RebalanceProposal) -> tuple[PlannedTrade, ...]:
    """The trades in execution order (sells first), with their lots and realised gains by term."""
    lots = proposal.account.lots_sold if proposal.account else {}
    by_symbol = {t.symbol: t for t in proposal.trades}
    order = proposal.account.execution_order if proposal.account else tuple(by_symbol)
    out = []
    for s in order:
        t = by_symbol[s]
        sales = lots.get(s, ())
        out.append(PlannedTrade(
            symbol=s, action=t.action, current_shares=t.current_shares, quantity=abs(t.delta_shares), price=t.price,
            trade_value=t.trade_value, commission=t.commission, market_impact=t.market_impact,
            estimated_cost=t.estimated_cost, purpose=_purpose(s, proposal), rationale=t.rationale, lots=sales,
            realised_gain_short=sum((x.gain for x in sales if x.term is HoldingTerm.SHORT), ZERO),
            realised_gain_long=sum((x.gain for x in sales if x.term is HoldingTerm.LONG), ZERO),
        ))
    return tuple(out)


def _allocations(proposal: RebalanceProposal, holdings: Mapping[str, Decimal],
                 prices: Mapping[str, Decimal]) -> tuple[dict[str, Decimal], dict[str, Decimal]]:
    """Percent of value by symbol and CASH, before and after the trades (each sums to 100.00)."""
    from app.rebalancing.allocation import CASH, allocation_pct

    prices = {**prices, **{t.symbol: t.price for t in proposal.trades}}
    shares = {s: q for s, q in holdings.items() if q > 0}
    after = dict(shares)
    for t in proposal.trades:
        after[t.symbol] = t.target_shares
    def values(book: Mapping[str, Decimal]) -> dict[str, Decimal]:
        return {s: q * prices[s] for s, q in book.items()}
    return (allocation_pct({**values(shares), CASH: proposal.summary.cash_before}),
            allocation_pct({**values(after), CASH: proposal.summary.cash_after}))


def plan_from_proposal(proposal: RebalanceProposal, *, settings: RebalanceSettings, target_id: str,
                       triggers: tuple[TriggerReason, ...], holdings: Mapping[str, Decimal],
                       prices: Mapping[str, Decimal]) -> RebalancePlan:
    """The engine's proposal as the rebalancing record's plan (same id, trades, lots, taxes and cash)."""
    from app.rebalancing.approvals import initial_status

    acct = proposal.account
    trades = _planned(proposal)
    total = sum((t.trade_value for t in trades), ZERO)
    before, after = _allocations(proposal, holdings, prices)
    from app.rebalancing.allocation import CASH

    target = {**proposal.target_weights, CASH: max(Decimal(100) - sum(proposal.target_weights.values(), ZERO), ZERO)}
    return RebalancePlan(
        plan_id=proposal.proposal_id, portfolio_id=proposal.portfolio_id, pricing_pack_id=proposal.pricing_pack_id,
        asof_date=proposal.asof_date, execute_on=acct.trade_date, market_open=acct.market_open,
        target_source=settings.target_source, target_id=target_id, triggers=triggers, trades=trades,
        before_pct=before, after_pct=after, target_pct=target, portfolio_value=proposal.summary.portfolio_value,
        cash_before=proposal.summary.cash_before, cash_after=proposal.summary.cash_after,
        cash_reserved=acct.withdrawal_reserved, total_trade_value=total,
        total_cost=sum((t.estimated_cost for t in trades), ZERO), realised=acct.realised,
        te_before_pct=proposal.summary.te_before_pct, te_after_pct=proposal.summary.te_after_pct,
        status=initial_status(total, settings.approval_threshold), warnings=proposal.warnings,
        skipped=tuple(n.text for n in acct.notes),
    )


@dataclass(frozen=True)
class RebalanceRead:
    """What one rebalance reads before the engine runs (one read transaction).

    ``weights``: current weights (fractions of value); ``model``: the model target, or for an optimizer target
    the one already stored for this pack (None: the engine solves it); ``rules``: the account's rules."""

    settings: RebalanceSettings
    asof: date
    holdings: Mapping[str, Decimal]
    prices: Mapping[str, Decimal]
    weights: Mapping[str, Decimal]
    last_rebalance: date | None
    pending_cash_flow: Decimal
    rules: AccountRules
    model: ModelPortfolio | None

    def check(self, target: Mapping[str, Decimal]) -> TriggerCheck:
        """Whether a rebalance toward ``target`` is due (drift, calendar, cash flow) and why."""
        from app.rebalancing.triggers import check_triggers

        return check_triggers(settings=self.settings, weights=self.weights, target=target, asof=self.asof,
                              last_rebalance=self.last_rebalance, pending_cash_flow=self.pending_cash_flow)


async def _stored_model(session: AsyncSession, settings: RebalanceSettings, pack_id: str) -> ModelPortfolio | None:
    from app.agents.rebalancing_setup import target_id
    from app.db.repositories.model_portfolios import ModelPortfolioRepository
    from app.domain.rebalancing import TargetSource

    models = ModelPortfolioRepository(session)
    if settings.target_source is TargetSource.MODEL:
        return await models.get(target_id(settings))
    try:
        return await models.get(f"{settings.policy_id}@{pack_id}"[:64])
    except NotFoundError:  # not stored yet: the engine solves it on this pack
        return None


async def read_rebalance(session: AsyncSession, pack_id: str, portfolio_id: str, *,
                         last_rebalance_date) -> RebalanceRead:  # noqa: ANN001 - async (portfolio_id) -> date | None
    """Settings, holdings, as-of prices, the account's rules and the target (when known) of one portfolio."""
    from app.db.repositories import PortfolioRepository, PricingPackRepository
    from app.db.repositories.ledger import LedgerRepository
    from app.db.repositories.rebalance_config import RebalanceConfigRepository

    portfolio = await PortfolioRepository(session).get(portfolio_id)  # unknown portfolio: refused as such
    settings = await RebalanceConfigRepository(session).get_settings(portfolio_id)
    packs = PricingPackRepository(session)
    pack = await packs.get(pack_id)
    model = await _stored_model(session, settings, pack.id)
    held = {h.symbol: h.shares for h in portfolio.holdings if h.shares > 0}
    asof = await packs.asof_prices(pack.id)
    wanted = sorted(set(held) | set(model.weights if model else ()))
    missing = [s for s in wanted if s not in asof]
    if missing:
        raise PricingPackError(f"pricing pack {pack.id!r} has no as-of price for {', '.join(missing)}")
    prices = {s: asof[s] for s in wanted}
    value = sum((held[s] * prices[s] for s in held), ZERO) + portfolio.cash
    flow = await LedgerRepository(session).pending_cash_flow(portfolio_id)
    return RebalanceRead(
        settings=settings, asof=pack.asof_date, holdings=held, prices=prices,
        weights={s: held[s] * prices[s] / value for s in held} if value > 0 else {},
        last_rebalance=await last_rebalance_date(portfolio_id), pending_cash_flow=flow,
        rules=await account_rules(session, settings, asof=pack.asof_date, pending_cash_flow=flow), model=model,
    )
