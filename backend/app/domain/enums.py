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
    BL = "BL"
    FM = "FM"
    RP = "RP"
    HRP = "HRP"
    HERC = "HERC"


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


class MeanEstimator(StrEnum):
    HIST = "hist"
    EWMA = "ewma1"
