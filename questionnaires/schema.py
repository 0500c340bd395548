"""Marshmallow schemas that validate a questionnaire definition and build the dataclass tree.

The schemas check each node on its own (types, bilingual texts, rule names, units); whole-form
checks that need every key at once (unique keys, ``show_if`` references and cycles, carry-over
targets) live in :mod:`questionnaires.loader`. Vocabularies (question types, disclosure fields,
maturity dimensions) are defined here so that a typo in a definition fails loudly at load time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    post_load,
    validate,
    validates_schema,
)

from .model import (
    LOCALES,
    CarryOver,
    Choice,
    Condition,
    Maturity,
    Question,
    QuestionnaireDefinition,
    Rules,
    Section,
    SumOfRows,
    Tags,
)
from .units import CANONICAL_UNITS, AnswerUnitError, parse_answer_unit

QUESTION_TYPES = (
    "number",
    "integer",
    "percentage",
    "text",
    "single_choice",
    "multiple_choice",
    "yes_no",
    "date",
    "file",
    "currency_amount",
    "table",
)
CHOICE_TYPES = ("single_choice", "multiple_choice")
NUMERIC_TYPES = ("number", "integer", "percentage")

#: Rule name -> question types it applies to.
RULE_TYPES: dict[str, tuple[str, ...]] = {
    "min": (*NUMERIC_TYPES, "date", "currency_amount"),
    "max": (*NUMERIC_TYPES, "date", "currency_amount"),
    "max_length": ("text",),
    "max_files": ("file",),
    "sum_of_rows": ("table",),
}
_CURRENCY_CODE = validate.Regexp(r"^[A-Z]{3}$", error="must be a three-letter ISO 4217 code")

MATURITY_DIMENSIONS = (
    "governance",
    "measurement",
    "verification",
    "targets",
    "reduction",
    "supplier_engagement",
    "disclosure",
)

#: Disclosure fields an answer may feed (see docs/questionnaire-format.md).
DISCLOSURE_FIELDS = frozenset(
    {
        "company_name",
        "reporting_year",
        "organisational_boundary",
        "revenue",
        "employees",
        "sector_code",
        "sector_code_system",
        "country",
        "emissions_method",
        "scope1",
        "scope2_location",
        "scope2_market",
        "scope3_upstream",
        "activity_electricity",
        "activity_heat",
        "activity_fuels",
        "renewable_electricity_share",
        "allocation_share",
        "allocation_method",
        "allocation_basis",
        "allocation_uncertainty_pct",
        "sbti_status",
        "product_footprints",
        "reduction_initiatives",
        "activity_process_emissions",
        "scope3_purchased_goods",
        "purchased_spend",
        "purchased_categories",
    }
)
#: Column keys that tagged tables must have, because derivation reads them by key.
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "activity_electricity": ("grid_region", "quantity"),
    "activity_fuels": ("fuel", "quantity"),
    "purchased_categories": ("category", "share_pct"),
}
ACTIVITY_TABLE_COLUMNS = TABLE_COLUMNS  # the name before purchases were asked (issue 10)
#: Question types that disclosure fields read by shape (derivation would misread any other).
FIELD_TYPES: dict[str, str] = {
    "purchased_spend": "currency_amount",
    "purchased_categories": "table",
    "scope3_purchased_goods": "number",
}
#: Families of disclosure fields collected into one dict of the disclosure.
DISCLOSURE_FIELD_PREFIXES = ("verification_", "target_", "data_source_", "governance_")

_KEY = validate.Regexp(r"^[a-z][a-z0-9_]{0,63}$", error="must be a lower_snake_case key")
_LEAF_OPS = ("equals", "not_equals", "in", "not_in", "answered")


def is_known_disclosure_field(name: str) -> bool:
    return name in DISCLOSURE_FIELDS or any(
        name.startswith(p) and len(name) > len(p) for p in DISCLOSURE_FIELD_PREFIXES
    )


class LocalTextField(fields.Field):
    """A ``{en, zh}`` text; both languages are mandatory and non-empty."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dict:
        if isinstance(value, str):
            raise ValidationError("must be a mapping with 'en' and 'zh' texts, not a plain string")
        if not isinstance(value, Mapping):
            raise ValidationError("must be a mapping with 'en' and 'zh' texts")
        unknown = sorted(str(k) for k in value if k not in LOCALES)
        if unknown:
            raise ValidationError(f"unknown language(s) {unknown}; use 'en' and 'zh'")
        missing = [
            loc for loc in LOCALES if not isinstance(value.get(loc), str) or not value[loc].strip()
        ]
        if missing:
            raise ValidationError(f"text lacks {' and '.join(repr(m) for m in missing)}")
        return {loc: value[loc] for loc in LOCALES}

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value


