"""The trade path end to end: :func:`solve_trade_path` runs the stages in hierarchy order (see
:mod:`app.analytics.engine`) and returns a :class:`TradePath`."""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

import numpy as np
import pandas as pd

from app.analytics.engine.objective import PathObjective
from app.analytics.engine.reduction import Reduction
from app.analytics.engine.rules import reserve_and_floor
from app.analytics.engine.skip import skip_unprofitable
from app.analytics.engine.stages import PathSetup, Stage, min_te, min_turnover, turnover_for_te
from app.analytics.engine.working_set import toward_target
from app.analytics.estimators import RiskModel
from app.analytics.solver_kit import SOLVER, WEIGHT_EPS, SolveStatus, clarabel_options
from app.analytics.universe import Universe
from app.core.errors import SolverError
from app.domain.enums import ObjectiveMode

#: relative + absolute slack put on bounds that come from an earlier stage's optimum
REL_SLACK, ABS_SLACK = 1e-5, 1e-7
#: the TE limit used by the path is this fraction of the policy's, to leave room for whole-share rounding
TE_ROUNDING_MARGIN = 0.995


class PathWarning(StrEnum):
    """Warnings of the trade path (typed; the value is the sentence shown in the proposal's ``warnings``)."""

    REINVESTMENT_DROPPED = "reinvesting all sale proceeds is infeasible under the caps; cash may rise"
    INACCURATE = "a trade-path stage solved only to reduced accuracy (optimal_inaccurate)"
    NOTHING_TO_BUY = "no buyable names: the path only makes the forced exits"


@dataclass(frozen=True, eq=False)
class TradePath:
    """Post-trade weights chosen by the path (fractions of the value before trading) and its bounds.

    * ``turnover_bound``: total turnover allowed (fraction; policy limit or the minimum levels 1–3 need);
    * ``te_bound``: annual TE allowed (fraction);
    * ``min_turnover_needed``: TO* of stage (a) (fraction);
    * ``te_min_achievable``: TE* of stage (b), annual (fraction), ``None`` when (b) was skipped;
    * ``turnover_needed_for_te``: turnover the TE limit would need (fraction), ``None`` if not asked,
      ``math.inf`` if no turnover reaches it under the caps;
    * ``te_min_unbounded``: smallest TE at any turnover (annual), when the limit is out of reach;
    * ``objective``: what (c) minimised; ``skipped``: names whose trade was worth less than its cost
      (cost-aware mode; kept at w0);
    * ``reinvest_proceeds``: the level-4 switch as given; ``reinvestment_dropped``: the rule was on but
      infeasible with the higher levels, so the path ran without it (a warning says so);
    * ``target_cash``: the fraction of value the target itself leaves in cash (1 − Σ target weights, ≥ 0):
      the reinvestment rule lets cash rise to it (a model portfolio that holds 1 % cash keeps 1 % cash);
    * ``statuses``: stage → :class:`SolveStatus`; ``notes``: stage → working-set / skip notes.
    """

    weights: pd.Series
    cash_weight: float
    turnover: float
    turnover_bound: float
    te_bound: float
    min_turnover_needed: float | None
    te_min_achievable: float | None
    turnover_needed_for_te: float | None
    te_min_unbounded: float | None
    turnover_limit_met: bool
    te_limit_met: bool
    objective: PathObjective = field(default_factory=PathObjective)
    reinvest_proceeds: bool = True
    reinvestment_dropped: bool = False
    target_cash: float = 0.0
    skipped: tuple[str, ...] = ()
    statuses: dict[str, SolveStatus] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    warnings: tuple[PathWarning, ...] = ()


def slack(v: float, abs_slack: float = ABS_SLACK) -> float:
    return v * (1 + REL_SLACK) + abs_slack


