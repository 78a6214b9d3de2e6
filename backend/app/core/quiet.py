"""Silence third-party chatter (Riskfolio's prints, cvxpy/pandas warnings) safely under threads.

``contextlib.redirect_stdout`` and ``warnings.catch_warnings`` change process-wide state: two threads
using them at once can restore each other's state (stdout left pointing at another call's buffer, warning
filters lost). Every such block goes through :func:`quiet`, which holds one re-entrant, process-wide lock
for its duration, so the state is always restored in order.
"""

from __future__ import annotations

import contextlib
import io
import threading
import warnings
from collections.abc import Iterator

_LOCK = threading.RLock()


@contextlib.contextmanager
def quiet(*, ignore_warnings: bool = True) -> Iterator[io.StringIO]:
    """Capture stdout (yielded as a buffer) and, by default, ignore warnings inside the block."""
    sink = io.StringIO()
    with _LOCK, contextlib.redirect_stdout(sink), warnings.catch_warnings():
        if ignore_warnings:
            warnings.simplefilter("ignore")
        yield sink
