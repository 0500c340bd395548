"""From a supplier's answers to a disclosure: the numbers scoring and footprints consume.

Answers reach disclosure fields through ``tags.disclosure_field`` rather than question keys,
so definitions can be reworded and re-keyed without touching this code. Reported totals are
taken as entered (converted to kg CO2e); activity data (electricity by grid region, purchased
heat, fuels) is turned into Scope 1 and 2 with :func:`spend_factors.activity_emissions`, and
every derived field carries provenance naming the questions, factors and response it came from.

This is the only module that calls :mod:`spend_factors` for factors (the unit registry is
shared separately through :mod:`questionnaires.units`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from .answers import AnswerError, normalise_answers, validate_answers
from .maturity import maturity_points
from .model import Question, QuestionnaireDefinition

EmissionsFn = Callable[..., Any]

_GROUPS = {
    "verification": "verification_",
    "targets": "target_",
    "governance": "governance_",
    "data_sources": "data_source_",
}


class DerivationError(RuntimeError):
    """Activity data cannot be converted because no factor function is available."""


class InvalidAnswersError(ValueError):
    """Answers with errors: deriving from them would silently drop figures."""

    def __init__(self, errors: list[AnswerError]) -> None:
        self.errors = errors
        listed = "; ".join(f"{e.question_key}: {e.code}" for e in errors[:10])
        super().__init__(f"cannot derive a disclosure from invalid answers ({listed})")


@dataclass
class DerivedDisclosure:
    """What one submitted response discloses, in canonical units, with provenance per field.

    Emissions are kg CO2e; ``allocation_share`` and ``renewable_electricity_share`` are
    fractions (0–1); ``allocation_uncertainty_pct`` stays in percent (±%).
    ``scope3_upstream_kg`` is what the footprint reads as the supplier's purchased goods and
    services; ``scope3_upstream_boundary`` says what was asked: ``category_1`` (Scope 3
    Category 1 only) or ``upstream`` (version 1: all upstream categories the supplier chose).
    ``purchased_spend`` is in ``purchased_currency`` for the reporting year; each of
    ``purchased_categories`` is ``{"naics": code, "share": 0–1}``, largest first, and
    ``purchased_naics`` is the largest one's code.
    """

    questionnaire_key: str
    questionnaire_version: int
    reporting_year: int | None = None
    company_name: str | None = None
    country: str | None = None
    sector_code: str | None = None
    sector_code_system: str | None = None
    organisational_boundary: str | None = None
    emissions_method: str | None = None
    scope1_kg: float | None = None
    scope2_location_kg: float | None = None
    scope2_market_kg: float | None = None
    scope3_upstream_kg: float | None = None
    scope3_upstream_boundary: str | None = None
    revenue: Decimal | None = None
    revenue_currency: str | None = None
    revenue_year: int | None = None
    purchased_spend: Decimal | None = None
    purchased_currency: str | None = None
    purchased_naics: str | None = None
    purchased_categories: list[dict[str, Any]] = field(default_factory=list)
    employees: int | None = None
    allocation_share: float | None = None
    allocation_method: str | None = None
    allocation_basis: str | None = None
    allocation_uncertainty_pct: float | None = None
    renewable_electricity_share: float | None = None
    verification: dict[str, Any] = field(default_factory=dict)
    targets: dict[str, Any] = field(default_factory=dict)
    sbti_status: str | None = None
    governance: dict[str, Any] = field(default_factory=dict)
    data_sources: dict[str, Any] = field(default_factory=dict)
    maturity: dict[str, dict[str, float]] = field(default_factory=dict)
    product_footprints: list[dict[str, Any]] = field(default_factory=list)
    reduction_initiatives: list[dict[str, Any]] = field(default_factory=list)
    provenance: dict[str, dict[str, Any]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (``revenue`` as a decimal string)."""
        out = asdict(self)
        for name in ("revenue", "purchased_spend"):
            if getattr(self, name) is not None:
                out[name] = format(getattr(self, name), "f")
        return out

    def details_dict(self) -> dict[str, Any]:
        """Everything but the provenance, JSON-ready: the disclosure record's ``details``."""
        out = self.to_dict()
        del out["provenance"]
        return out


