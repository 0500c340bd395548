"""Marshmallow schemas of the supplier-scoring API (`/api/v1/scores`), in the style of
:mod:`web.api.schemas`: query schemas refuse what the ranking cannot use, output schemas dump
the read models of :mod:`scoring.queries` (wrapped by the views with the English texts).

Scores are numbers from 0 to 100 (two decimals); money is an amount with its currency; emissions
are kg CO2e as decimal strings; intensities are kg CO2e per unit of the run's currency.
"""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate, validates_schema

from scoring.queries import SORTS
from web.api.core import NUL_IN_TEXT
from web.api.schemas import MoneySchema, PageQuerySchema, PageSchema, UtcDateTime, _decimal, _id

BANDS = ("approved", "conditional", "rejected")
GROUPS = ("disclosed", "not_disclosed")
LEVELS = ("low", "medium", "high")
TARGET_STATUSES = ("none", "own", "sbti_committed", "sbti_validated")
# Orders that read naturally upwards; every other sort key puts the largest value first.
ASCENDING_SORTS = ("rank", "supplier_name", "supplier_code", "band", "tier")


def _without_nul(value: str) -> None:
    """PostgreSQL text cannot hold NUL, so a filter with one could only fail there."""
    if "\x00" in value:
        raise ValidationError(NUL_IN_TEXT)


def _country_code(value: str) -> None:
    if not (value.isascii() and value.isalpha()):
        raise ValidationError("not a two-letter country code")


def _score(description: str) -> fields.Float:
    return fields.Float(metadata={"description": f"{description}, 0 to 100"})


def _year(description: str) -> fields.Integer:
    return fields.Integer(
        validate=validate.Range(min=2000, max=2100), metadata={"description": description}
    )


# --- queries -----------------------------------------------------------------------------------


class ScoreYearQuerySchema(Schema):
    """`?year=` picks the reporting year; the latest scored year when absent."""

    class Meta:
        unknown = EXCLUDE

    year = _year("reporting year; default: the latest year the brand scored")


class ScoreListQuerySchema(PageQuerySchema):
    """The ranking's filters and order, over the newest scoring run of the year."""

    year = _year("reporting year; default: the latest year the brand scored")
    band = fields.String(validate=validate.OneOf(BANDS))
    group = fields.String(
        validate=validate.OneOf(GROUPS),
        metadata={"description": "suppliers with an accepted disclosure, or the others"},
    )
    tier = fields.Integer(validate=validate.Range(min=1, max=20))
    category = fields.String(validate=[validate.Length(min=1, max=128), _without_nul])
    country = fields.String(
        validate=[validate.Length(equal=2), _country_code],
        metadata={"description": "ISO 3166-1 alpha-2"},
    )
    risk_level = fields.String(validate=validate.OneOf(LEVELS))
    capability_level = fields.String(validate=validate.OneOf(LEVELS))
    target_status = fields.String(validate=validate.OneOf(TARGET_STATUSES))
    min_score = fields.Float(
        validate=validate.Range(min=0, max=100), metadata={"description": "composite at least"}
    )
    max_score = fields.Float(
        validate=validate.Range(min=0, max=100), metadata={"description": "composite at most"}
    )
    min_spend = fields.Float(
        validate=validate.Range(min=0, max=1e15),
        metadata={"description": "spend at least, in the run's currency"},
    )
    max_spend = fields.Float(
        validate=validate.Range(min=0, max=1e15),
        metadata={"description": "spend at most, in the run's currency"},
    )
    min_dq = fields.Float(
        validate=validate.Range(min=1, max=5), metadata={"description": "data quality at least"}
    )
    max_dq = fields.Float(
        validate=validate.Range(min=1, max=5), metadata={"description": "data quality at most"}
    )
    search = fields.String(
        validate=[validate.Length(min=1, max=100), _without_nul],
        metadata={"description": "part of the supplier's name or code"},
    )
    sort = fields.String(
        load_default="rank",
        validate=validate.OneOf(list(SORTS)),
        metadata={
            "description": "`rank` (default) lists disclosed suppliers in rank order, then the "
            "not-disclosed group; unknown values sort last"
        },
    )
    order = fields.String(
        validate=validate.OneOf(["asc", "desc"]),
        metadata={
            "description": "default: ascending for rank, supplier_name, supplier_code, band "
            "and tier; descending otherwise"
        },
    )

    @validates_schema
    def _ranges_in_order(self, data: dict, **_kwargs: object) -> None:
        """An empty range is a mistake in the request, not an empty answer."""
        for low, high in (
            ("min_score", "max_score"),
            ("min_spend", "max_spend"),
            ("min_dq", "max_dq"),
        ):
            if data.get(low) is not None and data.get(high) is not None and data[low] > data[high]:
                raise ValidationError(f"{low} is above {high}", low)


