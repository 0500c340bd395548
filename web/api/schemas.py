"""Marshmallow schemas of the JSON API: the one definition of every input and output.

Input schemas are loaded (unknown fields refused, per-field errors become a 400); output schemas
dump records; the OpenAPI document is generated from these same classes. Conventions: public ids
are UUIDs; money is always an amount with its currency; emissions are kg CO2e; exact quantities
(money, emissions, shares) are decimal strings so no precision is lost in JSON.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from marshmallow import (
    EXCLUDE,
    Schema,
    ValidationError,
    fields,
    post_load,
    pre_dump,
    validate,
    validates_schema,
)
from sqlalchemy.orm import object_session

from questionnaires.campaigns import SupplierFilter
from supplychain.models import (
    CampaignStatus,
    InvitationStatus,
    RelationshipStatus,
    ResponseStatus,
    ResponseSubmission,
    VersionStatus,
)
from web.api.core import Extended

MAX_PER_PAGE = 200
# Far beyond any real list, and small enough that the row offset fits every database's integer.
MAX_PAGE = 1_000_000
# A campaign's deadline falls at most this many years after its reporting year.
MAX_DEADLINE_YEARS_AFTER = 5


class UtcDateTime(fields.DateTime):
    """Times are stored in UTC; SQLite hands them back naive, so add the offset on the way out."""

    def _serialize(self, value: datetime | None, attr: Any, obj: Any, **kwargs: Any) -> Any:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


def _decimal(description: str, **kwargs: Any) -> fields.Decimal:
    """An exact quantity, sent as a decimal string."""
    return fields.Decimal(
        as_string=True,
        allow_none=True,
        metadata={"description": description, "type": "string", "format": "decimal"},
        **kwargs,
    )


def _kg(what: str) -> fields.Decimal:
    return _decimal(f"{what}, in kg CO2e (kilograms of CO2 equivalent); null when not reported")


def _id(description: str, attribute: str = "public_id", **kwargs: Any) -> fields.UUID:
    return fields.UUID(attribute=attribute, metadata={"description": description}, **kwargs)


# --- shared -------------------------------------------------------------------------------------


class ErrorBodySchema(Schema):
    code = fields.String(
        required=True, metadata={"description": "stable machine-readable reason, e.g. not_found"}
    )
    message = fields.String(required=True, metadata={"description": "human-readable reason"})
    details = fields.Raw(
        allow_none=True,
        metadata={
            "description": "per-field messages for validation_error; `lock_version` and "
            "`theirs` for edit_conflict; `errors` (answer errors) for validation_failed"
        },
    )


class ErrorSchema(Schema):
    """The body of every error response."""

    error = fields.Nested(ErrorBodySchema, required=True)


class PageQuerySchema(Schema):
    """`?page=&per_page=` of list endpoints."""

    class Meta:
        unknown = EXCLUDE

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PER_PAGE))


class PageSchema(Schema):
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)
    total = fields.Integer(required=True, metadata={"description": "items over all pages"})


class MoneySchema(Schema):
    """An amount of money; never without its currency."""

    amount = _decimal("amount in `currency`", required=True)
    currency = fields.String(
        required=True,
        validate=validate.Length(equal=3),
        metadata={"description": "ISO 4217 code, e.g. CNY"},
    )


class OrganizationRefSchema(Schema):
    id = _id("organisation id")
    name = fields.String()
    name_en = fields.String(allow_none=True)
    country = fields.String(allow_none=True, metadata={"description": "ISO 3166-1 alpha-2"})


class LocaleQuerySchema(Schema):
    """`?locale=en|zh` picks the language of messages; Accept-Language when absent."""

    class Meta:
        unknown = EXCLUDE

    locale = fields.String(
        validate=validate.OneOf(["en", "zh", "zh-CN", "zh_CN", "zh-Hans"]),
        metadata={"description": "language of validation messages"},
    )


# --- questionnaires ----------------------------------------------------------------------------


class QuestionnaireVersionSchema(Schema):
    id = _id("questionnaire version id")
    key = fields.String(attribute="questionnaire.key")
    title_en = fields.String(attribute="questionnaire.title_en")
    title_zh = fields.String(attribute="questionnaire.title_zh")
    version = fields.Integer()
    status = fields.Enum(VersionStatus, by_value=True)
    shipped = fields.Function(
        lambda v: v.questionnaire.owner_id is None,
        metadata={"type": "boolean", "description": "shipped with the product (not the brand's)"},
    )
    published_at = UtcDateTime(allow_none=True)
    definition_sha256 = fields.String(
        allow_none=True, metadata={"description": "checksum of the frozen definition"}
    )


class QuestionnaireVersionDetailSchema(QuestionnaireVersionSchema):
    definition = fields.Dict(
        metadata={"description": "the definition, in the format of docs/questionnaire-format.md"}
    )


class QuestionnaireVersionPageSchema(PageSchema):
    items = fields.List(fields.Nested(QuestionnaireVersionSchema), required=True)


class QuestionnaireListQuerySchema(PageQuerySchema):
    status = fields.String(
        load_default="published",
        validate=validate.OneOf(["published", "draft", "all"]),
        metadata={"description": "drafts are only ever the brand's own"},
    )


class DefinitionBodySchema(Schema):
    """A questionnaire definition to store as a draft (checked by the questionnaire loader)."""

    definition = fields.Dict(
        required=True,
        metadata={"description": "a definition as in docs/questionnaire-format.md"},
    )


# --- campaigns ---------------------------------------------------------------------------------


class SupplierFilterSchema(Schema):
    """Which of the brand's suppliers a campaign goes to; empty lists mean no restriction."""

    tiers = fields.List(fields.Integer(validate=validate.Range(min=1, max=20)), load_default=list)
    categories = fields.List(fields.String(validate=validate.Length(max=128)), load_default=list)
    countries = fields.List(
        fields.String(validate=validate.Length(equal=2)),
        load_default=list,
        metadata={"description": "ISO 3166-1 alpha-2 codes of the supplier organisations"},
    )
    statuses = fields.List(
        fields.String(validate=validate.OneOf([s.value for s in RelationshipStatus])),
        load_default=lambda: [RelationshipStatus.ACTIVE.value],
    )
    top_by_spend = fields.Integer(
        allow_none=True,
        load_default=None,
        validate=validate.Range(min=1),
        metadata={"description": "keep only the N largest by annual spend (converted to USD)"},
    )

    @post_load
    def _to_filter(self, data: dict[str, Any], **_kwargs: Any) -> SupplierFilter:
        return SupplierFilter(**data)


class CampaignCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    questionnaire_version_id = fields.UUID(
        required=True, metadata={"description": "a published version (shipped or the brand's)"}
    )
    reporting_year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100))
    deadline = fields.Date(
        required=True,
        metadata={
            "description": "from 1 January of the reporting year to 31 December "
            f"{MAX_DEADLINE_YEARS_AFTER} years after it"
        },
    )
    reminder_days_before = fields.List(
        fields.Integer(validate=validate.Range(min=0, max=365)),
        load_default=None,
        metadata={"description": "days before the deadline to remind (default 7 and 1)"},
    )
    reminder_days_after = fields.List(
        fields.Integer(validate=validate.Range(min=0, max=365)),
        load_default=None,
        metadata={"description": "days after the deadline to remind (default 3)"},
    )
    message = fields.String(load_default="", validate=validate.Length(max=10_000))
    supplier_filter = fields.Nested(SupplierFilterSchema, load_default=SupplierFilter)

    @validates_schema
    def _deadline_near_the_year(self, data: dict[str, Any], **_kwargs: Any) -> None:
        """Disclosure for a year cannot be due before that year has even begun, nor years
        after it (reminders and link expiry are counted from the deadline, and a date like
        9999-12-31 leaves no room for them)."""
        deadline, year = data.get("deadline"), data.get("reporting_year")
        if deadline is None or year is None:
            return
        if deadline < date(year, 1, 1):
            raise ValidationError("the deadline is before the reporting year begins", "deadline")
        if deadline > date(year + MAX_DEADLINE_YEARS_AFTER, 12, 31):
            raise ValidationError(
                f"the deadline is more than {MAX_DEADLINE_YEARS_AFTER} years after the "
                "reporting year",
                "deadline",
            )


