"""String enums for every option; strings only at the edges (CLI, JSON)."""

from __future__ import annotations

from enum import StrEnum


class SecurityStatus(StrEnum):
    ACTIVE = "active"
    HALTED = "halted"


class TradeAction(StrEnum):
    BUY = "BUY"
    SELL = "SELL"


class Model(StrEnum):
    """How the target portfolio is built (Riskfolio model names where Riskfolio has them)."""

    CLASSIC = "Classic"
    MIN_VARIANCE = "MinVar"
    MAX_IR = "MaxIR"
    BL = "BL"
    FM = "FM"
    RP = "RP"
    HRP = "HRP"
    HERC = "HERC"
    EW = "EW"
    IV = "IV"
    WC = "WC"


class Objective(StrEnum):
    SHARPE = "Sharpe"
    MIN_RISK = "MinRisk"
    MAX_RET = "MaxRet"
    UTILITY = "Utility"


class RiskMeasure(StrEnum):
    MV = "MV"
    MAD = "MAD"
    MSV = "MSV"
    CVAR = "CVaR"
    CDAR = "CDaR"
    MDD = "MDD"


class CovEstimator(StrEnum):
    HIST = "hist"
    LEDOIT = "ledoit"
    OAS = "oas"
    EWMA = "ewma1"
    DENOISE = "denoise"
    FACTOR = "factor"


class MeanEstimator(StrEnum):
    HIST = "hist"
    EWMA = "ewma1"
    CAPM = "capm"
    USER = "user"


class UncertaintySet(StrEnum):
    """Shape of the uncertainty set of the mean in worst-case (robust) mean-variance."""

    BOX = "box"
    ELLIPSOIDAL = "ellip"


class ObjectiveMode(StrEnum):
    """What the trade engine minimises under the policy hierarchy (DESIGN.md "One trade engine").

    ``closest``: tracking error² to the target (costs only break ties); ``cost_aware``:
    ``λ·TE²_to_target + costs (+ taxes)``, all in fractions of the portfolio value.
    """

    CLOSEST = "closest"
    COST_AWARE = "cost_aware"
