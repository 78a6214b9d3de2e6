"""Posted forms → the API's own request models: dotted field names (``constraints.max_position_size``) become
nested objects, empty fields are left out (the model's default applies), and pydantic's messages are mapped back
to the field that caused them, to be shown next to it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError


def nested(fields: Mapping[str, str], *, checkboxes: tuple[str, ...] = ()) -> dict[str, Any]:
    """``{"constraints.max_position_size": "0.1"}`` → ``{"constraints": {"max_position_size": "0.1"}}``;
    blank values are dropped; each name in ``checkboxes`` is True when posted and False when not."""
    out: dict[str, Any] = {}
    values = {k: v.strip() for k, v in fields.items() if v.strip()}
    for name in checkboxes:
        values[name] = name in values
    for name, value in values.items():
        where = out
        *parents, leaf = name.split(".")
        for part in parents:
            where = where.setdefault(part, {})
        where[leaf] = value
    return out


def field_errors(exc: ValidationError) -> dict[str, str]:
    """``{"constraints.max_position_size": "Input should be less than or equal to 1 (value '3')"}``."""
    out: dict[str, str] = {}
    for err in exc.errors():
        name = ".".join(str(p) for p in err.get("loc", ())) or "form"
        message = str(err.get("msg", "invalid")).removeprefix("Value error, ")
        if "input" in err and err.get("type") != "missing" and not isinstance(err["input"], dict):
            message += f" (value {err['input']!r})"
        out.setdefault(name, message)
    return out


def validate(model: type[BaseModel], doc: dict[str, Any]) -> tuple[BaseModel | None, dict[str, str]]:
    """``(request, {})`` or ``(None, errors by field)``."""
    try:
        return model.model_validate(doc), {}
    except ValidationError as exc:
        return None, field_errors(exc)
