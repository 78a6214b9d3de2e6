"""PolicyAgent: policy templates as capabilities (``policies.get``, ``policies.list``), for patterns and notebooks."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.agents.base import Agent, CapabilityArgs, capability
from app.core.context import RequestCtx
from app.domain.identity import Access
from app.domain.models import Policy


class GetPolicyArgs(CapabilityArgs):
    policy_id: str = Field(min_length=1, description="policy template id (e.g. quality_focused)")
    version: int | None = Field(default=None, ge=1, description="default: the latest version")


class ListPoliciesArgs(CapabilityArgs):
    pass


class PolicyList(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    policies: tuple[Policy, ...]

    def to_dict(self) -> dict[str, object]:
        return self.model_dump(mode="json")

    def to_frame(self):  # noqa: ANN201 - pandas.DataFrame
        import pandas as pd

        return pd.DataFrame([p.model_dump() for p in self.policies]).set_index("id")


class PolicyAgent(Agent):
    """Read-only access to the versioned policy templates."""

    name = "policies"

    @capability("policies.get", args=GetPolicyArgs, result=Policy, access=Access.signed_in())
    async def get(self, ctx: RequestCtx, args: GetPolicyArgs) -> Policy:
        """One policy template (the latest version unless ``version`` is given)."""
        from app.db.repositories import PolicyRepository

        async with self.session_factory() as session:
            return await PolicyRepository(session).get(args.policy_id, version=args.version)

    @capability("policies.list", args=ListPoliciesArgs, result=PolicyList, access=Access.signed_in())
    async def list(self, ctx: RequestCtx, args: ListPoliciesArgs) -> PolicyList:
        """The latest version of every policy template."""
        from app.db.repositories import PolicyRepository

        async with self.session_factory() as session:
            return PolicyList(policies=tuple(await PolicyRepository(session).list_latest()))
