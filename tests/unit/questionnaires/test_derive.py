"""From answers to a disclosure: reported totals, activity data and provenance."""

from __future__ import annotations

import json
from dataclasses import fields
from decimal import Decimal

import pytest

from questionnaires import (
    DerivedDisclosure,
    InvalidAnswersError,
    derive_disclosure,
    maturity_points,
)
from tests.support.questionnaire_samples import REF

activity_emissions = pytest.importorskip("spend_factors").activity_emissions

FIELDS_WITHOUT_PROVENANCE = {"questionnaire_key", "questionnaire_version", "provenance", "warnings"}


def test_totals_are_reported_in_kg(definition, totals_answers):
    totals_answers["scope2_market_total"] = {"value": 250000, "unit": "kg CO2e"}
    d = derive_disclosure(definition, totals_answers, response_ref=REF)
    assert d.emissions_method == "totals"
    assert d.scope1_kg == pytest.approx(120500.0)
    assert d.scope2_location_kg == pytest.approx(300000.0)
    assert d.scope2_market_kg == pytest.approx(250000.0)
    assert d.provenance["scope1_kg"] == {
        "method": "reported",
        "question": "scope1_total",
        **REF,
        "entered": {"value": 120.5, "unit": "t CO2e"},
    }
    assert d.provenance["scope2_market_kg"]["question"] == "scope2_market_total"


def test_profile_fields(definition, totals_answers):
    d = derive_disclosure(definition, totals_answers, response_ref=REF)
    assert d.reporting_year == 2023 and d.employees == 120
    assert d.revenue == Decimal("8000000.00") and d.revenue_currency == "CNY"
    assert d.revenue_year == 2023
    assert d.allocation_share == pytest.approx(0.15)
    assert d.allocation_method == "revenue_share"
    assert d.allocation_uncertainty_pct == 10.0
    assert d.sbti_status == "none"
    assert d.verification == {"third_party": False}
    assert d.data_sources == {
        "emissions": "production_records",
        "revenue": "audited_accounts",
        "allocation": "finance_records",
    }
    assert d.scope3_upstream_kg is None
    assert d.provenance["scope3_upstream_kg"]["method"] == "not-answered"


def test_provenance_on_every_field(definition, totals_answers, activity_answers):
    for answers in (totals_answers, activity_answers):
        d = derive_disclosure(definition, answers, response_ref=REF)
        for f in fields(DerivedDisclosure):
            if f.name in FIELDS_WITHOUT_PROVENANCE:
                continue
            entry = d.provenance.get(f.name)
            assert entry, f"no provenance for {f.name}"
            if entry["method"] != "not-asked":
                assert entry["response_id"] == 42 and entry["questionnaire_version"] == 1, f.name
        json.dumps(d.to_dict(), ensure_ascii=False)
        details = json.loads(json.dumps(d.details_dict()))
        assert "provenance" not in details and details["maturity"] == d.maturity


def test_activity_data_matches_spend_factors(definition, activity_answers):
    d = derive_disclosure(definition, activity_answers, response_ref=REF)
    grid = activity_emissions(100_000, "kWh", "electricity_grid", region="CN", year=2023)
    # MEE/NBS national average for data year 2023: 0.5306 kg CO2/kWh (issue 10, section 4).
    diesel = activity_emissions(10, "t", "diesel", year=2023)
    assert d.emissions_method == "activity"
    assert d.scope2_location_kg == pytest.approx(grid.kg_co2e, rel=1e-12)
    assert d.scope2_location_kg == pytest.approx(100_000 * 0.5306, rel=1e-9)
    assert d.scope1_kg == pytest.approx(diesel.kg_co2e, rel=1e-12)
    prov = d.provenance["scope2_location_kg"]
    assert prov["method"] == "computed-from-activity"
    assert prov["questions"] == ["electricity_use"]
    assert prov["response_id"] == 42 and prov["submission"] == 1
    [factor] = prov["factors"]
    assert factor["activity"] == "electricity_grid" and factor["region"] == "CN"
    assert factor["year"] == 2023 and factor["factor"] == pytest.approx(0.5306)
    assert factor["kg_co2e"] == pytest.approx(grid.kg_co2e)
    assert "Ministry of Ecology and Environment" in factor["source"]
    assert d.provenance["scope1_kg"]["factors"][0]["activity"] == "diesel"


def test_activity_units_and_heat_and_process(definition, activity_answers):
    activity_answers["electricity_use"] = [
        {"grid_region": "CN", "quantity": {"value": 60, "unit": "MWh"}},
        {"grid_region": "CN", "quantity": {"value": 144, "unit": "GJ"}},  # = 40 MWh
    ]
    activity_answers["purchased_heat"] = {"value": 100, "unit": "GJ"}
    activity_answers["other_direct_emissions"] = {"value": 2, "unit": "t CO2e"}
    d = derive_disclosure(definition, activity_answers, response_ref=REF)
    heat = activity_emissions(100, "GJ", "purchased_heat", region="CN", year=2023)
    grid = activity_emissions(100_000, "kWh", "electricity_grid", region="CN", year=2023)
    # MEE/NBS national average for data year 2023: 0.5306 kg CO2/kWh (issue 10, section 4).
    diesel = activity_emissions(10, "t", "diesel", year=2023)
    assert d.scope2_location_kg == pytest.approx(grid.kg_co2e + heat.kg_co2e, rel=1e-9)
    assert d.scope1_kg == pytest.approx(diesel.kg_co2e + 2000, rel=1e-9)
    assert d.provenance["scope1_kg"]["questions"] == ["fuel_use", "other_direct_emissions"]
    assert len(d.provenance["scope2_location_kg"]["factors"]) == 3


