"""API for a brand's disclosures: every emission value with the provenance of each field."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from supplychain.models import Disclosure, Organization
from supplychain.tenancy import get_scoped, scoped
from web import get_db
from web.api import schemas
from web.api.core import bp, operation, org_id, paginate
from web.auth import BRAND_ROLES

TAG = "disclosures"


@bp.route("/v1/disclosures", methods=["GET"])
@operation(
    summary="The brand's disclosures, by reporting year and supplier",
    tag=TAG,
    roles=BRAND_ROLES,
    query=schemas.DisclosureQuerySchema,
    response=schemas.DisclosurePageSchema,
)
def list_disclosures(query: dict[str, Any]):
    stmt = scoped(Disclosure, org_id())
    if query.get("reporting_year") is not None:
        stmt = stmt.where(Disclosure.reporting_year == query["reporting_year"])
    if query.get("supplier") is not None:
        stmt = stmt.where(
            Disclosure.supplier_id.in_(
                select(Organization.id).where(Organization.public_id == query["supplier"])
            )
        )
    stmt = stmt.order_by(Disclosure.reporting_year.desc(), Disclosure.created_at.desc())
    return paginate(stmt, query)


@bp.route("/v1/disclosures/<disclosure_id>", methods=["GET"])
@operation(
    summary="One disclosure with every field's provenance",
    tag=TAG,
    roles=BRAND_ROLES,
    response=schemas.DisclosureSchema,
)
def get_disclosure(disclosure_id: str):
    return get_scoped(get_db(), Disclosure, disclosure_id, org_id())
