"""``POST /api/v1/portfolios/{id}/tax-preview`` (AC-2.3.7's numbers) against a REAL ``dawsos serve`` on
SQLite and PostgreSQL: the trades a rebalance would make now, the lots their sales take under the account's lot
method, realised gains by term and the estimated tax at the account's rates - and nothing stored."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.integration.service_harness import (
    bearer,
    dawsos,
    make_users,
    module_database,
    require_postgres,
    running_server,
)
from tests.integration.test_dashboard_preferences_browser import LOTS

pytestmark = pytest.mark.slow
CENT = Decimal("0.01")
GRANTS = {"victor": {"P1": "viewer"}, "oscar": {"P2": "owner"}}
SETTINGS = {"target_source": "optimizer", "policy_id": "quality_focused", "lot_method": "fifo",
            "tax_rates": {"short_term": "0.35", "long_term": "0.15"}}


@dataclass
class Api:
    url: str
    folder: Path
    tokens: dict[str, str]
    client: httpx.Client

    def preview(self, portfolio_id: str = "P1", user: str = "victor", body: Any = None) -> httpx.Response:
        return self.client.post(f"/api/v1/portfolios/{portfolio_id}/tax-preview", json=body if body is not None
                                else {}, headers=bearer(self.tokens[user]))

    def configure(self, **changes: Any) -> None:
        path = self.folder / "settings.json"
        path.write_text(json.dumps({**SETTINGS, **changes}))
        done = dawsos(self.url, "rebalancing", "settings", "set", "P1", "--file", str(path))
        assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def api(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    if request.param == "postgres":
        require_postgres()
    folder = tmp_path_factory.mktemp(f"tax-preview-{request.param}")
    with module_database(request.param, request.getfixturevalue("_seeded_templates"), folder) as url:
        tokens = make_users(url, GRANTS)
        (folder / "lots.json").write_text(json.dumps({"lots": LOTS}))
        done = dawsos(url, "rebalancing", "lots", "set", "P1", "--file", str(folder / "lots.json"))
        assert done.returncode == 0, done.stderr
        with running_server(url, folder, workers=1, grpc=False) as server, \
                httpx.Client(base_url=server.base, timeout=300) as client:
            yield Api(url=url, folder=folder, tokens=tokens, client=client)


def stored(api: Api) -> tuple[Any, Any]:
    """What the portfolio has on record: its proposals and its history (rebalancing runs included)."""
    head = bearer(api.tokens["victor"])
    return (api.client.get("/api/v1/proposals?portfolio_id=P1", headers=head).json(),
            api.client.get("/api/v1/portfolios/P1/history", headers=head).json())


def test_refusals_before_any_settings(api: Api) -> None:
    assert api.preview("P1", "oscar").status_code == 403  # no role on P1
    unknown = api.preview("NOPE", "oscar")
    assert unknown.status_code in (403, 404), unknown.text
    none = api.preview("P1")
    assert none.status_code == 409 and "rebalancing settings" in none.json()["detail"], none.text
    assert api.preview(body={"pricing_pack_id": ""}).status_code == 422


def test_gains_by_lot_and_term_add_up_and_nothing_is_stored(api: Api) -> None:
    api.configure()
    before = stored(api)
    started = time.perf_counter()
    answer = api.preview()
    print(f"tax preview: {time.perf_counter() - started:.2f} s, {len(answer.json().get('trades', []))} trades")
    assert answer.status_code == 200, answer.text
    doc = answer.json()
    assert doc["lot_method"] == "fifo" and doc["tax_rates"] == {"short_term": "0.35", "long_term": "0.15"}
    sells = [t for t in doc["trades"] if t["action"] == "SELL"]
    assert sells and all(t["lots"] for t in sells)
    short = long = Decimal(0)
    for trade in sells:
        assert sum(Decimal(lot["quantity"]) for lot in trade["lots"]) == Decimal(trade["quantity"])
        acquired = [lot["acquired"] for lot in trade["lots"]]
        assert acquired == sorted(acquired), "fifo sells the oldest lot first"
        for lot in trade["lots"]:
            assert Decimal(lot["cost"]) == (Decimal(lot["cost_basis"]) * Decimal(lot["quantity"])).quantize(CENT)
            assert Decimal(lot["gain"]) == Decimal(lot["proceeds"]) - Decimal(lot["cost"]), lot
            if lot["term"] == "short_term":
                short += Decimal(lot["gain"])
            else:
                long += Decimal(lot["gain"])
    realised = doc["realised"]
    assert Decimal(realised["short_term"]) == short and Decimal(realised["long_term"]) == long
    if short >= 0 and long >= 0:
        assert Decimal(realised["tax_short_term"]) == (short * Decimal("0.35")).quantize(CENT)
        assert Decimal(realised["tax_long_term"]) == (long * Decimal("0.15")).quantize(CENT)
    assert Decimal(realised["tax_total"]) == Decimal(realised["tax_short_term"]) + Decimal(realised["tax_long_term"])
    started = time.perf_counter()
    assert api.preview().json() == doc  # the same inputs, the same preview
    print(f"again: {time.perf_counter() - started:.2f} s")
    assert stored(api) == before
    assert {t["symbol"]: t["lots"][0]["lot_id"] for t in sells}["AAPL"] == "P1-AAPL-1"


def test_the_lot_method_and_rates_are_the_accounts(api: Api) -> None:
    api.configure(lot_method="hifo", tax_rates={"short_term": "0.40", "long_term": "0.10"})
    doc = api.preview().json()
    assert doc["lot_method"] == "hifo" and doc["tax_rates"]["short_term"] == "0.40"
    first = {t["symbol"]: t["lots"][0]["lot_id"] for t in doc["trades"] if t["lots"]}
    assert first["AAPL"] == "P1-AAPL-2", "hifo takes the loss lot (cost 170 > price) first; fifo took P1-AAPL-1"
    realised = doc["realised"]
    assert Decimal(realised["short_term"]) == sum(Decimal(t["realised_gain_short"]) for t in doc["trades"])
