"""spend estimate runs

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 04:02:58.711919
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "spend_estimate_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("dataset", sa.String(length=64), nullable=False),
        sa.Column("dataset_version", sa.String(length=32), nullable=False),
        sa.Column("price_basis", sa.String(length=16), nullable=False),
        sa.Column("inputs_hash", sa.String(length=64), nullable=False),
        sa.Column("lines_total", sa.Integer(), nullable=False),
        sa.Column("lines_estimated", sa.Integer(), nullable=False),
        sa.Column("lines_review", sa.Integer(), nullable=False),
        sa.Column("total_kg_co2e", sa.Numeric(precision=20, scale=3), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("public_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["organization.id"],
            name=op.f("fk_spend_estimate_run_brand_id_organization"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["app_user.id"],
            name=op.f("fk_spend_estimate_run_created_by_id_app_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spend_estimate_run")),
        sa.UniqueConstraint("public_id", name=op.f("uq_spend_estimate_run_public_id")),
    )
    with op.batch_alter_table("spend_estimate_run", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_spend_estimate_run_brand_id"), ["brand_id"], unique=False
        )

    op.create_table(
        "spend_estimate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("spend_line_id", sa.Integer(), nullable=False),
        sa.Column("relationship_id", sa.Integer(), nullable=False),
        sa.Column("kg_co2e", sa.Numeric(precision=20, scale=3), nullable=True),
        sa.Column("factor_code", sa.String(length=16), nullable=True),
        sa.Column("factor_value", sa.Double(), nullable=True),
        sa.Column("factor_unit", sa.String(length=64), nullable=True),
        sa.Column("converted_amount", sa.Double(), nullable=True),
        sa.Column("converted_currency", sa.String(length=3), nullable=True),
        sa.Column("price_year", sa.Integer(), nullable=True),
        sa.Column("conversions", sa.Text(), nullable=True),
        sa.Column("classification_method", sa.String(length=32), nullable=True),
        sa.Column("classification_confidence", sa.Double(), nullable=True),
        sa.Column("dq_score", sa.Double(), nullable=True),
        sa.Column("uncertainty_pct", sa.Double(), nullable=True),
        sa.Column("needs_review", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["relationship_id"],
            ["supplier_relationship.id"],
            name=op.f("fk_spend_estimate_relationship_id_supplier_relationship"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["spend_estimate_run.id"],
            name=op.f("fk_spend_estimate_run_id_spend_estimate_run"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["spend_line_id"],
            ["spend_line.id"],
            name=op.f("fk_spend_estimate_spend_line_id_spend_line"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_spend_estimate")),
        sa.UniqueConstraint(
            "run_id", "spend_line_id", name=op.f("uq_spend_estimate_run_id_spend_line_id")
        ),
    )
    with op.batch_alter_table("spend_estimate", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_spend_estimate_relationship_id"), ["relationship_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_spend_estimate_run_id"), ["run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("spend_estimate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_spend_estimate_run_id"))
        batch_op.drop_index(batch_op.f("ix_spend_estimate_relationship_id"))

    op.drop_table("spend_estimate")
    with op.batch_alter_table("spend_estimate_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_spend_estimate_run_brand_id"))

    op.drop_table("spend_estimate_run")
