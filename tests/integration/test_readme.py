"""The README's "Use it from Python" block works when pasted into the interpreter (interactive mode, in a
fresh temporary folder: a blank line inside a block would break a paste, so it breaks this test too)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def _python_block() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("## Use it from Python", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1
    return blocks[0]


@pytest.mark.slow
def test_use_it_from_python_works_when_pasted(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    done = subprocess.run([sys.executable, "-i", "-q"], input=_python_block() + "\n", cwd=tmp_path, env=env,
                          text=True, capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "Error" not in done.stderr, done.stderr
    lines = done.stdout.splitlines()
    proposal_id, _, _ = lines[0].partition(" ")
    assert re.fullmatch(r"[0-9a-f]{64}", proposal_id), done.stdout
    assert "PP_2022-12-28" in lines[0] and "rationale" in done.stdout and "te_pct" in done.stdout
    assert (tmp_path / "var" / "dawsos.sqlite3").is_file()  # its own database, under the folder it ran in
