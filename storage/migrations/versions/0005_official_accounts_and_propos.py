"""official accounts (authors, replies, cursors, moderation) and propos verdicts

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("author", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("reply_to", sa.Text(), nullable=True))
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("author", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("reply_to", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("propos", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("propos_severity", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("propos_words", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("propos_reason", sa.Text(), nullable=True))
    with op.batch_alter_table("sources", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cursor", sa.Text(), nullable=True))
    op.create_table(
        "moderations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.String(length=200), nullable=False),
        sa.Column("requested_at", sa.DateTime(), nullable=False),
        sa.Column("platform", sa.String(length=40), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["mention_id"], ["mentions.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("moderations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_moderations_mention_id"), ["mention_id"])


def downgrade() -> None:
    op.drop_table("moderations")
    # in place, not in batch: SQLite (3.35 and later) drops a column where it stands,
    # where copying a table others point at would break their foreign keys
    op.drop_column("sources", "cursor")
    for column in ("propos_reason", "propos_words", "propos_severity", "propos", "reply_to"):
        op.drop_column("mentions", column)
    op.drop_column("mentions", "author")
    op.drop_column("items", "reply_to")
    op.drop_column("items", "author")
