"""Agents: gather inputs through repositories, call analytics, persist results."""
