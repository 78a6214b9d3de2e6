"""Builders for rebalancing tests (plain values, no mocks)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from app.domain.enums import SecurityStatus
from app.domain.models import Security
from app.domain.rebalancing import RebalanceSettings, TaxLot

ASOF = date(2022, 12, 28)  # a Wednesday, NYSE open


def security(symbol: str, *, halted: bool = False) -> Security:
    return Security(symbol=symbol, name=symbol, sector="Test",
                    status=SecurityStatus.HALTED if halted else SecurityStatus.ACTIVE)


def settings(**kw) -> RebalanceSettings:  # noqa: ANN003
    return RebalanceSettings(portfolio_id=kw.pop("portfolio_id", "P"), **kw)


def lot(lot_id: str, symbol: str, qty: str, basis: str, acquired: date) -> TaxLot:
    return TaxLot(lot_id=lot_id, symbol=symbol, quantity=D(qty), cost_basis=D(basis), acquired=acquired)
