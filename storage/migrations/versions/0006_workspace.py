"""the workspace: assignee, tone and tags of mentions, their history and notes, users,
API tokens, sites ignored by hand, and the indexes the inbox needs

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 18:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assignee", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("tone", sa.String(length=20), nullable=True))
        batch_op.create_index(batch_op.f("ix_mentions_assignee"), ["assignee"])
        batch_op.create_index(batch_op.f("ix_mentions_source_type"), ["source_type"])
        batch_op.create_index(batch_op.f("ix_mentions_urgent"), ["urgent"])
    op.create_table(
        "mention_tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["mention_id"], ["mentions.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("mention_id", "tag", name="uq_mention_tags_mention_tag"),
    )
    with op.batch_alter_table("mention_tags", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mention_tags_tag"), ["tag"])
    op.create_table(
        "mention_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("field", sa.String(length=40), nullable=False),
        sa.Column("before", sa.Text(), nullable=True),
        sa.Column("after", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["mention_id"], ["mentions.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("mention_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mention_events_mention_id"), ["mention_id"])
    op.create_table(
        "mention_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mention_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("author", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["mention_id"], ["mentions.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("mention_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mention_notes_mention_id"), ["mention_id"])
    op.create_table(
        "users",
        sa.Column("email", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("email"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("name"),
        sa.UniqueConstraint("digest", name="uq_api_tokens_digest"),
    )
    op.create_table(
        "excluded_sites",
        sa.Column("domain", sa.String(length=300), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("domain"),
    )


def downgrade() -> None:
    op.drop_table("excluded_sites")
    op.drop_table("api_tokens")
    op.drop_table("users")
    op.drop_table("mention_notes")
    op.drop_table("mention_events")
    op.drop_table("mention_tags")
    with op.batch_alter_table("mentions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mentions_urgent"))
        batch_op.drop_index(batch_op.f("ix_mentions_source_type"))
        batch_op.drop_index(batch_op.f("ix_mentions_assignee"))
        batch_op.drop_column("tone")
        batch_op.drop_column("assignee")
