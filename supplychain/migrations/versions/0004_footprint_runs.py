"""footprint runs

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 04:12:07.465079
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "footprint_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("reporting_year", sa.Integer(), nullable=False),
        sa.Column("dataset", sa.String(length=64), nullable=False),
        sa.Column("dataset_version", sa.String(length=32), nullable=False),
        sa.Column("price_basis", sa.String(length=16), nullable=False),
        sa.Column("samples", sa.Integer(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=True),
        sa.Column("inputs_hash", sa.String(length=64), nullable=False),
        sa.Column("scope3_cat1_kg", sa.Numeric(precision=20, scale=3), nullable=False),
        sa.Column("ci95_low", sa.Numeric(precision=20, scale=3), nullable=True),
        sa.Column("ci95_high", sa.Numeric(precision=20, scale=3), nullable=True),
        sa.Column("dq_score", sa.Double(), nullable=True),
        sa.Column("primary_share", sa.Double(), nullable=True),
        sa.Column("breakdown", sa.JSON(), nullable=True),
        sa.Column("warnings", sa.JSON(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("public_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["organization.id"], name=op.f("fk_footprint_run_brand_id_organization")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["app_user.id"], name=op.f("fk_footprint_run_created_by_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_footprint_run")),
        sa.UniqueConstraint("public_id", name=op.f("uq_footprint_run_public_id")),
    )
    with op.batch_alter_table("footprint_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_footprint_run_brand_id"), ["brand_id"], unique=False)

    op.create_table(
        "footprint_node_result",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=32), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=True),
        sa.Column("cradle_to_gate_kg", sa.Numeric(precision=20, scale=3), nullable=True),
        sa.Column("contribution_kg", sa.Numeric(precision=20, scale=3), nullable=True),
        sa.Column("share_of_total", sa.Double(), nullable=True),
        sa.Column("dq_score", sa.Double(), nullable=True),
        sa.Column("primary_share", sa.Double(), nullable=True),
        sa.Column("ci95_low", sa.Numeric(precision=20, scale=3), nullable=True),
        sa.Column("ci95_high", sa.Numeric(precision=20, scale=3), nullable=True),
        sa.Column("provenance", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_footprint_node_result_organization_id_organization"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["footprint_run.id"],
            name=op.f("fk_footprint_node_result_run_id_footprint_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_footprint_node_result")),
        sa.UniqueConstraint(
            "run_id",
            "organization_id",
            name=op.f("uq_footprint_node_result_run_id_organization_id"),
        ),
    )
    with op.batch_alter_table("footprint_node_result", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_footprint_node_result_run_id"), ["run_id"], unique=False
        )

    op.create_table(
        "footprint_path",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("nodes", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("contribution_kg", sa.Numeric(precision=20, scale=3), nullable=False),
        sa.Column("share_of_total", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["footprint_run.id"],
            name=op.f("fk_footprint_path_run_id_footprint_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_footprint_path")),
        sa.UniqueConstraint("run_id", "rank", name=op.f("uq_footprint_path_run_id_rank")),
    )
    with op.batch_alter_table("footprint_path", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_footprint_path_run_id"), ["run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("footprint_path", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_footprint_path_run_id"))

    op.drop_table("footprint_path")
    with op.batch_alter_table("footprint_node_result", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_footprint_node_result_run_id"))

    op.drop_table("footprint_node_result")
    with op.batch_alter_table("footprint_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_footprint_run_brand_id"))

    op.drop_table("footprint_run")