def test_activity_without_fuels_has_zero_scope1(definition, activity_answers):
    del activity_answers["fuel_use"]
    d = derive_disclosure(definition, activity_answers, response_ref=REF)
    assert d.scope1_kg == 0.0
    assert d.provenance["scope1_kg"]["factors"] == []


def test_hidden_totals_do_not_leak_into_activity(definition, activity_answers):
    activity_answers["scope1_total"] = {"value": 999, "unit": "t CO2e"}
    d = derive_disclosure(definition, activity_answers, response_ref=REF)
    assert d.provenance["scope1_kg"]["method"] == "computed-from-activity"
    assert d.scope1_kg < 999_000


def test_market_based_from_renewable_share(definition, activity_answers):
    activity_answers["purchased_heat"] = {"value": 100, "unit": "GJ"}
    activity_answers["renewable_electricity_share"] = 25
    d = derive_disclosure(definition, activity_answers, response_ref=REF)
    electricity = d.provenance["scope2_location_kg"]["electricity_kg"]
    assert d.scope2_market_kg == pytest.approx(d.scope2_location_kg - 0.25 * electricity)
    assert d.provenance["scope2_market_kg"]["method"] == "estimated-from-renewable-share"
    assert d.renewable_electricity_share == 0.25


def test_market_based_falls_back_to_location(definition, totals_answers):
    d = derive_disclosure(definition, totals_answers, response_ref=REF)
    assert d.scope2_market_kg == d.scope2_location_kg
    assert d.provenance["scope2_market_kg"]["method"] == "location-based-fallback"


def test_factor_failures_become_warnings_not_wrong_numbers(definition, activity_answers):
    def failing(quantity, unit, activity, region=None, year=None):
        raise LookupError(f"no factor for {activity} {region}")

    d = derive_disclosure(definition, activity_answers, response_ref=REF, emissions_fn=failing)
    assert d.scope1_kg is None and d.scope2_location_kg is None
    assert d.provenance["scope2_location_kg"]["errors"]
    assert any("electricity_use[0]" in w for w in d.warnings)


def test_injected_factor_function_receives_canonical_quantities(definition, activity_answers):
    calls = []

    def fake(quantity, unit, activity, region=None, year=None):
        calls.append((quantity, unit, activity, region, year))
        return {
            "kg_co2e": 1.0,
            "factor": 1.0,
            "factor_unit": "kg/x",
            "source": "test",
            "year_applied": year,
            "activity": activity,
            "region": region,
        }

    activity_answers["electricity_use"][0]["quantity"] = {"value": 2, "unit": "MWh"}
    derive_disclosure(definition, activity_answers, response_ref=REF, emissions_fn=fake)
    assert (2000.0, "kWh", "electricity_grid", "CN", 2023) in calls
    assert (10000.0, "kg", "diesel", None, 2023) in calls


def test_maturity_points(definition, totals_answers):
    points = maturity_points(definition, totals_answers)
    assert points["governance"] == {"earned": 2.0, "possible": 3.0}
    assert points["measurement"]["earned"] == 3 + 1 + 2  # production, revenue share, finance
    totals_answers.update(
        verified_third_party=True,
        verification_standard="iso14064_3",
        verification_assurance_level="reasonable",
        verification_evidence=[{"file_id": "1", "filename": "v.pdf"}],
    )
    assert maturity_points(definition, totals_answers)["verification"] == {
        "earned": 5.0,
        "possible": 5.0,
    }
    d = derive_disclosure(definition, totals_answers, response_ref=REF)
    assert d.maturity["verification"]["earned"] == 5.0
    assert d.verification["assurance_level"] == "reasonable"


def test_product_footprints_and_targets(definition, totals_answers):
    totals_answers.update(
        has_target=True,
        target_type="absolute",
        target_scopes=["scope1", "scope2"],
        target_base_year=2020,
        target_year=2030,
        target_reduction_pct=42,
        sbti_status="committed",
        product_footprints=[
            {
                "product_id": "P-100",
                "declared_unit": "1 件",
                "kg_co2e_per_unit": {"value": 0.8, "unit": "kg CO2e"},
                "standard": "iso14067",
                "period_start": "2023-01-01",
                "period_end": "2023-12-31",
            }
        ],
    )
    d = derive_disclosure(definition, totals_answers, response_ref=REF)
    assert d.targets == {
        "exists": True,
        "type": "absolute",
        "scopes": ["scope1", "scope2"],
        "base_year": 2020,
        "year": 2030,
        "reduction_pct": 42.0,
    }
    assert d.sbti_status == "committed"
    assert d.product_footprints == [
        {
            "product_id": "P-100",
            "declared_unit": "1 件",
            "kg_co2e_per_unit": 0.8,
            "standard": "iso14067",
            "period_start": "2023-01-01",
            "period_end": "2023-12-31",
        }
    ]


def test_invalid_answers_are_refused_not_dropped(definition, activity_answers):
    activity_answers["electricity_use"][0]["quantity"] = {"value": 1e12, "unit": "MWh"}
    with pytest.raises(InvalidAnswersError) as info:
        derive_disclosure(definition, activity_answers, response_ref=REF)
    assert info.value.errors[0].question_key == "electricity_use"
