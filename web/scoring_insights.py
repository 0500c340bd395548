"""Procurement insights on a brand's scored suppliers: engagement priority, SBTi engagement
tracking over reporting years, and the award comparison for a spend category.

Views only parse the request and render; every number comes from `scoring.queries`, always
scoped to the signed-in brand (another brand's relationship id answers 404).
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from flask import Blueprint, render_template, request
from flask_babel import format_decimal
from flask_babel import gettext as _

from scoring import queries
from web import get_db
from web.auth import BRAND_ROLES, current_org_id, roles_required
from web.footprint import format_tonnes
from web.scoring_labels import template_helpers as scoring_helpers

bp = Blueprint("scoring_insights", __name__, url_prefix="/console/scores")

MIN_CANDIDATES, MAX_CANDIDATES = 2, 5
MAX_AMOUNT = Decimal("1e15")  # beyond any real contract; keeps the arithmetic meaningful
PER_PAGE = 50


def format_signed_tonnes(kg: float | None) -> str:
    if kg is None:
        return "–"
    sign = "+" if kg > 0 else "−" if kg < 0 else "±"
    return sign + format_tonnes(abs(kg))


def format_amount(value: float | None) -> str:
    return "–" if value is None else format_decimal(value, format="#,##0.##")


@bp.context_processor
def _helpers() -> dict:
    return {
        **scoring_helpers(),
        "tonnes": format_tonnes,
        "signed_tonnes": format_signed_tonnes,
        "amount": format_amount,
    }


def _year_arg() -> int | None:
    year = request.args.get("year", type=int)
    return year if year is not None and 1990 <= year <= 2100 else None


@bp.route("/engagement")
@roles_required(*BRAND_ROLES)
def engagement():
    """Suppliers by the emissions that engagement could reduce, largest first."""
    db = get_db()
    run = queries.latest_run(db, current_org_id(), _year_arg())
    priority = None
    if run is not None:
        page = request.args.get("page", 1, type=int)
        priority = queries.engagement_priority(db, run, page=page, per_page=PER_PAGE)
    return render_template("scoring_insights/engagement.html", run=run, priority=priority)


@bp.route("/sbti")
@roles_required(*BRAND_ROLES)
def sbti():
    """Share of Category 1 emissions and of spend from suppliers with science-based targets,
    per reporting year, against the brand's target."""
    db = get_db()
    brand_id = current_org_id()
    years = queries.sbti_engagement(db, brand_id)
    target = queries.sbti_target(db, brand_id)
    return render_template(
        "scoring_insights/sbti.html", years=years, target=target, chart=_sbti_chart(years, target)
    )


CHART_WIDTH, CHART_HEIGHT, CHART_TOP, CHART_BOTTOM, CHART_LEFT = 640, 240, 16, 28, 44


def _sbti_chart(years: list[queries.SbtiYear], target: queries.SbtiTarget) -> dict:
    """Bar geometry for the server-side SVG (no script, no inline style: the CSP forbids both).

    Each year has a stacked bar (validated below, committed above) of its emissions share and
    the target share is a horizontal line across the chart."""
    plot = CHART_HEIGHT - CHART_TOP - CHART_BOTTOM
    slot = (CHART_WIDTH - CHART_LEFT) / max(len(years), 1)
    width = min(slot * 0.6, 80)

    def y_of(share: float) -> float:
        return round(CHART_TOP + plot * (1 - min(max(share, 0.0), 1.0)), 1)

    bars = []
    for index, year in enumerate(years):
        x = round(CHART_LEFT + slot * index + (slot - width) / 2, 1)
        validated = year.validated_emissions_share or 0.0
        committed = year.committed_emissions_share or 0.0
        bars.append(
            {
                "year": year.year,
                "x": x,
                "label_x": round(x + width / 2, 1),
                "width": round(width, 1),
                "validated_y": y_of(validated),
                "validated_height": round(plot * min(validated, 1.0), 1),
                "committed_y": y_of(validated + committed),
                "committed_height": round(plot * min(committed, 1.0 - min(validated, 1.0)), 1),
                "share": year.emissions_share,
            }
        )
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "left": CHART_LEFT,
        "label_y": CHART_HEIGHT - 8,
        "target_y": y_of(target.share),
        "ticks": [{"y": y_of(t / 100), "label": f"{t} %"} for t in (0, 25, 50, 75, 100)],
        "bars": bars,
    }


def _parse_amount(text: str) -> Decimal | None:
    """A positive, finite amount, else None."""
    try:
        value = Decimal(text.replace(",", "").strip())
    except InvalidOperation:
        return None
    if not value.is_finite() or value <= 0 or value > MAX_AMOUNT:
        return None
    return value


@bp.route("/compare")
@roles_required(*BRAND_ROLES)
def compare():
    """Two to five suppliers side by side for a spend category, with what moving a given spend
    to each would change in the brand's Category 1."""
    db = get_db()
    run = queries.latest_run(db, current_org_id(), _year_arg())
    if run is None:
        return render_template("scoring_insights/compare.html", run=None)
    categories = queries.score_categories(db, run)
    category = request.args.get("category", "")
    chosen = list(dict.fromkeys(v for v in request.args.getlist("suppliers") if v))
    amount_text = request.args.get("amount", "").strip()
    # Unknown or another brand's ids answer 404; a list too long to compare is not looked up.
    picked = queries.scored_relationships(db, run, chosen) if len(chosen) <= MAX_CANDIDATES else []
    errors, comparison = [], None
    if "amount" in request.args or chosen:
        if category not in categories:
            errors.append(_("Choose a spend category."))
        if len(chosen) < MIN_CANDIDATES:
            errors.append(_("Pick at least %(n)d suppliers to compare.", n=MIN_CANDIDATES))
        elif len(chosen) > MAX_CANDIDATES:
            errors.append(_("Pick at most %(n)d suppliers to compare.", n=MAX_CANDIDATES))
        amount = _parse_amount(amount_text)
        if amount is None:
            errors.append(
                _(
                    "Enter the spend to move as a positive amount in %(currency)s.",
                    currency=run.currency,
                )
            )
        if not errors:
            comparison = queries.award_comparison(
                db, run, category=category, candidates=picked, amount=float(amount)
            )
    return render_template(
        "scoring_insights/compare.html",
        run=run,
        categories=categories,
        category=category,
        candidates=queries.category_scores(db, run, category) if category in categories else [],
        chosen=set(chosen),
        amount_text=amount_text,
        errors=errors,
        comparison=comparison,
    )
