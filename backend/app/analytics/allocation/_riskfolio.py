"""Plumbing around Riskfolio-Lib: a fresh ``Portfolio`` per call, the solver pinned, prints silenced,
``None`` turned into :class:`~app.core.errors.SolverError`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from app.analytics.solver_kit import PRECISE_PARAMS, SOLVER
from app.core.errors import SolverError
from app.core.quiet import quiet as core_quiet

#: tighter than CLARABEL's defaults (1e-8) so closed forms are met to ~1e-7 in weights
SOLVER_PARAMS = PRECISE_PARAMS


#: silence Riskfolio's prints and cvxpy's deprecation chatter (thread-safe; yields the captured stdout)
quiet = core_quiet


def new_portfolio(
    *,
    symbols: list[str],
    returns: np.ndarray,
    mu: np.ndarray,
    cov: np.ndarray,
    A: np.ndarray | None = None,
    B: np.ndarray | None = None,
):
    """A fresh long-only ``rp.Portfolio`` on the given daily moments, solver pinned to CLARABEL."""
    import riskfolio as rp  # lazy

    port = rp.Portfolio(returns=pd.DataFrame(np.asarray(returns, float), columns=symbols), sht=False)
    port.mu = pd.DataFrame([np.asarray(mu, float)], columns=symbols)
    port.cov = pd.DataFrame(np.asarray(cov, float), index=symbols, columns=symbols)
    port.solvers = [SOLVER]
    port.sol_params = {SOLVER: dict(SOLVER_PARAMS)}
    port.budget = 1.0
    port.upperlng = 1.0
    if A is not None and len(A):
        port.ainequality = np.asarray(A, float)
        port.binequality = np.asarray(B, float).reshape(-1, 1)
    return port


def solve(call: Callable[[], Any], *, symbols: list[str], label: str) -> np.ndarray:
    """Run a Riskfolio optimisation; its weights ordered as ``symbols`` or :class:`SolverError`."""
    with quiet() as sink:
        try:
            res = call()
        except Exception as exc:  # riskfolio and cvxpy raise many kinds
            raise SolverError(f"{label} [{SOLVER}] failed: {type(exc).__name__}: {exc}", stage="allocation",
                              tried=[f"{label} [{SOLVER}]: {type(exc).__name__}: {exc}"]) from exc
    if res is None:
        why = sink.getvalue().strip() or "no solution"
        raise SolverError(f"{label} [{SOLVER}] found no solution: {why}", stage="allocation",
                          tried=[f"{label} [{SOLVER}]: {why}"])
    w = res["weights"].reindex(symbols).to_numpy(dtype=float)
    if not np.all(np.isfinite(w)):
        raise SolverError(f"{label} [{SOLVER}] returned non-finite weights", stage="allocation",
                          tried=[f"{label} [{SOLVER}]: non-finite weights"])
    return w
