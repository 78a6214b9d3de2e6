"""structlog set-up: configured once, console on a terminal, JSON otherwise.

Context (request_id, capability, pricing_pack_id, portfolio_id) is bound through
``structlog.contextvars`` so lines logged deep in analytics carry it, per task.
Logs go to a sink: stderr by default (stdout belongs to the command's output: ``--json`` prints one
document). The command line passes a :class:`LogFile` instead, so a failed command's stderr holds only its
one error line; ``dawsos --verbose`` sends the logs to stderr.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TextIO

import structlog

_configured = False


class LogFile:
    """A log file opened (and its folder made) on the first line written: a command that logs nothing
    creates nothing. Lines are appended, one JSON object each."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._handle: TextIO | None = None

    def write(self, text: str) -> int:
        if self._handle is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = self.path.open("a", encoding="utf-8")
        return self._handle.write(text)

    def flush(self) -> None:
        if self._handle is not None:
            self._handle.flush()

    def isatty(self) -> bool:
        return False


def configure_logging(
    *, level: str = "WARNING", json: bool | None = None, force: bool = False, sink: TextIO | LogFile | None = None
) -> None:
    """Configure structlog and stdlib logging, writing to ``sink`` (default stderr). ``json=None`` means:
    JSON unless the sink is a TTY."""
    global _configured
    if _configured and not force:
        return
    out = sink if sink is not None else sys.stderr
    use_json = (not out.isatty()) if json is None else json
    numeric_level = logging.getLevelName(level.upper()) if isinstance(level, str) else level
    if not isinstance(numeric_level, int):
        numeric_level = logging.WARNING
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer(sort_keys=True)
        if use_json
        else structlog.dev.ConsoleRenderer(colors=out.isatty())
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
        logger_factory=structlog.PrintLoggerFactory(file=out),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )
    _configured = True


def get_logger(name: str | None = None) -> structlog.typing.FilteringBoundLogger:
    """A structlog logger; event names are dotted (``optimizer.target.solved``)."""
    return structlog.get_logger(name) if name else structlog.get_logger()
