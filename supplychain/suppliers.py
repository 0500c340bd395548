"""Use cases over a brand's supplier base: search, sort and page; one supplier's details."""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from supplychain.models import Organization, SpendLine, SupplierRelationship
from supplychain.tenancy import get_scoped, scoped

SORT_COLUMNS = {
    "name": Organization.name,
    "code": SupplierRelationship.supplier_code,
    "country": Organization.country,
    "category": SupplierRelationship.category,
    "tier": SupplierRelationship.tier,
    "status": SupplierRelationship.status,
    "spend": SupplierRelationship.annual_spend,
}
MAX_PER_PAGE = 200
# Far beyond any real supplier base, and small enough that the offset fits a 64-bit integer.
MAX_PAGE = 1_000_000


@dataclass
class Page:
    items: list[SupplierRelationship]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))


def list_suppliers(
    session: Session,
    brand_id: int,
    *,
    search: str = "",
    sort: str = "name",
    descending: bool = False,
    page: int = 1,
    per_page: int = 50,
) -> Page:
    """One page of the brand's suppliers, filtered by name or code, in a stable order."""
    per_page = min(max(per_page, 1), MAX_PER_PAGE)
    page = min(max(page, 1), MAX_PAGE)
    stmt = scoped(SupplierRelationship, brand_id).join(
        Organization, Organization.id == SupplierRelationship.supplier_id
    )
    if search.strip():
        pattern = f"%{search.strip().lower()}%"
        stmt = stmt.where(
            or_(
                func.lower(Organization.name).like(pattern),
                func.lower(Organization.name_en).like(pattern),
                func.lower(SupplierRelationship.supplier_code).like(pattern),
            )
        )
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    column = SORT_COLUMNS.get(sort, Organization.name)
    order = column.desc().nulls_last() if descending else column.asc().nulls_last()
    stmt = (
        stmt.options(joinedload(SupplierRelationship.supplier))
        .order_by(order, SupplierRelationship.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return Page(items=list(session.scalars(stmt)), total=total, page=page, per_page=per_page)


@dataclass
class SpendByCurrency:
    """Ledger totals are shown per currency: amounts in different currencies are never added."""

    currency: str
    lines: int
    total: Decimal


def supplier_detail(
    session: Session, brand_id: int, relationship_public_id: str
) -> tuple[SupplierRelationship, list[SpendByCurrency], list[SpendLine]]:
    relationship = get_scoped(session, SupplierRelationship, relationship_public_id, brand_id)
    totals = session.execute(
        select(SpendLine.currency, func.count(), func.sum(SpendLine.amount))
        .where(SpendLine.brand_id == brand_id, SpendLine.relationship_id == relationship.id)
        .group_by(SpendLine.currency)
        .order_by(SpendLine.currency)
    ).all()
    recent = list(
        session.scalars(
            scoped(SpendLine, brand_id)
            .where(SpendLine.relationship_id == relationship.id)
            .order_by(SpendLine.spend_date.desc(), SpendLine.id.desc())
            .limit(20)
        )
    )
    by_currency = [SpendByCurrency(c, n, Decimal(str(t or 0))) for c, n, t in totals]
    return relationship, by_currency, recent


def customers_of(session: Session, supplier_org_id: int) -> list[SupplierRelationship]:
    """The brands a supplier organisation serves, as seen from the supplier's side."""
    stmt = (
        select(SupplierRelationship)
        .where(SupplierRelationship.supplier_id == supplier_org_id)
        .options(joinedload(SupplierRelationship.brand))
    )
    return list(session.scalars(stmt))
