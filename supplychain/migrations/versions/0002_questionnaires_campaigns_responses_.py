"""questionnaires campaigns responses disclosures

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 03:53:34.727365
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("supplier_relationship", schema=None) as batch_op:
        batch_op.add_column(sa.Column("contact_email", sa.String(length=255), nullable=True))

    op.create_table(
        "questionnaire",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=True),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("title_en", sa.String(length=255), nullable=False),
        sa.Column("title_zh", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("public_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["organization.id"], name=op.f("fk_questionnaire_owner_id_organization")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questionnaire")),
        sa.UniqueConstraint("owner_id", "key", name=op.f("uq_questionnaire_owner_id_key")),
        sa.UniqueConstraint("public_id", name=op.f("uq_questionnaire_public_id")),
    )
    op.create_table(
        "questionnaire_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("questionnaire_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "published",
                name="version_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("definition_sha256", sa.String(length=64), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("public_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["questionnaire_id"],
            ["questionnaire.id"],
            name=op.f("fk_questionnaire_version_questionnaire_id_questionnaire"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questionnaire_version")),
        sa.UniqueConstraint("public_id", name=op.f("uq_questionnaire_version_public_id")),
        sa.UniqueConstraint(
            "questionnaire_id",
            "version",
            name=op.f("uq_questionnaire_version_questionnaire_id_version"),
        ),
    )
    with op.batch_alter_table("questionnaire_version", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_questionnaire_version_questionnaire_id"),
            ["questionnaire_id"],
            unique=False,
        )

    op.create_table(
        "campaign",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("questionnaire_version_id", sa.Integer(), nullable=False),
        sa.Column("reporting_year", sa.Integer(), nullable=False),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("reminder_days_before", sa.JSON(), nullable=True),
        sa.Column("reminder_days_after", sa.JSON(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("supplier_filter", sa.JSON(), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "running",
                "closed",
                name="campaign_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("public_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["organization.id"], name=op.f("fk_campaign_brand_id_organization")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["app_user.id"], name=op.f("fk_campaign_created_by_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["questionnaire_version_id"],
            ["questionnaire_version.id"],
            name=op.f("fk_campaign_questionnaire_version_id_questionnaire_version"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign")),
        sa.UniqueConstraint("public_id", name=op.f("uq_campaign_public_id")),
    )
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_campaign_brand_id"), ["brand_id"], unique=False)

    op.create_table(
        "questionnaire_response",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("questionnaire_version_id", sa.Integer(), nullable=False),
        sa.Column("reporting_year", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "draft",
                "submitted",
                name="response_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("public_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["questionnaire_version_id"],
            ["questionnaire_version.id"],
            name=op.f("fk_questionnaire_response_questionnaire_version_id_questionnaire_version"),
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["organization.id"],
            name=op.f("fk_questionnaire_response_supplier_id_organization"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["app_user.id"],
            name=op.f("fk_questionnaire_response_updated_by_id_app_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_questionnaire_response")),
        sa.UniqueConstraint("public_id", name=op.f("uq_questionnaire_response_public_id")),
    )
    with op.batch_alter_table("questionnaire_response", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_questionnaire_response_supplier_id"), ["supplier_id"], unique=False
        )

    op.create_table(
        "evidence",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("question_key", sa.String(length=80), nullable=False),
        sa.Column("original_name", sa.String(length=255), nullable=False),
        sa.Column("stored_name", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("public_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["questionnaire_response.id"],
            name=op.f("fk_evidence_response_id_questionnaire_response"),
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"], ["organization.id"], name=op.f("fk_evidence_supplier_id_organization")
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["app_user.id"], name=op.f("fk_evidence_uploaded_by_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_evidence")),
        sa.UniqueConstraint("public_id", name=op.f("uq_evidence_public_id")),
    )
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_evidence_response_id"), ["response_id"], unique=False)

    op.create_table(
        "response_submission",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        sa.Column("public_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["questionnaire_response.id"],
            name=op.f("fk_response_submission_response_id_questionnaire_response"),
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_id"],
            ["app_user.id"],
            name=op.f("fk_response_submission_submitted_by_id_app_user"),
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["organization.id"],
            name=op.f("fk_response_submission_supplier_id_organization"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_response_submission")),
        sa.UniqueConstraint("public_id", name=op.f("uq_response_submission_public_id")),
        sa.UniqueConstraint(
            "response_id", "number", name=op.f("uq_response_submission_response_id_number")
        ),
    )
    with op.batch_alter_table("response_submission", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_response_submission_response_id"), ["response_id"], unique=False
        )

    op.create_table(
        "disclosure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("reporting_year", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("source_ref", sa.String(length=64), nullable=False),
        sa.Column("scope1_kg", sa.Numeric(precision=20, scale=3), nullable=True),
        sa.Column("scope2_location_kg", sa.Numeric(precision=20, scale=3), nullable=True),
        sa.Column("scope2_market_kg", sa.Numeric(precision=20, scale=3), nullable=True),
        sa.Column("scope3_upstream_kg", sa.Numeric(precision=20, scale=3), nullable=True),
        sa.Column("revenue", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("revenue_currency", sa.String(length=3), nullable=True),
        sa.Column("revenue_year", sa.Integer(), nullable=True),
        sa.Column("allocation_share", sa.Numeric(precision=12, scale=10), nullable=True),
        sa.Column("allocation_method", sa.String(length=32), nullable=True),
        sa.Column("allocation_uncertainty_pct", sa.Numeric(precision=6, scale=2), nullable=True),
        sa.Column("details", sa.JSON(), nullable=True),
        sa.Column("provenance", sa.JSON(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("public_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["organization.id"], name=op.f("fk_disclosure_brand_id_organization")
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["response_submission.id"],
            name=op.f("fk_disclosure_submission_id_response_submission"),
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["organization.id"],
            name=op.f("fk_disclosure_supplier_id_organization"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disclosure")),
        sa.UniqueConstraint(
            "brand_id",
            "supplier_id",
            "reporting_year",
            "source_ref",
            name=op.f("uq_disclosure_brand_id_supplier_id_reporting_year_source_ref"),
        ),
        sa.UniqueConstraint("public_id", name=op.f("uq_disclosure_public_id")),
    )
    with op.batch_alter_table("disclosure", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_disclosure_brand_id"), ["brand_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_disclosure_supplier_id"), ["supplier_id"], unique=False
        )

    op.create_table(
        "invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("relationship_id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("contact_email", sa.String(length=255), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "status",
            sa.Enum(
                "invited",
                "opened",
                "in_progress",
                "submitted",
                "returned",
                "accepted",
                "declined",
                "overdue",
                name="invitation_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("response_id", sa.Integer(), nullable=True),
        sa.Column("shared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("shared_by_id", sa.Integer(), nullable=True),
        sa.Column("reviewed_submission_id", sa.Integer(), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminders_sent", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("public_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["organization.id"], name=op.f("fk_invitation_brand_id_organization")
        ),
        sa.ForeignKeyConstraint(
            ["campaign_id"], ["campaign.id"], name=op.f("fk_invitation_campaign_id_campaign")
        ),
        sa.ForeignKeyConstraint(
            ["relationship_id"],
            ["supplier_relationship.id"],
            name=op.f("fk_invitation_relationship_id_supplier_relationship"),
        ),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["questionnaire_response.id"],
            name=op.f("fk_invitation_response_id_questionnaire_response"),
        ),
        sa.ForeignKeyConstraint(
            ["reviewed_submission_id"],
            ["response_submission.id"],
            name=op.f("fk_invitation_reviewed_submission_id_response_submission"),
        ),
        sa.ForeignKeyConstraint(
            ["shared_by_id"], ["app_user.id"], name=op.f("fk_invitation_shared_by_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["organization.id"],
            name=op.f("fk_invitation_supplier_id_organization"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitation")),
        sa.UniqueConstraint(
            "campaign_id", "relationship_id", name=op.f("uq_invitation_campaign_id_relationship_id")
        ),
        sa.UniqueConstraint("public_id", name=op.f("uq_invitation_public_id")),
    )
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_invitation_brand_id"), ["brand_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_invitation_campaign_id"), ["campaign_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_invitation_supplier_id"), ["supplier_id"], unique=False
        )

    op.create_table(
        "invitation_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["invitation.id"],
            name=op.f("fk_invitation_token_invitation_id_invitation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitation_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_invitation_token_token_hash")),
    )
    with op.batch_alter_table("invitation_token", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invitation_token_invitation_id"), ["invitation_id"], unique=False
        )

    op.create_table(
        "invitation_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "invited",
                "opened",
                "in_progress",
                "submitted",
                "returned",
                "accepted",
                "declined",
                "overdue",
                name="invitation_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["invitation.id"],
            name=op.f("fk_invitation_event_invitation_id_invitation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitation_event")),
    )
    with op.batch_alter_table("invitation_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invitation_event_invitation_id"), ["invitation_id"], unique=False
        )

    op.create_table(
        "review_comment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("question_key", sa.String(length=80), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("public_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["app_user.id"], name=op.f("fk_review_comment_author_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["organization.id"], name=op.f("fk_review_comment_brand_id_organization")
        ),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["invitation.id"],
            name=op.f("fk_review_comment_invitation_id_invitation"),
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["response_submission.id"],
            name=op.f("fk_review_comment_submission_id_response_submission"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_review_comment")),
        sa.UniqueConstraint("public_id", name=op.f("uq_review_comment_public_id")),
    )
    with op.batch_alter_table("review_comment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_review_comment_invitation_id"), ["invitation_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("review_comment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_review_comment_invitation_id"))

    op.drop_table("review_comment")
    with op.batch_alter_table("invitation_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invitation_token_invitation_id"))

    op.drop_table("invitation_token")
    with op.batch_alter_table("invitation_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invitation_event_invitation_id"))

    op.drop_table("invitation_event")
    with op.batch_alter_table("invitation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invitation_supplier_id"))
        batch_op.drop_index(batch_op.f("ix_invitation_campaign_id"))
        batch_op.drop_index(batch_op.f("ix_invitation_brand_id"))

    op.drop_table("invitation")
    with op.batch_alter_table("disclosure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disclosure_supplier_id"))
        batch_op.drop_index(batch_op.f("ix_disclosure_brand_id"))

    op.drop_table("disclosure")
    with op.batch_alter_table("response_submission", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_response_submission_response_id"))

    op.drop_table("response_submission")
    with op.batch_alter_table("evidence", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_evidence_response_id"))

    op.drop_table("evidence")
    with op.batch_alter_table("questionnaire_response", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_questionnaire_response_supplier_id"))

    op.drop_table("questionnaire_response")
    with op.batch_alter_table("campaign", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_brand_id"))

    op.drop_table("campaign")
    with op.batch_alter_table("questionnaire_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_questionnaire_version_questionnaire_id"))

    op.drop_table("questionnaire_version")
    op.drop_table("questionnaire")

    with op.batch_alter_table("supplier_relationship", schema=None) as batch_op:
        batch_op.drop_column("contact_email")