def _default_emissions_fn() -> EmissionsFn:
    try:
        from spend_factors import activity_emissions
    except ImportError as exc:  # pragma: no cover - depends on the installed tree
        raise DerivationError("spend_factors.activity_emissions is not available") from exc
    return activity_emissions


def _factor_entry(result: Any, question: str, row: int | None) -> dict[str, Any]:
    """Provenance of one factor application, from spend_factors' result object."""

    def get(*names: str) -> Any:
        for name in names:
            value = result.get(name) if isinstance(result, Mapping) else getattr(result, name, None)
            if value is not None:
                return value
        return None

    entry = {
        "activity": get("activity"),
        "region": get("region"),
        "year": get("year_applied", "year"),
        "factor": get("factor", "factor_value"),
        "unit": get("factor_unit", "unit"),
        "source": get("source"),
        "verified": get("verified"),
        "source_url": get("source_url"),
        "dq_score": get("dq_score"),
        "quantity": get("quantity"),
        "quantity_unit": get("unit"),
        "conversions": get("conversions"),
        "kg_co2e": float(get("kg_co2e")),
        "question": question,
    }
    if row is not None:
        entry["row"] = row
    return entry


class _Context:
    """Normalised answers plus the tag index the field extractors share."""

    def __init__(
        self,
        definition: QuestionnaireDefinition,
        answers: Mapping[str, Any],
        response_ref: Mapping[str, Any],
    ) -> None:
        self.definition = definition
        self.values = normalise_answers(definition, answers)
        self.ref = dict(response_ref)

    def tagged(self, name: str) -> tuple[Question | None, Any]:
        """The first tagged question and its (visible, valid) answer, else the first tagged."""
        questions = self.definition.questions_tagged(name)
        for question in questions:
            if question.key in self.values:
                return question, self.values[question.key]
        return (questions[0] if questions else None), None

    def reported(self, question: Question | None, value: Any) -> dict[str, Any]:
        if question is None:
            return {"method": "not-asked", **self.ref}
        if value is None:
            return {"method": "not-answered", "question": question.key, **self.ref}
        out = {"method": "reported", "question": question.key, **self.ref}
        if isinstance(value, Mapping) and "entered" in value:
            out["entered"] = dict(value["entered"])
        return out


def _scalar(value: Any) -> Any:
    """Plain value of a normalised answer (numbers with units lose their unit wrapper)."""
    if isinstance(value, Mapping) and "value" in value:
        return value["value"]
    return value


