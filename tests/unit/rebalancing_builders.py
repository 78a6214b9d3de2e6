"""Builders for rebalancing tests (plain values, no mocks)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from app.domain.enums import SecurityStatus
from app.domain.models import Security
from app.domain.rebalancing import RebalanceSettings, TaxLot
from app.rebalancing import PlanInputs

ASOF = date(2022, 12, 28)  # a Wednesday, NYSE open


def security(symbol: str, *, halted: bool = False) -> Security:
    return Security(symbol=symbol, name=symbol, sector="Test",
                    status=SecurityStatus.HALTED if halted else SecurityStatus.ACTIVE)


def settings(**kw) -> RebalanceSettings:  # noqa: ANN003
    return RebalanceSettings(portfolio_id=kw.pop("portfolio_id", "P"), **kw)


def lot(lot_id: str, symbol: str, qty: str, basis: str, acquired: date) -> TaxLot:
    return TaxLot(lot_id=lot_id, symbol=symbol, quantity=D(qty), cost_basis=D(basis), acquired=acquired)


def make_inputs(*, target: dict, holdings: dict, cash: str, prices: dict, asof: date = ASOF, halted=(),
                lots=(), transactions=(), restricted=(), flow: str = "0", **settings_kw) -> PlanInputs:  # noqa: ANN001
    symbols = set(target) | set(holdings) | set(prices)
    return PlanInputs(
        portfolio_id="P", pricing_pack_id="PK", asof=asof, settings=settings(**settings_kw),
        target={s: D(str(w)) for s, w in target.items()}, target_id="M", holdings={s: D(str(q)) for s, q in holdings.items()},
        cash=D(cash), prices={s: D(str(p)) for s, p in prices.items()},
        securities={s: security(s, halted=s in halted) for s in symbols}, lots=tuple(lots),
        transactions=tuple(transactions), restricted=frozenset(restricted), pending_cash_flow=D(flow),
    )
