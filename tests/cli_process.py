"""The real ``dawsos`` command in a subprocess, as a user's shell runs it (DESIGN.md: CLI tests in a subprocess).

* ``dawsos(url, *args, **env)`` — run it on the database ``url`` (``DATABASE_URL``), piped like a script,
  logging at ``DAWSOS_LOG_LEVEL=ERROR`` unless ``env`` says otherwise; ``env`` adds variables (``DAWSOS_TOKEN``
  signs in, ``COLUMNS`` sets the width). Returns the ``CompletedProcess``; never raises on a non-zero exit.
* ``ok_json(url, *args, **env)`` — the same with ``--json``, asserting exit 0; the parsed document.
* ``assert_one_line(result, code, *needles)`` — a refusal as the contract wants it: exit ``code``, exactly one
  line on stderr holding every needle, no traceback, nothing on stdout.

The command's start-up (imports) is most of each call's time: prefer one call that checks several things to
several calls, and set a test's data up in-process (tests/integration/rebalancing_setup.py) unless the set-up
commands are what the test is about.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

DAWSOS = str(Path(sys.executable).with_name("dawsos"))


def dawsos(
    url: str, *args: str, cwd: Path | None = None, timeout: float = 300, **env: str
) -> subprocess.CompletedProcess[str]:
    """``dawsos ARGS`` on the database ``url``; ``env`` adds (or overrides) environment variables."""
    full_env = {**os.environ, "DATABASE_URL": url, "DAWSOS_LOG_LEVEL": "ERROR", **env}
    return subprocess.run([DAWSOS, *args], capture_output=True, text=True, env=full_env, timeout=timeout, cwd=cwd)


def ok_json(url: str, *args: str, **env: str) -> Any:
    """``dawsos ARGS --json``: exit 0 and exactly one JSON document on stdout, parsed."""
    done = dawsos(url, *args, "--json", **env)
    assert done.returncode == 0, f"dawsos {' '.join(args)} exited {done.returncode}: {done.stderr[-800:]}"
    return json.loads(done.stdout)


def assert_one_line(result: subprocess.CompletedProcess[str], code: int, *needles: str) -> None:
    """Exit ``code``, one stderr line naming every needle, no traceback, empty stdout."""
    assert result.returncode == code, (result.returncode, result.stderr[-600:])
    assert result.stdout == "", result.stdout[-600:]
    assert result.stderr.count("\n") == 1, result.stderr[-600:]
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr
