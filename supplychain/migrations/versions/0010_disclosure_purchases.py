"""disclosure purchases

What a supplier bought in the reporting year (purchased goods and services spend, its
currency and main sector), so a footprint run can fill the upstream gap of a reporting
supplier with a spend-based estimate (issue 10).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29 14:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("disclosure") as batch:
        batch.add_column(sa.Column("purchased_spend", sa.Numeric(18, 2), nullable=True))
        batch.add_column(sa.Column("purchased_currency", sa.String(3), nullable=True))
        batch.add_column(sa.Column("purchased_naics", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("disclosure") as batch:
        batch.drop_column("purchased_naics")
        batch.drop_column("purchased_currency")
        batch.drop_column("purchased_spend")
