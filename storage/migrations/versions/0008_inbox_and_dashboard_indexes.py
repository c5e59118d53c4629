"""indexes for the workspace on 100,000 mentions: status tabs newest first without a
sort, and a covering index for the dashboard's counts (measured by
benchmarks/bench_web.py)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29 19:40:00
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.create_index("ix_mentions_status_found_at", ["status", "found_at"])
        batch_op.create_index(
            "ix_mentions_found_at_counts",
            ["found_at", "status", "source_type", "urgent", "tone", "outlet", "source"],
        )
        batch_op.drop_index("ix_mentions_status")  # the first index serves it


def downgrade() -> None:
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.create_index("ix_mentions_status", ["status"])
        batch_op.drop_index("ix_mentions_found_at_counts")
        batch_op.drop_index("ix_mentions_status_found_at")
