"""Lazy package re-exports (PEP 562): ``from app.analytics import solve_target`` keeps working, while importing
one light submodule (``app.analytics.inputs``) no longer loads every sibling (scipy, pandas, …) with it.

Each command-line process pays for what it imports; a package ``__init__`` that re-exports everything eagerly
made every ``dawsos`` command import scipy.optimize and pandas (about 2 s here) before doing anything.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any


def lazy_exports(
    package: str, exports: Mapping[str, Sequence[str]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """``(__getattr__, __dir__, __all__)`` for ``package``: ``exports`` maps a submodule's full name to the names
    it provides; a name is imported from its submodule the first time it is asked for."""
    where = {name: module for module, names in exports.items() for name in names}

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(module), name)

    def __dir__() -> list[str]:
        return sorted(where)

    return __getattr__, __dir__, sorted(where)
