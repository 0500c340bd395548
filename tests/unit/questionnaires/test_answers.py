"""Answer validation (draft vs submit) and normalisation to canonical units."""

from __future__ import annotations

import pytest

from questionnaires import MESSAGES, load_definition, normalise_answers, validate_answers

T = {"en": "Text", "zh": "文本"}


def codes(errors):
    return [(e.question_key, e.code) for e in errors]


def test_complete_answers_submit_cleanly(definition, totals_answers, activity_answers):
    assert validate_answers(definition, totals_answers, for_submit=True) == []
    assert validate_answers(definition, activity_answers, for_submit=True) == []


def test_draft_skips_required_but_submit_requires_visible_questions(definition):
    draft = {"emissions_method": "totals"}
    assert validate_answers(definition, draft) == []
    errors = validate_answers(definition, draft, for_submit=True)
    required = {e.question_key for e in errors if e.code == "required"}
    assert {"company_name", "scope1_total", "scope2_location_total", "allocation_share"} <= required
    # Activity questions are hidden under the totals method, so never required.
    assert not required & {"electricity_use", "fuel_use"}
    # Optional questions are never required.
    assert "scope2_market_total" not in required


def test_hidden_answers_are_ignored_even_when_invalid(definition, totals_answers):
    totals_answers["electricity_use"] = [{"grid_region": "XX", "quantity": "lots"}]
    totals_answers["verification_standard"] = "made_up"  # hidden: not verified
    assert validate_answers(definition, totals_answers, for_submit=True) == []
    normalised = normalise_answers(definition, totals_answers)
    assert "electricity_use" not in normalised and "verification_standard" not in normalised


def test_follow_up_questions_become_required_when_shown(definition, totals_answers):
    totals_answers["verified_third_party"] = True
    errors = validate_answers(definition, totals_answers, for_submit=True)
    assert {
        ("verification_standard", "required"),
        ("verification_evidence", "required"),
        ("verification_assurance_level", "required"),
    } <= set(codes(errors))
    totals_answers.update(
        verification_standard="other",
        verification_assurance_level="limited",
        verification_evidence=[{"file_id": "f-1", "filename": "核查声明.pdf"}],
    )
    assert codes(validate_answers(definition, totals_answers, for_submit=True)) == [
        ("verification_standard_other", "required")
    ]


def test_units_are_converted_to_canonical(definition, activity_answers):
    activity_answers["electricity_use"][0]["quantity"] = {"value": 12.5, "unit": "MWh"}
    activity_answers["purchased_heat"] = {"value": 36, "unit": "GJ"}
    activity_answers["other_direct_emissions"] = {"value": 1.5, "unit": "tCO2e"}
    out = normalise_answers(definition, activity_answers)
    assert out["electricity_use"][0]["quantity"] == {
        "value": 12500.0,
        "unit": "kWh",
        "entered": {"value": 12.5, "unit": "MWh"},
    }
    assert out["purchased_heat"]["value"] == pytest.approx(10000.0)
    assert out["purchased_heat"]["unit"] == "kWh"
    assert out["other_direct_emissions"] == {
        "value": 1500.0,
        "unit": "kg CO2e",
        "entered": {"value": 1.5, "unit": "tCO2e"},
    }


def test_bare_number_uses_default_unit(definition, totals_answers):
    totals_answers["scope1_total"] = 2
    assert normalise_answers(definition, totals_answers)["scope1_total"]["value"] == 2000.0


def test_wrong_dimension_names_question_and_both_units(definition, activity_answers):
    activity_answers["purchased_heat"] = {"value": 5, "unit": "kg"}
    [error] = validate_answers(definition, activity_answers)
    assert error.question_key == "purchased_heat" and error.code == "wrong_dimension"
    assert "'kg'" in error.message and "'GJ'" in error.message and "energy" in error.message
    [zh] = validate_answers(definition, activity_answers, locale="zh")
    assert "“kg”" in zh.message and "能量" in zh.message and "GJ" in zh.message
    assert "purchased_heat" not in normalise_answers(definition, activity_answers)


def test_plain_mass_is_not_an_emission(definition, totals_answers):
    totals_answers["scope1_total"] = {"value": 5, "unit": "t"}
    assert codes(validate_answers(definition, totals_answers)) == [
        ("scope1_total", "wrong_dimension")
    ]


def test_unknown_unit_and_cell_position(definition, activity_answers):
    activity_answers["fuel_use"].append({"fuel": "coal", "quantity": {"value": 1, "unit": "xyzzy"}})
    [error] = validate_answers(definition, activity_answers)
    assert (error.question_key, error.code, error.row, error.column) == (
        "fuel_use",
        "unknown_unit",
        1,
        "quantity",
    )


