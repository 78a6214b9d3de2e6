"""Composition root: one place builds engine, session factory, agents and the orchestrator.

Tests call the same :func:`bootstrap` with their own settings; importing ``app`` builds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.core.logging import configure_logging
from app.core.settings import Settings

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

    from app.agents.optimizations import OptimizationAgent
    from app.agents.optimizer import OptimizerAgent
    from app.orchestrator import Orchestrator


@dataclass
class App:
    """The running application: settings, database and agents. Use as ``async with bootstrap(...) as app``."""

    settings: Settings
    engine: AsyncEngine
    session_factory: async_sessionmaker
    optimizer: OptimizerAgent
    orchestrator: Orchestrator
    jobs: OptimizationAgent
    migrate_on_start: bool = True
    _started: bool = field(default=False, repr=False)

    async def start(self) -> App:
        """Upgrade the schema to head (the app upgrades on start)."""
        if self.migrate_on_start and not self._started:
            from app.db.engine import database_errors
            from app.db.migrate import upgrade_to_head

            async with database_errors(self.engine):
                await upgrade_to_head(self.engine)
        self._started = True
        return self

    async def close(self) -> None:
        await self.engine.dispose()

    async def __aenter__(self) -> App:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def build_orchestrator(session_factory: async_sessionmaker) -> Orchestrator:
    """The orchestrator over every agent, each on ``session_factory`` (duplicate capabilities refused here)."""
    from app.agents.frontiers import FrontierAgent
    from app.agents.notifications import NotificationAgent
    from app.agents.optimizations import OptimizationAgent
    from app.agents.optimizer import OptimizerAgent
    from app.agents.packs import PricingPackAgent
    from app.agents.policies import PolicyAgent
    from app.agents.portfolios import PortfolioAgent
    from app.agents.proposals import ProposalAgent
    from app.agents.rebalance_plans import RebalancePlanAgent
    from app.agents.rebalancing import RebalancingAgent
    from app.agents.users import UserAgent
    from app.orchestrator import Orchestrator

    packs = PricingPackAgent(session_factory)
    agents = [OptimizerAgent(session_factory), PolicyAgent(session_factory), packs, RebalancingAgent(session_factory),
              ProposalAgent(session_factory), NotificationAgent(session_factory), UserAgent(session_factory),
              OptimizationAgent(session_factory), FrontierAgent(session_factory), RebalancePlanAgent(session_factory),
              PortfolioAgent(session_factory)]
    return Orchestrator(agents, packs=packs, identity=session_factory)


def bootstrap(
    settings: Settings | None = None,
    *,
    engine: AsyncEngine | None = None,
    migrate_on_start: bool = True,
    create_database: bool = False,
) -> App:
    """Build the application from settings (or an existing engine, e.g. an in-memory database).

    A SQLite file is created only for the default database or with ``create_database=True`` (a notebook's
    scratch database); any other URL must name an existing database (``dawsos seed`` creates one), else
    :class:`~app.core.errors.DatabaseUnavailableError`."""
    from app.agents.optimizations import OptimizationAgent
    from app.agents.optimizer import OptimizerAgent
    from app.db.engine import make_engine, make_session_factory

    settings = settings or Settings()
    configure_logging(level=settings.log_level, json=settings.log_json)
    engine = engine or make_engine(
        settings.database_url, echo=settings.sql_echo, create=create_database or settings.uses_default_database
    )
    session_factory = make_session_factory(engine)
    orchestrator = build_orchestrator(session_factory)
    optimizer = next(a for a in orchestrator.registry.agents if isinstance(a, OptimizerAgent))
    jobs = next(a for a in orchestrator.registry.agents if isinstance(a, OptimizationAgent))
    return App(
        settings=settings,
        engine=engine,
        session_factory=session_factory,
        optimizer=optimizer,
        orchestrator=orchestrator,
        jobs=jobs,
        migrate_on_start=migrate_on_start,
    )
