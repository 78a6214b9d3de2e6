"""Reading and validating the JSON files a user gives (seed files, settings, weights, lots): exact numbers
(floats as Decimal), no NaN/Infinity or repeated keys, and errors that name the file, the field and the value.

Light on purpose (json + pydantic): a command that reads one settings file does not import pandas.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from app.core.errors import JsonFileError, SeedFileError

M = TypeVar("M", bound=BaseModel)


def json_path(loc: Sequence[int | str]) -> str:
    """``('policies', 1, 'max_sector_pct')`` -> ``policies[1].max_sector_pct``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part == "[key]":
            out += " (key)"
        else:
            out += f".{part}" if out else str(part)
    return out


def shown(value: Any) -> Any:
    """A value as the file wrote it, for messages: JSON numbers as numbers, containers left out."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and "." not in str(value) else float(value)
    if isinstance(value, (dict, list)):
        return None
    return value


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in seed files")


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r} in a JSON object")
        out[key] = value
    return out


def read_json(path: Path, name: str, *, error: type[JsonFileError] = SeedFileError) -> Any:
    """Parse a JSON file exactly: floats as Decimal, no NaN/Infinity, no repeated keys; problems raise
    ``error`` (default :class:`SeedFileError`)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise error(name, "", f"file not found in {path.parent}") from None
    except IsADirectoryError:
        raise error(name, "", "is a folder, not a JSON file") from None
    except PermissionError:
        raise error(name, "", "permission denied") from None
    except UnicodeDecodeError as exc:
        raise error(name, "", f"not UTF-8 text ({exc.reason})") from None
    try:
        return json.loads(
            text, parse_float=Decimal, parse_constant=_reject_constant, object_pairs_hook=_no_duplicate_keys
        )
    except json.JSONDecodeError as exc:
        raise error(
            name, f"line {exc.lineno} column {exc.colno}", f"invalid JSON: {exc.msg}"
        ) from None
    except ValueError as exc:
        raise error(name, "", f"invalid JSON: {exc}") from None


def validate(model: type[M], data: Any, name: str, *, error: type[JsonFileError] = SeedFileError) -> M:
    """Validate parsed JSON against a model; the first error becomes ``error`` (default SeedFileError)."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        first = errors[0]
        problem = first["msg"].removeprefix("Value error, ")
        if len(errors) > 1:
            problem += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''} in this file)"
        value = None if first["type"] == "missing" else shown(first.get("input"))
        raise error(name, json_path(first["loc"]) or "(top level)", problem, value) from None
