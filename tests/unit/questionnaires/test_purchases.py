"""Questionnaire version 2 (issue 10): purchased goods and services and Scope 3 Category 1.

Version 2 asks for the spend on purchased goods and services (amount and currency) and its main
categories as NAICS 2017 codes of the starter factor dataset, and asks for the upstream Scope 3
figure as Category 1 only. Version 1 stays shipped and derives exactly as before.
"""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from questionnaires import (
    DefinitionError,
    carry_over_answers,
    derive_disclosure,
    load_definition,
    load_shipped,
    validate_answers,
)
from questionnaires.publishing import definition_checksum
from tests.support.questionnaire_samples import (
    BASE_ANSWERS,
    REF,
    TOTALS,
    v2_answers,
)

V2_REF = {**REF, "questionnaire_version": 2}
# The checksum version 1 was published with: campaigns sent on it must find it unchanged.
V1_CHECKSUM = "5e321d9bd390e1e3e6f51f79582f4dc109d6906837f8e264938abeb5be83f3c6"


@pytest.fixture(scope="module")
def v1():
    return load_shipped("supplier_climate_disclosure", 1)


@pytest.fixture(scope="module")
def v2():
    return load_shipped("supplier_climate_disclosure", 2)


def derive(definition, answers):
    return derive_disclosure(definition, answers, response_ref=V2_REF)


def errors(definition, answers, locale="en", for_submit=False):
    return [
        (e.question_key, e.code, e.row, e.column, e.message)
        for e in validate_answers(definition, answers, locale=locale, for_submit=for_submit)
    ]


# --- the definition -----------------------------------------------------------------------------


def test_version_2_is_the_newest_and_version_1_is_unchanged(v1, v2):
    assert load_shipped("supplier_climate_disclosure").version == 2
    assert definition_checksum(v1.to_dict()) == V1_CHECKSUM
    assert v2.carry_over.from_version == 1 and v2.carry_over.drop == ("reporting_year",)
    assert load_definition(v2.to_dict()) == v2  # what publishing stores loads back the same


def test_purchased_categories_are_codes_of_the_starter_factor_dataset(v2):
    from spend_factors import starter_dataset

    codes = set(starter_dataset().factors["code"].astype(str))
    choices = v2.question("purchased_categories").column("category").choices
    listed = [c for c in choices if c.value != "other"]
    assert len(listed) >= 40 and [c.value for c in choices][-1] == "other"
    for choice in listed:
        assert choice.value in codes, choice.value
        assert f"NAICS {choice.value}" in choice.label["en"]
        assert f"NAICS {choice.value}" in choice.label["zh"]
    # Category 1 leaves out freight, energy and fuels (categories 3 and 4, Scope 1 and 2).
    assert not {c.value[:3] for c in listed} & {"481", "482", "483", "484", "488", "492"}
    assert not {c.value for c in listed} & {"221210", "221330", "324110", "493110"}


def test_offered_currencies_can_all_be_converted_by_the_factor_library(v2):
    from spend_factors.currency import known_currencies

    offered = v2.question("purchased_spend").currencies
    assert offered == ("CNY", "USD", "EUR", "GBP", "JPY")
    assert set(offered) <= set(known_currencies())
    assert v2.question("revenue").currencies == ()  # revenue keeps accepting any code


def test_version_2_asks_category_1_where_version_1_asked_all_upstream(v1, v2):
    old = v1.questions_tagged("scope3_upstream")[0]
    assert "business travel" in old.help["en"]  # v1 included other upstream categories
    new = v2.questions_tagged("scope3_purchased_goods")[0]
    assert new.key != old.key and not v2.has_question(old.key)
    assert "Category 1" in new.title["en"] and "类别1" in new.title["zh"]
    assert "business travel" in new.help["en"] and "Do not include" in new.help["en"]
    assert not v2.questions_tagged("scope3_upstream")


def test_every_version_2_text_has_english_and_chinese(v2):
    def texts(obj):
        if isinstance(obj, dict):
            if set(obj) == {"en", "zh"}:
                yield obj
                return
            for value in obj.values():
                yield from texts(value)
        elif isinstance(obj, list):
            for item in obj:
                yield from texts(item)

    found = list(texts(v2.to_dict()))
    assert len(found) > 200
    for text in found:
        assert text["en"].strip() and text["zh"].strip(), text
        chinese = any("\u4e00" <= ch <= "\u9fff" for ch in text["zh"])
        assert chinese or text["zh"] == text["en"], text  # e.g. "ISO 14064-3"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"currencies": ["CNY"]},
            "question 'employees': currencies: currencies are only allowed on currency_amount",
        ),
        (
            {"type": "number"},
            "question 'spend': purchased_spend must be tagged on a currency_amount",
        ),
    ],
)
def test_definition_errors_name_the_question(v2, change, message):
    data = copy.deepcopy(v2.to_dict())
    profile = data["sections"][0]["questions"]
    if "currencies" in change:
        next(q for q in profile if q["key"] == "employees").update(change)
    else:
        profile.append(
            {
                "key": "spend",
                "type": "number",
                "title": {"en": "Spend", "zh": "采购金额"},
                "tags": {"disclosure_field": "purchased_spend"},
            }
        )
    with pytest.raises(DefinitionError) as err:
        load_definition(data)
    assert any(e.startswith(message) for e in err.value.errors), err.value.errors


