"""Golden-file comparison: canonical body vs the file's ``expected`` block, with a readable diff.

Volatile fields are removed before comparing (request id, library versions). Tolerances apply only to
float analytics and are declared here, next to the check; money, shares and trades compare exactly.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

#: dotted paths removed before comparison (they change with the run or the installed libraries)
VOLATILE = ("request_id", "metadata.cvxpy_version", "metadata.riskfolio_version")

#: float analytics printed with 2 dp may move by one unit in the last place across BLAS builds
TOLERANT = re.compile(
    r"^summary\.(te_|volatility_|expected_return_).*_pct$|^summary\.sharpe_|^constraints\[\d+\]\.(before|after)$"
)
TOLERANCE = {"pct": Decimal("0.01"), "sharpe": Decimal("0.0001")}


def normalise(body: dict[str, Any]) -> dict[str, Any]:
    data = json.loads(json.dumps(body))
    for dotted in VOLATILE:
        node = data
        parts = dotted.split(".")
        for part in parts[:-1]:
            node = node.get(part, {}) if isinstance(node, dict) else {}
        if isinstance(node, dict):
            node.pop(parts[-1], None)
    return data


def diff(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Field-by-field differences as readable lines."""
    out: list[str] = []
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in sorted(set(expected) | set(actual)):
            sub = f"{path}.{key}" if path else key
            if key not in actual:
                out.append(f"{sub}: missing (expected {expected[key]!r})")
            elif key not in expected:
                out.append(f"{sub}: unexpected (got {actual[key]!r})")
            else:
                out.extend(diff(expected[key], actual[key], sub))
    elif isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            out.append(f"{path}: {len(expected)} items expected, got {len(actual)}")
        for i, (e, a) in enumerate(zip(expected, actual)):
            out.extend(diff(e, a, f"{path}[{i}]"))
    elif expected != actual and not _within_tolerance(path, expected, actual):
        out.append(f"{path}: expected {expected!r}, got {actual!r}")
    return out


def _within_tolerance(path: str, expected: Any, actual: Any) -> bool:
    if not TOLERANT.search(path) or not isinstance(expected, str) or not isinstance(actual, str):
        return False
    try:
        e, a = Decimal(expected), Decimal(actual)
    except ArithmeticError:
        return False
    tol = TOLERANCE["sharpe"] if ".sharpe_" in path else TOLERANCE["pct"]
    return abs(e - a) <= tol


def check(path: Path, actual_body: dict[str, Any], mode: str) -> None:
    """Compare with the file's expected block; write it per ``mode`` (never|missing|always)."""
    doc = json.loads(path.read_text())
    actual = normalise(actual_body)
    expected = doc.get("expected")
    if expected is None or mode == "always":
        if mode == "never":
            pytest.fail(f"{path.name}: no expected block; run pytest --golden-update=missing and review it")
        if expected == actual:
            return
        doc["expected"] = actual
        path.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        pytest.fail(f"{path.name}: expected block written ({mode}); review the diff and re-run")
    lines = diff(expected, actual)
    if lines:
        shown = "\n  ".join(lines[:60])
        more = f"\n  ... and {len(lines) - 60} more" if len(lines) > 60 else ""
        pytest.fail(f"{path.name}: {len(lines)} field(s) differ from the golden file:\n  {shown}{more}")
