"""Hierarchical risk parity (HRP, López de Prado) and hierarchical equal risk contribution (HERC, Raffinot)
through Riskfolio ``HCPortfolio.optimization``.

Clustering runs on the risk model's own covariance (``codependence="custom_cov"``: correlation from it, distance
√((1 − ρ)/2)); the allocation uses the spec's risk measure. The models ignore linear constraints: the
dispatcher projects their weights onto them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from app.analytics.allocation._base import Allocation, Problem
from app.analytics.allocation._riskfolio import SOLVER, quiet
from app.analytics.riskfolio_map import riskfolio_code
from app.core.errors import SolverError
from app.domain.enums import Model


def solve_hierarchical(problem: Problem, *, model: Model) -> Allocation:
    """HRP or HERC weights over the eligible names."""
    import riskfolio as rp  # lazy

    spec = problem.spec
    if problem.n == 1:
        return Allocation(weights=np.ones(1), solver="none", constrained=False)
    code = riskfolio_code(model)
    syms = problem.symbols
    returns = pd.DataFrame(problem.returns, columns=syms)
    cov = pd.DataFrame(problem.cov, index=syms, columns=syms)
    port = rp.HCPortfolio(returns=returns, alpha=spec.alpha, solvers=[SOLVER])
    with quiet():
        try:
            res = port.optimization(
                model=code, codependence="custom_cov", rm=riskfolio_code(spec.risk_measure), rf=spec.rf_daily,
                method_mu="custom_mu", custom_mu=pd.Series(problem.mu, index=syms), method_cov="custom_cov",
                custom_cov=cov, linkage=spec.hierarchical_linkage, leaf_order=True,
            )
        except Exception as exc:
            raise SolverError(f"{code} failed: {type(exc).__name__}: {exc}", stage="allocation",
                              tried=[f"{code}: {type(exc).__name__}: {exc}"]) from exc
    w = res["weights"].reindex(syms).to_numpy(dtype=float)
    details: dict = {"order": [syms[i] for i in port.sort_order]}
    if model is Model.HERC:
        from scipy.cluster.hierarchy import fcluster

        labels = fcluster(port.clustering, port.k, criterion="maxclust")
        details["clusters"] = [[s for s, lab in zip(syms, labels) if lab == c] for c in sorted(set(labels))]
    return Allocation(weights=w, solver=SOLVER, details=details, constrained=False)
