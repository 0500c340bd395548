"""invitation claims

Claimed accounts prove the invited address and follow the invitation's scope (issue 8, finding 2):
a pending claim waits for the confirmation link mailed to the invited address; a membership is
either organisation-wide (existing members keep that) or limited to the invitations granted to it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 11:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "scope",
                sa.Enum(
                    "organization",
                    "invitations",
                    name="membership_scope",
                    native_enum=False,
                    create_constraint=True,
                    length=32,
                ),
                server_default="organization",
                nullable=False,
            )
        )

    op.create_table(
        "invitation_claim",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=False),
        sa.Column("invitation_token_id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("display_name", sa.String(length=255), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=True),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["invitation.id"],
            name=op.f("fk_invitation_claim_invitation_id_invitation"),
        ),
        sa.ForeignKeyConstraint(
            ["invitation_token_id"],
            ["invitation_token.id"],
            name=op.f("fk_invitation_claim_invitation_token_id_invitation_token"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_invitation_claim_user_id_app_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invitation_claim")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_invitation_claim_token_hash")),
    )
    with op.batch_alter_table("invitation_claim", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_invitation_claim_invitation_id"), ["invitation_id"], unique=False
        )

    op.create_table(
        "membership_invitation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("membership_id", sa.Integer(), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=False),
        sa.Column("invitation_token_id", sa.Integer(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["invitation_id"],
            ["invitation.id"],
            name=op.f("fk_membership_invitation_invitation_id_invitation"),
        ),
        sa.ForeignKeyConstraint(
            ["invitation_token_id"],
            ["invitation_token.id"],
            name=op.f("fk_membership_invitation_invitation_token_id_invitation_token"),
        ),
        sa.ForeignKeyConstraint(
            ["membership_id"],
            ["membership.id"],
            name=op.f("fk_membership_invitation_membership_id_membership"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_membership_invitation")),
        sa.UniqueConstraint(
            "membership_id",
            "invitation_id",
            name=op.f("uq_membership_invitation_membership_id_invitation_id"),
        ),
    )
    with op.batch_alter_table("membership_invitation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_membership_invitation_invitation_id"), ["invitation_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_membership_invitation_membership_id"), ["membership_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("membership_invitation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_membership_invitation_membership_id"))
        batch_op.drop_index(batch_op.f("ix_membership_invitation_invitation_id"))
    op.drop_table("membership_invitation")
    with op.batch_alter_table("invitation_claim", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invitation_claim_invitation_id"))
    op.drop_table("invitation_claim")
    with op.batch_alter_table("membership", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_membership_membership_scope"), type_="check")
        batch_op.drop_column("scope")
