"""Pydantic model of a scenario file and its loader.

A scenario carries everything for one rebalance: pricing pack (prices from a CSV next to the file or
inline), securities with sector/quality/lot size, benchmark weights, the portfolio, the policy (a seeded
template id or an inline template) and engine options. Golden files add ``"expected"``.
Errors name the file, the JSON path and the value (:class:`~app.core.errors.ScenarioError`).
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from app.analytics.inputs import RebalanceOptions
from app.core.errors import ScenarioError
from app.domain.bounds import Money, PositiveShares, Shares
from app.domain.enums import SecurityStatus
from app.domain.models import SYMBOL_RE, ConstraintDefaults, Identifier, Policy, Symbol


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ScenarioPack(_Strict):
    id: Identifier
    asof: date
    prices_csv: str | None = Field(default=None, description="path relative to the scenario file")
    prices: dict[str, list[Any]] | None = Field(
        default=None, description='inline table: {"Date": [...], "AAPL": [...], ...}'
    )

    @model_validator(mode="after")
    def _one_source(self) -> ScenarioPack:
        if (self.prices_csv is None) == (self.prices is None):
            raise ValueError("give exactly one of prices_csv or prices")
        return self


class ScenarioSecurity(_Strict):
    symbol: Symbol
    sector: str = Field(min_length=1)
    quality_score: float = Field(ge=0.0, le=10.0)
    lot_size: PositiveShares = Decimal(1)
    name: str | None = None
    asset_class: str = "Equity"
    currency: str = "USD"
    status: SecurityStatus = SecurityStatus.ACTIVE


class ScenarioBenchmark(_Strict):
    id: Identifier = "SCENARIO_BENCHMARK"
    name: str = "Scenario benchmark"
    weights: dict[str, Decimal]


class ScenarioHolding(_Strict):
    symbol: Symbol
    shares: Shares


class ScenarioPortfolio(_Strict):
    id: Identifier
    name: str | None = None
    cash: Money
    holdings: list[ScenarioHolding] = Field(default_factory=list)

    @field_validator("holdings")
    @classmethod
    def _unique(cls, holdings: list[ScenarioHolding]) -> list[ScenarioHolding]:
        seen: set[str] = set()
        for h in holdings:
            if h.symbol in seen:
                raise ValueError(f"symbol {h.symbol} held twice")
            seen.add(h.symbol)
        return holdings


def _policy_kind(value: Any) -> str:
    return _INLINE_POLICY if isinstance(value, (dict, BaseModel)) else _POLICY_ID


_POLICY_ID, _INLINE_POLICY = "template id", "inline template"
#: a template id, or an inline template: the value's type picks the branch, so an inline template's error
#: names its own field, rule and value (not "Input should be a valid string" from the id branch)
PolicyChoice = Annotated[
    Annotated[Identifier, Tag(_POLICY_ID)] | Annotated[Policy, Tag(_INLINE_POLICY)],
    Discriminator(_policy_kind),
]


class Scenario(_Strict):
    scenario_id: Identifier
    description: str = ""
    pricing_pack: ScenarioPack
    securities: list[ScenarioSecurity] = Field(min_length=1)
    benchmark: ScenarioBenchmark
    portfolio: ScenarioPortfolio
    policy: PolicyChoice = Field(description="a seeded template id, or an inline template (fractions of 1)")
    options: RebalanceOptions = Field(default_factory=RebalanceOptions)
    constraint_defaults: ConstraintDefaults | None = None
    strict: bool = False
    expected: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _known_symbols(self) -> Scenario:
        known = {s.symbol for s in self.securities}
        if len(known) != len(self.securities):
            raise ValueError("securities: a symbol is listed twice")
        for sym in self.benchmark.weights:
            if not SYMBOL_RE.match(sym):
                raise ValueError(f"benchmark.weights: bad symbol {sym!r}")
            if sym not in known:
                raise ValueError(f"benchmark.weights: {sym} is not among securities")
        for h in self.portfolio.holdings:
            if h.symbol not in known:
                raise ValueError(f"portfolio.holdings: {h.symbol} is not among securities")
        total = sum(self.benchmark.weights.values(), Decimal(0))
        if abs(total - 1) > Decimal("0.0001"):
            raise ValueError(f"benchmark.weights sum to {total}, not 1")
        return self

    # the path of the file, for relative prices_csv; not part of the model's data
    _source: Path | None = None

    @property
    def source(self) -> Path | None:
        return self._source


def _json_path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if part in (_POLICY_ID, _INLINE_POLICY):  # a union branch's tag, not a JSON key
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "$"


def scenario_from_dict(data: Any, *, source: str = "<scenario>", base: Path | None = None) -> Scenario:
    """Validate a parsed scenario; errors name ``source``, the JSON path and the value."""
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        path = _json_path(tuple(p for p in err["loc"] if not str(p).startswith("function-after")))
        value = err.get("input")
        shown = value if isinstance(value, (str, int, float, bool)) or value is None else None
        msg = err["msg"].removeprefix("Value error, ")
        raise ScenarioError(
            f"{source}: {path}: {msg}" + (f" (value={shown!r})" if shown is not None else "")
        ) from None
    object.__setattr__(scenario, "_source", base)
    return scenario


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario JSON file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ScenarioError(f"{p}: cannot read scenario file ({exc.strerror})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ScenarioError(f"{p}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    return scenario_from_dict(data, source=str(p), base=p.resolve().parent)