def _edited(v2, key: str, edit) -> dict:
    data = copy.deepcopy(v2.to_dict())
    for section in data["sections"]:
        for question in section["questions"]:
            if question["key"] == key:
                edit(question)
    return data


@pytest.mark.parametrize(
    ("codes", "message"),
    [
        (["cny"], "question 'purchased_spend': currencies.0: must be a three-letter ISO 4217 code"),
        (["USD", "USD"], "question 'purchased_spend': currencies: duplicate currency code(s)"),
        ([], "question 'purchased_spend': currencies: Shorter than minimum length 1."),
    ],
)
def test_currency_codes_are_checked_at_load(v2, codes, message):
    data = _edited(v2, "purchased_spend", lambda q: q.update(currencies=codes))
    with pytest.raises(DefinitionError) as err:
        load_definition(data)
    assert any(e.startswith(message) for e in err.value.errors), err.value.errors


def test_the_category_1_figure_must_be_an_emissions_number(v2):
    def plain_number(question):
        for name in ("dimension", "unit", "units"):
            question.pop(name)
        question["rules"] = {"min": 0}

    with pytest.raises(DefinitionError) as err:
        load_definition(_edited(v2, "cat1_emissions_total", plain_number))
    assert err.value.errors == [
        "question 'cat1_emissions_total': scope3_purchased_goods needs dimension: emissions"
    ]


def test_the_category_table_needs_its_columns(v2):
    def drop_share(question):
        question["columns"] = [c for c in question["columns"] if c["key"] != "share_pct"]
        question.pop("rules")

    with pytest.raises(DefinitionError) as err:
        load_definition(_edited(v2, "purchased_categories", drop_share))
    assert err.value.errors == [
        "question 'purchased_categories': purchased_categories table needs column(s) ['share_pct']"
    ]


# --- validation ---------------------------------------------------------------------------------


def test_complete_version_2_answers_submit(v2):
    assert errors(v2, v2_answers(TOTALS), for_submit=True) == []


def test_purchases_are_required_on_submit(v2):
    answers = {k: v for k, v in v2_answers(TOTALS).items() if not k.startswith(("purch", "data_s"))}
    answers["data_source_emissions"] = "production_records"
    answers["data_source_revenue"] = "audited_accounts"
    answers["data_source_allocation"] = "finance_records"
    missing = {(key, code) for key, code, *_ in errors(v2, answers, for_submit=True)}
    assert missing == {
        ("purchased_spend", "required"),
        ("purchased_categories", "required"),
        ("data_source_purchases", "required"),
    }


@pytest.mark.parametrize(
    ("spend", "code", "en", "zh"),
    [
        (
            {"amount": "1000", "currency": "THB"},
            "unsupported_currency",
            "The currency 'THB' cannot be used for this question; use one of CNY, USD, EUR, "
            "GBP, JPY.",
            "本题不支持货币“THB”，请使用以下币种之一：CNY, USD, EUR, GBP, JPY。",
        ),
        (
            {"amount": "1000", "currency": "XYZ"},
            "unsupported_currency",
            "The currency 'XYZ' cannot be used for this question; use one of CNY, USD, EUR, "
            "GBP, JPY.",
            "本题不支持货币“XYZ”，请使用以下币种之一：CNY, USD, EUR, GBP, JPY。",
        ),
        (
            {"amount": "1000", "currency": "RMB元"},
            "invalid_currency",
            "Enter a three-letter ISO currency code such as CNY or USD.",
            "请填写三位 ISO 货币代码，例如 CNY 或 USD。",
        ),
        (
            {"amount": "-250000", "currency": "CNY"},
            "below_min",
            "Must be at least 0.",
            "不得小于 0。",
        ),
        (
            {"amount": "120,000,000,000,000", "currency": "CNY"},
            "above_max",
            "Must be at most 100000000000000.",
            "不得大于 100000000000000。",
        ),
        (
            {"amount": "五百万", "currency": "CNY"},
            "not_a_number",
            "Enter a number.",
            "请输入数字。",
        ),
    ],
)
def test_bad_spend_gets_a_clear_message_in_both_languages(v2, spend, code, en, zh):
    answers = v2_answers(TOTALS) | {"purchased_spend": spend}
    assert errors(v2, answers) == [("purchased_spend", code, None, None, en)]
    assert errors(v2, answers, "zh") == [("purchased_spend", code, None, None, zh)]