def derive_disclosure(
    definition: QuestionnaireDefinition,
    answers: Mapping[str, Any],
    *,
    response_ref: Mapping[str, Any],
    emissions_fn: EmissionsFn | None = None,
) -> DerivedDisclosure:
    """Turn answers into a :class:`DerivedDisclosure`.

    ``response_ref`` (e.g. ``{"response_id": 7, "submission": 2, "questionnaire_version": 1}``)
    is copied into every provenance entry. ``emissions_fn`` defaults to
    :func:`spend_factors.activity_emissions` and is only called for activity data.
    Raises :class:`InvalidAnswersError` if any visible answer is invalid (required-ness is
    not checked, so drafts can be previewed).
    """
    errors = validate_answers(definition, answers)
    if errors:
        raise InvalidAnswersError(errors)
    ctx = _Context(definition, answers, response_ref)
    out = DerivedDisclosure(definition.key, definition.version)
    prov = out.provenance

    def simple(attr: str, tag: str, convert: Callable[[Any], Any] = _scalar) -> Any:
        question, value = ctx.tagged(tag)
        setattr(out, attr, None if value is None else convert(value))
        prov[attr] = ctx.reported(question, value)
        return value

    simple("reporting_year", "reporting_year")
    simple("company_name", "company_name")
    simple("country", "country")
    simple("sector_code", "sector_code")
    simple("sector_code_system", "sector_code_system")
    simple("organisational_boundary", "organisational_boundary")
    simple("employees", "employees")
    simple("allocation_method", "allocation_method")
    simple("allocation_basis", "allocation_basis")
    simple("allocation_uncertainty_pct", "allocation_uncertainty_pct", float)
    simple("allocation_share", "allocation_share", lambda v: float(v) / 100.0)
    simple("renewable_electricity_share", "renewable_electricity_share", lambda v: float(v) / 100.0)
    simple("sbti_status", "sbti_status")
    _derive_upstream(ctx, out)

    revenue_q, revenue = ctx.tagged("revenue")
    if revenue is not None:
        out.revenue = Decimal(revenue["amount"])
        out.revenue_currency = revenue["currency"]
        out.revenue_year = out.reporting_year
    for attr in ("revenue", "revenue_currency", "revenue_year"):
        prov[attr] = ctx.reported(revenue_q, revenue)
    if revenue is not None and out.reporting_year is not None:
        prov["revenue_year"] = {
            **ctx.reported(*ctx.tagged("reporting_year")),
            "note": "revenue year is the reporting year",
        }

    _derive_purchases(ctx, out)

    for attr, prefix in _GROUPS.items():
        group: dict[str, Any] = {}
        keys = []
        for question in definition.questions():
            tag = question.tags.disclosure_field or ""
            if tag.startswith(prefix) and question.key in ctx.values:
                group[tag[len(prefix) :]] = _plain(ctx.values[question.key])
                keys.append(question.key)
        setattr(out, attr, group)
        prov[attr] = {
            "method": "reported" if keys else "not-answered",
            "questions": keys,
            **ctx.ref,
        }

    for attr, tag in (
        ("product_footprints", "product_footprints"),
        ("reduction_initiatives", "reduction_initiatives"),
    ):
        question, rows = ctx.tagged(tag)
        setattr(out, attr, [_plain(row) for row in rows or []])
        prov[attr] = ctx.reported(question, rows)

    out.maturity = maturity_points(definition, answers)
    prov["maturity"] = {
        "method": "maturity-points",
        "questions": [q.key for q in definition.questions() if q.tags.maturity],
        **ctx.ref,
    }

    _derive_emissions(ctx, out, emissions_fn)
    return out


def _derive_upstream(ctx: _Context, out: DerivedDisclosure) -> None:
    """Upstream Scope 3: Category 1 where the form asks for it, else all upstream (version 1).

    The footprint fills a reporting supplier's upstream gap from this figure as purchased
    goods and services, so which of the two was asked is recorded with it.
    """
    if ctx.definition.questions_tagged("scope3_purchased_goods"):
        tag, boundary = "scope3_purchased_goods", "category_1"
    else:
        tag, boundary = "scope3_upstream", "upstream"
    question, value = ctx.tagged(tag)
    out.scope3_upstream_kg = None if value is None else float(_scalar(value))
    out.provenance["scope3_upstream_kg"] = ctx.reported(question, value)
    entry = ctx.reported(question, value)
    entry.pop("entered", None)
    if value is not None:
        out.scope3_upstream_boundary = boundary
        entry["note"] = (
            "Scope 3 Category 1 (purchased goods and services) only"
            if boundary == "category_1"
            else "upstream Scope 3 as reported: may include categories other than Category 1"
        )
    out.provenance["scope3_upstream_boundary"] = entry


_NAICS = re.compile(r"^\d{2,6}$")


def _derive_purchases(ctx: _Context, out: DerivedDisclosure) -> None:
    """Purchased spend (reporting year, as entered) and its categories, largest first."""
    prov = out.provenance
    spend_q, spend = ctx.tagged("purchased_spend")
    if spend is not None:
        out.purchased_spend = Decimal(spend["amount"])
        out.purchased_currency = spend["currency"]
    for attr in ("purchased_spend", "purchased_currency"):
        prov[attr] = ctx.reported(spend_q, spend)
    if spend is not None:
        prov["purchased_spend"]["year"] = out.reporting_year
        prov["purchased_spend"]["note"] = (
            "purchased goods and services (Scope 3 Category 1 boundary) of the reporting year"
        )
        if (
            out.revenue is not None
            and out.revenue_currency == out.purchased_currency
            and out.purchased_spend > out.revenue
        ):
            out.warnings.append(
                f"purchased spend {out.purchased_spend:,.2f} {out.purchased_currency} is more "
                f"than the revenue {out.revenue:,.2f} {out.revenue_currency}; check both figures"
            )
    _derive_categories(ctx, out)