# --- shared parts of the answers ----------------------------------------------------------------


class ScoringRunRefSchema(Schema):
    """The scoring run an answer was read from: what makes the numbers reproducible."""

    id = _id("scoring run id")
    reporting_year = fields.Integer()
    methodology_version = fields.String(metadata={"description": "see docs/scoring-method.md"})
    config_hash = fields.String(metadata={"description": "SHA-256 of the effective methodology"})
    inputs_hash = fields.String(metadata={"description": "SHA-256 of the scoring inputs"})
    currency = fields.String(metadata={"description": "the brand's reporting currency (ISO 4217)"})
    supplier_count = fields.Integer()
    created_at = UtcDateTime()


class TopItemSchema(Schema):
    """An item that moved the composite most, up or down."""

    dimension = fields.String()
    item = fields.String(metadata={"description": "stable item key"})
    effect = fields.String(validate=validate.OneOf(["raised", "lowered"]))
    earned = fields.Float()
    possible = fields.Float()
    text = fields.String(metadata={"description": "why, in English"})


class SupplierScoreSchema(Schema):
    """One supplier's place in a scoring run."""

    relationship_id = fields.UUID(metadata={"description": "the brand's supplier relationship"})
    supplier_code = fields.String()
    supplier_name = fields.String()
    tier = fields.Integer()
    category = fields.String(allow_none=True)
    country = fields.String(allow_none=True, metadata={"description": "ISO 3166-1 alpha-2"})
    responded = fields.Boolean(metadata={"description": "an accepted disclosure for the year"})
    disclosed_group = fields.String(validate=validate.OneOf(GROUPS))
    rank = fields.Integer(
        allow_none=True, metadata={"description": "1 = best among disclosed; null otherwise"}
    )
    composite = _score("weighted composite score")
    band = fields.String(validate=validate.OneOf(BANDS))
    emissions_score = _score("emissions performance")
    targets_score = _score("targets")
    maturity_score = _score("management maturity")
    data_quality_score = _score("data quality")
    maturity_level = fields.String(
        metadata={"description": "none, disclosure, awareness, management or leadership"}
    )
    maturity_letter = fields.String(metadata={"description": "A, A-, B … D-, F (no response)"})
    dq_score = fields.Float(
        allow_none=True, metadata={"description": "emission-weighted data quality, 1 best … 5"}
    )
    risk_level = fields.String(validate=validate.OneOf(LEVELS))
    capability_level = fields.String(validate=validate.OneOf(LEVELS))
    grid_cell = fields.String(metadata={"description": "`risk:capability`, e.g. high:low"})
    target_status = fields.String(allow_none=True)
    intensity = fields.Float(
        allow_none=True,
        metadata={"description": "kg CO2e per unit of revenue in the run's currency"},
    )
    sector_intensity = fields.Float(
        allow_none=True,
        metadata={"description": "sector reference, kg CO2e per unit of the run's currency"},
    )
    spend = fields.Nested(MoneySchema, allow_none=True)
    spend_share = fields.Float(
        allow_none=True, metadata={"description": "share of the brand's spend, 0..1"}
    )
    contribution_kg = _decimal(
        "what the supplier contributes to the brand's Category 1, in kg CO2e"
    )
    top_items = fields.List(fields.Nested(TopItemSchema))
    explanation = fields.String(
        metadata={"description": 'the top items in English, e.g. "raised: …; lowered: …"'}
    )


class ScorePageSchema(PageSchema):
    run = fields.Nested(
        ScoringRunRefSchema,
        allow_none=True,
        metadata={"description": "null when the brand has no scoring run (for the year)"},
    )
    items = fields.List(fields.Nested(SupplierScoreSchema), required=True)


# --- one supplier's scorecard --------------------------------------------------------------------


class DimensionScoreSchema(Schema):
    dimension = fields.String()
    label = fields.String(metadata={"description": "in English"})
    score = _score("the dimension's score")
    weight = fields.Float(metadata={"description": "weight in the composite, 0..1"})