def test_shares_over_100_percent_are_refused_in_both_languages(v2):
    rows = [{"category": "331110", "share_pct": 70}, {"category": "332813", "share_pct": 40}]
    answers = v2_answers(TOTALS) | {"purchased_categories": rows}
    assert errors(v2, answers) == [
        (
            "purchased_categories",
            "sum_above_max",
            None,
            "share_pct",
            "The column 'Share of purchased spend (%)' adds up to 110, more than 100.",
        )
    ]
    assert errors(v2, answers, "zh")[0][4] == "“占采购金额的比例（%）”列合计为 110，超过上限 100。"
    answers["purchased_categories"] = [{"category": "331110", "share_pct": 120}]
    assert errors(v2, answers, "zh") == [
        (
            "purchased_categories",
            "percentage_range",
            0,
            "share_pct",
            "请输入 0 到 100 之间的百分比。",
        )
    ]


def test_a_category_outside_the_list_is_refused(v2):
    rows = [{"category": "211120", "share_pct": 50}]  # crude petroleum: not offered
    answers = v2_answers(TOTALS) | {"purchased_categories": rows}
    assert errors(v2, answers) == [
        (
            "purchased_categories",
            "invalid_choice",
            0,
            "category",
            "'211120' is not one of the options.",
        )
    ]


# --- derivation ---------------------------------------------------------------------------------


def test_purchases_are_derived_with_their_provenance(v2):
    d = derive(v2, v2_answers(TOTALS))
    # "5,200,000.40" "cny": thousands commas dropped, code upper-cased, amount exact.
    assert d.purchased_spend == Decimal("5200000.40") and d.purchased_currency == "CNY"
    assert d.purchased_naics == "331110"
    assert d.purchased_categories == [
        {"naics": "331110", "share": 0.40},
        {"naics": "332813", "share": 0.25},
    ]
    assert d.provenance["purchased_spend"] == {
        "method": "reported",
        "question": "purchased_spend",
        "year": 2023,
        "note": "purchased goods and services (Scope 3 Category 1 boundary) of the reporting year",
        **V2_REF,
    }
    assert d.provenance["purchased_currency"]["question"] == "purchased_spend"
    assert d.provenance["purchased_naics"] == {
        "method": "largest-purchased-category",
        "question": "purchased_categories",
        "row": 0,
        "share": 0.40,
        **V2_REF,
    }
    assert d.provenance["purchased_categories"]["unlisted_share"] == pytest.approx(0.20)
    details = d.details_dict()
    assert details["purchased_spend"] == "5200000.40"
    assert details["purchased_categories"][0] == {"naics": "331110", "share": 0.40}
    assert d.warnings == []


def test_spend_in_dollars_keeps_its_currency_and_exact_amount(v2):
    answers = v2_answers(TOTALS) | {
        "purchased_spend": {"amount": 1250000.125, "currency": " usd "},
    }
    d = derive(v2, answers)
    assert (d.purchased_spend, d.purchased_currency) == (Decimal("1250000.125"), "USD")
    assert d.revenue_currency == "CNY"  # each amount keeps its own currency; nothing converts


def test_repeated_categories_add_up_and_ties_go_to_the_first_row(v2):
    rows = [
        {"category": "326199", "share_pct": 25},
        {"category": "325211", "share_pct": 10},
        {"category": "326199", "share_pct": 15},
        {"category": "322211", "share_pct": 40},
    ]
    d = derive(v2, v2_answers(TOTALS) | {"purchased_categories": rows})
    # 326199: 25 + 15 = 40 %, tied with 322211 (40 %): 326199 came first (row 0).
    assert d.purchased_naics == "326199"
    assert d.purchased_categories == [
        {"naics": "326199", "share": 0.40},
        {"naics": "322211", "share": 0.40},
        {"naics": "325211", "share": 0.10},
    ]
    assert d.provenance["purchased_naics"]["row"] == 0
    assert d.provenance["purchased_categories"]["unlisted_share"] == 0.0


def test_an_unlisted_largest_category_leaves_the_sector_to_the_footprint(v2):
    rows = [{"category": "325180", "share_pct": 15}, {"category": "other", "share_pct": 60}]
    d = derive(v2, v2_answers(TOTALS) | {"purchased_categories": rows})
    assert d.purchased_naics is None
    assert d.purchased_categories == [{"naics": "325180", "share": 0.15}]
    assert d.provenance["purchased_naics"]["row"] == 1
    assert "supplier's own sector" in d.provenance["purchased_naics"]["note"]
    assert d.warnings == [
        "purchased_naics not set: the largest purchased category is 'other', which has no "
        "NAICS code"
    ]


