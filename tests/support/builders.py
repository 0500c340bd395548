"""Small builders for tenants, users and suppliers used across tests."""

from __future__ import annotations

import hashlib
import uuid
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import Session

from supplychain.accounts import create_user
from supplychain.models import (
    ImportBatch,
    JobRecord,
    JobStatus,
    Organization,
    OrgKind,
    Role,
    SpendLine,
    SupplierRelationship,
)

PASSWORD = "correct-horse-42"


def brand(session: Session, slug: str, name: str | None = None) -> Organization:
    org = Organization(slug=slug, kind=OrgKind.BRAND, name=name or slug.title(), country="US")
    session.add(org)
    session.flush()
    return org


def supplier(session: Session, name: str, country: str = "CN") -> Organization:
    org = Organization(
        slug=f"sup-{uuid.uuid4().hex[:10]}",
        kind=OrgKind.SUPPLIER,
        name=name,
        country=country,
        default_currency="CNY",
    )
    session.add(org)
    session.flush()
    return org


def user(session: Session, email: str, org: Organization, role: Role = Role.PROCUREMENT):
    return create_user(
        session, email=email, password=PASSWORD, display_name=email, organization=org, role=role
    )


def relationship(
    session: Session, brand_org: Organization, supplier_org: Organization, code: str, **fields
) -> SupplierRelationship:
    rel = SupplierRelationship(
        brand_id=brand_org.id, supplier_id=supplier_org.id, supplier_code=code, **fields
    )
    session.add(rel)
    session.flush()
    return rel


def spend_line(
    session: Session, rel: SupplierRelationship, amount: str, currency: str = "CNY"
) -> SpendLine:
    line = SpendLine(
        brand_id=rel.brand_id,
        relationship_id=rel.id,
        amount=Decimal(amount),
        currency=currency,
        spend_date=date(2025, 3, 1),
        line_key=hashlib.sha256(f"{rel.id}{amount}{uuid.uuid4()}".encode()).hexdigest(),
    )
    session.add(line)
    session.flush()
    return line


def import_batch(session: Session, brand_org: Organization) -> ImportBatch:
    batch = ImportBatch(brand_id=brand_org.id, kind="suppliers", filename="x.csv", sha256="0" * 64)
    session.add(batch)
    session.flush()
    return batch


def job(session: Session, org: Organization) -> JobRecord:
    record = JobRecord(organization_id=org.id, kind="import.suppliers", status=JobStatus.FINISHED)
    session.add(record)
    session.flush()
    return record