class CampaignSchema(Schema):
    id = _id("campaign id")
    name = fields.String()
    status = fields.Enum(CampaignStatus, by_value=True)
    questionnaire_version_id = _id(
        "questionnaire version sent", attribute="questionnaire_version.public_id"
    )
    questionnaire_key = fields.String(attribute="questionnaire_version.questionnaire.key")
    questionnaire_version = fields.Integer(attribute="questionnaire_version.version")
    reporting_year = fields.Integer()
    deadline = fields.Date()
    reminder_days_before = fields.List(
        fields.Integer(), allow_none=True, metadata={"description": "null: no reminders"}
    )
    reminder_days_after = fields.List(
        fields.Integer(), allow_none=True, metadata={"description": "null: no reminders"}
    )
    message = fields.String(allow_none=True)
    supplier_filter = fields.Nested(
        SupplierFilterSchema,
        allow_none=True,
        metadata={"description": "null: every active supplier (no filter recorded)"},
    )
    created_at = UtcDateTime()


class CampaignPageSchema(PageSchema):
    items = fields.List(fields.Nested(CampaignSchema), required=True)


class RatePointSchema(Schema):
    date = fields.String(metadata={"description": "ISO date"})
    rate = fields.Float(metadata={"description": "share of invitations submitted by then, 0..1"})


class InvitationRefSchema(Schema):
    id = _id("invitation id")
    supplier_code = fields.String(attribute="supplier_relationship.supplier_code")
    supplier_name = fields.String(attribute="supplier.name")
    status = fields.Enum(InvitationStatus, by_value=True)


class CampaignStatsSchema(Schema):
    counts = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        metadata={"description": "invitations per status (every status present)"},
    )
    total = fields.Integer()
    response_rate = fields.Float(
        metadata={"description": "submitted, returned or accepted over invited, 0..1"}
    )
    rate_over_time = fields.List(fields.Nested(RatePointSchema))
    overdue = fields.List(fields.Nested(InvitationRefSchema))


class CampaignDetailSchema(CampaignSchema):
    stats = fields.Nested(CampaignStatsSchema)


class SkippedSupplierSchema(Schema):
    supplier_code = fields.String()
    reason = fields.String()


class LaunchResultSchema(Schema):
    """Links are mailed to the suppliers and never returned by the API."""

    invited = fields.Integer(metadata={"description": "invitations sent by this launch"})
    skipped = fields.List(fields.Nested(SkippedSupplierSchema))
    campaign = fields.Nested(CampaignSchema)


# --- invitations and review --------------------------------------------------------------------


class SupplierRefSchema(Schema):
    """The invited supplier, as the brand knows it (dumped from the supplier relationship)."""

    relationship_id = _id("the brand's supplier relationship id")
    organization_id = _id("the supplier organisation id", attribute="supplier.public_id")
    supplier_code = fields.String()
    name = fields.String(attribute="supplier.name")
    name_en = fields.String(attribute="supplier.name_en", allow_none=True)
    country = fields.String(attribute="supplier.country", allow_none=True)
    category = fields.String(allow_none=True)
    tier = fields.Integer()


class InvitationSchema(Schema):
    id = _id("invitation id")
    campaign_id = _id("campaign id", attribute="campaign.public_id")
    status = fields.Enum(InvitationStatus, by_value=True)
    supplier = fields.Nested(SupplierRefSchema, attribute="supplier_relationship")
    contact_email = fields.String()
    created_at = UtcDateTime()
    opened_at = UtcDateTime(allow_none=True)
    submitted_at = UtcDateTime(allow_none=True)
    decided_at = UtcDateTime(allow_none=True)
    revoked_at = UtcDateTime(
        allow_none=True, metadata={"description": "set while the links are withdrawn"}
    )
    last_reminded_at = UtcDateTime(allow_none=True)
    reminders_sent = fields.Integer()
    shared_at = UtcDateTime(
        allow_none=True, metadata={"description": "when the supplier linked a response to it"}
    )