def solve_trade_path(
    *,
    universe: Universe,
    risk_model: RiskModel,
    target: pd.Series,
    max_turnover: float,
    max_tracking_error: float,
    market_impact_bps: float,
    commission_per_trade: float = 0.0,
    objective: PathObjective | None = None,
    reinvest_proceeds: bool = True,
    annualization: int = 252,
    direct_attempt: bool = True,
    sell_tax: np.ndarray | None = None,
) -> TradePath:
    """Post-trade weights per the constraint hierarchy (see :mod:`app.analytics.engine`).

    * ``target``: target weights (fractions) indexed by universe symbol;
    * ``max_turnover``: Σ|trade value| / value before, fraction (0.20 = 20 %);
    * ``max_tracking_error``: annual TE, fraction (0.02 = 2 %);
    * ``market_impact_bps``: basis points of |trade value|; ``commission_per_trade``: currency;
    * ``objective``: what stage (c) minimises (default: closest to the target, costs break ties);
    * ``reinvest_proceeds``: hierarchy level 4 (sale proceeds reinvested; cash does not rise);
    * ``direct_attempt``: try (c) at the policy bounds first (exact, see :mod:`app.analytics.engine`); ``False``
      always runs the full sequence (for checks);
    * ``sell_tax``: tax per unit of weight sold, per universe name (fraction ≥ 0; from the account's tax
      lots), part of (c)'s cost term (a tie-break in closest mode), so that, other things equal, the path
      sells what realises less tax; None: no tax lots known (and working sets are used only without it).

    Raises :class:`SolverError` if the solver fails or a problem the hierarchy guarantees feasible is not.
    """
    import cvxpy as cp  # lazy

    if tuple(risk_model.symbols) != tuple(universe.symbols):
        raise SolverError("risk model and universe list different symbols", stage="trade_path")
    t = target.reindex(list(universe.symbols)).fillna(0.0).to_numpy(dtype=float)
    b = np.asarray(universe.bench, dtype=float)
    cov = np.asarray(risk_model.cov, dtype=float)
    red = Reduction(universe, cov, annualization)
    kappa = float(market_impact_bps) / 1e4
    target_cash = max(0.0, 1.0 - float(t.sum()))
    reserve, floor = reserve_and_floor(universe, commission_per_trade=float(commission_per_trade), kappa=kappa,
                                       target_cash=target_cash)
    objective = objective if objective is not None else PathObjective()
    c_bench = red.centre(b)
    if red.B.size == 0:
        return nothing_to_buy(universe, red, c_bench, max_turnover, max_tracking_error, kappa, objective,
                              reinvest_proceeds, target_cash)
    s = PathSetup(cp=cp, universe=universe, cov=cov, annualization=annualization, t=t, b=b, red=red, kappa=kappa,
               commission_fraction=float(commission_per_trade) / float(universe.value), reserve=reserve,
               floor=floor if reinvest_proceeds else None, te_limit=max_tracking_error * TE_ROUNDING_MARGIN,
               objective=objective, to_star=0.0, c_target=red.centre(t), c_bench=c_bench,
               sell_tax=None if sell_tax is None else np.asarray(sell_tax, dtype=float),
               options=clarabel_options(int(red.B.size)), target_cash=target_cash)
    run = PathRun(setup=s, reinvest_proceeds=reinvest_proceeds)
    a = run.stage_a()
    to_star = max(a.value, 0.0)
    turnover_limit_met = to_star <= max_turnover + 1e-9
    to_bound = max_turnover if turnover_limit_met else slack(to_star)
    if direct_attempt and turnover_limit_met:
        direct = run.direct(max_turnover, to_star)
        if direct is not None:
            return direct
    return run.full_sequence(to_star=to_star, to_bound=to_bound, turnover_limit_met=turnover_limit_met)


