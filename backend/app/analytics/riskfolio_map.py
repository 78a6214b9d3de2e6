"""The one table that maps our option enums to Riskfolio-Lib's string codes.

Every other module asks :func:`riskfolio_code`; a member missing here fails loudly with
:class:`~app.core.errors.InputError` naming the option and the value.
"""

from __future__ import annotations

from enum import Enum
from types import MappingProxyType
from typing import Mapping

from app.core.errors import InputError
from app.domain.enums import CovEstimator, MeanEstimator, Model, Objective, RiskMeasure

RISKFOLIO_CODES: Mapping[Enum, str] = MappingProxyType(
    {
        # Portfolio.optimization(model=...)
        Model.CLASSIC: "Classic",
        Model.BL: "BL",
        Model.FM: "FM",
        Model.RP: "RP",
        Model.HRP: "HRP",
        Model.HERC: "HERC",
        # Portfolio.optimization(obj=...)
        Objective.SHARPE: "Sharpe",
        Objective.MIN_RISK: "MinRisk",
        Objective.MAX_RET: "MaxRet",
        Objective.UTILITY: "Utility",
        # Portfolio.optimization(rm=...)
        RiskMeasure.MV: "MV",
        RiskMeasure.MAD: "MAD",
        RiskMeasure.MSV: "MSV",
        RiskMeasure.CVAR: "CVaR",
        RiskMeasure.CDAR: "CDaR",
        RiskMeasure.MDD: "MDD",
        # ParamsEstimation.covar_matrix(method=...)
        CovEstimator.HIST: "hist",
        CovEstimator.LEDOIT: "ledoit",
        CovEstimator.OAS: "oas",
        CovEstimator.EWMA: "ewma1",
        # ParamsEstimation.mean_vector(method=...)
        MeanEstimator.HIST: "hist",
        MeanEstimator.EWMA: "ewma1",
    }
)

#: models the rebalancer's target stage can run through ``Portfolio.optimization``
TARGET_MODELS: frozenset[Model] = frozenset({Model.CLASSIC})


def riskfolio_code(member: Enum) -> str:
    """Riskfolio's string code for one of our option enums; unknown members raise InputError."""
    try:
        return RISKFOLIO_CODES[member]
    except (KeyError, TypeError):
        kind = type(member).__name__
        raise InputError(
            f"option {kind}={member!r} has no Riskfolio mapping; known: "
            + ", ".join(sorted(str(m.value) for m in RISKFOLIO_CODES if type(m) is type(member)))
        ) from None
