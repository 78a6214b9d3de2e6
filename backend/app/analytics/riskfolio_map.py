"""The one table that maps our option enums to Riskfolio-Lib's string codes.

Every other module asks :func:`riskfolio_code`; a member missing here fails loudly with
:class:`~app.core.errors.InputError` naming the option and the value.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from types import MappingProxyType

from app.core.errors import InputError
from app.domain.enums import CovEstimator, MeanEstimator, Model, Objective, RiskMeasure, UncertaintySet

_TABLE: tuple[tuple[Enum, str], ...] = (
    # Portfolio.optimization(model=...)
    (Model.CLASSIC, "Classic"),
    (Model.MIN_VARIANCE, "Classic"),  # Classic, MinRisk, MV
    (Model.MAX_IR, "Classic"),  # Classic Sharpe on benchmark-relative moments
    (Model.BL, "BL"),
    (Model.FM, "FM"),
    (Model.RP, "RP"),
    (Model.HRP, "HRP"),
    (Model.HERC, "HERC"),
    # Portfolio.optimization(obj=...)
    (Objective.SHARPE, "Sharpe"),
    (Objective.MIN_RISK, "MinRisk"),
    (Objective.MAX_RET, "MaxRet"),
    (Objective.UTILITY, "Utility"),
    # Portfolio.optimization(rm=...)
    (RiskMeasure.MV, "MV"),
    (RiskMeasure.MAD, "MAD"),
    (RiskMeasure.MSV, "MSV"),
    (RiskMeasure.CVAR, "CVaR"),
    (RiskMeasure.CDAR, "CDaR"),
    (RiskMeasure.MDD, "MDD"),
    # ParamsEstimation.covar_matrix(method=...)
    (CovEstimator.HIST, "hist"),
    (CovEstimator.LEDOIT, "ledoit"),
    (CovEstimator.OAS, "oas"),
    (CovEstimator.EWMA, "ewma1"),
    (CovEstimator.DENOISE, "fixed"),  # de Prado's constant-residual-eigenvalue denoising
    # ParamsEstimation.mean_vector(method=...)
    (MeanEstimator.HIST, "hist"),
    (MeanEstimator.EWMA, "ewma1"),
    # Portfolio.wc_optimization(Umu=...)
    (UncertaintySet.BOX, "box"),
    (UncertaintySet.ELLIPSOIDAL, "ellip"),
)

#: our own options, with no Riskfolio code on purpose (asking for one fails like an unknown member):
#: Model EW/IV are closed forms and WC goes through ``Portfolio.wc_optimization`` (app.analytics.allocation);
#: CovEstimator.FACTOR goes through ``rp.risk_factors``; MeanEstimator CAPM/USER are computed in
#: app.analytics.expected_returns
NO_RISKFOLIO_CODE: frozenset[tuple[type, Enum]] = frozenset(
    (type(m), m)
    for m in (Model.EW, Model.IV, Model.WC, CovEstimator.FACTOR, MeanEstimator.CAPM, MeanEstimator.USER)
)

#: keyed by (enum class, member): StrEnum members of different enums with the same value
#: ("hist") compare and hash equal, so the class must be part of the key
RISKFOLIO_CODES: Mapping[tuple[type, Enum], str] = MappingProxyType({(type(m), m): c for m, c in _TABLE})

#: models the rebalancer's target stage can run through ``Portfolio.optimization``
TARGET_MODELS: frozenset[Model] = frozenset({Model.CLASSIC})


def riskfolio_code(member: Enum) -> str:
    """Riskfolio's string code for one of our option enums; unknown members raise InputError."""
    code = RISKFOLIO_CODES.get((type(member), member)) if isinstance(member, Enum) else None
    if code is None:
        kind = type(member).__name__
        raise InputError(
            f"option {kind}={member!r} has no Riskfolio mapping; known: "
            + ", ".join(sorted(str(m.value) for t, m in RISKFOLIO_CODES if t is type(member)))
        )
    return code
