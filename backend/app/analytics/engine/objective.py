"""What stage (c) of the trade path minimises: :class:`PathObjective` (closest or cost-aware) and the
constants of its terms (see :mod:`app.analytics.engine`)."""

from __future__ import annotations

from dataclasses import dataclass

from app.domain.enums import ObjectiveMode

RIDGE = 1e-6
#: closest mode: the most the turnover tie-break may move TE²_t at the optimum (annual, fraction²; 1e-8 is
#: 0.01 % TE when the target is reachable, far less when it is not)
CLOSEST_TIE_BREAK = 1e-8
#: cost-aware mode's default λ (tracking-error aversion, seed 004's default)
DEFAULT_TE_AVERSION = 10.0


@dataclass(frozen=True)
class PathObjective:
    """What stage (c) minimises (see :mod:`app.analytics.engine`): ``mode`` and, for ``cost_aware``, ``te_aversion``
    (λ ≥ 0, multiplies the annual TE² to the target; costs are fractions of the portfolio value)."""

    mode: ObjectiveMode = ObjectiveMode.CLOSEST
    te_aversion: float = DEFAULT_TE_AVERSION

    @property
    def risk_weight(self) -> float:
        """Coefficient of ``TE²_t`` in (c)."""
        return 1.0 if self.mode is ObjectiveMode.CLOSEST else float(self.te_aversion)

    def cost_scale(self, cost_rate: float, turnover_span: float) -> float:
        """Multiplier of the cost term (impact ``κ·TO`` + sell taxes) in (c): 1 in ``cost_aware`` mode; in
        ``closest`` mode ``min(1, CLOSEST_TIE_BREAK / (turnover_span · cost_rate))`` with ``cost_rate`` the
        largest cost per unit of turnover (κ + the highest sell tax) and ``turnover_span`` the room turnover
        has in (c) (its bound minus TO*): the term then moves TE²_t by at most CLOSEST_TIE_BREAK. A turnover
        pinned at TO* (the limit out of reach) keeps the full cost, which keeps the solve well conditioned
        and cannot move TE²_t more either."""
        if self.mode is ObjectiveMode.COST_AWARE or cost_rate <= 0:
            return 1.0
        return min(1.0, CLOSEST_TIE_BREAK / (max(float(turnover_span), 1e-12) * float(cost_rate)))

    def turnover_weight(self, kappa: float, turnover_span: float) -> float:
        """Coefficient of turnover in (c) without sell taxes: ``κ · cost_scale(κ, turnover_span)``."""
        return float(kappa) * self.cost_scale(kappa, turnover_span)
