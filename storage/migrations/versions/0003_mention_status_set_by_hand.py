"""mention status set by hand

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28 13:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("status_by_hand", sa.Boolean(), nullable=True))


def downgrade() -> None:
    # in place, not in batch: SQLite (3.35 and later) drops a column where it stands,
    # where copying a table others point at would break their foreign keys
    op.drop_column("mentions", "status_by_hand")
