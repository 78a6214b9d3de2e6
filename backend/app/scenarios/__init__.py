"""Scenario files: a whole rebalance inline (DESIGN.md "Scenario file"), the golden files' format."""

from app.scenarios.schema import Scenario, load_scenario

__all__ = ["Scenario", "load_scenario"]
