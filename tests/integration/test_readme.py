"""The README is a contract: every line of its command block runs (exit 0, no traceback) on a freshly seeded
SQLite and PostgreSQL database with the example files it shows, and its "Use it from Python" block works when
pasted into the interpreter (interactive mode, in a fresh temporary folder: a blank line inside a block would
break a paste, so it breaks this test too)."""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
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


# ---- the command line section: every command, with the README's own example files ---------------------------
DAWSOS = str(Path(sys.executable).with_name("dawsos"))
REPO = README.parent
PROPOSAL_ID = "ID"  # the README's placeholder for a proposal id


def readme_section(title: str) -> str:
    return README.read_text(encoding="utf-8").split(f"## {title}", 1)[1].split("\n## ", 1)[0]


def readme_commands() -> list[list[str]]:
    """Each `.venv/bin/dawsos ...` line of the command block: comment dropped, `[optional parts]` left out."""
    block = re.findall(r"```bash\n(.*?)```", readme_section("Command line"), flags=re.S)
    assert len(block) == 1, "the Command line section has one bash block"
    commands = []
    for line in block[0].splitlines():
        line = re.split(r"\s+#\s", line, maxsplit=1)[0]
        line = re.sub(r"\s*\[[^\]]*\]", "", line).strip()
        if line:
            words = shlex.split(line)
            assert words[0] == ".venv/bin/dawsos", line
            commands.append(words[1:])
    return commands


def readme_files() -> dict[str, str]:
    """The example input files the section shows: `name.json`: followed by a json block."""
    return dict(re.findall(r"`([\w.-]+\.json)`[^\n]*:\n```json\n(.*?)```", readme_section("Command line"),
                           flags=re.S))


@contextmanager
def smtp_server() -> Iterator[dict[str, str]]:
    """A real SMTP server on a free loopback port (aiosmtpd), as DAWSOS_SMTP_* variables."""
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Sink

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield {"DAWSOS_SMTP_HOST": "127.0.0.1", "DAWSOS_SMTP_PORT": str(port), "DAWSOS_SMTP_FROM": "dawsos@test"}
    finally:
        controller.stop()


def test_readme_shows_the_files_its_commands_read() -> None:
    files = readme_files()
    named = {word for command in readme_commands() for word in command if word.endswith(".json")}
    assert {"weights.json", "settings.json", "lots.json"} <= set(files)
    for name in named - set(files):
        assert (REPO / name).is_file(), f"README command reads {name}: neither shown nor in the repository"
    for text in files.values():
        json.loads(text)  # each example is valid JSON


@pytest.mark.slow
def test_every_readme_command_runs(seeded_database_url: str, tmp_path: Path) -> None:
    """In README order on a freshly seeded database (SQLite and PostgreSQL); commands naming a proposal `ID` run
    last, on the newest proposal. Any non-zero exit or traceback fails, naming the command."""
    for name, text in readme_files().items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    for entry in ("data", "tests"):  # paths in the README are relative to the repository's folder
        (tmp_path / entry).symlink_to(REPO / entry)
    commands = readme_commands()
    ordered = [c for c in commands if PROPOSAL_ID not in c] + [c for c in commands if PROPOSAL_ID in c]
    with smtp_server() as smtp:
        env = {**os.environ, **smtp, "DATABASE_URL": seeded_database_url, "COLUMNS": "100"}
        for command in ordered:
            if PROPOSAL_ID in command:
                listed = run_dawsos(["proposals", "list", "--json"], env, tmp_path)
                proposal_id = json.loads(listed)["proposals"][0]["proposal_id"]
                command = [proposal_id if word == PROPOSAL_ID else word for word in command]
            run_dawsos(command, env, tmp_path)
    assert (tmp_path / "frontier.png").is_file()


def run_dawsos(command: list[str], env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run([DAWSOS, *command], env=env, cwd=cwd, text=True, capture_output=True, timeout=600)
    shown = "dawsos " + " ".join(command)
    assert done.returncode == 0, f"{shown} exited {done.returncode}: {done.stderr.strip()}"
    assert "Traceback" not in done.stderr + done.stdout, f"{shown} printed a traceback:\n{done.stderr}"
    return done.stdout
