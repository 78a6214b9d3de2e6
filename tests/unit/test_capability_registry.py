"""The @capability declaration and the registry built from agents (no database is touched)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, Field

from app.agents.base import Agent, CapabilityArgs, capability
from app.bootstrap import build_orchestrator
from app.core.context import RequestCtx
from app.core.errors import ArgumentError, CapabilityRegistryError, UnknownCapabilityError
from app.orchestrator import CapabilityRegistry, validate_arguments


class EchoArgs(CapabilityArgs):
    text: str
    times: int = Field(default=1, ge=1)


class EchoResult(BaseModel):
    text: str


class EchoAgent(Agent):
    name = "echo"

    @capability("echo.say", args=EchoArgs, result=EchoResult)
    async def say(self, ctx: RequestCtx, args: EchoArgs) -> EchoResult:
        """Repeat the text."""
        return EchoResult(text=args.text * args.times)


class OtherEchoAgent(Agent):
    name = "echo"

    @capability("echo.say", args=EchoArgs)
    async def say_again(self, ctx: RequestCtx, args: EchoArgs) -> EchoResult:
        return EchoResult(text=args.text)


def test_declarations_become_registry_entries() -> None:
    registry = CapabilityRegistry([EchoAgent(None)])  # type: ignore[arg-type]
    spec = registry.spec("echo.say")
    assert (spec.args, spec.result, spec.needs_pack, spec.summary) == (EchoArgs, EchoResult, False, "Repeat the text.")
    assert spec.required_arguments() == ("text",)
    with pytest.raises(UnknownCapabilityError, match=r"unknown capability 'echo\.shout' \(known: echo\.say\)"):
        registry.get("echo.shout")


def test_duplicate_capability_names_are_refused_at_start_up() -> None:
    with pytest.raises(CapabilityRegistryError, match=r"'echo\.say' is declared twice: by EchoAgent\.say and by "
                                                      r"OtherEchoAgent\.say_again"):
        CapabilityRegistry([EchoAgent(None), OtherEchoAgent(None)])  # type: ignore[arg-type]


def test_bad_declarations_are_refused() -> None:
    with pytest.raises(CapabilityRegistryError, match="agent.verb"):
        capability("NoDot", args=EchoArgs)
    with pytest.raises(CapabilityRegistryError, match="pydantic model"):
        capability("echo.x", args=dict)  # type: ignore[arg-type]
    with pytest.raises(CapabilityRegistryError, match="async def"):
        capability("echo.x", args=EchoArgs)(lambda self, ctx, args: None)  # type: ignore[arg-type]

    class Misnamed(Agent):
        name = "other"

        @capability("echo.x", args=EchoArgs)
        async def x(self, ctx: RequestCtx, args: EchoArgs) -> None: ...

    with pytest.raises(CapabilityRegistryError, match="must start with 'other.'"):
        CapabilityRegistry([Misnamed(None)])  # type: ignore[arg-type]


def test_argument_errors_name_the_argument() -> None:
    spec = CapabilityRegistry([EchoAgent(None)]).spec("echo.say")  # type: ignore[arg-type]
    with pytest.raises(ArgumentError, match=r"echo\.say: missing argument 'text'"):
        validate_arguments(spec, {})
    with pytest.raises(ArgumentError, match=r"unknown argument 'colour' \(accepted: text, times\)"):
        validate_arguments(spec, {"text": "a", "colour": "red"})
    with pytest.raises(ArgumentError, match=r"argument 'times': .*integer.*value='many'"):
        validate_arguments(spec, {"text": "a", "times": "many"})
    assert validate_arguments(spec, {"text": "a", "times": "2"}) == EchoArgs(text="a", times=2)


def test_application_registry_lists_the_shipped_capabilities() -> None:
    names = build_orchestrator(None).registry.names()  # type: ignore[arg-type]
    assert {"optimizer.propose_trades", "optimizer.analyze_impact", "policies.get", "packs.get"} <= set(names)