class ScoreItemSchema(Schema):
    """One rubric item: points earned of possible, and why."""

    dimension = fields.String()
    item = fields.String(metadata={"description": "stable item key"})
    label = fields.String(metadata={"description": "the item, in English"})
    earned = fields.Float()
    possible = fields.Float()
    reason = fields.String(metadata={"description": "stable reason code"})
    text = fields.String(metadata={"description": "the reason, in English"})
    params = fields.Dict(allow_none=True, metadata={"description": "the numbers the reason quotes"})


class ScoreHistorySchema(Schema):
    run_id = fields.UUID(attribute="run_public_id", metadata={"description": "scoring run id"})
    reporting_year = fields.Integer()
    methodology_version = fields.String()
    created_at = UtcDateTime()
    responded = fields.Boolean()
    composite = _score("composite")
    band = fields.String()
    emissions_score = _score("emissions performance")
    targets_score = _score("targets")
    maturity_score = _score("management maturity")
    data_quality_score = _score("data quality")
    maturity_letter = fields.String()


class CorrectiveActionSchema(Schema):
    id = _id("corrective action id")
    dimension = fields.String()
    item = fields.String(metadata={"description": "the item the supplier lost points on"})
    action_code = fields.String(metadata={"description": "stable action key"})
    text = fields.String(metadata={"description": "what to do, in English"})
    params = fields.Dict(allow_none=True, metadata={"description": "the numbers behind it"})
    points_at_stake = fields.Float(metadata={"description": "composite points to win back"})
    status = fields.String(
        metadata={"description": "open, in_progress, done or dismissed"},
    )
    due_date = fields.Date(allow_none=True)
    note = fields.String(allow_none=True)
    created_at = UtcDateTime()
    updated_at = UtcDateTime()


class ScorecardSupplierSchema(Schema):
    organization_id = fields.UUID(metadata={"description": "the supplier organisation"})
    supplier_code = fields.String()
    name = fields.String()
    name_en = fields.String(allow_none=True)
    country = fields.String(allow_none=True)
    category = fields.String(allow_none=True)
    tier = fields.Integer()


class ScorecardSchema(Schema):
    """A supplier's latest score with every item explained, its history and its actions."""

    relationship_id = fields.UUID()
    supplier = fields.Nested(ScorecardSupplierSchema)
    run = fields.Nested(
        ScoringRunRefSchema,
        allow_none=True,
        metadata={"description": "the run of the score; null when the supplier is not scored"},
    )
    score = fields.Nested(SupplierScoreSchema, allow_none=True)
    dimensions = fields.List(fields.Nested(DimensionScoreSchema))
    items = fields.List(fields.Nested(ScoreItemSchema))
    history = fields.List(
        fields.Nested(ScoreHistorySchema),
        metadata={"description": "every run that scored the supplier, newest year first"},
    )
    actions = fields.List(
        fields.Nested(CorrectiveActionSchema),
        metadata={"description": "open and in-progress first, most points at stake first"},
    )


# --- bands and grid ------------------------------------------------------------------------------


class BandSchema(Schema):
    band = fields.String(validate=validate.OneOf(BANDS))
    min_score = fields.Float(metadata={"description": "composite at or above this"})
    below = fields.Float(
        allow_none=True, metadata={"description": "composite below this; null for the top band"}
    )
    count = fields.Integer()
    disclosed = fields.Integer()
    not_disclosed = fields.Integer()


class BandsSchema(Schema):
    run = fields.Nested(
        ScoringRunRefSchema,
        allow_none=True,
        metadata={"description": "the run counted; null: no run, thresholds from the settings"},
    )
    methodology_version = fields.String()
    approved_min = fields.Float()
    conditional_min = fields.Float()
    correction_months = fields.Integer(
        metadata={"description": "months a conditional supplier has for its corrective actions"}
    )
    approve_without_disclosure = fields.Boolean(
        metadata={"description": "whether a supplier without a response can be approved"}
    )
    boundary = fields.String(metadata={"description": "which band a threshold value falls in"})
    bands = fields.List(fields.Nested(BandSchema))


class GridCellSchema(Schema):
    risk_level = fields.String(validate=validate.OneOf(LEVELS))
    capability_level = fields.String(validate=validate.OneOf(LEVELS))
    cell = fields.String(metadata={"description": "`risk:capability`"})
    count = fields.Integer()
    spend = fields.Nested(MoneySchema, allow_none=True)
    contribution_kg = _decimal("the cell's contribution to Category 1, in kg CO2e")


class GridSchema(Schema):
    run = fields.Nested(ScoringRunRefSchema, allow_none=True)
    cells = fields.List(
        fields.Nested(GridCellSchema),
        metadata={"description": "all nine cells, high risk first; empty without a run"},
    )
