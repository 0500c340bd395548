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


def as_utc(value: datetime) -> datetime:
    """A stored timestamp as aware UTC: SQLite hands back naive datetimes, PostgreSQL aware."""
    return value if value.tzinfo else value.replace(tzinfo=UTC)


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


class ImportStatus(enum.StrEnum):
    """How an import ended; failed and refused ones keep only their batch and report."""

    SUCCEEDED = "succeeded"
    FAILED = "failed"  # rows were invalid (all-or-nothing) or the import broke off
    REFUSED = "refused"  # the file as a whole could not be read


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
    # Raised by logout, password change and deactivation: sessions started under an older
    # number are no longer accepted (see web.auth.load_user).
    session_generation: Mapped[int] = mapped_column(default=0, server_default="0")

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )


class MembershipScope(enum.StrEnum):
    """How far a membership reaches: people added by an admin see every questionnaire of their
    organisation; a contact who claimed an account from an invitation sees only the invitations
    granted to them (see `MembershipInvitation`)."""

    ORGANIZATION = "organization"
    INVITATIONS = "invitations"


class Membership(Base):
    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "organization_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id", ondelete="CASCADE"))
    role: Mapped[Role] = mapped_column(_enum(Role, "member_role"))
    scope: Mapped[MembershipScope] = mapped_column(
        _enum(MembershipScope, "membership_scope"),
        default=MembershipScope.ORGANIZATION,
        server_default=MembershipScope.ORGANIZATION.value,
    )

    user: Mapped[User] = relationship(back_populates="memberships")
    organization: Mapped[Organization] = relationship(back_populates="memberships")
    invitation_grants: Mapped[list[MembershipInvitation]] = relationship(
        back_populates="membership", cascade="all, delete-orphan", passive_deletes=True
    )


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
    contact_email: Mapped[str | None] = mapped_column(String(255))
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
    status: Mapped[ImportStatus] = mapped_column(
        _enum(ImportStatus, "import_status"),
        default=ImportStatus.SUCCEEDED,
        server_default=ImportStatus.SUCCEEDED.value,
    )


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
    status: Mapped[JobStatus] = mapped_column(_enum(JobStatus, "job_status"), index=True)
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    rq_job_id: Mapped[str | None] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Who runs it and the proof it is still alive, so a killed worker's job can be failed.
    heartbeat_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    worker_name: Mapped[str | None] = mapped_column(String(200))
    worker_host: Mapped[str | None] = mapped_column(String(255))
    worker_pid: Mapped[int | None] = mapped_column(Integer)


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


# --- Questionnaires, campaigns, invitations, responses (issue 4) -------------------------------


class VersionStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"


class CampaignStatus(enum.StrEnum):
    DRAFT = "draft"
    RUNNING = "running"
    CLOSED = "closed"


class InvitationStatus(enum.StrEnum):
    INVITED = "invited"
    OPENED = "opened"
    IN_PROGRESS = "in_progress"
    SUBMITTED = "submitted"
    RETURNED = "returned"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    OVERDUE = "overdue"


