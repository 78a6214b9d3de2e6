"""Repositories return domain models read from the seeded database; proposals are stored idempotently."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.core.errors import (
    ProposalConflictError,
    UnknownBenchmarkError,
    UnknownPolicyError,
    UnknownPortfolioError,
    UnknownProposalError,
    UnknownSecurityError,
)
from app.db.repositories import (
    BenchmarkRepository,
    ConstraintDefaultsRepository,
    PolicyRepository,
    PortfolioRepository,
    ProposalRepository,
    SecurityRepository,
)
from app.domain import Benchmark, ConstraintDefaults, Policy, Portfolio, Security, TradeAction, canonical_json
from app.domain.lifecycle import ProposalRecord, ProposalSource, RecordedTrade
from app.domain.rebalancing import ProposalStatus
from tests.conftest import row_counts


async def test_portfolios(seeded_session_factory) -> None:  # type: ignore[no-untyped-def]
    async with seeded_session_factory() as session:
        repo = PortfolioRepository(session)
        p1 = await repo.get("P1")
        assert isinstance(p1, Portfolio)
        assert [(h.symbol, str(h.shares)) for h in p1.holdings] == [
            ("AAPL", "100"),
            ("JNJ", "150"),
            ("XOM", "200"),
        ]
        assert (str(p1.cash), p1.base_currency, p1.benchmark_id) == ("0", "USD", "DAWSOS_US20_CAPPED")
        everything = await repo.list()
        assert [p.id for p in everything] == ["P1", "P2"]
        assert str(everything[1].cash) == "25000" and len(everything[1].holdings) == 20
        with pytest.raises(UnknownPortfolioError, match="unknown portfolio 'P9'"):
            await repo.get("P9")


async def test_benchmark_policies_defaults(seeded_session_factory) -> None:  # type: ignore[no-untyped-def]
    async with seeded_session_factory() as session:
        bench = await BenchmarkRepository(session).get("DAWSOS_US20_CAPPED")
        assert isinstance(bench, Benchmark)
        assert sum(bench.weights.values()) == Decimal(1)
        assert str(bench.weights["AAPL"]) == "0.1" and str(bench.weights["RRC"]) == "0.000935"
        with pytest.raises(UnknownBenchmarkError):
            await BenchmarkRepository(session).get("NOPE")

        policies = PolicyRepository(session)
        quality = await policies.get("quality_focused")
        assert quality == Policy(
            id="quality_focused",
            name="Quality-Focused Balanced",
            min_quality_score=6.0,
            max_single_position_pct=0.10,
            max_sector_pct=0.25,
            max_tracking_error_pct=0.02,
            max_turnover_pct=0.20,
            method_version="v1",
            version=1,
        )
        assert [p.id for p in await policies.list_latest()] == [
            "aggressive_growth",
            "conservative_income",
            "quality_focused",
        ]
        assert await policies.versions("quality_focused") == [1]
        assert await policies.versions("nope") == []
        with pytest.raises(UnknownPolicyError, match="unknown policy 'nope'"):
            await policies.get("nope")
        with pytest.raises(UnknownPolicyError, match="quality_focused version 7"):
            await policies.get("quality_focused", 7)

        defaults = await ConstraintDefaultsRepository(session).get()
        assert defaults == ConstraintDefaults(
            commission_per_trade=Decimal("5"),
            market_impact_bps=Decimal("15"),
            min_trade_value=Decimal("100"),
            risk_free_rate=0.02,
            annualization_factor=252,
        )
        assert str(defaults.commission_per_trade) == "5"


async def test_securities_and_quality(seeded_session_factory) -> None:  # type: ignore[no-untyped-def]
    async with seeded_session_factory() as session:
        repo = SecurityRepository(session)
        found = await repo.get_many(["XOM", "AAPL"])
        assert list(found) == ["AAPL", "XOM"]
        assert found["AAPL"] == Security(symbol="AAPL", name="Apple Inc.", sector="Information Technology")
        assert len(await repo.all()) == 20
        with pytest.raises(UnknownSecurityError, match="'NOPE, ZZZ'"):
            await repo.get_many(["AAPL", "ZZZ", "NOPE"])
        assert await repo.quality_scores(["AAPL", "XOM", "ZZZ"]) == {"AAPL": 9.2, "XOM": 4.5}
        assert len(await repo.quality_scores()) == 20


BODY = {
    "proposal_id": "abc",
    "trades": [{"symbol": "AAPL", "delta_shares": "-10", "price": "125.674"}],
    "summary": {"turnover_pct": "18.50"},
}


def _record(body: dict, proposal_id: str = "f" * 64) -> ProposalRecord:
    return ProposalRecord(
        proposal_id=proposal_id, portfolio_id="P1", policy_id="quality_focused", policy_version=1,
        pricing_pack_id="PP_2022-12-28", asof_date=date(2022, 12, 28), source=ProposalSource.OPTIMIZER,
        trades=(RecordedTrade(symbol="AAPL", action=TradeAction.SELL, current_shares=Decimal(100), shares=Decimal(10),
                              price=Decimal("125.674"), trade_value=Decimal("1256.74"), commission=Decimal("5.00"),
                              market_impact=Decimal("1.89"), estimated_cost=Decimal("6.89")),),
        before_pct={"AAPL": Decimal("100.00"), "CASH": Decimal("0.00")},
        after_pct={"AAPL": Decimal("90.00"), "CASH": Decimal("10.00")}, portfolio_value=Decimal("12567.40"),
        cash_before=Decimal(0), cash_after=Decimal("1249.85"), total_trade_value=Decimal("1256.74"),
        total_cost=Decimal("6.89"), estimated_tax=Decimal(0), requires_approval=False, body=body)


async def test_proposals_saved_once_with_every_request(seeded_session_factory) -> None:  # type: ignore[no-untyped-def]
    proposal_id = "f" * 64
    async with seeded_session_factory.begin() as session:
        assert await ProposalRepository(session).save(_record(BODY), "r1") is True
    async with seeded_session_factory.begin() as session:
        repo = ProposalRepository(session)
        assert await repo.save(_record(dict(BODY)), "r2") is False
        assert await repo.save(_record(dict(BODY)), "r2") is False  # same request: recorded once
    counts = await row_counts(seeded_session_factory)
    assert (counts["rebalance_proposals"], counts["proposal_requests"]) == (1, 2)

    async with seeded_session_factory() as session:
        repo = ProposalRepository(session)
        assert await repo.get_body(proposal_id) == BODY
        assert await repo.get_text(proposal_id) == canonical_json(BODY)
        assert await repo.request_ids(proposal_id) == ["r1", "r2"]
        [stored] = await repo.list(portfolio_id="P1")
        assert (stored.proposal_id, stored.status, stored.policy_version, stored.source) == (
            proposal_id, ProposalStatus.PROPOSED, 1, ProposalSource.OPTIMIZER)
        assert stored.trades == _record(BODY).trades and stored.cash_after == Decimal("1249.85")
        assert await repo.count_requests(proposal_id) == 2
        assert await repo.list(portfolio_id="P2") == []
        with pytest.raises(UnknownProposalError):
            await repo.get("0" * 64)

    with pytest.raises(ProposalConflictError, match="different body"):
        async with seeded_session_factory.begin() as session:
            await ProposalRepository(session).save(_record({**BODY, "summary": {}}), "r3")
    assert await row_counts(seeded_session_factory) == counts
