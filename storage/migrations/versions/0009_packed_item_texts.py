"""items' texts packed (storage/packing.py): a new column, nothing rewritten; the texts
already stored stay in items.text until retention forgets them (storage.keep_text)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29 21:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.add_column(sa.Column("packed_text", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    # the texts packed since then are given back in plain first: nothing is lost
    from storage.packing import unpack_text

    items = sa.table(
        "items",
        sa.column("id", sa.Integer()),
        sa.column("text", sa.Text()),
        sa.column("packed_text", sa.LargeBinary()),
    )
    connection = op.get_bind()
    packed = connection.execute(
        sa.select(items.c.id, items.c.packed_text).where(items.c.packed_text.is_not(None))
    ).all()
    if packed:
        connection.execute(
            items.update()
            .where(items.c.id == sa.bindparam("item_id"))
            .values(text=sa.bindparam("plain")),
            [{"item_id": item_id, "plain": unpack_text(value)} for item_id, value in packed],
        )
    # not in batch: SQLite (3.35 and later) drops a column in place, where copying the
    # table would break the mentions' foreign keys
    op.drop_column("items", "packed_text")
