"""OpenAPI declarations of the error responses every route can give (problem+json)."""

from __future__ import annotations

from typing import Any

_REF = {"$ref": "#/components/schemas/ProblemDocument"}
_TEXT = {400: "Bad request", 401: "No or bad API token", 403: "Not permitted", 404: "Unknown",
         405: "Method not allowed",
         409: "Refused in the current state", 422: "Invalid input (the field is named)", 500: "Internal error",
         503: "Unavailable", 504: "Deadline exceeded"}


def errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for the given status codes (401, 422 and 500 are always listed)."""
    wanted = sorted({401, 422, 500, *codes})
    return {code: {"description": _TEXT[code], "content": {"application/problem+json": {"schema": _REF}}}
            for code in wanted}
