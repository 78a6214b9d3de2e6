"""Orchestration: capability registry, request-context life cycle, pack guard, deadlines, envelopes, patterns.

Built by :func:`app.bootstrap.bootstrap` (``app.orchestrator``); see :mod:`app.orchestrator.orchestrator`.
"""

from app.orchestrator.envelope import Envelope, ErrorInfo
from app.orchestrator.orchestrator import Orchestrator, PackSource, validate_arguments
from app.orchestrator.patterns import Pattern, PatternInput, PatternResult, PatternStep, load_pattern
from app.orchestrator.registry import CapabilityRegistry

__all__ = [
    "CapabilityRegistry",
    "Envelope",
    "ErrorInfo",
    "Orchestrator",
    "PackSource",
    "Pattern",
    "PatternInput",
    "PatternResult",
    "PatternStep",
    "load_pattern",
    "validate_arguments",
]
