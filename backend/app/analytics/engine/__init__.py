"""The trade path: from current weights ``w0`` toward the target ``t`` under the constraint hierarchy.

All problems are convex (cvxpy, solver :data:`~app.analytics.solver_kit.SOLVER` pinned, status checked) over
the universe's post-trade weights ``w`` (fractions of the portfolio value *before* trading). With
``TO = Σ|w − w0|`` (turnover), ``κ = market_impact_bps / 10⁴`` and ``r`` a commission reserve (commission ×
tradable names / value):

hard, always (DESIGN levels 1–4)
    ``w ≥ 0``; halted ``w_i = w0_i``; not buyable (below min quality, unrated) ``w_i = 0`` (forced exits);
    sell-only names (held, but restricted or wash-sale blocked for the account) ``w_i ≤ w0_i``; the account's
    per-name bounds ``lower_i ≤ w_i ≤ upper_i`` (shares a wash sale keeps, shares a harvest sells);
    sell-only names (held, but restricted or wash-sale blocked for the account) ``w_i ≤ w0_i``; the account's
    per-name bounds ``lower_i ≤ w_i ≤ upper_i`` (shares a wash sale keeps, shares a harvest sells);
    cash ``1 − Σw − κ·TO − r ≥ 0``; single cap ``w_i ≤ cap·(1 − κ·TO − r)`` and sector caps likewise, so
    the caps hold on the post-cost portfolio value; **reinvestment** (level 4, unless ``reinvest_proceeds``
    is off): cash after may not exceed ``max(cash before, 1 − capacity)`` (dropped with
    :attr:`PathWarning.REINVESTMENT_DROPPED` if that alone is infeasible).

lexicographic stages
    (a) ``TO* = min TO``; turnover bound ``= max(max_turnover, TO*)``;
    (b) ``TE* = min TE(w)`` under (a)'s bound; TE bound ``= max(limit, TE*)``; when TE* is over the
        limit, ``min TO s.t. TE ≤ limit`` says what turnover the limit would need;
    (c) the objective (:class:`PathObjective`) under both bounds.

objective of (c), in consistent units (``TE²_t = 252·(w − t)ᵀΣ(w − t)``, annual, a fraction²)
    ``closest`` (default): ``TE²_t + σ·(κ·TO + taxes) + RIDGE·‖w − t‖²`` with the tie-break scale ``σ =
    min(1, CLOSEST_TIE_BREAK / ((turnover bound − TO*)·(κ + highest sell tax)))``. Turnover moves at most
    ``bound − TO*`` inside (c), so the term cannot move the optimum beyond rounding:
    ``TE²_t(w*) ≤ TE²_t(w°) + 1e-8 + RIDGE·‖w° − t‖²`` with
    ``w°`` the TE-closest feasible point — within 0.01 % TE of the target when it is reachable (``w° ≈ t``),
    below whole-share rounding. Costs do not pull the answer away from the target; they (and the ridge, for
    a singular Σ) only break near-ties.
    ``cost_aware``: ``λ·TE²_t + κ·TO + taxes + RIDGE·‖w − t‖²`` — TE² and costs both fractions of the
    portfolio value (taxes: the account's per-name sell tax per unit of weight sold, when lots are known),
    ``λ`` the tracking-error aversion (default 10.0). Commissions are fixed per trade (not convex):
    afterwards each optional trade whose benefit (the rise of ``λ·TE²_t`` if that name were not traded) is
    below its cost (``κ·|Δw| + commission / value`` + its sell tax) is skipped (the name kept at ``w0``) and
    (c) re-solved on the others, at most :data:`COST_AWARE_MAX_ROUNDS` times. Trades the higher levels require (forced
    exits, names at or over a cap, names of a sector over its cap) are never skipped.

exact fast path
    (a) is a linear programme (no risk term) and always runs first. When ``TO* ≤ max_turnover``, (c) is
    tried directly at the policy's bounds (``max_turnover``, the TE limit), with (a)'s reinvestment floor.
    Its feasibility implies ``TE* ≤ limit`` within ``max_turnover``, i.e. (b) would choose exactly those
    bounds, so an ``optimal`` answer *is* the lexicographic one and (b) is skipped (status
    :attr:`SolveStatus.SKIPPED`; TE* left ``None``). Otherwise (``TO*`` over the limit, or the direct
    attempt not optimal) the full sequence runs.

working sets
    above :data:`PATH_WORKING_SET_MIN` buyable names the direct attempt is first solved with only a working
    set of names traded (the farthest from target, those over a cap; the others fixed at w0) and accepted
    only with a certificate over every name: the LP of (c)'s linearised objective over the linear rules and
    the linearised TE row (a superset of the feasible set, by convexity) bounds ``f* ≥ f(w) − gap``; names
    the LP trades join the set. Accepted when ``gap ≤ PATH_CERTIFY_REL_GAP·f + PATH_CERTIFY_ABS_GAP``.
    Uncertified → every name (``metadata.stages.trade_path.c_direct_working_set`` says which).

scheduling
    (c) runs in a second thread beside the TE reports (turnover the limit would need, smallest TE at any
    turnover), which it does not depend on; Clarabel releases the GIL while it solves. Each is the same
    problem as alone, so the answer does not depend on the order of completion. The direct attempt runs
    alone: beside another solve it is slower (the two vCPUs of the bench VM share one core's FPUs).

Only the tradable names (buyable or sell-only) are variables: every other weight is fixed by levels 1–2
(halted at ``w0``, the rest at 0), so its share of turnover, sector sums and risk is a constant. The risk terms
are exact second-order cones in the buyable names alone: with ``Σ_BB = L Lᵀ`` (Cholesky) and the fixed part
``d = w_X − a_X`` (``a`` the benchmark or the target), completing the square gives

    ``(w − a)ᵀ Σ (w − a) = ‖Lᵀ w_B − c_a‖² + ρ_a²``,  ``c_a = Lᵀ a_B − L⁻¹ Σ_BX d``,
    ``ρ_a² = dᵀ Σ_XX d − ‖L⁻¹ Σ_BX d‖²`` (a Schur complement, ≥ 0),

so one shared upper-triangular block ``y = √252 · Lᵀ w_B`` (annualised) serves every risk term and no
dense N×N quadratic form is built.

Modules, along the data's path: :mod:`~app.analytics.engine.objective` (what (c) minimises),
:mod:`~app.analytics.engine.reduction` (constants in the tradable names), :mod:`~app.analytics.engine.rules`
(the hard rules as rows), :mod:`~app.analytics.engine.stages` (one solve each),
:mod:`~app.analytics.engine.working_set` (certified working sets), :mod:`~app.analytics.engine.skip`
(cost-aware skips), :mod:`~app.analytics.engine.path` (the sequence).
"""

from app.analytics.engine.objective import CLOSEST_TIE_BREAK, DEFAULT_TE_AVERSION, PathObjective
from app.analytics.engine.path import PathWarning, TradePath, solve_trade_path

__all__ = ["CLOSEST_TIE_BREAK", "DEFAULT_TE_AVERSION", "PathObjective", "PathWarning", "TradePath", "solve_trade_path"]