class InvitationPageSchema(PageSchema):
    items = fields.List(fields.Nested(InvitationSchema), required=True)


class RemindResultSchema(Schema):
    sent = fields.Boolean(
        metadata={"description": "false when the supplier has responded or the link is revoked"}
    )
    invitation = fields.Nested(InvitationSchema)


class SubmissionSchema(Schema):
    """A frozen copy of the answers at submit time."""

    id = _id("submission id")
    number = fields.Integer(metadata={"description": "1 for the first submission, then 2 …"})
    submitted_at = UtcDateTime()
    answers = fields.Dict(metadata={"description": "question key → answer"})


class ReviewCommentSchema(Schema):
    id = _id("comment id")
    question_key = fields.String(metadata={"description": "`_general` for the whole response"})
    body = fields.String()
    created_at = UtcDateTime()


class InvitationDetailSchema(InvitationSchema):
    questionnaire_version_id = _id(
        "questionnaire version answered", attribute="campaign.questionnaire_version.public_id"
    )
    submission = fields.Nested(
        SubmissionSchema,
        allow_none=True,
        metadata={"description": "the submission under review; null before the first submit"},
    )
    comments = fields.List(
        fields.Nested(ReviewCommentSchema), metadata={"description": "this brand's comments"}
    )
    disclosure_id = fields.UUID(
        allow_none=True, metadata={"description": "the disclosure made by accepting, if any"}
    )


class ReturnBodySchema(Schema):
    comments = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=80)),
        values=fields.String(validate=validate.Length(max=5_000)),
        required=True,
        validate=validate.Length(min=1),
        metadata={"description": "question key (or `_general`) → what needs to change"},
    )


# --- disclosures -------------------------------------------------------------------------------


class DisclosureSchema(Schema):
    """What the brand knows of one supplier's emissions for one year, and where each value
    came from."""

    id = _id("disclosure id")
    supplier = fields.Nested(OrganizationRefSchema)
    reporting_year = fields.Integer()
    source = fields.String(metadata={"description": "e.g. questionnaire"})
    source_ref = fields.String()
    submission_id = fields.UUID(
        allow_none=True, metadata={"description": "the accepted submission, for questionnaires"}
    )
    scope1_kg = _kg("Scope 1 emissions")
    scope2_location_kg = _kg("Scope 2 emissions, location-based")
    scope2_market_kg = _kg("Scope 2 emissions, market-based")
    scope3_upstream_kg = _kg(
        "upstream Scope 3 emissions: Category 1 (purchased goods and services) when "
        "`details.scope3_upstream_boundary` is `category_1`, all upstream categories the "
        "supplier chose when it is `upstream` (questionnaire version 1)"
    )
    revenue = fields.Nested(MoneySchema, allow_none=True)
    revenue_year = fields.Integer(allow_none=True)
    purchased_spend = fields.Nested(
        MoneySchema,
        allow_none=True,
        dump_only=True,
        metadata={
            "description": "spend on purchased goods and services (Scope 3 Category 1) in "
            "the reporting year; null when not reported"
        },
    )
    purchased_naics = fields.String(
        allow_none=True,
        dump_only=True,
        metadata={
            "description": "NAICS 2017 code of the largest purchased category; the other "
            "categories and their shares are in `details.purchased_categories`"
        },
    )
    allocation_share = _decimal("share of the supplier's emissions allocated to this brand, 0..1")
    allocation_method = fields.String(allow_none=True)
    allocation_uncertainty_pct = _decimal("uncertainty of the allocation share, in per cent")
    details = fields.Dict(allow_none=True)
    provenance = fields.Dict(
        metadata={"description": "field name → where its value came from (question, unit, …)"}
    )
    created_at = UtcDateTime()

    @pre_dump
    def _money_and_refs(self, disclosure: Any, **_kwargs: Any) -> Any:
        """Revenue and purchased spend are stored as two columns each; the API never shows an
        amount without its currency."""
        revenue = purchased = None
        if disclosure.revenue is not None:
            revenue = {"amount": disclosure.revenue, "currency": disclosure.revenue_currency}
        if disclosure.purchased_spend is not None:
            purchased = {
                "amount": disclosure.purchased_spend,
                "currency": disclosure.purchased_currency,
            }
        submission_id = None
        if disclosure.submission_id is not None:
            session = object_session(disclosure)
            submission = session.get(ResponseSubmission, disclosure.submission_id)
            submission_id = submission.public_id if submission is not None else None
        return Extended(
            disclosure, revenue=revenue, purchased_spend=purchased, submission_id=submission_id
        )


