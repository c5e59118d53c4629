"""items' two times kept by SQLite as microseconds since 1970 (storage.models.ItemTime):
8 bytes where the text took 26, and the index on items.seen_at shrinks as much;
nothing changes on PostgreSQL (its timestamps are already 8 bytes)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 01:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

COLUMNS = ("seen_at", "published_at")

# SQLAlchemy wrote "YYYY-MM-DD HH:MM:SS.ffffff" (the fraction may be missing in a row a
# person wrote by hand): whole seconds from strftime, then the microseconds
TO_INTEGER = "cast(strftime('%s', {c}) as integer) * 1000000 + cast(substr({c}, 21, 6) as integer)"
# and back (the remainder kept positive for the times before 1970)
SECONDS = "({c} - (({c} % 1000000) + 1000000) % 1000000) / 1000000"
TO_TEXT = (
    f"strftime('%Y-%m-%d %H:%M:%S', {SECONDS}, 'unixepoch')"
    " || '.' || printf('%06d', (({c} % 1000000) + 1000000) % 1000000)"
)


def upgrade() -> None:
    _convert(TO_INTEGER, "text")


def downgrade() -> None:
    _convert(TO_TEXT, "integer")


def _convert(expression: str, stored: str) -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for column in COLUMNS:
        op.execute(
            f"update items set {column} = {expression.format(c=column)}"  # noqa: S608
            f" where typeof({column}) = '{stored}'"
        )
