"""items' title keys kept as 64-bit digests (storage.packing.title_hash): 8 bytes where
a key took about 80, and as much again in its index; only the items of the last 72
hours get one (a story is looked for by its title that long)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 00:10:00
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

WINDOW = timedelta(hours=72)  # storage.store.TITLE_WINDOW when this was written
CHUNK = 1000

items = sa.table(
    "items",
    sa.column("id", sa.Integer()),
    sa.column("title", sa.Text()),
    sa.column("outlet", sa.String()),
    sa.column("seen_at", sa.DateTime()),
    sa.column("title_key", sa.String()),
    sa.column("title_hash", sa.BigInteger()),
)


def upgrade() -> None:
    from storage.packing import title_hash

    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("title_hash", sa.BigInteger(), nullable=True))
        batch_op.create_index("ix_items_title_hash", ["title_hash"], unique=False)
    connection = op.get_bind()
    since = datetime.now(UTC).replace(tzinfo=None) - WINDOW  # stored as naive UTC
    keyed = connection.execute(
        sa.select(items.c.id, items.c.title_key).where(
            items.c.title_key.is_not(None), items.c.seen_at >= since
        )
    ).all()
    _set(connection, "title_hash", [(item_id, title_hash(key)) for item_id, key in keyed])
    op.drop_index("ix_items_title_key", table_name="items")
    _drop_column("title_key")


def downgrade() -> None:
    # the keys of the items that have a digest, made again from their titles
    from veille.pipeline import title_key

    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("title_key", sa.String(length=500), nullable=True))
        batch_op.create_index("ix_items_title_key", ["title_key"], unique=False)
    connection = op.get_bind()
    hashed = connection.execute(
        sa.select(items.c.id, items.c.title, items.c.outlet).where(items.c.title_hash.is_not(None))
    ).all()
    _set(
        connection,
        "title_key",
        [(item_id, title_key(title, outlet)) for item_id, title, outlet in hashed],
    )
    op.drop_index("ix_items_title_hash", table_name="items")
    _drop_column("title_hash")


def _set(connection: sa.Connection, column: str, values: list[tuple[int, object]]) -> None:
    statement = (
        items.update()
        .where(items.c.id == sa.bindparam("item_id"))
        .values({column: sa.bindparam("value")})
    )
    for start in range(0, len(values), CHUNK):
        chunk = values[start : start + CHUNK]
        connection.execute(statement, [{"item_id": i, "value": v} for i, v in chunk])


def _drop_column(column: str) -> None:
    """Drop an items column in place: SQLite 3.35 and later do (copying the table
    would break the mentions' foreign keys); an older SQLite keeps it, emptied."""
    if op.get_bind().dialect.name == "sqlite" and sqlite3.sqlite_version_info < (3, 35):
        op.execute(items.update().values({column: None}))
    else:
        op.drop_column("items", column)