class DisclosurePageSchema(PageSchema):
    items = fields.List(fields.Nested(DisclosureSchema), required=True)


class DisclosureQuerySchema(PageQuerySchema):
    reporting_year = fields.Integer(validate=validate.Range(min=2000, max=2100))
    supplier = fields.UUID(metadata={"description": "supplier organisation id"})


# --- supplier responses ------------------------------------------------------------------------


class AnswerErrorSchema(Schema):
    question_key = fields.String()
    code = fields.String(metadata={"description": "e.g. required, out_of_range"})
    message = fields.String(metadata={"description": "in the requested locale"})
    row = fields.Integer(allow_none=True, metadata={"description": "table row, from 0"})
    column = fields.String(allow_none=True)
    params = fields.Dict()


class ResponseInvitationSchema(Schema):
    """A brand this response is shared with, through its invitation."""

    id = _id("invitation id")
    brand = fields.String(attribute="supplier_relationship.brand.name")
    status = fields.Enum(InvitationStatus, by_value=True)
    deadline = fields.Date(attribute="campaign.deadline")


class SupplierCommentSchema(ReviewCommentSchema):
    brand = fields.String(metadata={"description": "the brand that wrote the comment"})


class ResponseSchema(Schema):
    id = _id("response id")
    questionnaire_version_id = _id(
        "questionnaire version answered", attribute="questionnaire_version.public_id"
    )
    questionnaire_key = fields.String(attribute="questionnaire_version.questionnaire.key")
    questionnaire_version = fields.Integer(attribute="questionnaire_version.version")
    reporting_year = fields.Integer()
    status = fields.Enum(ResponseStatus, by_value=True)
    lock_version = fields.Integer(
        metadata={"description": "send it back with PATCH; it changes on every save"}
    )
    updated_at = UtcDateTime()


class ResponsePageSchema(PageSchema):
    items = fields.List(fields.Nested(ResponseSchema), required=True)


class ResponseDetailSchema(ResponseSchema):
    answers = fields.Dict(metadata={"description": "question key → answer, as saved"})
    locale = fields.String(metadata={"description": "language of the messages below"})
    errors = fields.List(
        fields.Nested(AnswerErrorSchema),
        metadata={"description": "problems with the answers as they stand"},
    )
    submit_errors = fields.List(
        fields.Nested(AnswerErrorSchema),
        metadata={"description": "what submitting now would refuse (adds missing answers)"},
    )
    invitations = fields.List(fields.Nested(ResponseInvitationSchema))
    comments = fields.List(fields.Nested(SupplierCommentSchema))


class AnswersPatchSchema(Schema):
    lock_version = fields.Integer(
        required=True,
        validate=validate.Range(min=1),
        metadata={"description": "the lock_version the changes were made against"},
    )
    answers = fields.Dict(
        keys=fields.String(validate=validate.Length(min=1, max=80)),
        required=True,
        metadata={"description": "question key → new answer; null clears an answer"},
    )


class SaveResultSchema(Schema):
    lock_version = fields.Integer()
    changed = fields.List(fields.String(), metadata={"description": "question keys changed"})
    errors = fields.List(fields.Nested(AnswerErrorSchema))


class SubmitResultSchema(Schema):
    id = _id("response id")
    status = fields.Enum(ResponseStatus, by_value=True)
    submission = fields.Nested(SubmissionSchema)


# Every schema of the API, in the order they appear in the OpenAPI document.
ALL_SCHEMAS: tuple[type[Schema], ...] = tuple(
    value
    for value in list(globals().values())
    if isinstance(value, type) and issubclass(value, Schema) and value.__module__ == __name__
)
