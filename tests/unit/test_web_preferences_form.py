"""The preferences form's merge into the stored settings (app.web.pages_preferences): what the form does not
show keeps its value, a blank field is None (an optional setting switched off, a required one refused by the
model), tax rates merge key by key, and the form shows the stored values in the model's units."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from app.agents.rebalancing_setup import ConfigureArgs
from app.domain.rebalancing import RebalanceSettings
from app.web.forms import field_errors
from app.web.pages_preferences import SETTING_FIELDS, merged_settings, setting_values

STORED = RebalanceSettings(portfolio_id="P1", target_source="optimizer", policy_id="quality_focused",
                           drift_rel_band=Decimal("0.25"), substitutes={"XOM": "CVX"},
                           commission_per_trade=Decimal("1.50"), tax_rates={"short_term": "0.30", "long_term": "0.10"})


def test_the_form_shows_the_stored_values_and_blank_for_none() -> None:
    values = setting_values(STORED)
    assert set(values) == set(SETTING_FIELDS)
    assert values["tax_rates.short_term"] == "0.30" and values["drift_rel_band"] == "0.25"
    assert values["model_portfolio_id"] == "" and values["frequency"] == ""
    assert setting_values(None)["lot_method"] == "hifo"  # nothing stored: the defaults


def test_fields_the_form_does_not_show_keep_their_values() -> None:
    posted = {**setting_values(STORED), "tax_rates.long_term": "0.12", "drift_rel_band": "", "csrf": "x"}
    args = ConfigureArgs.model_validate(merged_settings("P1", STORED, posted))
    assert args.substitutes == {"XOM": "CVX"} and args.commission_per_trade == Decimal("1.50")
    assert args.tax_rates.short_term == Decimal("0.30") and args.tax_rates.long_term == Decimal("0.12")
    assert args.drift_rel_band is None  # blank: off


def test_a_blank_required_field_and_a_bad_rate_are_named() -> None:
    posted = {**setting_values(STORED), "approval_threshold": " ", "tax_rates.short_term": "1.5"}
    with pytest.raises(ValidationError) as caught:
        ConfigureArgs.model_validate(merged_settings("P1", STORED, posted))
    errors = field_errors(caught.value)
    assert set(errors) == {"approval_threshold", "tax_rates.short_term"}, errors
    assert "1.5" in errors["tax_rates.short_term"]


def test_without_stored_settings_the_form_alone_with_defaults() -> None:
    posted = {**setting_values(None), "target_source": "optimizer", "policy_id": "aggressive_growth"}
    args = ConfigureArgs.model_validate(merged_settings("P2", None, posted))
    assert args.portfolio_id == "P2" and args.policy_id == "aggressive_growth"
    assert args.approval_threshold == Decimal("10000") and args.substitutes == {}
