"""Carrying answers from one questionnaire version (or year) to the next."""

from __future__ import annotations

import copy

import pytest

from questionnaires import carry_over_answers, load_definition, validate_answers


@pytest.fixture
def version2(definition):
    """v2: renames employees, drops reporting_year, offers fewer boundaries, makes sector_code
    an integer and removes the SBTi question."""
    data = copy.deepcopy(definition.to_dict())
    data["version"] = 2
    data["carry_over"] = {
        "from_version": 1,
        "map": {"employees": "headcount"},
        "drop": ["reporting_year"],
    }
    profile = data["sections"][0]["questions"]
    for q in profile:
        if q["key"] == "employees":
            q["key"] = "headcount"
        if q["key"] == "organisational_boundary":
            q["choices"] = [c for c in q["choices"] if c["value"] != "equity_share"]
        if q["key"] == "sector_code":
            q["type"] = "integer"
            q.pop("rules")
    for section in data["sections"]:
        section["questions"] = [q for q in section["questions"] if q["key"] != "sbti_status"]
    return load_definition(data)


def test_carry_over_between_versions(definition, version2, totals_answers):
    totals_answers["organisational_boundary"] = "equity_share"
    totals_answers["sector_code"] = "3311"
    carried = carry_over_answers(totals_answers, definition, version2)
    assert carried["headcount"] == 120 and "employees" not in carried
    assert "reporting_year" not in carried  # dropped
    assert "sbti_status" not in carried  # question removed
    assert "organisational_boundary" not in carried  # choice no longer offered
    assert "sector_code" not in carried  # text -> integer is not a compatible type
    assert carried["company_name"] == totals_answers["company_name"]
    assert carried["scope1_total"] == {"value": 120.5, "unit": "t CO2e"}
    assert validate_answers(version2, carried) == []


def test_same_version_keys_carry_by_default(definition, activity_answers):
    carried = carry_over_answers(activity_answers, definition, definition)
    assert carried == activity_answers


def test_normalised_answers_carry_what_was_entered(definition):
    previous = {
        "emissions_method": "activity",
        "purchased_heat": {
            "value": 27777.8,
            "unit": "kWh",
            "entered": {"value": 100, "unit": "GJ"},
        },
        "electricity_use": [
            {"grid_region": "CN", "quantity": {"value": 5, "unit": "MWh"}, "bogus": 1}
        ],
    }
    carried = carry_over_answers(previous, definition, definition)
    assert carried["purchased_heat"] == {"value": 100, "unit": "GJ"}
    assert carried["electricity_use"] == [
        {"grid_region": "CN", "quantity": {"value": 5, "unit": "MWh"}}
    ]


def test_map_only_applies_from_the_declared_version(definition, version2, totals_answers):
    older = load_definition({**definition.to_dict(), "version": 3})
    # version2 declares from_version 1, so answers of "version 3" are not renamed.
    carried = carry_over_answers(totals_answers, older, version2)
    assert "headcount" not in carried
