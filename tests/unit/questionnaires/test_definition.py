"""The definition format: the shipped questionnaire, JSON round trip and malformed definitions."""

from __future__ import annotations

import copy
import json

import pytest

from questionnaires import DefinitionError, load_definition, shipped_definitions, text
from questionnaires.model import Question

T = {"en": "Text", "zh": "文本"}


def minimal(questions: list[dict], **extra) -> dict:
    return {
        "key": "mini",
        "version": 1,
        "title": T,
        "description": T,
        "sections": [{"key": "s1", "title": T, "questions": questions}],
        **extra,
    }


def load_error(data: dict) -> DefinitionError:
    with pytest.raises(DefinitionError) as info:
        load_definition(data)
    return info.value


def _texts(obj, where="definition"):
    """Every {en, zh} text of a to_dict() tree with a path saying where it sits."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key in ("title", "description", "help", "label"):
                yield f"{where}.{key}", value
            else:
                yield from _texts(value, f"{where}.{obj.get('key', key)}")
    elif isinstance(obj, list):
        for i, item in enumerate(obj):
            yield from _texts(item, f"{where}[{i}]")


def test_shipped_definitions_are_listed_and_load():
    paths = shipped_definitions()
    names = [p.name for p in paths]
    assert "supplier_climate_disclosure.v1.yaml" in names
    for path in paths:
        definition = load_definition(path)
        assert definition.version >= 1 and definition.questions()


def test_every_shipped_text_has_english_and_chinese(definition):
    texts = list(_texts(definition.to_dict()))
    assert len(texts) > 150
    for where, value in texts:
        assert set(value) == {"en", "zh"}, where
        assert value["en"].strip() and value["zh"].strip(), where
        assert (
            any("\u4e00" <= ch <= "\u9fff" for ch in value["zh"]) or value["zh"] == value["en"]
        ), f"{where}: zh text has no Chinese characters"


@pytest.mark.parametrize(
    "field",
    [
        "scope1",
        "scope2_location",
        "scope2_market",
        "revenue",
        "allocation_share",
        "reporting_year",
        "employees",
        "scope3_upstream",
        "renewable_electricity_share",
        "allocation_method",
        "allocation_uncertainty_pct",
        "sbti_status",
        "product_footprints",
        "activity_electricity",
        "activity_fuels",
        "activity_heat",
        "sector_code",
        "country",
    ],
)
def test_disclosure_fields_are_tagged(definition, field):
    assert definition.questions_tagged(field), field


def test_every_maturity_dimension_has_points(definition):
    dims = {q.tags.maturity.dimension for q in definition.questions() if q.tags.maturity}
    assert {
        "governance",
        "measurement",
        "verification",
        "targets",
        "reduction",
        "supplier_engagement",
    } <= dims


def test_totals_and_activity_questions_follow_the_method(definition, totals_answers):
    visible = definition.visible_keys({"emissions_method": "totals"})
    assert {"scope1_total", "scope2_location_total"} <= visible
    assert not visible & {"electricity_use", "fuel_use", "purchased_heat"}
    visible = definition.visible_keys({"emissions_method": "activity"})
    assert {"electricity_use", "fuel_use", "purchased_heat"} <= visible
    assert "scope1_total" not in visible
    # Before the method is chosen neither branch shows.
    assert not definition.visible_keys({}) & {"scope1_total", "electricity_use"}


def test_definition_is_json_serialisable_and_round_trips(definition):
    data = json.loads(json.dumps(definition.to_dict(), ensure_ascii=False))
    assert load_definition(data) == definition
    assert data["sections"][0]["questions"][0]["key"] == "company_name"


def test_helpers(definition):
    q = definition.question("scope1_total")
    assert isinstance(q, Question) and q.dimension == ("emissions",)
    assert text(q, "zh").startswith("范围一")
    assert definition.text(q.title, "zh-CN") == q.title["zh"]
    assert text(q, "fr") == q.title["en"]
    assert definition.sections[0].key == "company_profile"
    with pytest.raises(KeyError):
        definition.question("nope")
    visible = [q.key for q in definition.visible_questions({"verified_third_party": True})]
    assert "verification_evidence" in visible
    visible = [q.key for q in definition.visible_questions({"verified_third_party": False})]
    assert "verification_evidence" not in visible


def test_missing_chinese_names_the_question():
    err = load_error(minimal([{"key": "q1", "type": "text", "title": {"en": "Only English"}}]))
    assert any("question 'q1'" in e and "lacks 'zh'" in e for e in err.errors), err.errors


def test_missing_chinese_in_choice_label_names_the_question():
    data = minimal(
        [
            {
                "key": "q1",
                "type": "single_choice",
                "title": T,
                "choices": [{"value": "a", "label": {"en": "A", "zh": ""}}],
            }
        ]
    )
    err = load_error(data)
    assert "question 'q1'" in str(err) and "lacks 'zh'" in str(err)


def test_missing_english_in_column_names_the_table_and_column():
    data = minimal(
        [
            {
                "key": "t1",
                "type": "table",
                "title": T,
                "columns": [{"key": "c1", "type": "text", "title": {"zh": "只有中文"}}],
            }
        ]
    )
    assert "question 't1' column 'c1': title: text lacks 'en'" in load_error(data).errors


def test_duplicate_question_keys_across_sections():
    data = minimal([{"key": "q1", "type": "text", "title": T}])
    data["sections"].append(
        {"key": "s2", "title": T, "questions": [{"key": "q1", "type": "integer", "title": T}]}
    )
    assert any("question 'q1': duplicate question key" in e for e in load_error(data).errors)


def test_show_if_to_unknown_question():
    data = minimal(
        [
            {
                "key": "q1",
                "type": "text",
                "title": T,
                "show_if": {"all": [{"question": "ghost", "equals": "x"}]},
            }
        ]
    )
    assert any(
        "question 'q1'" in e and "unknown question 'ghost'" in e for e in load_error(data).errors
    )


def test_show_if_cycle_is_rejected():
    data = minimal(
        [
            {
                "key": "a",
                "type": "yes_no",
                "title": T,
                "show_if": {"question": "b", "equals": True},
            },
            {
                "key": "b",
                "type": "yes_no",
                "title": T,
                "show_if": {"question": "a", "equals": True},
            },
        ]
    )
    assert "show_if cycle" in str(load_error(data))


def test_unknown_type_rule_operator_and_field():
    err = load_error(
        minimal(
            [
                {"key": "q1", "type": "slider", "title": T},
                {"key": "q2", "type": "integer", "title": T, "rules": {"between": [1, 2]}},
                {"key": "q3", "type": "text", "title": T, "show_if": {"question": "q2", "gt": 1}},
                {"key": "q4", "type": "text", "title": T, "colour": "red"},
            ]
        )
    )
    joined = "\n".join(err.errors)
    assert "question 'q1': type: unknown question type 'slider'" in joined
    assert "question 'q2': rules: unknown rule 'between'" in joined
    assert "question 'q3': show_if: unknown show_if operator(s) ['gt']" in joined
    assert "question 'q4': unknown field 'colour'" in joined


def test_rule_on_wrong_type_and_unit_of_wrong_dimension():
    err = load_error(
        minimal(
            [
                {
                    "key": "q1",
                    "type": "text",
                    "title": T,
                    "rules": {"sum_of_rows": [{"column": "x"}]},
                },
                {"key": "q2", "type": "number", "title": T, "dimension": "energy", "unit": "kg"},
                {"key": "q3", "type": "number", "title": T, "dimension": "heat", "unit": "GJ"},
            ]
        )
    )
    joined = "\n".join(err.errors)
    assert "rule 'sum_of_rows' does not apply to text questions" in joined
    assert "question 'q2': unit: unit 'kg' is mass, not energy" in joined
    assert "question 'q3': dimension: unknown dimension(s) ['heat']" in joined


def test_unknown_disclosure_field_and_maturity_dimension():
    err = load_error(
        minimal(
            [
                {
                    "key": "q1",
                    "type": "integer",
                    "title": T,
                    "tags": {"disclosure_field": "scope_1"},
                },
                {
                    "key": "q2",
                    "type": "yes_no",
                    "title": T,
                    "tags": {"maturity": {"dimension": "vibes", "points": 1}},
                },
            ]
        )
    )
    joined = "\n".join(err.errors)
    assert "unknown disclosure field 'scope_1'" in joined
    assert "question 'q2': tags.maturity.dimension" in joined


def test_choice_points_must_name_real_choices():
    data = minimal(
        [
            {
                "key": "q1",
                "type": "single_choice",
                "title": T,
                "choices": [{"value": "a", "label": T}],
                "tags": {"maturity": {"dimension": "governance", "points": {"b": 2}}},
            }
        ]
    )
    assert "maturity points for unknown choice value(s) ['b']" in str(load_error(data))


def test_yaml_boolean_keys_become_yes_no(tmp_path):
    path = tmp_path / "d.yaml"
    path.write_text(
        "key: y\nversion: 1\ntitle: {en: A, zh: 甲}\ndescription: {en: A, zh: 甲}\n"
        "sections:\n- key: s\n  title: {en: A, zh: 甲}\n  questions:\n"
        "  - key: q\n    type: yes_no\n    title: {en: A, zh: 甲}\n"
        "    tags: {maturity: {dimension: governance, points: {yes: 2, no: 0}}}\n",
        encoding="utf-8",
    )
    definition = load_definition(path)
    assert definition.question("q").tags.maturity.points == {"yes": 2.0, "no": 0.0}


def test_all_problems_are_reported_at_once(definition):
    data = copy.deepcopy(definition.to_dict())
    data["sections"][0]["questions"][0]["title"] = {"en": "Name"}
    data["sections"][1]["questions"][0]["type"] = "choice"
    err = load_error(data)
    assert len(err.errors) == 2
    assert "question 'company_name'" in err.errors[0]
    assert "question 'emissions_method'" in err.errors[1]


def test_carry_over_map_must_target_existing_questions():
    data = minimal(
        [{"key": "q1", "type": "text", "title": T}],
        version=2,
        carry_over={"from_version": 1, "map": {"old": "missing"}},
    )
    assert "carry_over: map 'old' -> unknown question 'missing'" in load_error(data).errors


def test_the_documented_example_loads():
    import re
    from pathlib import Path

    import yaml

    doc = Path(__file__).resolve().parents[3] / "docs" / "questionnaire-format.md"
    example = re.search(r"```yaml\n(key: energy_check.*?)```", doc.read_text("utf-8"), re.S)
    definition = load_definition(yaml.safe_load(example.group(1)))
    assert definition.visible_keys({"method": "activity"}) >= {"electricity_use", "verified"}
    assert definition.question("verified").tags.maturity.points == {"yes": 2.0, "no": 0.0}