class ConditionField(fields.Field):
    """A ``show_if`` condition: a leaf about one question or an ``all``/``any``/``not`` tree."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Condition:
        return parse_condition(value)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return None if value is None else value.to_dict()


def parse_condition(value: Any) -> Condition:
    """Parse a ``show_if`` mapping; raises ``ValidationError`` with a readable message."""
    if not isinstance(value, Mapping):
        raise ValidationError("show_if must be a mapping")
    keys = set(value)
    for combinator in ("all", "any"):
        if combinator in keys:
            if keys != {combinator}:
                raise ValidationError(f"show_if '{combinator}' cannot be mixed with {sorted(keys)}")
            items = value[combinator]
            if not isinstance(items, list) or not items:
                raise ValidationError(f"show_if '{combinator}' needs a non-empty list")
            return Condition(combinator, conditions=tuple(parse_condition(c) for c in items))
    if "not" in keys:
        if keys != {"not"}:
            raise ValidationError("show_if 'not' cannot be mixed with other keys")
        return Condition("not", conditions=(parse_condition(value["not"]),))
    if "question" not in keys:
        raise ValidationError("show_if needs 'question' (or 'all'/'any'/'not')")
    ops = keys - {"question"}
    unknown = sorted(str(o) for o in ops if o not in _LEAF_OPS)
    if unknown:
        raise ValidationError(f"unknown show_if operator(s) {unknown}; use one of {_LEAF_OPS}")
    if len(ops) != 1:
        raise ValidationError("show_if needs exactly one of " + ", ".join(_LEAF_OPS))
    op = ops.pop()
    question = value["question"]
    if not isinstance(question, str):
        raise ValidationError("show_if 'question' must be a question key")
    operand = value[op]
    if op in ("in", "not_in"):
        if not isinstance(operand, list) or not operand:
            raise ValidationError(f"show_if '{op}' needs a non-empty list")
        operand = tuple(operand)
    elif op == "answered" and not isinstance(operand, bool):
        raise ValidationError("show_if 'answered' must be true or false")
    return Condition(op, question=question, value=operand)


class _Strict(Schema):
    class Meta:
        unknown = RAISE


class ChoiceSchema(_Strict):
    value = fields.String(required=True, validate=validate.Length(min=1, max=64))
    label = LocalTextField(required=True)
    help = LocalTextField()

    @post_load
    def build(self, data: dict, **kwargs: Any) -> Choice:
        return Choice(**data)


class SumOfRowsSchema(_Strict):
    column = fields.String(required=True)
    min = fields.Float(allow_nan=False)
    max = fields.Float(allow_nan=False)

    @post_load
    def build(self, data: dict, **kwargs: Any) -> SumOfRows:
        return SumOfRows(**data)


class RulesSchema(_Strict):
    min = fields.Raw()
    max = fields.Raw()
    max_length = fields.Integer(strict=True, validate=validate.Range(min=1))
    max_files = fields.Integer(strict=True, validate=validate.Range(min=1))
    sum_of_rows = fields.List(fields.Nested(SumOfRowsSchema))

    @validates_schema
    def check_bounds(self, data: dict, **kwargs: Any) -> None:
        for name in ("min", "max"):
            bound = data.get(name)
            if bound is not None and (
                isinstance(bound, bool) or not isinstance(bound, int | float | str)
            ):
                raise ValidationError(f"rule '{name}' must be a number or an ISO date", name)

    @post_load
    def build(self, data: dict, **kwargs: Any) -> Rules:
        data["sum_of_rows"] = tuple(data.get("sum_of_rows", ()))
        return Rules(**data)


class MaturitySchema(_Strict):
    dimension = fields.String(required=True, validate=validate.OneOf(MATURITY_DIMENSIONS))
    points = fields.Raw(required=True)

    @validates_schema
    def check_points(self, data: dict, **kwargs: Any) -> None:
        points = data.get("points")
        if isinstance(points, Mapping):
            bad = [
                k
                for k, v in points.items()
                if isinstance(v, bool) or not isinstance(v, int | float)
            ]
            if bad or not points:
                raise ValidationError(
                    "points per choice must map choice values to numbers", "points"
                )
        elif isinstance(points, bool) or not isinstance(points, int | float) or points < 0:
            raise ValidationError("points must be a non-negative number or a mapping", "points")

    @post_load
    def build(self, data: dict, **kwargs: Any) -> Maturity:
        points = data["points"]
        if isinstance(points, Mapping):
            # YAML 1.1 reads unquoted yes/no/true/false keys as booleans: map them back.
            points = {_bool_key(k): float(v) for k, v in points.items()}
        else:
            points = float(points)
        return Maturity(dimension=data["dimension"], points=points)


def _bool_key(key: Any) -> str:
    if key is True:
        return "yes"
    if key is False:
        return "no"
    return str(key)


class TagsSchema(_Strict):
    disclosure_field = fields.String()
    maturity = fields.Nested(MaturitySchema)

    @validates_schema
    def check_field(self, data: dict, **kwargs: Any) -> None:
        name = data.get("disclosure_field")
        if name is not None and not is_known_disclosure_field(name):
            raise ValidationError(f"unknown disclosure field {name!r}", "disclosure_field")

    @post_load
    def build(self, data: dict, **kwargs: Any) -> Tags:
        return Tags(**data)


class QuestionSchema(_Strict):
    key = fields.String(required=True, validate=_KEY)
    type = fields.String(
        required=True,
        validate=validate.OneOf(QUESTION_TYPES, error="unknown question type {input!r}"),
    )
    title = LocalTextField(required=True)
    help = LocalTextField()
    required = fields.Boolean(load_default=False)
    show_if = ConditionField()
    unit = fields.String()
    units = fields.List(fields.String())
    dimension = fields.Raw()
    currencies = fields.List(
        fields.String(validate=_CURRENCY_CODE), validate=validate.Length(min=1)
    )
    choices = fields.List(fields.Nested(ChoiceSchema))
    columns = fields.List(fields.Nested(lambda: QuestionSchema()))
    min_rows = fields.Integer(strict=True, validate=validate.Range(min=0))
    max_rows = fields.Integer(strict=True, validate=validate.Range(min=1))
    rules = fields.Nested(RulesSchema)
    tags = fields.Nested(TagsSchema)

    @validates_schema
    def check_type_specific(self, data: dict, **kwargs: Any) -> None:
        qtype = data.get("type")
        if qtype not in QUESTION_TYPES:
            return
        errors: dict[str, list[str]] = {}

        def fail(name: str, message: str) -> None:
            errors.setdefault(name, []).append(message)

        if qtype in CHOICE_TYPES:
            choices = data.get("choices") or []
            if not choices:
                fail("choices", f"a {qtype} question needs choices")
            values = [c.value for c in choices]
            dupes = sorted({v for v in values if values.count(v) > 1})
            if dupes:
                fail("choices", f"duplicate choice value(s) {dupes}")
        elif "choices" in data:
            fail("choices", f"choices are only allowed on choice questions, not {qtype}")
        if "currencies" in data and qtype != "currency_amount":
            fail("currencies", f"currencies are only allowed on currency_amount, not {qtype}")
        codes = data.get("currencies") or []
        if len(set(codes)) != len(codes):
            fail(
                "currencies",
                f"duplicate currency code(s) {sorted({c for c in codes if codes.count(c) > 1})}",
            )
        if qtype == "table":
            columns = data.get("columns") or []
            if not columns:
                fail("columns", "a table question needs columns")
            keys = [c.key for c in columns]
            dupes = sorted({k for k in keys if keys.count(k) > 1})
            if dupes:
                fail("columns", f"duplicate column key(s) {dupes}")
            if any(c.type == "table" for c in columns):
                fail("columns", "tables cannot be nested")
            lo, hi = data.get("min_rows"), data.get("max_rows")
            if lo is not None and hi is not None and lo > hi:
                fail("max_rows", "max_rows is below min_rows")
        else:
            for name in ("columns", "min_rows", "max_rows"):
                if name in data:
                    fail(name, f"{name} is only allowed on table questions, not {qtype}")
        self._check_units(qtype, data, fail)
        rules: Rules | None = data.get("rules")
        if rules is not None:
            for name, types in RULE_TYPES.items():
                value = getattr(rules, name)
                if value not in (None, ()) and qtype not in types:
                    fail("rules", f"rule '{name}' does not apply to {qtype} questions")
            for sor in rules.sum_of_rows:
                cols = {c.key: c for c in data.get("columns") or []}
                if sor.column not in cols:
                    fail("rules", f"sum_of_rows refers to unknown column {sor.column!r}")
                elif cols[sor.column].type not in NUMERIC_TYPES:
                    fail("rules", f"sum_of_rows column {sor.column!r} is not numeric")
        tags: Tags | None = data.get("tags")
        if (
            tags is not None
            and tags.maturity is not None
            and isinstance(tags.maturity.points, Mapping)
        ):
            allowed = (
                {c.value for c in data.get("choices") or []}
                if qtype in CHOICE_TYPES
                else {"yes", "no"}
                if qtype == "yes_no"
                else set()
            )
            if not allowed:
                fail("tags", f"points per value need a choice or yes_no question, not {qtype}")
            else:
                unknown = sorted(set(tags.maturity.points) - allowed)
                if unknown:
                    fail("tags", f"maturity points for unknown choice value(s) {unknown}")
        if errors:
            raise ValidationError(errors)

    @staticmethod
    def _check_units(qtype: str, data: dict, fail: Any) -> None:
        dimension = data.get("dimension")
        unit = data.get("unit")
        if qtype != "number":
            for name in ("dimension", "unit", "units"):
                if name in data:
                    fail(name, f"{name} is only allowed on number questions, not {qtype}")
            return
        dims = [dimension] if isinstance(dimension, str) else dimension
        if dims is None:
            if unit is not None or data.get("units"):
                fail("dimension", "a number question with a unit needs a dimension")
            return
        if not isinstance(dims, list) or not dims or not all(isinstance(d, str) for d in dims):
            fail("dimension", "dimension must be a name or a list of names")
            return
        unknown = [d for d in dims if d not in CANONICAL_UNITS]
        if unknown:
            fail("dimension", f"unknown dimension(s) {unknown}; use {list(CANONICAL_UNITS)}")
            return
        if unit is None:
            fail("unit", "a number question with a dimension needs a default unit")
        for name, value in [("unit", unit)] + [("units", u) for u in data.get("units") or []]:
            if value is None:
                continue
            try:
                parsed = parse_answer_unit(value)
            except AnswerUnitError:
                fail(name, f"unknown unit {value!r}")
                continue
            if parsed.dimension not in dims:
                fail(name, f"unit {value!r} is {parsed.dimension}, not {' or '.join(dims)}")

    @post_load
    def build(self, data: dict, **kwargs: Any) -> Question:
        dimension = data.pop("dimension", None)
        data["dimension"] = (
            ()
            if dimension is None
            else (dimension,)
            if isinstance(dimension, str)
            else tuple(dimension)
        )
        for name in ("choices", "columns", "units", "currencies"):
            data[name] = tuple(data.get(name, ()))
        data.setdefault("rules", Rules())
        data.setdefault("tags", Tags())
        return Question(**data)


class SectionSchema(_Strict):
    key = fields.String(required=True, validate=_KEY)
    title = LocalTextField(required=True)
    help = LocalTextField()
    show_if = ConditionField()
    questions = fields.List(
        fields.Nested(QuestionSchema), required=True, validate=validate.Length(min=1)
    )

    @post_load
    def build(self, data: dict, **kwargs: Any) -> Section:
        data["questions"] = tuple(data["questions"])
        return Section(**data)


class CarryOverSchema(_Strict):
    from_version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    map = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict)
    drop = fields.List(fields.String(), load_default=list)

    @post_load
    def build(self, data: dict, **kwargs: Any) -> CarryOver:
        return CarryOver(data["from_version"], dict(data["map"]), tuple(data["drop"]))


class DefinitionSchema(_Strict):
    key = fields.String(required=True, validate=_KEY)
    version = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    title = LocalTextField(required=True)
    description = LocalTextField(required=True)
    carry_over = fields.Nested(CarryOverSchema)
    sections = fields.List(
        fields.Nested(SectionSchema), required=True, validate=validate.Length(min=1)
    )

    @post_load
    def build(self, data: dict, **kwargs: Any) -> QuestionnaireDefinition:
        data["sections"] = tuple(data["sections"])
        return QuestionnaireDefinition(**data)
