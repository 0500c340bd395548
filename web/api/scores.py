"""API for supplier scores: the ranking, one supplier's scorecard, the bands and the grid.

Everything is read from the brand's newest scoring run (of `?year=`, else of the latest scored
year) through :mod:`scoring.queries`, the same read models as the console, so the API and the
pages show the same numbers. Stable codes (items, reasons, actions) come with their English
text from :mod:`scoring.explain`. Without a run the answers are empty, with `run: null`.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from scoring import queries
from scoring.explain import (
    DIMENSION_LABELS,
    ITEM_LABELS,
    action_text,
    explanation,
    item_text,
)
from scoring.queries import benchmark_pct, item_reasons
from scoring.service import brand_methodology
from supplychain.models import ScoringRun, SupplierScore
from supplychain.numbers import finite_or_none, kg_decimal
from supplychain.tenancy import NotFound, parse_public_id
from web import get_db
from web.api import score_schemas
from web.api.core import bp, operation, org_id
from web.auth import BRAND_ROLES

TAG = "scores"
DIMENSIONS = ("emissions", "targets", "maturity", "data_quality")
# Stored score columns the API passes through as they are.
SCORE_FIELDS = (
    "responded",
    "disclosed_group",
    "rank",
    "composite",
    "band",
    "emissions_score",
    "targets_score",
    "maturity_score",
    "data_quality_score",
    "maturity_level",
    "maturity_letter",
    "dq_score",
    "risk_level",
    "capability_level",
    "grid_cell",
    "target_status",
    "intensity",
    "sector_intensity",
    "spend_share",
)
BOUNDARY = "a composite equal to a threshold belongs to the higher band"


def _run(year: int | None) -> ScoringRun | None:
    return queries.latest_run(get_db(), org_id(), year)


def _money(amount: float | None, currency: str) -> dict[str, Any] | None:
    value = finite_or_none(amount)
    return None if value is None else {"amount": Decimal(f"{value:.2f}"), "currency": currency}


def _score(
    score: SupplierScore,
    facts: dict[str, Any],
    reasons: dict[str, tuple[str, dict | None]],
    run: ScoringRun,
) -> dict[str, Any]:
    """One supplier's score as the schema dumps it, its top items in English."""
    benchmark = benchmark_pct(run)
    top_items = [
        {
            **top,
            "text": item_text(
                top["item"], *reasons.get(top["item"], ("", None)), benchmark_pct=benchmark
            ),
        }
        for top in score.top_items or []
    ]
    return {
        **{name: getattr(score, name) for name in SCORE_FIELDS},
        **facts,
        "spend": _money(score.spend, run.currency),
        "contribution_kg": kg_decimal(score.contribution_kg),
        "top_items": top_items,
        "explanation": explanation(score.top_items or [], reasons, benchmark_pct=benchmark),
    }


def _filters(query: dict[str, Any]) -> queries.RankingFilters:
    return queries.RankingFilters(
        band=query.get("band"),
        disclosed_group=query.get("group"),
        tier=query.get("tier"),
        category=query.get("category"),
        country=query.get("country", "").upper() or None,
        risk_level=query.get("risk_level"),
        capability_level=query.get("capability_level"),
        target_status=query.get("target_status"),
        score_min=query.get("min_score"),
        score_max=query.get("max_score"),
        spend_min=query.get("min_spend"),
        spend_max=query.get("max_spend"),
        dq_min=query.get("min_dq"),
        dq_max=query.get("max_dq"),
        search=query.get("search"),
    )


@bp.route("/v1/scores", methods=["GET"])
@operation(
    summary="The brand's suppliers as scored, filtered and sorted like the console's ranking",
    tag=TAG,
    roles=BRAND_ROLES,
    query=score_schemas.ScoreListQuerySchema,
    response=score_schemas.ScorePageSchema,
    description="Read from the newest scoring run of `year` (default: the latest scored year). "
    "Disclosed suppliers are ranked; suppliers without an accepted disclosure form their own "
    "group and have no rank.",
)
def list_scores(query: dict[str, Any]):
    page, per_page = query["page"], query["per_page"]
    empty = {"run": None, "items": [], "page": page, "per_page": per_page, "total": 0}
    run = _run(query.get("year"))
    if run is None:
        return empty
    sort = query["sort"]
    descending = query.get("order", "asc" if sort in score_schemas.ASCENDING_SORTS else "desc")
    found = queries.ranking(
        get_db(),
        run,
        filters=_filters(query),
        sort=sort,
        descending=descending == "desc",
        page=page,
        per_page=per_page,
    )
    reasons = item_reasons(get_db(), [row.score.id for row in found.rows])
    items = [
        _score(
            row.score,
            {
                "relationship_id": row.relationship_public_id,
                "supplier_code": row.supplier_code,
                "supplier_name": row.supplier_name,
                "tier": row.tier,
                "category": row.category,
                "country": row.country,
            },
            reasons.get(row.score.id, {}),
            run,
        )
        for row in found.rows
    ]
    return {"run": run, "items": items, "page": page, "per_page": per_page, "total": found.total}


