"""Persistent domain model (SQLAlchemy 2, typed). Schema changes go through Alembic migrations."""

from __future__ import annotations

import enum
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    """Store enum values (not names) as portable VARCHAR with a CHECK constraint."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        values_callable=lambda members: [m.value for m in members],
    )


class OrgKind(enum.StrEnum):
    BRAND = "brand"
    SUPPLIER = "supplier"


class Role(enum.StrEnum):
    ADMIN = "admin"
    PROCUREMENT = "procurement"
    SUSTAINABILITY = "sustainability"
    SUPPLIER = "supplier"


class RelationshipStatus(enum.StrEnum):
    ACTIVE = "active"
    UNDER_REVIEW = "under_review"
    DELISTED = "delisted"


class JobStatus(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    FINISHED = "finished"
    FAILED = "failed"


MONEY = Numeric(18, 2)
SHARE = Numeric(12, 10)


class PublicIdMixin:
    """UUIDs are what URLs and APIs show; integer keys stay internal."""

    public_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, unique=True, default=uuid.uuid4, nullable=False
    )


class Organization(PublicIdMixin, Base):
    __tablename__ = "organization"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[OrgKind] = mapped_column(_enum(OrgKind, "org_kind"))
    name: Mapped[str] = mapped_column(String(255))
    name_en: Mapped[str | None] = mapped_column(String(255))
    registration_id: Mapped[str | None] = mapped_column(String(64), index=True)
    country: Mapped[str | None] = mapped_column(String(2))
    sector_code: Mapped[str | None] = mapped_column(String(16))
    sector_system: Mapped[str | None] = mapped_column(String(16))
    default_currency: Mapped[str] = mapped_column(String(3), default="USD")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(back_populates="organization")


class User(PublicIdMixin, Base):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(255), unique=True)
    display_name: Mapped[str] = mapped_column(String(255))
    password_hash: Mapped[str] = mapped_column(String(255))
    locale: Mapped[str | None] = mapped_column(String(10))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )


class Membership(Base):
    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "organization_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(_enum(Role, "member_role"))

    user: Mapped[User] = relationship(back_populates="memberships")
    organization: Mapped[Organization] = relationship(back_populates="memberships")


class SupplierRelationship(PublicIdMixin, Base):
    """A brand buys from a supplier organisation; the brand's own view of that supplier."""

    __tablename__ = "supplier_relationship"
    __table_args__ = (
        UniqueConstraint("brand_id", "supplier_code"),
        UniqueConstraint("brand_id", "supplier_id"),
    )
    tenant_column = "brand_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    supplier_code: Mapped[str] = mapped_column(String(64))
    category: Mapped[str | None] = mapped_column(String(128))
    tier: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[RelationshipStatus] = mapped_column(
        _enum(RelationshipStatus, "relationship_status"), default=RelationshipStatus.ACTIVE
    )
    annual_spend: Mapped[Decimal | None] = mapped_column(MONEY)
    spend_currency: Mapped[str | None] = mapped_column(String(3))
    spend_year: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )

    brand: Mapped[Organization] = relationship(foreign_keys=[brand_id])
    supplier: Mapped[Organization] = relationship(foreign_keys=[supplier_id])


class SupplyEdge(PublicIdMixin, Base):
    """A tier-n link known to a brand: `supplier` sells to `customer`, with allocation basis."""

    __tablename__ = "supply_edge"
    __table_args__ = (UniqueConstraint("brand_id", "supplier_id", "customer_id", "year"),)
    tenant_column = "brand_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    allocation_share: Mapped[Decimal | None] = mapped_column(SHARE)
    allocation_basis: Mapped[str | None] = mapped_column(String(32))
    spend: Mapped[Decimal | None] = mapped_column(MONEY)
    currency: Mapped[str | None] = mapped_column(String(3))
    year: Mapped[int] = mapped_column(Integer)
    source: Mapped[str | None] = mapped_column(String(64))

    supplier: Mapped[Organization] = relationship(foreign_keys=[supplier_id])
    customer: Mapped[Organization] = relationship(foreign_keys=[customer_id])


class ImportBatch(PublicIdMixin, Base):
    """One file import: what came in, what was kept, and the validation report."""

    __tablename__ = "import_batch"
    tenant_column = "brand_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_inserted: Mapped[int] = mapped_column(Integer, default=0)
    rows_updated: Mapped[int] = mapped_column(Integer, default=0)
    rows_skipped: Mapped[int] = mapped_column(Integer, default=0)
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SpendLine(PublicIdMixin, Base):
    """One ledger line from the ERP: money always stored with its currency and date."""

    __tablename__ = "spend_line"
    __table_args__ = (UniqueConstraint("brand_id", "line_key"),)
    tenant_column = "brand_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    relationship_id: Mapped[int] = mapped_column(ForeignKey("supplier_relationship.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3))
    spend_date: Mapped[date] = mapped_column(Date)
    category: Mapped[str | None] = mapped_column(String(128))
    sector_code: Mapped[str | None] = mapped_column(String(16))
    sector_system: Mapped[str | None] = mapped_column(String(16))
    description: Mapped[str | None] = mapped_column(Text)
    document_ref: Mapped[str | None] = mapped_column(String(64))
    source_file: Mapped[str | None] = mapped_column(String(255))
    source_line: Mapped[int | None] = mapped_column(Integer)
    line_key: Mapped[str] = mapped_column(String(64))
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batch.id"))

    supplier_relationship: Mapped[SupplierRelationship] = relationship()


class JobRecord(PublicIdMixin, Base):
    """A long step (import, footprint run, export) as the user sees it: queued → finished/failed."""

    __tablename__ = "job_record"
    tenant_column = "organization_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    status: Mapped[JobStatus] = mapped_column(_enum(JobStatus, "job_status"))
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    rq_job_id: Mapped[str | None] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AuditEvent(Base):
    """Append-only trail: who did what, when, with the state before and after."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"), index=True)
    action: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class AuditImmutableError(RuntimeError):
    """Raised when code tries to change or delete an audit event."""


@event.listens_for(AuditEvent, "before_update")
@event.listens_for(AuditEvent, "before_delete")
def _refuse_audit_change(_mapper, _connection, _target) -> None:
    raise AuditImmutableError("audit events are append-only")
