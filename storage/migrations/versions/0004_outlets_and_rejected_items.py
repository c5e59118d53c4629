"""outlets, urgent keywords and rejected items

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 16:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outlet", sa.String(length=300), nullable=True))
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("outlet", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("urgent_keyword", sa.String(length=200), nullable=True))
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.add_column(sa.Column("items_rejected", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("last_rejection", sa.Text(), nullable=True))


def downgrade() -> None:
    # in place, not in batch: SQLite (3.35 and later) drops a column where it stands,
    # where copying a table others point at would break their foreign keys
    op.drop_column("sources", "last_rejection")
    op.drop_column("sources", "items_rejected")
    op.drop_column("mentions", "urgent_keyword")
    op.drop_column("mentions", "outlet")
    op.drop_column("items", "outlet")