@bp.route("/v1/scores/suppliers/<relationship_id>", methods=["GET"])
@operation(
    summary="One supplier's scorecard: dimensions, items with reasons, history and actions",
    tag=TAG,
    roles=BRAND_ROLES,
    query=score_schemas.ScoreYearQuerySchema,
    response=score_schemas.ScorecardSchema,
    description="`relationship_id` is the brand's supplier relationship. A supplier not "
    "scored yet answers with `score: null` and empty items.",
)
def get_scorecard(relationship_id: str, query: dict[str, Any]):
    public_id: uuid.UUID = parse_public_id(relationship_id)
    card = queries.scorecard(get_db(), org_id(), public_id, year=query.get("year"))
    if card is None:
        raise NotFound(relationship_id)
    relationship, supplier = card.relationship, card.supplier
    facts = {
        "relationship_id": relationship.public_id,
        "supplier_code": relationship.supplier_code,
        "supplier_name": supplier.name,
        "tier": relationship.tier,
        "category": relationship.category,
        "country": supplier.country,
    }
    answer: dict[str, Any] = {
        "relationship_id": relationship.public_id,
        "supplier": {
            "organization_id": supplier.public_id,
            "supplier_code": relationship.supplier_code,
            "name": supplier.name,
            "name_en": supplier.name_en,
            "country": supplier.country,
            "category": relationship.category,
            "tier": relationship.tier,
        },
        "run": card.run,
        "score": None,
        "dimensions": [],
        "items": [],
        "history": card.history,
        "actions": [
            {
                "id": action.public_id,
                "dimension": action.dimension,
                "item": action.item,
                "action_code": action.action_code,
                "text": action_text(action.action_code),
                "params": action.params,
                "points_at_stake": action.points_at_stake,
                "status": action.status.value,
                "due_date": action.due_date,
                "note": action.note,
                "created_at": action.created_at,
                "updated_at": action.updated_at,
            }
            for action in card.actions
        ],
    }
    if card.score is None or card.run is None:
        return answer
    reasons = {item.item: (item.reason, item.params) for item in card.items}
    benchmark = benchmark_pct(card.run)
    weights = (card.run.methodology or {}).get("weights", {})
    answer["score"] = _score(card.score, facts, reasons, card.run)
    answer["dimensions"] = [
        {
            "dimension": dimension,
            "label": DIMENSION_LABELS[dimension],
            "score": getattr(card.score, f"{dimension}_score"),
            "weight": finite_or_none(weights.get(dimension)) or 0.0,
        }
        for dimension in DIMENSIONS
    ]
    answer["items"] = [
        {
            "dimension": item.dimension,
            "item": item.item,
            "label": ITEM_LABELS.get(item.item, item.item),
            "earned": item.earned,
            "possible": item.possible,
            "reason": item.reason,
            "text": item_text(item.item, item.reason, item.params, benchmark_pct=benchmark),
            "params": item.params,
        }
        for item in card.items
    ]
    return answer


@bp.route("/v1/scores/bands", methods=["GET"])
@operation(
    summary="The brand's band thresholds and how many suppliers fall in each band",
    tag=TAG,
    roles=BRAND_ROLES,
    query=score_schemas.ScoreYearQuerySchema,
    response=score_schemas.BandsSchema,
    description="Thresholds and counts of the newest scoring run of `year`; without a run, "
    "the thresholds the brand's next run will use and zero counts.",
)
def get_bands(query: dict[str, Any]):
    run = _run(query.get("year"))
    if run is not None:
        version, bands = run.methodology_version, (run.methodology or {}).get("bands", {})
        summary = run.summary or {}
    else:
        method = brand_methodology(get_db(), org_id())
        version, bands, summary = method.version, method.bands, {}
    by_group = summary.get("bands_by_group", {})
    approved_min, conditional_min = bands["approved_min"], bands["conditional_min"]
    limits = {
        "approved": (approved_min, None),
        "conditional": (conditional_min, approved_min),
        "rejected": (0.0, conditional_min),
    }
    return {
        "run": run,
        "methodology_version": version,
        "approved_min": approved_min,
        "conditional_min": conditional_min,
        "correction_months": bands["correction_months"],
        "approve_without_disclosure": bands["approve_without_disclosure"],
        "boundary": BOUNDARY,
        "bands": [
            {
                "band": band,
                "min_score": low,
                "below": high,
                "count": int(summary.get("bands", {}).get(band, 0)),
                "disclosed": int(by_group.get("disclosed", {}).get(band, 0)),
                "not_disclosed": int(by_group.get("not_disclosed", {}).get(band, 0)),
            }
            for band, (low, high) in limits.items()
        ],
    }


@bp.route("/v1/scores/grid", methods=["GET"])
@operation(
    summary="The risk × capability grid: suppliers and spend per cell",
    tag=TAG,
    roles=BRAND_ROLES,
    query=score_schemas.ScoreYearQuerySchema,
    response=score_schemas.GridSchema,
    description="List a cell's suppliers with `GET /api/v1/scores?risk_level=&capability_level=`.",
)
def get_grid(query: dict[str, Any]):
    run = _run(query.get("year"))
    if run is None:
        return {"run": None, "cells": []}
    return {
        "run": run,
        "cells": [
            {
                "risk_level": cell.risk_level,
                "capability_level": cell.capability_level,
                "cell": cell.cell,
                "count": cell.count,
                "spend": _money(cell.spend, run.currency),
                "contribution_kg": kg_decimal(cell.contribution_kg),
            }
            for cell in queries.grid(get_db(), run)
        ],
    }
