"""Canonical JSON: sorted keys, compact separators, Decimals as strings, no floats through money.

Used for content hashes (``proposal_id``, pack hashes) and for byte-identical output.
"""

from __future__ import annotations

import hashlib
import json
import math
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from pydantic import BaseModel


def _default(obj: Any) -> Any:
    if isinstance(obj, Decimal):
        return str(obj)
    if isinstance(obj, (date, datetime)):
        return obj.isoformat()
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    if isinstance(obj, (set, frozenset, tuple)):
        return sorted(obj) if isinstance(obj, (set, frozenset)) else list(obj)
    raise TypeError(f"not JSON-serialisable: {type(obj).__name__}")


def _check_floats(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        raise ValueError("canonical JSON refuses NaN/inf")
    if isinstance(obj, dict):
        for v in obj.values():
            _check_floats(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            _check_floats(v)
    return obj


def canonical_json(obj: Any, *, indent: int | None = None) -> str:
    """Deterministic JSON text. ``indent=None`` gives the compact hashing form."""
    _check_floats(obj)
    separators = (",", ":") if indent is None else (",", ": ")
    return json.dumps(
        obj, default=_default, sort_keys=True, separators=separators, ensure_ascii=False, indent=indent,
        allow_nan=False,
    )


def sha256_hex(obj: Any) -> str:
    """SHA-256 (hex) of the canonical JSON of ``obj``."""
    return hashlib.sha256(canonical_json(obj).encode("utf-8")).hexdigest()
