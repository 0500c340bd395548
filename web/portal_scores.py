"""Supplier portal scorecard: a signed-in supplier contact sees, per brand that scored its
organisation, the latest scorecard and the corrective actions with their due dates.

Only supplier contacts reach it; anyone else gets 404, as if it did not exist. An
organisation-wide contact sees every brand that scored its organisation; an account claimed
through an invitation sees only the brands of the invitations it may still open. The brand's
notes on an action are never shown here.
"""

from __future__ import annotations

from flask import Blueprint, abort, g, redirect, render_template, request, url_for

from questionnaires import claims
from scoring import queries
from supplychain.models import MembershipScope, Role
from web import get_db
from web.footprint import format_tonnes
from web.scoring_labels import template_helpers as scoring_helpers

bp = Blueprint("portal_scores", __name__, url_prefix="/portal/scorecard")


@bp.context_processor
def _helpers() -> dict:
    return {**scoring_helpers(), "tonnes": format_tonnes}


def visible_brand_ids(membership) -> set[int] | None:
    """Brands whose scores this membership may see; None means every brand (organisation-wide
    contacts). A claimed account reaches the brands of its live, openable invitations only."""
    if membership.scope == MembershipScope.ORGANIZATION:
        return None
    return {i.brand_id for i in claims.reachable_invitations(get_db(), membership)}


@bp.route("")
def scorecard():
    if g.user is None:
        return redirect(url_for("auth.login", next=request.full_path))
    membership = g.membership
    if membership is None or membership.role != Role.SUPPLIER:
        abort(404)
    brands = visible_brand_ids(membership)
    cards = [
        card
        for card in queries.supplier_view(get_db(), membership.organization_id)
        if brands is None or card.brand.id in brands
    ]
    return render_template("portal/scorecard.html", cards=cards)
