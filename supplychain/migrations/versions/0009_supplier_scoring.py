"""supplier scoring

Scoring runs with per-supplier scores and per-item explanations, corrective actions and a
brand's scoring settings (issue 9).

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 12:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scoring_settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("overrides", sa.JSON(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["organization.id"],
            name=op.f("fk_scoring_settings_brand_id_organization"),
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["app_user.id"],
            name=op.f("fk_scoring_settings_updated_by_id_app_user"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scoring_settings")),
        sa.UniqueConstraint("brand_id", name=op.f("uq_scoring_settings_brand_id")),
    )
    op.create_table(
        "scoring_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("reporting_year", sa.Integer(), nullable=False),
        sa.Column("methodology_version", sa.String(length=16), nullable=False),
        sa.Column("methodology", sa.JSON(), nullable=False),
        sa.Column("config_hash", sa.String(length=64), nullable=False),
        sa.Column("inputs_hash", sa.String(length=64), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("footprint_run_id", sa.Integer(), nullable=True),
        sa.Column("supplier_count", sa.Integer(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=True),
        sa.Column("warnings", sa.JSON(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("public_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"], ["organization.id"], name=op.f("fk_scoring_run_brand_id_organization")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["app_user.id"], name=op.f("fk_scoring_run_created_by_id_app_user")
        ),
        sa.ForeignKeyConstraint(
            ["footprint_run_id"],
            ["footprint_run.id"],
            name=op.f("fk_scoring_run_footprint_run_id_footprint_run"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scoring_run")),
        sa.UniqueConstraint("public_id", name=op.f("uq_scoring_run_public_id")),
    )
    with op.batch_alter_table("scoring_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scoring_run_brand_id"), ["brand_id"], unique=False)

    op.create_table(
        "corrective_action",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("brand_id", sa.Integer(), nullable=False),
        sa.Column("relationship_id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=64), nullable=False),
        sa.Column("dimension", sa.String(length=32), nullable=False),
        sa.Column("action_code", sa.String(length=64), nullable=False),
        sa.Column("params", sa.JSON(), nullable=True),
        sa.Column("points_at_stake", sa.Double(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "in_progress",
                "done",
                "dismissed",
                name="action_status",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("opened_by_run_id", sa.Integer(), nullable=False),
        sa.Column("closed_by_run_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.Column("public_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["brand_id"],
            ["organization.id"],
            name=op.f("fk_corrective_action_brand_id_organization"),
        ),
        sa.ForeignKeyConstraint(
            ["closed_by_run_id"],
            ["scoring_run.id"],
            name=op.f("fk_corrective_action_closed_by_run_id_scoring_run"),
        ),
        sa.ForeignKeyConstraint(
            ["opened_by_run_id"],
            ["scoring_run.id"],
            name=op.f("fk_corrective_action_opened_by_run_id_scoring_run"),
        ),
        sa.ForeignKeyConstraint(
            ["relationship_id"],
            ["supplier_relationship.id"],
            name=op.f("fk_corrective_action_relationship_id_supplier_relationship"),
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["organization.id"],
            name=op.f("fk_corrective_action_supplier_id_organization"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_corrective_action")),
        sa.UniqueConstraint("public_id", name=op.f("uq_corrective_action_public_id")),
    )
    with op.batch_alter_table("corrective_action", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_corrective_action_brand_id"), ["brand_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_corrective_action_relationship_id"), ["relationship_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_corrective_action_supplier_id"), ["supplier_id"], unique=False
        )

    op.create_table(
        "supplier_score",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("relationship_id", sa.Integer(), nullable=False),
        sa.Column("supplier_id", sa.Integer(), nullable=False),
        sa.Column("responded", sa.Boolean(), nullable=False),
        sa.Column("composite", sa.Double(), nullable=False),
        sa.Column("emissions_score", sa.Double(), nullable=False),
        sa.Column("targets_score", sa.Double(), nullable=False),
        sa.Column("maturity_score", sa.Double(), nullable=False),
        sa.Column("data_quality_score", sa.Double(), nullable=False),
        sa.Column("band", sa.String(length=16), nullable=False),
        sa.Column("disclosed_group", sa.String(length=16), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("maturity_level", sa.String(length=16), nullable=False),
        sa.Column("maturity_letter", sa.String(length=2), nullable=False),
        sa.Column("dq_score", sa.Double(), nullable=True),
        sa.Column("risk_level", sa.String(length=8), nullable=False),
        sa.Column("capability_level", sa.String(length=8), nullable=False),
        sa.Column("grid_cell", sa.String(length=16), nullable=False),
        sa.Column("intensity", sa.Double(), nullable=True),
        sa.Column("sector_intensity", sa.Double(), nullable=True),
        sa.Column("spend", sa.Double(), nullable=True),
        sa.Column("spend_share", sa.Double(), nullable=True),
        sa.Column("contribution_kg", sa.Double(), nullable=True),
        sa.Column("engagement_potential_kg", sa.Double(), nullable=True),
        sa.Column("target_status", sa.String(length=16), nullable=True),
        sa.Column("top_items", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["relationship_id"],
            ["supplier_relationship.id"],
            name=op.f("fk_supplier_score_relationship_id_supplier_relationship"),
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["scoring_run.id"],
            name=op.f("fk_supplier_score_run_id_scoring_run"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["supplier_id"],
            ["organization.id"],
            name=op.f("fk_supplier_score_supplier_id_organization"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supplier_score")),
        sa.UniqueConstraint(
            "run_id", "relationship_id", name=op.f("uq_supplier_score_run_id_relationship_id")
        ),
    )
    with op.batch_alter_table("supplier_score", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_supplier_score_relationship_id"), ["relationship_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_supplier_score_run_id"), ["run_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_supplier_score_supplier_id"), ["supplier_id"], unique=False
        )

    op.create_table(
        "score_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("score_id", sa.Integer(), nullable=False),
        sa.Column("dimension", sa.String(length=32), nullable=False),
        sa.Column("item", sa.String(length=64), nullable=False),
        sa.Column("earned", sa.Double(), nullable=False),
        sa.Column("possible", sa.Double(), nullable=False),
        sa.Column("reason", sa.String(length=64), nullable=False),
        sa.Column("params", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["score_id"],
            ["supplier_score.id"],
            name=op.f("fk_score_item_score_id_supplier_score"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_score_item")),
    )
    with op.batch_alter_table("score_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_score_item_score_id"), ["score_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("score_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_score_item_score_id"))

    op.drop_table("score_item")
    with op.batch_alter_table("supplier_score", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_supplier_score_supplier_id"))
        batch_op.drop_index(batch_op.f("ix_supplier_score_run_id"))
        batch_op.drop_index(batch_op.f("ix_supplier_score_relationship_id"))

    op.drop_table("supplier_score")
    with op.batch_alter_table("corrective_action", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_corrective_action_supplier_id"))
        batch_op.drop_index(batch_op.f("ix_corrective_action_relationship_id"))
        batch_op.drop_index(batch_op.f("ix_corrective_action_brand_id"))

    op.drop_table("corrective_action")
    with op.batch_alter_table("scoring_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scoring_run_brand_id"))

    op.drop_table("scoring_run")
    op.drop_table("scoring_settings")