def _derive_categories(ctx: _Context, out: DerivedDisclosure) -> None:
    """Shares per purchased category (repeated rows add up); the largest is the main sector.

    Ties go to the row entered first. A category without a NAICS code (``other``) keeps its
    share in the provenance but never becomes ``purchased_naics``.
    """
    prov = out.provenance
    table_q, rows = ctx.tagged("purchased_categories")
    shares: dict[str, float] = {}
    first_row: dict[str, int] = {}
    for index, row in enumerate(rows or []):
        if "category" in row and "share_pct" in row:
            shares[row["category"]] = shares.get(row["category"], 0.0) + float(row["share_pct"])
            first_row.setdefault(row["category"], index)
    ranked = sorted(shares, key=lambda c: (-shares[c], first_row[c]))
    out.purchased_categories = [
        {"naics": c, "share": shares[c] / 100.0} for c in ranked if _NAICS.match(c)
    ]
    prov["purchased_categories"] = ctx.reported(table_q, rows)
    if not ranked:
        prov["purchased_naics"] = ctx.reported(table_q, None)
        return
    prov["purchased_categories"]["unlisted_share"] = (
        sum(shares[c] for c in ranked if not _NAICS.match(c)) / 100.0
    )
    main = ranked[0]
    prov["purchased_naics"] = {
        "method": "largest-purchased-category",
        "question": table_q.key,
        "row": first_row[main],
        "share": shares[main] / 100.0,
        **ctx.ref,
    }
    if _NAICS.match(main):
        out.purchased_naics = main
        return
    prov["purchased_naics"]["note"] = (
        f"the largest category ({main!r}) has no NAICS code; the footprint uses the "
        "supplier's own sector"
    )
    out.warnings.append(
        f"purchased_naics not set: the largest purchased category is {main!r}, "
        "which has no NAICS code"
    )


