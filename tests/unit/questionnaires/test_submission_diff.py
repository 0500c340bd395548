"""What a brand reads when a supplier submits again: question, old value → new value, in words."""

from __future__ import annotations

import pytest

from questionnaires import load_shipped
from questionnaires.submission_diff import AnswerChange, diff_answers, format_answer
from tests.support import campaigns as cs


@pytest.fixture(scope="module")
def definition():
    return load_shipped("supplier_climate_disclosure", 1)


def _changes(definition, older: dict, newer: dict, locale: str = "en") -> dict[str, AnswerChange]:
    return {c.question_key: c for c in diff_answers(definition, older, newer, locale=locale)}


def test_identical_submissions_have_no_changes(definition):
    assert diff_answers(definition, cs.BASE_ANSWERS, dict(cs.BASE_ANSWERS), locale="en") == []


def test_choices_show_their_labels_in_the_readers_language(definition):
    newer = {**cs.BASE_ANSWERS, "allocation_method": "physical_quantity"}
    english = _changes(definition, cs.BASE_ANSWERS, newer)["allocation_method"]
    assert english.question == "How do you allocate your emissions to this customer?"
    assert english.before == "Share of revenue"
    assert english.after == "Share of physical output (units, weight, machine hours)"
    chinese = _changes(definition, cs.BASE_ANSWERS, newer, "zh")["allocation_method"]
    assert chinese.question == "贵公司采用何种方法将排放分摊至本客户？"
    assert (chinese.before, chinese.after) == (
        "按营业收入占比",
        "按实物量占比（产量、重量、机时等）",
    )


def test_numbers_never_show_in_e_notation(definition):
    older = {**cs.BASE_ANSWERS, "purchased_heat": {"value": 1e-05, "unit": "GJ"}}
    newer = {**cs.BASE_ANSWERS, "purchased_heat": {"value": 25000000.0, "unit": "GJ"}}
    change = _changes(definition, older, newer)["purchased_heat"]
    assert (change.before, change.after) == ("0.00001 GJ", "25000000 GJ")
    assert format_answer(definition.question("employees"), 1.5e3, "en") == "1500"


def test_amounts_percentages_and_yes_no(definition):
    newer = {
        **cs.BASE_ANSWERS,
        "revenue": {"amount": "9500000.00", "currency": "CNY"},
        "allocation_share": 12.5,
        "board_oversight": False,
    }
    changes = _changes(definition, cs.BASE_ANSWERS, newer)
    assert (changes["revenue"].before, changes["revenue"].after) == (
        "8000000.00 CNY",
        "9500000.00 CNY",
    )
    assert (changes["allocation_share"].before, changes["allocation_share"].after) == (
        "15 %",
        "12.5 %",
    )
    assert (changes["board_oversight"].before, changes["board_oversight"].after) == ("Yes", "No")
    zh = _changes(definition, cs.BASE_ANSWERS, newer, "zh")["board_oversight"]
    assert (zh.before, zh.after) == ("是", "否")


def test_tables_are_rows_of_labelled_cells(definition):
    newer = {
        **cs.BASE_ANSWERS,
        "electricity_use": [
            {"site": "Plant 1", "grid_region": "CN", "quantity": {"value": 90000, "unit": "kWh"}},
            {"site": "Plant 2", "grid_region": "JP", "quantity": {"value": 5, "unit": "MWh"}},
        ],
    }
    change = _changes(definition, cs.BASE_ANSWERS, newer)["electricity_use"]
    assert change.before == (
        "Site name: Plant 1; Grid region: China (national grid); Electricity purchased: 100000 kWh"
    )
    assert change.after.splitlines() == [
        "Site name: Plant 1; Grid region: China (national grid); Electricity purchased: 90000 kWh",
        "Site name: Plant 2; Grid region: Japan; Electricity purchased: 5 MWh",
    ]


def test_same_value_typed_differently_is_not_a_change(definition):
    newer = {**cs.BASE_ANSWERS, "employees": "120", "allocation_share": "15.0"}
    assert diff_answers(definition, cs.BASE_ANSWERS, newer, locale="en") == []


def test_added_removed_and_hidden_answers(definition):
    older = {**cs.BASE_ANSWERS, "scope3_known": True, "scope3_categories": ["capital_goods"]}
    newer = {**older, "scope3_known": False, "renewable_electricity_share": 30}
    changes = _changes(definition, older, newer)
    # scope3_categories is still stored in `newer`, but hidden once scope3_known is false.
    assert (changes["scope3_categories"].before, changes["scope3_categories"].after) == (
        "Capital goods",
        "—",
    )
    assert (changes["scope3_known"].before, changes["scope3_known"].after) == ("Yes", "No")
    assert changes["renewable_electricity_share"].before == "—"
    keys = [c.question_key for c in diff_answers(definition, older, newer, locale="en")]
    assert keys == sorted(keys, key=[q.key for q in definition.questions()].index)


def test_uploaded_files_show_their_names(definition):
    files = [{"file_id": "x", "filename": "ISO14064 statement.pdf", "sha256": "ab", "size": 9}]
    question = definition.question("verification_evidence")
    assert format_answer(question, files, "en") == "ISO14064 statement.pdf"
    assert format_answer(question, None, "en") == "—"
