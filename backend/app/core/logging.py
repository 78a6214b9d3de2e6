"""structlog set-up: configured once, console on a terminal, JSON otherwise.

Context (request_id, capability, pricing_pack_id, portfolio_id) is bound through
``structlog.contextvars`` so lines logged deep in analytics carry it, per task.
Logs go to stderr: stdout belongs to the command's output (``--json`` prints one document).
"""

from __future__ import annotations

import logging
import sys

import structlog

_configured = False


def configure_logging(*, level: str = "WARNING", json: bool | None = None, force: bool = False) -> None:
    """Configure structlog and stdlib logging. ``json=None`` means: JSON unless stderr is a TTY."""
    global _configured
    if _configured and not force:
        return
    use_json = (not sys.stderr.isatty()) if json is None else json
    numeric_level = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    if not isinstance(numeric_level, int):
        numeric_level = logging.WARNING
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer(sort_keys=True)
        if use_json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric_level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    _configured = True


def get_logger(name: str | None = None) -> structlog.typing.FilteringBoundLogger:
    """A structlog logger; event names are dotted (``optimizer.target.solved``)."""
    return structlog.get_logger(name) if name else structlog.get_logger()
