"""notices sent once a day (the spike notice « Pic de mentions »)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29 18:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "daily_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "day", name="uq_daily_notices_kind_day"),
    )


def downgrade() -> None:
    op.drop_table("daily_notices")
