"""The rules forms (console/rule_forms.py): posting a form unchanged leaves its section
unchanged, and the fields map onto the section the settings API validates."""

from __future__ import annotations

import pytest

from chalicelib import merchant_settings
from chalicelib.console import rule_forms
from chalicelib.errors import MalformedPayload
from chalicelib.store.models import MerchantItem


def _defaults(section: str) -> dict:
    merchant = MerchantItem(pk="MERCHANT#m", sk="META", merchant_id="m")
    return merchant_settings.load_settings(merchant)[section]


def _posted_returns(current: dict) -> dict[str, str]:
    """What a browser posts for the return form as shown (checked boxes only)."""
    shown = rule_forms.returns_fields(current)
    posted = {
        k: str(v) for k, v in shown.items() if k not in ("reasons",) and not isinstance(v, bool)
    }
    posted.update({k: "1" for k, v in shown.items() if v is True})
    posted.update({f"reason.{r['name']}": "1" for r in shown["reasons"] if r["checked"]})
    return posted


def _posted_sla(current: dict) -> dict[str, str]:
    shown = rule_forms.sla_fields(current)
    posted = {"vip_multiplier": shown["vip_multiplier"]}
    if shown["business_hours"]:
        posted["business_hours"] = "1"
    for row in shown["rows"]:
        for cell in row["cells"]:
            for target in rule_forms.SLA_FORM_TARGETS:
                posted[f"t.{row['type']}.{cell['priority']}.{target}"] = cell[target]
    return posted


def test_an_unchanged_return_form_gives_back_the_same_section():
    current = _defaults("returns")
    assert rule_forms.returns_value(current, _posted_returns(current)) == current


def test_an_unchanged_sla_form_gives_back_the_same_section():
    current = _defaults("sla")
    value = rule_forms.sla_value(current, _posted_sla(current))
    assert value == current
    merchant_settings.validate_section("sla", value)


def test_return_fields_map_onto_the_section():
    current = _defaults("returns")
    posted = _posted_returns(current) | {
        "window_days": "14",
        "excluded_skus": " A-1 ,B-2\nA-1",
        "auto_approve_max_value": "99.50",
    }
    del posted["auto_approve"]  # unticked
    value = rule_forms.returns_value(current, posted)
    assert value["window_days"] == 14 and value["excluded_skus"] == ["A-1", "B-2"]
    assert value["auto_approve"] is False and value["auto_approve_max_value"] == "99.50"
    merchant_settings.validate_section("returns", value)


def test_sla_hours_become_iso_durations_and_blank_cells_fall_back():
    current = _defaults("sla")
    posted = _posted_sla(current) | {"t.return.urgent.first_response": "0.5"}
    posted["t.exchange.*.first_response"] = posted["t.exchange.*.resolution"] = ""
    value = rule_forms.sla_value(current, posted)
    assert value["targets"]["return"]["urgent"] == {
        "first_response": "PT30M",
        "next_reply": "PT30M",
    }
    assert "exchange" not in value["targets"]


@pytest.mark.parametrize("hours", ["0", "-1", "soon", "9000"])
def test_sla_hours_must_be_a_positive_number(hours):
    current = _defaults("sla")
    with pytest.raises(MalformedPayload):
        rule_forms.sla_value(current, {"t.*.*.first_response": hours})


def test_only_returns_and_sla_have_forms():
    with pytest.raises(MalformedPayload, match="edit it as JSON"):
        rule_forms.to_section("digest", {}, {})
