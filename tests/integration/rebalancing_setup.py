"""Set-up helpers for rebalancing integration tests (real repositories, no mocks)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal as D

from sqlalchemy import update

from app.db.models import PortfolioRow
from app.db.repositories import PricingPackRepository
from app.db.repositories.identity import IdentityRepository
from app.db.repositories.ledger import LedgerRepository
from app.db.repositories.model_portfolios import ModelPortfolioRepository
from app.db.repositories.rebalance_config import RebalanceConfigRepository
from app.domain.identity import Role
from app.domain.rebalancing import ModelPortfolio, RebalanceSettings, TaxLot

PACK = "PP_2022-12-28"
OWNER, APPROVER, STRANGER = "alice@example.com", "bob@example.com", "carol@example.com"
WEIGHTS = {"AAPL": D("0.25"), "JNJ": D("0.25"), "MSFT": D("0.25"), "XOM": D("0.25")}


async def configure_p1(session_factory, **settings_kw) -> None:  # noqa: ANN001, ANN003
    """P1 (AAPL 100, XOM 200, JNJ 150, no cash) against an equal-weight model with MSFT; alice owns, bob approves."""
    async with session_factory() as s, s.begin():
        await ModelPortfolioRepository(s).save(
            ModelPortfolio(id="M_P1", name="P1 equal weight", pricing_pack_id=PACK, weights=WEIGHTS))
        cfg = RebalanceConfigRepository(s)
        await cfg.put_settings(RebalanceSettings(portfolio_id="P1", model_portfolio_id="M_P1", **settings_kw))
        await grant(s, "P1", OWNER, Role.OWNER)
        await grant(s, "P1", APPROVER, Role.APPROVER)
        await LedgerRepository(s).add_lots("P1", [
            TaxLot(lot_id="P1-AAPL-1", symbol="AAPL", quantity=D(100), cost_basis=D("80"), acquired=date(2019, 5, 1)),
            TaxLot(lot_id="P1-XOM-1", symbol="XOM", quantity=D(120), cost_basis=D("60"), acquired=date(2020, 6, 1)),
            TaxLot(lot_id="P1-XOM-2", symbol="XOM", quantity=D(80), cost_basis=D("100"), acquired=date(2022, 9, 1)),
            TaxLot(lot_id="P1-JNJ-1", symbol="JNJ", quantity=D(150), cost_basis=D("150"), acquired=date(2018, 1, 2)),
        ])


async def grant(session, portfolio_id: str, user_id: str, role: Role) -> None:  # noqa: ANN001
    """``user_id`` (made a user when new) holds ``role`` on the portfolio."""
    identity = IdentityRepository(session)
    await identity.ensure_user(user_id)
    await identity.grant(portfolio_id, user_id, role, granted_by="test")


async def sign_in(session_factory, user_id: str, role: Role | None = None, portfolio_id: str = "P1") -> dict:  # noqa: ANN001
    """The environment of a `dawsos` subprocess acting as ``user_id`` (``{"DAWSOS_TOKEN": <a new token>}``); the
    user is made when new and given ``role`` on the portfolio when one is named."""
    async with session_factory() as s, s.begin():
        identity = IdentityRepository(s)
        await identity.ensure_user(user_id)
        if role is not None:
            await identity.grant(portfolio_id, user_id, role, granted_by="test")
        return {"DAWSOS_TOKEN": (await identity.issue_token(user_id, label="test")).token}


async def deposit(session_factory, amount: D, on: date = date(2022, 12, 28)) -> None:  # noqa: ANN001
    async with session_factory() as s, s.begin():
        await s.execute(update(PortfolioRow).where(PortfolioRow.id == "P1").values(cash=PortfolioRow.cash + amount))
        await LedgerRepository(s).add_cash_flow("P1", amount, on)


async def seal_newer_pack(session_factory, pack_id: str = "PP_2022-12-29", asof: date = date(2022, 12, 29)) -> None:  # noqa: ANN001
    async with session_factory() as s, s.begin():
        packs = PricingPackRepository(s)
        prices = await packs.asof_prices(PACK)
        await packs.create(pack_id, asof_date=asof, source="test: a newer pack")
        await packs.add_prices(pack_id, [(asof, sym, close) for sym, close in prices.items()])
        await packs.seal(pack_id)
