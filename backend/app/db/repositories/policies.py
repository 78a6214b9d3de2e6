"""Optimizer policies: every version of every template is kept (proposals name the version they used)."""

from __future__ import annotations

import builtins
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.errors import UnknownPolicyError
from app.db.models import OptimizerPolicyRow
from app.domain import Policy, sha256_hex

#: the template's limit fields, stored in ``optimizer_policies.constraints`` (fractions of 1; score 0-10)
LIMIT_FIELDS: tuple[str, ...] = (
    "min_quality_score",
    "max_single_position_pct",
    "max_sector_pct",
    "max_tracking_error_pct",
    "max_turnover_pct",
)


def policy_content(
    policy_id: str, name: str, method_version: str, constraints: dict[str, Any]
) -> dict[str, Any]:
    """What a version is: a change to any of this makes a new version."""
    return {"id": policy_id, "name": name, "method_version": method_version, "constraints": dict(constraints)}


def policy_content_hash(policy_id: str, name: str, method_version: str, constraints: dict[str, Any]) -> str:
    return sha256_hex(policy_content(policy_id, name, method_version, constraints))


def to_policy(row: OptimizerPolicyRow) -> Policy:
    limits = {k: row.constraints[k] for k in LIMIT_FIELDS}
    return Policy(
        id=row.policy_id, name=row.name, method_version=row.method_version, version=row.version, **limits
    )


class PolicyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def list_latest(self) -> builtins.list[Policy]:
        """The newest version of each policy, sorted by id."""
        newest = (
            select(OptimizerPolicyRow.policy_id, func.max(OptimizerPolicyRow.version).label("version"))
            .group_by(OptimizerPolicyRow.policy_id)
            .subquery()
        )
        stmt = (
            select(OptimizerPolicyRow)
            .join(
                newest,
                (OptimizerPolicyRow.policy_id == newest.c.policy_id)
                & (OptimizerPolicyRow.version == newest.c.version),
            )
            .order_by(OptimizerPolicyRow.policy_id)
        )
        return [to_policy(r) for r in await self.session.scalars(stmt)]

    async def get(self, policy_id: str, version: int | None = None) -> Policy:
        """A policy at ``version`` (default: the newest); raises UnknownPolicyError."""
        row = await self._row(policy_id, version)
        if row is None:
            if version is not None and await self._row(policy_id, None) is not None:
                raise UnknownPolicyError(
                    f"{policy_id} version {version}", hint=f"known versions: {await self.versions(policy_id)}"
                )
            raise UnknownPolicyError(policy_id, hint="list policies with `dawsos policies list`")
        return to_policy(row)

    async def versions(self, policy_id: str) -> builtins.list[int]:
        """Stored version numbers of a policy, ascending (empty when unknown)."""
        stmt = (
            select(OptimizerPolicyRow.version)
            .where(OptimizerPolicyRow.policy_id == policy_id)
            .order_by(OptimizerPolicyRow.version)
        )
        return list(await self.session.scalars(stmt))

    async def latest_row_hash(self, policy_id: str) -> tuple[int, str] | None:
        """``(version, content_hash)`` of the newest stored version, or None."""
        row = await self._row(policy_id, None)
        return None if row is None else (row.version, row.content_hash)

    async def add_version(self, policy: Policy) -> Policy:
        """Store ``policy`` as version ``policy.version`` (flushes; the unique key refuses duplicates)."""
        constraints = {k: getattr(policy, k) for k in LIMIT_FIELDS}
        row = OptimizerPolicyRow(
            policy_id=policy.id,
            version=policy.version,
            name=policy.name,
            method_version=policy.method_version,
            constraints=constraints,
            content_hash=policy_content_hash(policy.id, policy.name, policy.method_version, constraints),
        )
        self.session.add(row)
        await self.session.flush()
        return to_policy(row)

    async def _row(self, policy_id: str, version: int | None) -> OptimizerPolicyRow | None:
        stmt = select(OptimizerPolicyRow).where(OptimizerPolicyRow.policy_id == policy_id)
        stmt = (
            stmt.order_by(OptimizerPolicyRow.version.desc()).limit(1)
            if version is None
            else stmt.where(OptimizerPolicyRow.version == version)
        )
        return (await self.session.scalars(stmt)).first()
