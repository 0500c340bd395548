"""session generation

Server-side session revocation: logout, password change and deactivation end sessions (issue 8,
finding 7). Each signed-in session carries the user's generation from the moment it started;
raising the number on the user ends every session that holds an older one.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 11:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_generation", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("app_user", schema=None) as batch_op:
        batch_op.drop_column("session_generation")
