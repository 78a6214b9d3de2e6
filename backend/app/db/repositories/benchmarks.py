"""Benchmarks: named weight vectors (fractions of 1, summing to 1)."""

from __future__ import annotations

import builtins

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from app.core.errors import UnknownBenchmarkError
from app.db.models import BenchmarkRow
from app.domain import Benchmark


def to_benchmark(row: BenchmarkRow) -> Benchmark:
    weights = {w.symbol: w.weight for w in sorted(row.weights, key=lambda w: w.symbol)}
    return Benchmark(id=row.id, name=row.name, weights=weights)


class BenchmarkRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, benchmark_id: str) -> Benchmark:
        """The benchmark with weights sorted by symbol; raises UnknownBenchmarkError."""
        stmt = (
            select(BenchmarkRow)
            .where(BenchmarkRow.id == benchmark_id)
            .options(selectinload(BenchmarkRow.weights))
        )
        row = (await self.session.scalars(stmt)).first()
        if row is None:
            raise UnknownBenchmarkError(benchmark_id)
        return to_benchmark(row)

    async def list(self) -> builtins.list[Benchmark]:
        stmt = select(BenchmarkRow).options(selectinload(BenchmarkRow.weights)).order_by(BenchmarkRow.id)
        return [to_benchmark(r) for r in await self.session.scalars(stmt)]