def _plain(value: Any) -> Any:
    """Strip unit wrappers inside rows/groups so consumers get plain numbers (canonical)."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        if "value" in value and "unit" in value:
            return value["value"]
        return {k: _plain(v) for k, v in value.items()}
    return value


def _derive_emissions(
    ctx: _Context, out: DerivedDisclosure, emissions_fn: EmissionsFn | None
) -> None:
    prov = out.provenance
    method_q, method = ctx.tagged("emissions_method")
    s1_q, s1 = ctx.tagged("scope1")
    s2l_q, s2l = ctx.tagged("scope2_location")
    s2m_q, s2m = ctx.tagged("scope2_market")
    activity_keys = [
        q.key
        for tag in (
            "activity_electricity",
            "activity_heat",
            "activity_fuels",
            "activity_process_emissions",
        )
        for q in ctx.definition.questions_tagged(tag)
        if q.key in ctx.values
    ]
    if method is None:
        method = (
            "totals"
            if any(v is not None for v in (s1, s2l, s2m))
            else ("activity" if activity_keys else None)
        )
    out.emissions_method = method
    prov["emissions_method"] = (
        ctx.reported(method_q, ctx.values.get(method_q.key))
        if (method_q)
        else {"method": "inferred", **ctx.ref}
    )

    electricity_kg: float | None = None
    if method == "activity":
        computed = _from_activity(ctx, out, emissions_fn or _default_emissions_fn())
        electricity_kg = computed
    else:
        out.scope1_kg = None if s1 is None else float(s1["value"])
        prov["scope1_kg"] = ctx.reported(s1_q, s1)
        out.scope2_location_kg = None if s2l is None else float(s2l["value"])
        prov["scope2_location_kg"] = ctx.reported(s2l_q, s2l)
        electricity_kg = out.scope2_location_kg

    if s2m is not None:
        out.scope2_market_kg = float(s2m["value"])
        prov["scope2_market_kg"] = ctx.reported(s2m_q, s2m)
        return
    location = out.scope2_location_kg
    if location is None:
        out.scope2_market_kg = None
        prov["scope2_market_kg"] = ctx.reported(s2m_q, None)
        return
    share_q, _ = ctx.tagged("renewable_electricity_share")
    share = out.renewable_electricity_share
    basis = {
        "from": "scope2_location_kg",
        "location_kg": location,
        "questions": [q for q in (share_q.key if share_q else None,) if q],
        "location_provenance": prov["scope2_location_kg"],
        **ctx.ref,
    }
    if share is None:
        out.scope2_market_kg = location
        prov["scope2_market_kg"] = {
            "method": "location-based-fallback",
            "note": "no market-based figure and no renewable share: location-based value used",
            **basis,
        }
        return
    electricity = location if electricity_kg is None else electricity_kg
    reduction = electricity * share
    out.scope2_market_kg = location - reduction
    prov["scope2_market_kg"] = {
        "method": "estimated-from-renewable-share",
        "renewable_share": share,
        "electricity_kg": electricity,
        "note": (
            "market-based = location-based - electricity emissions x renewable share; "
            "remaining electricity keeps the location-based grid factor (no residual mix)"
        ),
        **basis,
    }


def _from_activity(ctx: _Context, out: DerivedDisclosure, emissions_fn: EmissionsFn) -> float:
    """Compute Scope 1 and Scope 2 location-based; returns electricity's share of Scope 2."""
    prov = out.provenance
    year = out.reporting_year
    scope1_factors: list[dict[str, Any]] = []
    scope2_factors: list[dict[str, Any]] = []
    scope1_questions: list[str] = []
    scope2_questions: list[str] = []
    problems: dict[str, list[str]] = {"scope1_kg": [], "scope2_location_kg": []}

    def apply(
        field_name: str,
        sink: list,
        question: Question,
        row: int | None,
        quantity: Mapping[str, Any],
        activity: str,
        region: str | None,
    ) -> None:
        try:
            result = emissions_fn(
                float(quantity["value"]), quantity["unit"], activity, region=region, year=year
            )
        except (ValueError, LookupError) as exc:
            where = question.key if row is None else f"{question.key}[{row}]"
            problems[field_name].append(f"{where}: {exc}")
            return
        sink.append(_factor_entry(result, question.key, row))

    for question in ctx.definition.questions_tagged("activity_fuels"):
        rows = ctx.values.get(question.key)
        if rows is None:
            continue
        scope1_questions.append(question.key)
        for i, row in enumerate(rows):
            if "fuel" in row and "quantity" in row:
                apply("scope1_kg", scope1_factors, question, i, row["quantity"], row["fuel"], None)
    process_kg = 0.0
    for question in ctx.definition.questions_tagged("activity_process_emissions"):
        value = ctx.values.get(question.key)
        if value is not None:
            scope1_questions.append(question.key)
            process_kg += float(value["value"])
    for question in ctx.definition.questions_tagged("activity_electricity"):
        rows = ctx.values.get(question.key)
        if rows is None:
            continue
        scope2_questions.append(question.key)
        for i, row in enumerate(rows):
            if "grid_region" in row and "quantity" in row:
                apply(
                    "scope2_location_kg",
                    scope2_factors,
                    question,
                    i,
                    row["quantity"],
                    "electricity_grid",
                    row["grid_region"],
                )
    electricity_kg = sum(f["kg_co2e"] for f in scope2_factors)
    for question in ctx.definition.questions_tagged("activity_heat"):
        value = ctx.values.get(question.key)
        if value is not None:
            scope2_questions.append(question.key)
            apply(
                "scope2_location_kg",
                scope2_factors,
                question,
                None,
                value,
                "purchased_heat",
                out.country,
            )

    scope1 = sum(f["kg_co2e"] for f in scope1_factors) + process_kg
    for name, total, questions, factors, extra in (
        ("scope1_kg", scope1, scope1_questions, scope1_factors, {"process_kg": process_kg}),
        (
            "scope2_location_kg",
            sum(f["kg_co2e"] for f in scope2_factors),
            scope2_questions,
            scope2_factors,
            {"electricity_kg": electricity_kg},
        ),
    ):
        entry = {
            "method": "computed-from-activity",
            "questions": questions,
            "factors": factors,
            **extra,
            **ctx.ref,
        }
        if problems[name]:
            entry["errors"] = problems[name]
            out.warnings += [f"{name} not computed: {p}" for p in problems[name]]
            setattr(out, name, None)
        else:
            setattr(out, name, float(total))
        prov[name] = entry
    return electricity_kg
