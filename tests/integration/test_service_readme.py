"""The README's service section is a contract (issue 12, acceptance 7): its `dawsos users` lines run, its `dawsos
serve` line names the options the server takes, and every curl line runs against a real `dawsos serve` on a fresh
seeded SQLite database (curl -f: any HTTP error fails), with OPT_ID and PROPOSAL_ID taken from the answers above
them, as a reader would."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.integration.service_harness import DAWSOS, dawsos_env, module_database, poll_job, running_server

pytestmark = pytest.mark.slow
README = Path(__file__).resolve().parents[2] / "README.md"
DEFAULT_BASE = "http://127.0.0.1:8000"


def service_lines() -> list[str]:
    section = README.read_text(encoding="utf-8").split("## The service (REST and gRPC)", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 1, "the service section has one bash block"
    return [re.split(r"\s+#\s", line, maxsplit=1)[0].strip() for line in blocks[0].splitlines() if line.strip()]


def test_readme_service_lines_run(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    lines = service_lines()
    assert any(line.startswith("curl") for line in lines)
    with module_database("sqlite", request.getfixturevalue("_seeded_templates"), tmp_path) as url:
        token = ""
        for line in [x for x in lines if x.startswith(".venv/bin/dawsos users")]:
            done = subprocess.run([DAWSOS, *shlex.split(line)[1:]], env=dawsos_env(url), text=True,
                                  capture_output=True, timeout=120)
            assert done.returncode == 0, (line, done.stderr)
            token = next((w for w in done.stdout.split() if w.startswith("dawsos_")), token)
        assert token, "`dawsos users create` printed a token"
        serve = next(x for x in lines if x.startswith(".venv/bin/dawsos serve"))
        assert {"--host", "--port", "--grpc-port"} <= set(shlex.split(serve))
        with running_server(url, tmp_path, workers=1) as server:
            ids = {"OPT_ID": "", "PROPOSAL_ID": ""}
            for line in [x for x in lines if x.startswith("curl")]:
                command = line.replace(DEFAULT_BASE, server.base).replace("curl -s", "curl -sSf", 1)
                for name, value in ids.items():
                    command = command.replace(name, value)
                done = subprocess.run(["bash", "-c", command], env={**os.environ, "TOKEN": token}, text=True,
                                      capture_output=True, timeout=300)
                assert done.returncode == 0, (line, done.stdout[-500:], done.stderr[-500:])
                doc = json.loads(done.stdout)
                if "/optimizations -H" in line:
                    ids["OPT_ID"] = doc["optimization_id"]
                    with httpx.Client(base_url=server.base, timeout=60) as client:
                        assert poll_job(client, f"/api/v1/optimizations/{doc['optimization_id']}",
                                        token)["status"] == "completed"
                if "/rebalance" in line:
                    ids["PROPOSAL_ID"] = doc["proposal_id"]
                if "/approve" in line:
                    assert doc["status"] == "approved"