def test_fuel_quantity_accepts_mass_or_energy_but_not_volume(definition, activity_answers):
    activity_answers["fuel_use"] = [
        {"fuel": "natural_gas", "quantity": {"value": 500, "unit": "GJ"}},
        {"fuel": "lpg", "quantity": {"value": 800, "unit": "kg"}},
        {"fuel": "diesel", "quantity": {"value": 1000, "unit": "L"}},
    ]
    errors = validate_answers(definition, activity_answers)
    assert [(e.row, e.code) for e in errors] == [(2, "wrong_dimension")]


def test_negative_and_absurd_values(definition, totals_answers):
    totals_answers["scope1_total"] = {"value": -1, "unit": "t CO2e"}
    totals_answers["scope2_location_total"] = {"value": 2e8, "unit": "t CO2e"}
    totals_answers["employees"] = -3
    got = {(e.question_key, e.code) for e in validate_answers(definition, totals_answers)}
    assert got == {
        ("scope1_total", "below_min"),
        ("scope2_location_total", "above_max"),
        ("employees", "below_min"),
    }


def test_max_rule_is_in_the_questions_unit(definition, totals_answers):
    # max is 1e8 t CO2e; the same amount entered in kg is fine, 1 kg more than that in t is not.
    totals_answers["scope1_total"] = {"value": 1e11, "unit": "kg CO2e"}
    assert validate_answers(definition, totals_answers) == []
    totals_answers["scope1_total"] = {"value": 1.01e11, "unit": "kg CO2e"}
    assert codes(validate_answers(definition, totals_answers)) == [("scope1_total", "above_max")]


@pytest.mark.parametrize(
    "value,ok",
    [
        (0, True),
        (100, True),
        (55.5, True),
        (-0.1, False),
        (100.01, False),
        ("abc", False),
        (True, False),
    ],
)
def test_percentage_range(definition, totals_answers, value, ok):
    totals_answers["allocation_share"] = value
    errors = validate_answers(definition, totals_answers)
    assert (errors == []) is ok
    if not ok:
        assert errors[0].question_key == "allocation_share"
        assert errors[0].code in ("percentage_range", "not_a_number")


def test_percentage_message_is_translated(definition, totals_answers):
    totals_answers["allocation_share"] = 120
    [en] = validate_answers(definition, totals_answers)
    [zh] = validate_answers(definition, totals_answers, locale="zh")
    assert en.message == MESSAGES["percentage_range"]["en"]
    assert zh.message == "请输入 0 到 100 之间的百分比。"


def test_choices(definition, totals_answers):
    totals_answers["organisational_boundary"] = "whatever"
    totals_answers["scope3_known"] = True
    totals_answers["scope3_upstream_total"] = {"value": 10, "unit": "t CO2e"}
    totals_answers["scope3_categories"] = ["purchased_goods", "teleportation"]
    errors = validate_answers(definition, totals_answers)
    assert codes(errors) == [
        ("organisational_boundary", "invalid_choice"),
        ("scope3_categories", "invalid_choice"),
    ]
    assert "'teleportation'" in errors[1].message


def test_multiple_choice_deduplicates(definition, totals_answers):
    totals_answers.update(scope3_known=True, scope3_categories=["waste", "waste", "commuting"])
    assert normalise_answers(definition, totals_answers)["scope3_categories"] == [
        "waste",
        "commuting",
    ]


@pytest.mark.parametrize(
    "value,code",
    [
        ("2023-02-30", "invalid_date"),
        ("31/12/2023", "invalid_date"),
        ("2010-12-31", "below_min"),
        (20231231, "invalid_date"),
    ],
)
def test_dates(definition, totals_answers, value, code):
    totals_answers["reporting_period_end"] = value
    assert codes(validate_answers(definition, totals_answers)) == [("reporting_period_end", code)]


def test_date_normalised_to_iso(definition, totals_answers):
    totals_answers["reporting_period_end"] = "2024-03-31"
    assert normalise_answers(definition, totals_answers)["reporting_period_end"] == "2024-03-31"


def test_unknown_question_key(definition, totals_answers):
    totals_answers["scope_one"] = 3
    errors = validate_answers(definition, totals_answers, locale="zh")
    assert codes(errors) == [("scope_one", "unknown_question")]
    assert "scope_one" in errors[0].message


def test_unknown_column(definition, activity_answers):
    activity_answers["fuel_use"][0]["colour"] = "red"
    [error] = validate_answers(definition, activity_answers)
    assert (error.code, error.row, error.column) == ("unknown_column", 0, "colour")


