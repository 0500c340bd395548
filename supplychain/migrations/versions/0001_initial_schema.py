"""initial schema: organisations, users, relationships, tier edges, spend, jobs, audit

Revision ID: 0001
Revises:
Create Date: 2026-11-22 03:45:49.060735
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("public_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_user")),
        sa.UniqueConstraint("email", name=op.f("uq_app_user_email")),
        sa.UniqueConstraint("public_id", name=op.f("uq_app_user_public_id")),
    )
    op.create_table(
        "organization",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=80), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "brand",
                "supplier",
                name="org_kind",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("name_en", sa.String(length=255), nullable=True),
        sa.Column("registration_id", sa.String(length=64), nullable=True),
        sa.Column("country", sa.String(length=2), nullable=True),
        sa.Column("sector_code", sa.String(length=16), nullable=True),
        sa.Column("sector_system", sa.String(length=16), nullable=True),
        sa.Column("default_currency", sa.String(length=3), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("public_id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organization")),
        sa.UniqueConstraint("public_id", name=op.f("uq_organization_public_id")),
        sa.UniqueConstraint("slug", name=op.f("uq_organization_slug")),
    )
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_organization_registration_id"), ["registration_id"], unique=False
        )

    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("entity_type", sa.String(length=64), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["app_user.id"], name=op.f("fk_audit_event_actor_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_audit_event_organization_id_organization"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_audit_event_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "import_batch",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("rows_total", sa.Integer(), nullable=False),
        sa.Column("rows_inserted", sa.Integer(), nullable=False),
        sa.Column("rows_updated", sa.Integer(), nullable=False),
        sa.Column("rows_skipped", sa.Integer(), nullable=False),
        sa.Column("report", sa.JSON(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("public_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["organization.id"], name=op.f("fk_import_batch_brand_id_organization")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["app_user.id"], name=op.f("fk_import_batch_created_by_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_batch")),
        sa.UniqueConstraint("public_id", name=op.f("uq_import_batch_public_id")),
    )
    with op.batch_alter_table("import_batch", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_import_batch_brand_id"), ["brand_id"], unique=False)

    op.create_table(
        "job_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "queued",
                "running",
                "finished",
                "failed",
                name="job_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("params", sa.JSON(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("rq_job_id", sa.String(length=64), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("public_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["app_user.id"], name=op.f("fk_job_record_created_by_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_job_record_organization_id_organization"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_record")),
        sa.UniqueConstraint("public_id", name=op.f("uq_job_record_public_id")),
    )
    with op.batch_alter_table("job_record", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_job_record_organization_id"), ["organization_id"], unique=False
        )

    op.create_table(
        "membership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "admin",
                "procurement",
                "sustainability",
                "supplier",
                name="member_role",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_membership_organization_id_organization"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_membership_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership")),
        sa.UniqueConstraint(
            "user_id", "organization_id", name=op.f("uq_membership_user_id_organization_id")
        ),
    )
    op.create_table(
        "supplier_relationship",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("supplier_code", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=128), nullable=True),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "under_review",
                "delisted",
                name="relationship_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("annual_spend", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("spend_currency", sa.String(length=3), nullable=True),
        sa.Column("spend_year", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("public_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["organization.id"],
            name=op.f("fk_supplier_relationship_brand_id_organization"),
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["organization.id"],
            name=op.f("fk_supplier_relationship_supplier_id_organization"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supplier_relationship")),
        sa.UniqueConstraint(
            "brand_id",
            "supplier_code",
            name=op.f("uq_supplier_relationship_brand_id_supplier_code"),
        ),
        sa.UniqueConstraint(
            "brand_id", "supplier_id", name=op.f("uq_supplier_relationship_brand_id_supplier_id")
        ),
        sa.UniqueConstraint("public_id", name=op.f("uq_supplier_relationship_public_id")),
    )
    with op.batch_alter_table("supplier_relationship", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supplier_relationship_brand_id"), ["brand_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_supplier_relationship_supplier_id"), ["supplier_id"], unique=False
        )

    op.create_table(
        "supply_edge",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("allocation_share", sa.Numeric(precision=12, scale=10), nullable=True),
        sa.Column("allocation_basis", sa.String(length=32), nullable=True),
        sa.Column("spend", sa.Numeric(precision=18, scale=2), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=True),
        sa.Column("public_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["organization.id"], name=op.f("fk_supply_edge_brand_id_organization")
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["organization.id"],
            name=op.f("fk_supply_edge_customer_id_organization"),
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["organization.id"],
            name=op.f("fk_supply_edge_supplier_id_organization"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supply_edge")),
        sa.UniqueConstraint(
            "brand_id",
            "supplier_id",
            "customer_id",
            "year",
            name=op.f("uq_supply_edge_brand_id_supplier_id_customer_id_year"),
        ),
        sa.UniqueConstraint("public_id", name=op.f("uq_supply_edge_public_id")),
    )
    with op.batch_alter_table("supply_edge", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_supply_edge_brand_id"), ["brand_id"], unique=False)

    op.create_table(
        "spend_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("relationship_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=18, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("spend_date", sa.Date(), nullable=False),
        sa.Column("category", sa.String(length=128), nullable=True),
        sa.Column("sector_code", sa.String(length=16), nullable=True),
        sa.Column("sector_system", sa.String(length=16), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("document_ref", sa.String(length=64), nullable=True),
        sa.Column("source_file", sa.String(length=255), nullable=True),
        sa.Column("source_line", sa.Integer(), nullable=True),
        sa.Column("line_key", sa.String(length=64), nullable=False),
        sa.Column("import_batch_id", sa.Integer(), nullable=True),
        sa.Column("public_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["organization.id"], name=op.f("fk_spend_line_brand_id_organization")
        ),
        sa.ForeignKeyConstraint(
            ["import_batch_id"],
            ["import_batch.id"],
            name=op.f("fk_spend_line_import_batch_id_import_batch"),
        ),
        sa.ForeignKeyConstraint(
            ["relationship_id"],
            ["supplier_relationship.id"],
            name=op.f("fk_spend_line_relationship_id_supplier_relationship"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spend_line")),
        sa.UniqueConstraint("brand_id", "line_key", name=op.f("uq_spend_line_brand_id_line_key")),
        sa.UniqueConstraint("public_id", name=op.f("uq_spend_line_public_id")),
    )
    with op.batch_alter_table("spend_line", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_spend_line_brand_id"), ["brand_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_spend_line_relationship_id"), ["relationship_id"], unique=False
        )

    _create_audit_guard()


AUDIT_GUARD_SQLITE = (
    "CREATE TRIGGER audit_event_{op}_guard BEFORE {OP} ON audit_event "
    "BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END"
)


def _create_audit_guard() -> None:
    """The audit trail refuses UPDATE and DELETE in the database itself, not only in the ORM."""
    if op.get_bind().dialect.name == "sqlite":
        for name in ("update", "delete"):
            op.execute(AUDIT_GUARD_SQLITE.format(op=name, OP=name.upper()))
    else:
        op.execute(
            "CREATE FUNCTION audit_event_guard() RETURNS trigger AS $$ BEGIN "
            "RAISE EXCEPTION 'audit_event is append-only'; END; $$ LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER audit_event_guard BEFORE UPDATE OR DELETE ON audit_event "
            "FOR EACH ROW EXECUTE FUNCTION audit_event_guard()"
        )


def _drop_audit_guard() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS audit_event_{name}_guard")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_event_guard ON audit_event")
        op.execute("DROP FUNCTION IF EXISTS audit_event_guard()")


def downgrade() -> None:
    _drop_audit_guard()
    with op.batch_alter_table("spend_line", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_spend_line_relationship_id"))
        batch_op.drop_index(batch_op.f("ix_spend_line_brand_id"))

    op.drop_table("spend_line")
    with op.batch_alter_table("supply_edge", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supply_edge_brand_id"))

    op.drop_table("supply_edge")
    with op.batch_alter_table("supplier_relationship", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supplier_relationship_supplier_id"))
        batch_op.drop_index(batch_op.f("ix_supplier_relationship_brand_id"))

    op.drop_table("supplier_relationship")
    op.drop_table("membership")
    with op.batch_alter_table("job_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_record_organization_id"))

    op.drop_table("job_record")
    with op.batch_alter_table("import_batch", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_batch_brand_id"))

    op.drop_table("import_batch")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_event_organization_id"))

    op.drop_table("audit_event")
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organization_registration_id"))

    op.drop_table("organization")
    op.drop_table("app_user")
