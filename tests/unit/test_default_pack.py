"""The default pricing pack: newest as-of date, then latest sealing time, then id; never a pack too short
for the shortest lookback."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app.agents.packs import default_pack
from app.core.errors import PricingPackError
from app.domain import PricingPack
from app.domain.bounds import MIN_PACK_DATES

ASOF = date(2022, 12, 28)


def pack(pack_id: str, *, asof: date = ASOF, sealed_at: int = 0, n_dates: int = 1260) -> PricingPack:
    return PricingPack(id=pack_id, asof_date=asof, sealed=True, n_dates=n_dates,
                       sealed_at=datetime(2026, 1, 1, 12, sealed_at, tzinfo=UTC))


def test_ties_on_asof_go_to_the_later_sealed_pack_whatever_the_ids() -> None:
    early, late = pack("PP_Z", sealed_at=1), pack("PP_A", sealed_at=2)
    assert default_pack([early, late]).id == "PP_A"
    assert default_pack([late, early]).id == "PP_A"


def test_a_newer_asof_wins_over_a_later_seal() -> None:
    assert default_pack([pack("PP_NEW", asof=date(2022, 12, 29)), pack("PP_OLD", sealed_at=59)]).id == "PP_NEW"


def test_a_pack_too_short_for_any_lookback_is_never_the_default() -> None:
    short = pack("PP_T20", sealed_at=30, n_dates=5)
    assert default_pack([pack("PP_2022-12-28"), short]).id == "PP_2022-12-28"
    assert default_pack([pack("PP_EDGE", n_dates=MIN_PACK_DATES), short]).id == "PP_EDGE"
    with pytest.raises(PricingPackError, match=r"PP_T20 \(5 dates\)"):
        default_pack([short])
