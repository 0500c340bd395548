"""session generation

Server-side session revocation: logout, password change and deactivation end sessions (issue 8, finding 7).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 11:30:00.000000
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