def test_table_sum_rule(definition, totals_answers):
    totals_answers["energy_data_mix"] = [
        {"source": "production_records", "share_pct": 70},
        {"source": "estimates", "share_pct": 40},
    ]
    [error] = validate_answers(definition, totals_answers)
    assert (error.question_key, error.code, error.column) == (
        "energy_data_mix",
        "sum_above_max",
        "share_pct",
    )
    assert "110" in error.message and "100" in error.message
    totals_answers["energy_data_mix"][1]["share_pct"] = 30
    assert validate_answers(definition, totals_answers) == []


def test_table_rows_required_cells_and_max_rows(definition, activity_answers):
    activity_answers["electricity_use"] = []
    errors = validate_answers(definition, activity_answers, for_submit=True)
    assert ("electricity_use", "required") in codes(errors)
    activity_answers["electricity_use"] = [{"site": "A"}]
    errors = validate_answers(definition, activity_answers, for_submit=True)
    assert {(e.row, e.column, e.code) for e in errors} == {
        (0, "grid_region", "required"),
        (0, "quantity", "required"),
    }
    assert validate_answers(definition, activity_answers) == []  # fine as a draft
    activity_answers["energy_data_mix"] = [{"source": "estimates", "share_pct": 1}] * 5
    assert ("energy_data_mix", "too_many_rows") in codes(
        validate_answers(definition, activity_answers)
    )


def test_currency_amount(definition, totals_answers):
    totals_answers["revenue"] = {"amount": "1,250,000.50", "currency": "usd"}
    assert normalise_answers(definition, totals_answers)["revenue"] == {
        "amount": "1250000.50",
        "currency": "USD",
    }
    totals_answers["revenue"] = {"amount": 10, "currency": "dollars"}
    assert codes(validate_answers(definition, totals_answers)) == [("revenue", "invalid_currency")]
    totals_answers["revenue"] = {"amount": -5, "currency": "CNY"}
    assert codes(validate_answers(definition, totals_answers)) == [("revenue", "below_min")]


def test_integer_and_yes_no(definition, totals_answers):
    totals_answers["employees"] = 12.5
    totals_answers["board_oversight"] = "maybe"
    assert codes(validate_answers(definition, totals_answers)) == [
        ("employees", "not_an_integer"),
        ("board_oversight", "invalid_boolean"),
    ]
    totals_answers["employees"] = "120"
    totals_answers["board_oversight"] = "yes"
    out = normalise_answers(definition, totals_answers)
    assert out["employees"] == 120 and out["board_oversight"] is True


def test_files(definition, totals_answers):
    totals_answers["verified_third_party"] = True
    totals_answers["verification_evidence"] = {"file_id": "abc", "filename": "report.pdf"}
    out = normalise_answers(definition, totals_answers)
    assert out["verification_evidence"] == [{"file_id": "abc", "filename": "report.pdf"}]
    totals_answers["verification_evidence"] = [{"filename": "x.pdf"}]
    assert ("verification_evidence", "invalid_file") in codes(
        validate_answers(definition, totals_answers)
    )
    totals_answers["verification_evidence"] = [
        {"file_id": str(i), "filename": "a"} for i in range(6)
    ]
    assert ("verification_evidence", "too_many_files") in codes(
        validate_answers(definition, totals_answers)
    )


def test_not_a_mapping():
    definition = load_definition(
        {
            "key": "m",
            "version": 1,
            "title": T,
            "description": T,
            "sections": [
                {"key": "s", "title": T, "questions": [{"key": "q", "type": "text", "title": T}]}
            ],
        }
    )
    assert [e.code for e in validate_answers(definition, ["q"])] == ["invalid_answers"]


def test_every_message_has_both_languages():
    for code, texts in MESSAGES.items():
        assert set(texts) == {"en", "zh"}, code
        assert texts["en"] and texts["zh"], code


def test_normalising_twice_changes_nothing(definition, activity_answers):
    activity_answers["electricity_use"][0]["quantity"] = {"value": 3.6, "unit": "GJ"}
    once = normalise_answers(definition, activity_answers)
    assert normalise_answers(definition, once) == once


def test_invalid_required_cell_reports_one_error(definition, activity_answers):
    activity_answers["fuel_use"][0]["quantity"] = {"value": "ten", "unit": "t"}
    errors = validate_answers(definition, activity_answers, for_submit=True)
    assert [(e.row, e.column, e.code) for e in errors] == [(0, "quantity", "not_a_number")]
