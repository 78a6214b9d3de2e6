"""The capability registry: every ``@capability`` of every agent, by name, built once at bootstrap."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from app.agents.base import Agent, BoundCapability, CapabilitySpec
from app.core.errors import CapabilityRegistryError, UnknownCapabilityError


class CapabilityRegistry:
    """Name → :class:`BoundCapability`. Duplicate names are refused when it is built (start-up)."""

    def __init__(self, agents: Iterable[Agent]) -> None:
        self._by_name: dict[str, BoundCapability] = {}
        self.agents: tuple[Agent, ...] = tuple(agents)
        for agent in self.agents:
            for bound in agent.capabilities():
                other = self._by_name.get(bound.spec.name)
                if other is not None:
                    raise CapabilityRegistryError(
                        f"capability {bound.spec.name!r} is declared twice: by {type(other.agent).__name__}."
                        f"{other.spec.attribute} and by {type(agent).__name__}.{bound.spec.attribute}"
                    )
                self._by_name[bound.spec.name] = bound

    def get(self, name: str) -> BoundCapability:
        """The capability ``name``; raises UnknownCapabilityError listing the known names."""
        try:
            return self._by_name[name]
        except KeyError:
            raise UnknownCapabilityError(name, tuple(self._by_name)) from None

    def spec(self, name: str) -> CapabilitySpec:
        return self.get(name).spec

    def names(self) -> tuple[str, ...]:
        return tuple(sorted(self._by_name))

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __iter__(self) -> Iterator[CapabilitySpec]:
        return iter(self._by_name[n].spec for n in self.names())

    def __len__(self) -> int:
        return len(self._by_name)