class ResponseStatus(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"


class Questionnaire(PublicIdMixin, Base):
    """A questionnaire family; `owner_id` None means shipped with the product."""

    __tablename__ = "questionnaire"
    __table_args__ = (UniqueConstraint("owner_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("organization.id"))
    key: Mapped[str] = mapped_column(String(80))
    title_en: Mapped[str] = mapped_column(String(255))
    title_zh: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    versions: Mapped[list[QuestionnaireVersion]] = relationship(
        back_populates="questionnaire", order_by="QuestionnaireVersion.version"
    )


class QuestionnaireVersion(PublicIdMixin, Base):
    """One version of a questionnaire; publishing freezes its definition (and its checksum)."""

    __tablename__ = "questionnaire_version"
    __table_args__ = (UniqueConstraint("questionnaire_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[int] = mapped_column(ForeignKey("questionnaire.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[VersionStatus] = mapped_column(_enum(VersionStatus, "version_status"))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    definition_sha256: Mapped[str | None] = mapped_column(String(64))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    questionnaire: Mapped[Questionnaire] = relationship(back_populates="versions")


class Campaign(PublicIdMixin, Base):
    """A brand asks a set of suppliers to answer one questionnaire version by a deadline."""

    __tablename__ = "campaign"
    tenant_column = "brand_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    name: Mapped[str] = mapped_column(String(255))
    questionnaire_version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_version.id"))
    reporting_year: Mapped[int] = mapped_column(Integer)
    deadline: Mapped[date] = mapped_column(Date)
    reminder_days_before: Mapped[list[int] | None] = mapped_column(JSON)
    reminder_days_after: Mapped[list[int] | None] = mapped_column(JSON)
    message: Mapped[str | None] = mapped_column(Text)
    supplier_filter: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[CampaignStatus] = mapped_column(_enum(CampaignStatus, "campaign_status"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    questionnaire_version: Mapped[QuestionnaireVersion] = relationship()
    invitations: Mapped[list[Invitation]] = relationship(back_populates="campaign")


class QuestionnaireResponse(PublicIdMixin, Base):
    """A supplier's answers to one questionnaire version for one reporting year.

    Owned by the supplier organisation; brands see it only through a consented share.
    `lock_version` implements optimistic locking between contacts editing at once.
    """

    __tablename__ = "questionnaire_response"
    tenant_column = "supplier_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    questionnaire_version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_version.id"))
    reporting_year: Mapped[int] = mapped_column(Integer)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[ResponseStatus] = mapped_column(_enum(ResponseStatus, "response_status"))
    lock_version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    questionnaire_version: Mapped[QuestionnaireVersion] = relationship()
    submissions: Mapped[list[ResponseSubmission]] = relationship(
        back_populates="response", order_by="ResponseSubmission.number"
    )


class ResponseSubmission(PublicIdMixin, Base):
    """A frozen copy of the answers at submit time; reviews and disclosures refer to it."""

    __tablename__ = "response_submission"
    __table_args__ = (UniqueConstraint("response_id", "number"),)
    tenant_column = "supplier_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_response.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    number: Mapped[int] = mapped_column(Integer)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    response: Mapped[QuestionnaireResponse] = relationship(back_populates="submissions")


class Invitation(PublicIdMixin, Base):
    """One supplier invited to one campaign; the link token is stored only as a hash."""

    __tablename__ = "invitation"
    __table_args__ = (UniqueConstraint("campaign_id", "relationship_id"),)
    tenant_column = "brand_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    relationship_id: Mapped[int] = mapped_column(ForeignKey("supplier_relationship.id"))
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    contact_email: Mapped[str] = mapped_column(String(255))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[InvitationStatus] = mapped_column(_enum(InvitationStatus, "invitation_status"))
    response_id: Mapped[int | None] = mapped_column(ForeignKey("questionnaire_response.id"))
    shared_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    shared_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    reviewed_submission_id: Mapped[int | None] = mapped_column(ForeignKey("response_submission.id"))
    opened_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reminders_sent: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    campaign: Mapped[Campaign] = relationship(back_populates="invitations")
    supplier_relationship: Mapped[SupplierRelationship] = relationship()
    supplier: Mapped[Organization] = relationship(foreign_keys=[supplier_id])
    response: Mapped[QuestionnaireResponse | None] = relationship()


class InvitationToken(Base):
    """A link token of an invitation, stored only as its SHA-256.

    Reminders add a token without cancelling the earlier ones (a supplier may be halfway
    through); re-issuing revokes all earlier tokens; revoking the invitation stops them all.
    """

    __tablename__ = "invitation_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitation.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class InvitationEvent(Base):
    """Status changes of an invitation over time (response rate over time comes from here)."""

    __tablename__ = "invitation_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitation.id"), index=True)
    status: Mapped[InvitationStatus] = mapped_column(_enum(InvitationStatus, "invitation_status"))
    occurred_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class InvitationClaim(Base):
    """A link holder's request for an account, waiting until the invited address confirms it.

    Only the SHA-256 of the mailed confirmation token and the scrypt hash of the chosen password
    are kept. `confirmed_at` is set by one conditional update, so a claim makes one account.
    """

    __tablename__ = "invitation_claim"

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitation.id"), index=True)
    invitation_token_id: Mapped[int] = mapped_column(ForeignKey("invitation_token.id"))
    email: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(255))
    password_hash: Mapped[str] = mapped_column(String(255))
    locale: Mapped[str | None] = mapped_column(String(10))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"))

    invitation: Mapped[Invitation] = relationship()


class MembershipInvitation(Base):
    """An invitation an invitation-scoped membership may open, and the link it was granted
    through: re-issuing the invitation revokes that link and so ends the grant."""

    __tablename__ = "membership_invitation"
    __table_args__ = (UniqueConstraint("membership_id", "invitation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    membership_id: Mapped[int] = mapped_column(
        ForeignKey("membership.id", ondelete="CASCADE"), index=True
    )
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitation.id"), index=True)
    invitation_token_id: Mapped[int] = mapped_column(ForeignKey("invitation_token.id"))
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    membership: Mapped[Membership] = relationship(back_populates="invitation_grants")
    invitation: Mapped[Invitation] = relationship()
    invitation_token: Mapped[InvitationToken] = relationship()


class ReviewComment(PublicIdMixin, Base):
    """A brand's comment on one question of one submission; visible only to that brand and
    the supplier."""

    __tablename__ = "review_comment"
    tenant_column = "brand_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("invitation.id"), index=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    submission_id: Mapped[int] = mapped_column(ForeignKey("response_submission.id"))
    question_key: Mapped[str] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Evidence(PublicIdMixin, Base):
    """An uploaded evidence file, stored under a random name with its checksum."""

    __tablename__ = "evidence"
    tenant_column = "supplier_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_response.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    question_key: Mapped[str] = mapped_column(String(80))
    original_name: Mapped[str] = mapped_column(String(255))
    stored_name: Mapped[str] = mapped_column(String(64))
    content_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Disclosure(PublicIdMixin, Base):
    """What a brand knows of one supplier's emissions for one year, whatever the source.

    Emission quantities in kg CO2e; every field's origin is in `provenance`.
    """

    __tablename__ = "disclosure"
    __table_args__ = (UniqueConstraint("brand_id", "supplier_id", "reporting_year", "source_ref"),)
    tenant_column = "brand_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    reporting_year: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(32))
    source_ref: Mapped[str] = mapped_column(String(64))
    scope1_kg: Mapped[Decimal | None] = mapped_column(Numeric(20, 3))
    scope2_location_kg: Mapped[Decimal | None] = mapped_column(Numeric(20, 3))
    scope2_market_kg: Mapped[Decimal | None] = mapped_column(Numeric(20, 3))
    scope3_upstream_kg: Mapped[Decimal | None] = mapped_column(Numeric(20, 3))
    # purchased goods and services of the reporting year (for the upstream gap estimate)
    purchased_spend: Mapped[Decimal | None] = mapped_column(MONEY)
    purchased_currency: Mapped[str | None] = mapped_column(String(3))
    purchased_naics: Mapped[str | None] = mapped_column(String(16))
    revenue: Mapped[Decimal | None] = mapped_column(MONEY)
    revenue_currency: Mapped[str | None] = mapped_column(String(3))
    revenue_year: Mapped[int | None] = mapped_column(Integer)
    allocation_share: Mapped[Decimal | None] = mapped_column(SHARE)
    allocation_method: Mapped[str | None] = mapped_column(String(32))
    allocation_uncertainty_pct: Mapped[Decimal | None] = mapped_column(Numeric(6, 2))
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    provenance: Mapped[dict[str, Any]] = mapped_column(JSON)
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("response_submission.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    supplier: Mapped[Organization] = relationship(foreign_keys=[supplier_id])


# --- Spend-based estimates of a brand's stored ledger (issue 3) --------------------------------


class SpendEstimateRun(PublicIdMixin, Base):
    """One estimate of a brand's ledger for a year against a named factor dataset version."""

    __tablename__ = "spend_estimate_run"
    tenant_column = "brand_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    dataset: Mapped[str] = mapped_column(String(64))
    dataset_version: Mapped[str] = mapped_column(String(32))
    price_basis: Mapped[str] = mapped_column(String(16))
    inputs_hash: Mapped[str] = mapped_column(String(64))
    lines_total: Mapped[int] = mapped_column(Integer)
    lines_estimated: Mapped[int] = mapped_column(Integer)
    lines_review: Mapped[int] = mapped_column(Integer)
    total_kg_co2e: Mapped[Decimal] = mapped_column(Numeric(20, 3))
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SpendEstimate(Base):
    """The estimate of one ledger line, with its whole provenance."""

    __tablename__ = "spend_estimate"
    __table_args__ = (UniqueConstraint("run_id", "spend_line_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("spend_estimate_run.id", ondelete="CASCADE"), index=True
    )
    spend_line_id: Mapped[int] = mapped_column(ForeignKey("spend_line.id"))
    relationship_id: Mapped[int] = mapped_column(ForeignKey("supplier_relationship.id"), index=True)
    kg_co2e: Mapped[Decimal | None] = mapped_column(Numeric(20, 3))
    factor_code: Mapped[str | None] = mapped_column(String(16))
    factor_value: Mapped[float | None] = mapped_column()
    factor_unit: Mapped[str | None] = mapped_column(String(64))
    converted_amount: Mapped[float | None] = mapped_column()
    converted_currency: Mapped[str | None] = mapped_column(String(3))
    price_year: Mapped[int | None] = mapped_column(Integer)
    conversions: Mapped[str | None] = mapped_column(Text)
    classification_method: Mapped[str | None] = mapped_column(String(32))
    classification_confidence: Mapped[float | None] = mapped_column()
    dq_score: Mapped[float | None] = mapped_column()
    uncertainty_pct: Mapped[float | None] = mapped_column()
    needs_review: Mapped[bool] = mapped_column(default=False)


# --- Footprint runs (issue 5) ------------------------------------------------------------------


class FootprintRun(PublicIdMixin, Base):
    """One completed multi-tier Scope 3 Category 1 run of a brand for a reporting year.

    Runs are append-only and written in one transaction, so every stored run is complete;
    the console shows the latest while a newer one is still computing.
    Emission quantities are kg CO2e.
    """

    __tablename__ = "footprint_run"
    tenant_column = "brand_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    reporting_year: Mapped[int] = mapped_column(Integer)
    dataset: Mapped[str] = mapped_column(String(64))
    dataset_version: Mapped[str] = mapped_column(String(32))
    price_basis: Mapped[str] = mapped_column(String(16))
    samples: Mapped[int] = mapped_column(Integer)
    seed: Mapped[int | None] = mapped_column(Integer)
    inputs_hash: Mapped[str] = mapped_column(String(64))
    scope3_cat1_kg: Mapped[Decimal] = mapped_column(Numeric(20, 3))
    ci95_low: Mapped[Decimal | None] = mapped_column(Numeric(20, 3))
    ci95_high: Mapped[Decimal | None] = mapped_column(Numeric(20, 3))
    dq_score: Mapped[float | None] = mapped_column()
    primary_share: Mapped[float | None] = mapped_column()
    breakdown: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    warnings: Mapped[list[str] | None] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    brand: Mapped[Organization] = relationship(foreign_keys=[brand_id])


class FootprintNodeResult(Base):
    """One supplier's result in a run: its method, tier, totals and where its data came from."""

    __tablename__ = "footprint_node_result"
    __table_args__ = (UniqueConstraint("run_id", "organization_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("footprint_run.id", ondelete="CASCADE"), index=True
    )
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    method: Mapped[str] = mapped_column(String(32))
    tier: Mapped[int | None] = mapped_column(Integer)
    cradle_to_gate_kg: Mapped[Decimal | None] = mapped_column(Numeric(20, 3))
    contribution_kg: Mapped[Decimal | None] = mapped_column(Numeric(20, 3))
    share_of_total: Mapped[float | None] = mapped_column()
    dq_score: Mapped[float | None] = mapped_column()
    primary_share: Mapped[float | None] = mapped_column()
    ci95_low: Mapped[Decimal | None] = mapped_column(Numeric(20, 3))
    ci95_high: Mapped[Decimal | None] = mapped_column(Numeric(20, 3))
    provenance: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    organization: Mapped[Organization] = relationship()


class FootprintPath(Base):
    """One of a run's largest supply paths, brand ← tier 1 ← tier 2 …, with its contribution."""

    __tablename__ = "footprint_path"
    __table_args__ = (UniqueConstraint("run_id", "rank"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("footprint_run.id", ondelete="CASCADE"), index=True
    )
    rank: Mapped[int] = mapped_column(Integer)
    nodes: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    source: Mapped[str] = mapped_column(String(32))
    contribution_kg: Mapped[Decimal] = mapped_column(Numeric(20, 3))
    share_of_total: Mapped[float | None] = mapped_column()


# --- API keys ---------------------------------------------------------------------------------


class ApiKey(PublicIdMixin, Base):
    """A bearer key for the JSON API: acts as one user within one organisation they belong to.

    Only the SHA-256 of the key is stored; `prefix` lets people tell their keys apart.
    """

    __tablename__ = "api_key"
    tenant_column = "organization_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship()
    organization: Mapped[Organization] = relationship()


# --- Supplier scoring (issue 9) ----------------------------------------------------------------


class ActionStatus(enum.StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    DISMISSED = "dismissed"


class ScoringRun(PublicIdMixin, Base):
    """One scoring of a brand's suppliers for a reporting year under one methodology version.

    Runs are append-only and written in one transaction; the effective methodology config and
    the hash of the inputs are kept so the same inputs and version reproduce the same scores.
    """

    __tablename__ = "scoring_run"
    tenant_column = "brand_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    reporting_year: Mapped[int] = mapped_column(Integer)
    methodology_version: Mapped[str] = mapped_column(String(16))
    methodology: Mapped[dict[str, Any]] = mapped_column(JSON)
    config_hash: Mapped[str] = mapped_column(String(64))
    inputs_hash: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))
    footprint_run_id: Mapped[int | None] = mapped_column(ForeignKey("footprint_run.id"))
    supplier_count: Mapped[int] = mapped_column(Integer)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    warnings: Mapped[list[str] | None] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    brand: Mapped[Organization] = relationship(foreign_keys=[brand_id])


class SupplierScore(Base):
    """One supplier relationship's scores in a run, with what placed it in its band and cell."""

    __tablename__ = "supplier_score"
    __table_args__ = (UniqueConstraint("run_id", "relationship_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("scoring_run.id", ondelete="CASCADE"), index=True
    )
    relationship_id: Mapped[int] = mapped_column(ForeignKey("supplier_relationship.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    responded: Mapped[bool] = mapped_column()
    composite: Mapped[float] = mapped_column()
    emissions_score: Mapped[float] = mapped_column()
    targets_score: Mapped[float] = mapped_column()
    maturity_score: Mapped[float] = mapped_column()
    data_quality_score: Mapped[float] = mapped_column()
    band: Mapped[str] = mapped_column(String(16))
    disclosed_group: Mapped[str] = mapped_column(String(16))
    rank: Mapped[int | None] = mapped_column(Integer)
    maturity_level: Mapped[str] = mapped_column(String(16))
    maturity_letter: Mapped[str] = mapped_column(String(2))
    dq_score: Mapped[float | None] = mapped_column()
    risk_level: Mapped[str] = mapped_column(String(8))
    capability_level: Mapped[str] = mapped_column(String(8))
    grid_cell: Mapped[str] = mapped_column(String(16))
    intensity: Mapped[float | None] = mapped_column()
    sector_intensity: Mapped[float | None] = mapped_column()
    spend: Mapped[float | None] = mapped_column()
    spend_share: Mapped[float | None] = mapped_column()
    contribution_kg: Mapped[float | None] = mapped_column()
    engagement_potential_kg: Mapped[float | None] = mapped_column()
    target_status: Mapped[str | None] = mapped_column(String(16))
    top_items: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON)

    run: Mapped[ScoringRun] = relationship()
    supplier_relationship: Mapped[SupplierRelationship] = relationship()
    items: Mapped[list[ScoreItem]] = relationship(
        back_populates="score", order_by="ScoreItem.id", passive_deletes=True
    )


class ScoreItem(Base):
    """One rubric item of a supplier's score: points earned of possible, and the reason why."""

    __tablename__ = "score_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    score_id: Mapped[int] = mapped_column(
        ForeignKey("supplier_score.id", ondelete="CASCADE"), index=True
    )
    dimension: Mapped[str] = mapped_column(String(32))
    item: Mapped[str] = mapped_column(String(64))
    earned: Mapped[float] = mapped_column()
    possible: Mapped[float] = mapped_column()
    reason: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    score: Mapped[SupplierScore] = relationship(back_populates="items")


class CorrectiveAction(PublicIdMixin, Base):
    """What a supplier should do to win back the points it lost on one item.

    At most one open action per (brand, relationship, item), kept by the scoring service: a
    re-score updates the points at stake, opens new actions and closes those now satisfied.
    `lock_version` guards edits by two people at once.
    """

    __tablename__ = "corrective_action"
    tenant_column = "brand_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    relationship_id: Mapped[int] = mapped_column(ForeignKey("supplier_relationship.id"), index=True)
    supplier_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    item: Mapped[str] = mapped_column(String(64))
    dimension: Mapped[str] = mapped_column(String(32))
    action_code: Mapped[str] = mapped_column(String(64))
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    points_at_stake: Mapped[float] = mapped_column()
    status: Mapped[ActionStatus] = mapped_column(
        _enum(ActionStatus, "action_status"), default=ActionStatus.OPEN
    )
    due_date: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    opened_by_run_id: Mapped[int] = mapped_column(ForeignKey("scoring_run.id"))
    closed_by_run_id: Mapped[int | None] = mapped_column(ForeignKey("scoring_run.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    lock_version: Mapped[int] = mapped_column(Integer, default=1)

    supplier_relationship: Mapped[SupplierRelationship] = relationship()


class ScoringSettings(Base):
    """A brand's overrides of the shipped methodology: weights, bands and its SBTi target."""

    __tablename__ = "scoring_settings"
    tenant_column = "brand_id"

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), unique=True)
    overrides: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
