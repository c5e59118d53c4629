"""items' urls and guids kept once (storage.packing.pack_url, pack_guid): empty where
they are the item's key (the canonical url of nearly every feed item, often its guid),
a url a lone space where the item has none; the index on items.source goes (no query
reads it)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 00:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

items = sa.table(
    "items", sa.column("key", sa.Text()), sa.column("url", sa.Text()), sa.column("guid", sa.Text())
)


def upgrade() -> None:
    # in place (the column stays NOT NULL: SQLite would copy the table to change it)
    op.execute(items.update().where(items.c.url == "").values(url=" "))
    op.execute(items.update().where(items.c.url == items.c.key).values(url=""))
    op.execute(items.update().where(items.c.guid == items.c.key).values(guid=""))
    op.drop_index("ix_items_source", table_name="items")


def downgrade() -> None:
    op.create_index("ix_items_source", "items", ["source"], unique=False)
    op.execute(items.update().where(items.c.url == "").values(url=items.c.key))
    op.execute(items.update().where(items.c.url == " ").values(url=""))
    op.execute(items.update().where(items.c.guid == "").values(guid=items.c.key))
