"""What an allocation is asked to do: :class:`OptimizationSpec` and its parts (frozen value objects).

Units everywhere: weights are fractions of 1 (0.10 = 10 %); expected returns, forecasts, views and the
risk-free rate are **annual** fractions; the models convert them to daily with ``annualization``.
Portfolios are long only and fully invested (weights sum to 1).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from app.core.errors import InputError
from app.domain.enums import Model, Objective, RiskMeasure, UncertaintySet


def _frozen_map(m: Mapping | None) -> Mapping:
    return MappingProxyType(dict(m or {}))


def _fraction(name: str, value: float, lo: float = 0.0, hi: float = 1.0) -> None:
    if not (isinstance(value, (int, float)) and math.isfinite(value) and lo <= value <= hi):
        raise InputError(f"{name} must be a fraction in [{lo:g}, {hi:g}] (0.10 = 10 %), got {value!r}")


@dataclass(frozen=True)
class GroupCap:
    """A cap (and optional floor) on the total weight of a group: ``min_weight ≤ Σ w[symbols] ≤ max_weight``.

    ``kind`` says what grouped them ("sector", "asset_class", ...), ``name`` which group ("Energy").
    """

    kind: str
    name: str
    symbols: tuple[str, ...]
    max_weight: float
    min_weight: float = 0.0

    def __post_init__(self) -> None:
        _fraction(f"{self.kind} cap {self.name!r} max_weight", self.max_weight)
        _fraction(f"{self.kind} cap {self.name!r} min_weight", self.min_weight)
        if self.min_weight > self.max_weight:
            raise InputError(
                f"{self.kind} cap {self.name!r}: min_weight {self.min_weight:.2f} > max_weight {self.max_weight:.2f}"
            )

    @property
    def label(self) -> str:
        return f"{self.kind} {self.name}"


def group_caps(
    *, kind: str, membership: Mapping[str, str], cap: float | Mapping[str, float]
) -> tuple[GroupCap, ...]:
    """One :class:`GroupCap` per group of ``membership`` (symbol → group); ``cap`` one fraction for all
    groups or a mapping group → fraction (groups not in it are uncapped)."""
    groups: dict[str, list[str]] = {}
    for sym, g in membership.items():
        groups.setdefault(g, []).append(sym)
    out = []
    for g in sorted(groups):
        limit = cap if isinstance(cap, (int, float)) else cap.get(g)
        if limit is not None:
            out.append(GroupCap(kind=kind, name=g, symbols=tuple(sorted(groups[g])), max_weight=float(limit)))
    return tuple(out)


@dataclass(frozen=True)
class View:
    """A Black-Litterman view: ``Σ_i assets[i] · r_i = expected_return`` with ``confidence`` in (0, 1].

    Absolute view: ``{"AAPL": 1}`` and ``expected_return=0.12`` ("AAPL returns 12 % a year").
    Relative view: ``{"AAPL": 1, "MSFT": -1}`` and ``0.03`` ("AAPL beats MSFT by 3 % a year").
    ``expected_return`` is annual and total (not in excess of the risk-free rate).
    ``confidence``: 1 makes the view exact; 0.5 gives He–Litterman's Ω = diag(P τΣ Pᵀ); lower is weaker
    (Ω_k = (1 − c)/c · p_k τΣ p_kᵀ, Idzorek's confidence in the closed form of Walters).
    """

    assets: Mapping[str, float]
    expected_return: float
    confidence: float = 0.5

    def __post_init__(self) -> None:
        object.__setattr__(self, "assets", _frozen_map(self.assets))
        if not self.assets or all(v == 0 for v in self.assets.values()):
            raise InputError("a view needs at least one asset with a non-zero coefficient")
        if not (0.0 < self.confidence <= 1.0):
            raise InputError(f"view confidence must be in (0, 1], got {self.confidence!r}")
        if not math.isfinite(self.expected_return):
            raise InputError(f"view expected_return must be finite, got {self.expected_return!r}")

    @property
    def relative(self) -> bool:
        return abs(sum(self.assets.values())) < 1e-12


@dataclass(frozen=True)
class OptimizationSpec:
    """Everything that chooses the portfolio, besides the risk model.

    * ``model``/``objective``/``risk_measure``: see :class:`~app.domain.enums.Model` etc. ``objective`` is
      used by Classic, FM, BL and WC; ``risk_measure`` by Classic, FM, BL, RP, HRP, HERC (WC and MaxIR are
      mean-variance; MinVar is MinRisk/MV).
    * ``risk_aversion``: the Utility objective's λ in ``μᵀw − λ·risk(w)`` on daily figures (Riskfolio's ``l``).
    * ``risk_free_rate``: annual fraction; ``annualization``: trading days per year.
    * ``alpha``: tail probability of CVaR / CDaR (0.05 = worst 5 %).
    * ``min_weight``/``max_weight``: bounds for every asset (fractions); ``bounds`` per-asset overrides
      ``{symbol: (lower, upper)}``.
    * ``min_position``: no dust, each weight is 0 or ≥ this fraction; ``max_holdings``: at most this many
      names. Both are enforced by iterative pruning (no mixed-integer solver is installed): a warning says so.
    * ``group_caps``: sector / asset-class caps (:func:`group_caps` builds them).
    * ``views``: Black-Litterman views; ``bl_tau`` (default 1/T), ``bl_risk_aversion`` δ (default market
      implied from ``benchmark_weights``).
    * ``risk_budgets``: symbol → positive budget for RP (normalised to sum 1; default equal = ERC).
    * ``benchmark_weights``: symbol → fraction summing to 1; the BL prior and the MaxIR benchmark.
    * ``forecasts``: symbol → annual expected return replacing the risk model's estimate for that symbol.
    * ``uncertainty``/``uncertainty_confidence``: WC mean uncertainty set (box or ellipsoid) at this
      confidence, sized from the standard error of the mean (Σ/T).
    * ``hierarchical_linkage``: linkage of HRP/HERC clustering (Riskfolio's; "single" is López de Prado's).
    """

    model: Model = Model.CLASSIC
    objective: Objective = Objective.SHARPE
    risk_measure: RiskMeasure = RiskMeasure.MV
    risk_aversion: float = 2.0
    risk_free_rate: float = 0.0
    annualization: int = 252
    alpha: float = 0.05
    min_weight: float = 0.0
    max_weight: float = 1.0
    bounds: Mapping[str, tuple[float, float]] = field(default_factory=dict)
    min_position: float = 0.0
    max_holdings: int | None = None
    group_caps: tuple[GroupCap, ...] = ()
    views: tuple[View, ...] = ()
    bl_tau: float | None = None
    bl_risk_aversion: float | None = None
    risk_budgets: Mapping[str, float] | None = None
    benchmark_weights: Mapping[str, float] | None = None
    forecasts: Mapping[str, float] | None = None
    uncertainty: UncertaintySet = UncertaintySet.BOX
    uncertainty_confidence: float = 0.95
    hierarchical_linkage: str = "single"

    def __post_init__(self) -> None:
        for name in ("model", "objective", "risk_measure", "uncertainty"):
            enum = {"model": Model, "objective": Objective, "risk_measure": RiskMeasure,
                    "uncertainty": UncertaintySet}[name]
            value = getattr(self, name)
            try:
                object.__setattr__(self, name, enum(value))
            except ValueError:
                known = ", ".join(m.value for m in enum)
                raise InputError(f"{name}={value!r} is not one of: {known}") from None
        object.__setattr__(self, "bounds", _frozen_map(self.bounds))
        object.__setattr__(self, "group_caps", tuple(self.group_caps))
        object.__setattr__(self, "views", tuple(self.views))
        for name in ("risk_budgets", "benchmark_weights", "forecasts"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _frozen_map(value))
        _fraction("min_weight", self.min_weight)
        _fraction("max_weight", self.max_weight)
        _fraction("min_position", self.min_position)
        _fraction("alpha", self.alpha, 1e-6, 0.5)
        if self.min_weight > self.max_weight:
            raise InputError(f"min_weight {self.min_weight:.4f} > max_weight {self.max_weight:.4f}")
        for sym, pair in self.bounds.items():
            if len(pair) != 2:
                raise InputError(f"bounds[{sym!r}] must be (lower, upper), got {pair!r}")
            _fraction(f"bounds[{sym!r}] lower", pair[0])
            _fraction(f"bounds[{sym!r}] upper", pair[1])
            if pair[0] > pair[1]:
                raise InputError(f"bounds[{sym!r}]: lower {pair[0]:.4f} > upper {pair[1]:.4f}")
        if self.max_holdings is not None and self.max_holdings < 1:
            raise InputError(f"max_holdings must be >= 1, got {self.max_holdings}")
        if not (self.risk_aversion > 0 and math.isfinite(self.risk_aversion)):
            raise InputError(f"risk_aversion must be > 0, got {self.risk_aversion!r}")
        if not (-0.1 <= self.risk_free_rate <= 1.0):
            raise InputError(f"risk_free_rate is an annual fraction in [-0.1, 1], got {self.risk_free_rate!r}")
        if self.annualization < 1:
            raise InputError(f"annualization must be >= 1 trading day per year, got {self.annualization}")
        if not (0.5 <= self.uncertainty_confidence < 1.0):
            raise InputError(f"uncertainty_confidence must be in [0.5, 1), got {self.uncertainty_confidence!r}")
        if self.bl_tau is not None and not self.bl_tau > 0:
            raise InputError(f"bl_tau must be > 0, got {self.bl_tau!r}")
        if self.risk_budgets is not None:
            bad = {s: b for s, b in self.risk_budgets.items() if not (b > 0 and math.isfinite(b))}
            if bad:
                raise InputError(f"risk_budgets must be > 0; got {bad}")

    @property
    def rf_daily(self) -> float:
        return self.risk_free_rate / self.annualization