@dataclass
class PathRun:
    """One call's stages in order, with what they record (statuses, notes, warnings)."""

    setup: PathSetup
    reinvest_proceeds: bool
    statuses: dict[str, SolveStatus] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    warnings: list[PathWarning] = field(default_factory=list)
    reinvestment_dropped: bool = False
    direct_status: SolveStatus | None = None

    def stage_a(self) -> Stage:
        """(a) minimum turnover the hard levels need; without the reinvestment floor if that is infeasible."""
        a = min_turnover(self.setup)
        if not a.solved and self.setup.floor is not None:
            self.warnings.append(PathWarning.REINVESTMENT_DROPPED)
            self.reinvestment_dropped = True
            self.setup = replace(self.setup, floor=None)
            a = min_turnover(self.setup)
        self.statuses["a_min_turnover"] = a.status
        if not a.solved:
            raise SolverError("trade path: structural constraints, forced exits and caps are jointly infeasible",
                              stage="a_min_turnover", tried=[SOLVER])
        self.setup = replace(self.setup, to_star=max(a.value, 0.0))
        return a

    def direct(self, max_turnover: float, to_star: float) -> TradePath | None:
        """(c) at the policy's own bounds. If feasible, (b) within max_turnover has TE* ≤ te_limit, so the full
        sequence would pick exactly these bounds and solve exactly this problem: its answer, without (b).
        Anything but ``optimal``: ``None`` (the full sequence runs). Alone: a solve beside it would slow it (the
        two cores of a small VM share one physical core's floating-point units)."""
        s = self.setup
        c = toward_target(s, max_turnover, s.te_limit, "c_direct", strict=False, working_set=True)
        if c.working_set:
            self.notes["c_direct_working_set"] = c.working_set
        if c.status is not SolveStatus.OPTIMAL:
            self.direct_status = c.status
            return None
        self.statuses.update(b_min_te=SolveStatus.SKIPPED, c_direct=SolveStatus.OPTIMAL)
        return self.result(c, to_bound=max_turnover, te_bound=s.te_limit, to_star=to_star, te_star=None,
                           to_needed=None, te_unbounded=None, turnover_limit_met=True, te_limit_met=True)

    def full_sequence(self, *, to_star: float, to_bound: float, turnover_limit_met: bool) -> TradePath:
        """(b) minimum TE within (a)'s bound, then (c) — in a second thread (Clarabel releases the GIL while it
        solves) while this one works out the TE reports, which (c) does not depend on. Each is the same problem
        as alone, so the answer does not depend on the scheduling."""
        s = self.setup
        b_stage = min_te(s, to_bound, "b_min_te")
        self.statuses["b_min_te"] = b_stage.status
        if not b_stage.solved:
            raise SolverError("trade path stage b: infeasible although stage a was feasible", stage="b_min_te",
                              tried=[SOLVER])
        te_star = max(b_stage.value, 0.0)
        te_limit_met = te_star <= s.te_limit + 1e-12 * s.red.ann
        te_bound = s.te_limit if te_limit_met else slack(te_star, ABS_SLACK * s.red.ann)  # ABS_SLACK: daily σ
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="trade-path-c") as pool:
            c_future = pool.submit(toward_target, s, to_bound, te_bound, "c_toward_target", strict=True)
            to_needed, te_unbounded = (None, None) if te_limit_met else self.te_reports()
            c = c_future.result()
        self.statuses["c_toward_target"] = c.status
        if not c.solved:
            raise SolverError("trade path stage c: infeasible although stages a and b were feasible",
                              stage="c_toward_target", tried=[SOLVER])
        if any(st is SolveStatus.OPTIMAL_INACCURATE for st in self.statuses.values()):
            self.warnings.append(PathWarning.INACCURATE)
        if self.direct_status is not None:  # the direct attempt's status (not optimal), recorded after the check
            self.statuses["c_direct"] = self.direct_status
        return self.result(c, to_bound=to_bound, te_bound=te_bound, to_star=to_star, te_star=te_star,
                           to_needed=to_needed, te_unbounded=te_unbounded, turnover_limit_met=turnover_limit_met,
                           te_limit_met=te_limit_met)

    def te_reports(self) -> tuple[float, float | None]:
        """``(turnover the TE limit needs, smallest TE at any turnover)``: ``(inf, TE)`` when unreachable."""
        b2 = turnover_for_te(self.setup)
        self.statuses["b_turnover_for_te"] = b2.status
        if b2.solved:
            return b2.value, None
        b3 = min_te(self.setup, None, "b_min_te_unbounded")
        self.statuses["b_min_te_unbounded"] = b3.status
        return math.inf, (b3.value if b3.solved else None)

    def result(self, c: Stage, *, to_bound: float, te_bound: float, **report: Any) -> TradePath:
        """The :class:`TradePath` of a solved stage (c) (after the cost-aware skips, in that mode)."""
        s = self.setup
        skipped: tuple[str, ...] = ()
        if s.objective.mode is ObjectiveMode.COST_AWARE:
            c, skipped, note = skip_unprofitable(s, c, to_bound, te_bound)
            if note:
                self.notes["c_cost_aware_skip"] = note
        w = c.weights()
        w[w < WEIGHT_EPS] = 0.0  # w0 + u − v: a wash (u_i, v_i > 0) nets out
        turnover = float(np.abs(w - s.universe.w0).sum())
        return TradePath(
            weights=pd.Series(w, index=list(s.universe.symbols)), cash_weight=float(1.0 - w.sum() - s.kappa * turnover),
            turnover=turnover, turnover_bound=float(to_bound), te_bound=float(te_bound),
            min_turnover_needed=report["to_star"], te_min_achievable=report["te_star"],
            turnover_needed_for_te=report["to_needed"], te_min_unbounded=report["te_unbounded"],
            turnover_limit_met=report["turnover_limit_met"], te_limit_met=report["te_limit_met"],
            objective=s.objective, reinvest_proceeds=self.reinvest_proceeds,
            reinvestment_dropped=self.reinvestment_dropped, target_cash=s.target_cash, skipped=skipped,
            statuses=dict(self.statuses),
            notes=dict(self.notes), warnings=tuple(self.warnings),
        )


def nothing_to_buy(universe: Universe, red: Reduction, c_bench, max_turnover: float, max_tracking_error: float,
                   kappa: float, objective: PathObjective, reinvest_proceeds: bool, target_cash: float) -> TradePath:
    """No buyable name: every weight is fixed by levels 1–2 (no solve)."""
    w = red.fixed.copy()
    turnover = float(np.abs(w - universe.w0).sum())
    te = c_bench[1]
    te_met = te <= max_tracking_error * TE_ROUNDING_MARGIN + 1e-12
    return TradePath(
        weights=pd.Series(w, index=list(universe.symbols)),
        cash_weight=float(1.0 - w.sum() - kappa * turnover),
        turnover=turnover,
        turnover_bound=max(max_turnover, turnover),
        te_bound=max(max_tracking_error * TE_ROUNDING_MARGIN, te),
        min_turnover_needed=turnover,
        te_min_achievable=te,
        turnover_needed_for_te=None if te_met else math.inf,
        te_min_unbounded=None if te_met else te,
        turnover_limit_met=turnover <= max_turnover + 1e-9,
        te_limit_met=te_met,
        objective=objective,
        reinvest_proceeds=reinvest_proceeds,
        target_cash=target_cash,
        statuses={"a_min_turnover": SolveStatus.TRIVIAL},
        warnings=(PathWarning.NOTHING_TO_BUY,),
    )
