"""UserAgent: where a user's mail goes.

* ``users.set`` — store a user's e-mail address (the id is the one given to ``--user`` and to the approvers
  set-up); notifications to a user without one are recorded undeliverable, never sent to the bare name;
* ``users.list`` — every known user and address.
"""

from __future__ import annotations

import structlog
from pydantic import BaseModel, ConfigDict, EmailStr, Field

from app.agents.base import Agent, CapabilityArgs, capability
from app.core.context import RequestCtx
from app.domain.identity import Access
from app.domain.lifecycle import UserContact

log = structlog.get_logger()


class SetUserArgs(CapabilityArgs):
    user_id: str = Field(min_length=1, max_length=64, description="the user as given to --user")
    email: EmailStr | None = Field(description="e-mail address for the user's notifications; None clears it")


class UserList(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    users: tuple[UserContact, ...]


class UserAgent(Agent):
    name = "users"

    @capability("users.set", args=SetUserArgs, result=UserContact, access=Access.admin_only(self_arg="user_id"))
    async def set(self, ctx: RequestCtx, args: SetUserArgs) -> UserContact:
        """Store (or clear) a user's e-mail address; creates the user when new."""
        from app.db.repositories.users import UserRepository

        async with self.session_factory() as session, session.begin():
            contact = await UserRepository(session).set_email(args.user_id, str(args.email) if args.email else None)
        log.info("users.email.set", user=args.user_id, has_email=contact.email is not None)
        return contact

    @capability("users.list", args=CapabilityArgs, result=UserList, access=Access.admin_only())
    async def list_users(self, ctx: RequestCtx, args: CapabilityArgs) -> UserList:
        """Every known user and the address their notifications go to."""
        from app.db.repositories.users import UserRepository

        async with self.session_factory() as session, session.begin():
            return UserList(users=tuple(await UserRepository(session).list()))
