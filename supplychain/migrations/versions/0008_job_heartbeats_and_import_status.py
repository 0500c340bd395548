"""job heartbeats and import status

Dead jobs are detected and failed imports stay listed with their report (issue 8, finding 11):
a job records which process runs it and a heartbeat, and an import batch records how it ended.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 11:30:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

IMPORT_STATUS = sa.Enum(
    "succeeded",
    "failed",
    "refused",
    name="import_status",
    native_enum=False,
    create_constraint=True,
    length=32,
)


def upgrade() -> None:
    with op.batch_alter_table("job_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("worker_name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("worker_host", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("worker_pid", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_job_record_status"), ["status"], unique=False)
    with op.batch_alter_table("import_batch", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", IMPORT_STATUS, nullable=False, server_default="succeeded")
        )


def downgrade() -> None:
    with op.batch_alter_table("import_batch", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_import_batch_import_status"), type_="check")
        batch_op.drop_column("status")
    with op.batch_alter_table("job_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_record_status"))
        batch_op.drop_column("worker_pid")
        batch_op.drop_column("worker_host")
        batch_op.drop_column("worker_name")
        batch_op.drop_column("heartbeat_at")