def test_purchases_above_revenue_are_flagged_but_kept(v2):
    answers = v2_answers(TOTALS) | {"purchased_spend": {"amount": "9000000", "currency": "CNY"}}
    d = derive(v2, answers)
    assert d.purchased_spend == Decimal("9000000")
    assert d.warnings == [
        "purchased spend 9,000,000.00 CNY is more than the revenue 8,000,000.00 CNY; "
        "check both figures"
    ]
    answers["purchased_spend"] = {"amount": "9000000", "currency": "USD"}
    assert derive(v2, answers).warnings == []  # another currency: not comparable here


def test_category_1_emissions_are_the_upstream_figure(v2):
    answers = v2_answers(TOTALS) | {
        "cat1_emissions_known": True,
        "cat1_emissions_total": {"value": 900.5, "unit": "t CO2e"},
        "data_source_scope3": "finance_records",
    }
    d = derive(v2, answers)
    assert d.scope3_upstream_kg == pytest.approx(900500.0)
    assert d.scope3_upstream_boundary == "category_1"
    assert d.provenance["scope3_upstream_kg"] == {
        "method": "reported",
        "question": "cat1_emissions_total",
        "entered": {"value": 900.5, "unit": "t CO2e"},
        **V2_REF,
    }
    assert d.provenance["scope3_upstream_boundary"]["note"].startswith("Scope 3 Category 1")
    assert d.data_sources["scope3"] == "finance_records"
    assert d.data_sources["purchases"] == "management_accounts"
    hidden = derive(v2, answers | {"cat1_emissions_known": False})
    assert hidden.scope3_upstream_kg is None and hidden.scope3_upstream_boundary is None


def test_version_1_derives_as_before(v1):
    answers = {
        **BASE_ANSWERS,
        **TOTALS,
        "scope3_known": True,
        "scope3_upstream_total": {"value": 10, "unit": "t CO2e"},
    }
    d = derive_disclosure(v1, answers, response_ref=REF)
    assert d.scope3_upstream_kg == 10000.0
    assert d.provenance["scope3_upstream_kg"] == {
        "method": "reported",
        "question": "scope3_upstream_total",
        "entered": {"value": 10, "unit": "t CO2e"},
        **REF,
    }
    assert d.scope3_upstream_boundary == "upstream"  # all upstream categories, as v1 asked
    assert (
        "may include categories other than Category 1"
        in (d.provenance["scope3_upstream_boundary"]["note"])
    )
    assert (d.purchased_spend, d.purchased_currency, d.purchased_naics) == (None, None, None)
    assert d.purchased_categories == [] and d.warnings == []
    for name in ("purchased_spend", "purchased_currency", "purchased_naics"):
        assert d.provenance[name] == {"method": "not-asked", **REF}
    assert d.details_dict()["purchased_spend"] is None
    assert d.scope1_kg == 120500.0 and d.scope2_location_kg == 300000.0


# --- carry-over ---------------------------------------------------------------------------------


def test_version_1_answers_prefill_version_2(v1, v2):
    previous = {
        **BASE_ANSWERS,
        **TOTALS,
        "scope3_known": True,
        "scope3_upstream_total": {"value": 10, "unit": "t CO2e"},
        "scope3_categories": ["purchased_goods", "business_travel"],
    }
    carried = carry_over_answers(previous, v1, v2)
    assert "reporting_year" not in carried  # dropped: a new year starts without last year's
    for gone in ("scope3_known", "scope3_upstream_total", "scope3_categories"):
        assert gone not in carried  # all-upstream answers never fill the Category 1 question
    assert carried["revenue"] == {"amount": "8000000.00", "currency": "CNY"}
    assert carried["scope1_total"] == {"value": 120.5, "unit": "t CO2e"}
    assert carried["company_name"] == BASE_ANSWERS["company_name"]
    assert validate_answers(v2, carried) == []
    missing = {e.question_key for e in validate_answers(v2, carried, for_submit=True)}
    assert missing == {
        "reporting_year",
        "purchased_spend",
        "purchased_categories",
        "cat1_emissions_known",
        "data_source_purchases",
    }


def test_version_2_answers_carry_to_the_next_year(v2):
    previous = v2_answers(TOTALS)
    previous["purchased_spend"] = {"amount": "5200000.40", "currency": "CNY"}
    carried = carry_over_answers(previous, v2, v2)
    assert carried["purchased_spend"] == {"amount": "5200000.40", "currency": "CNY"}
    assert carried["purchased_categories"] == previous["purchased_categories"]
    assert "reporting_year" not in carried
