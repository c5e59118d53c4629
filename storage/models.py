"""SQLAlchemy 2.0 typed models. Schema changes go through Alembic migrations."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as naive UTC; gives them back aware (SQLite has no zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


class ItemTime(UTCDateTime):
    """:class:`UTCDateTime` kept by SQLite as microseconds since 1970 (an 8-byte integer
    where the text of a time takes 26 bytes, and as much less in an index): the two
    times every item has, on every one of the hundreds of thousands a store holds
    (migration 0012). Other databases keep their own timestamp type (8 bytes)."""

    cache_ok = True

    def bind_processor(self, dialect: Dialect) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().bind_processor(dialect)

        def to_integer(value: datetime | None) -> int | None:
            if value is None:
                return None
            if value.tzinfo is None:
                raise ValueError("naive datetime given to the store")
            return (value - EPOCH) // MICROSECOND

        return to_integer

    def result_processor(self, dialect: Dialect, coltype: object) -> Callable[[Any], Any] | None:
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)

        def from_integer(value: int | None) -> datetime | None:
            return None if value is None else EPOCH + value * MICROSECOND

        return from_integer


class Base(DeclarativeBase):
    pass


class SourceRow(Base):
    """What veille remembers of each configured source."""

    __tablename__ = "sources"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    type: Mapped[str] = mapped_column(String(40))
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    failing_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    items_seen: Mapped[int] = mapped_column(Integer, default=0)
    mentions_found: Mapped[int] = mapped_column(Integer, default=0)
    notified_failing: Mapped[bool] = mapped_column(Boolean, default=False)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_warning: Mapped[str | None] = mapped_column(Text)
    last_new_item_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    first_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    items_rejected: Mapped[int | None] = mapped_column(Integer, default=0)  # bad items skipped
    last_rejection: Mapped[str | None] = mapped_column(Text)  # why the last one was
    cursor: Mapped[str | None] = mapped_column(Text)  # where an account's next visit resumes


class ItemRow(Base):
    """An item already seen (matched or not), so it is never matched twice."""

    __tablename__ = "items"
    __table_args__ = (UniqueConstraint("key", name="uq_items_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(2000))
    source: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(Text)  # as storage.packing.pack_url keeps it
    guid: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text, default="")
    # the text, for veille rescan and the mention's page until storage.keep_text: in
    # packed_text (storage.packing) since migration 0009, in text before (kept as is)
    text: Mapped[str | None] = mapped_column(Text)
    packed_text: Mapped[bytes | None] = mapped_column(LargeBinary)
    published_at: Mapped[datetime | None] = mapped_column(ItemTime())
    seen_at: Mapped[datetime] = mapped_column(ItemTime(), index=True)
    # the 64-bit digest of the item's title key (storage.packing.title_hash), for 72 hours
    # (a story is looked for by its title that long): 8 bytes where the key took ~80
    title_hash: Mapped[int | None] = mapped_column(BigInteger, index=True)
    outlet: Mapped[str | None] = mapped_column(String(300))  # the publisher, when known
    author: Mapped[str | None] = mapped_column(String(300))  # who wrote a comment
    reply_to: Mapped[str | None] = mapped_column(Text)  # first words of the post it answers


class DigestRow(Base):
    """A digest email: created 'pending' before sending, 'sent' once accepted."""

    __tablename__ = "digests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(300), unique=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    mention_count: Mapped[int] = mapped_column(Integer, default=0)
    subject: Mapped[str] = mapped_column(Text, default="")


class MentionRow(Base):
    """An item that names the brand (or a comment on an official account); ``status`` is
    for triage (nouveau, en cours, traité, exclu)."""

    __tablename__ = "mentions"
    __table_args__ = (
        Index("ix_mentions_status_found_at", "status", "found_at"),  # status tabs, newest first
        Index(  # covers the dashboard's counts
            "ix_mentions_found_at_counts",
            "found_at",
            "status",
            "source_type",
            "urgent",
            "tone",
            "outlet",
            "source",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), unique=True)
    source: Mapped[str] = mapped_column(String(200), index=True)
    source_type: Mapped[str] = mapped_column(String(40), index=True)
    url: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text, default="")
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    found_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    matched: Mapped[str] = mapped_column(Text)
    rule: Mapped[str] = mapped_column(String(40), default="")
    score: Mapped[int] = mapped_column(Integer)
    snippet: Mapped[str] = mapped_column(Text, default="")
    highlight_start: Mapped[int] = mapped_column(Integer, default=0)
    highlight_end: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20), default="nouveau")
    # set by `veille triage`: a rescan never puts a mention excluded by hand back
    status_by_hand: Mapped[bool | None] = mapped_column(Boolean)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    alert_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    digest_id: Mapped[int | None] = mapped_column(ForeignKey("digests.id"), index=True)
    outlet: Mapped[str | None] = mapped_column(String(300))  # "Le Nouvelliste", not the engine
    urgent_keyword: Mapped[str | None] = mapped_column(String(200))  # the alert word found
    author: Mapped[str | None] = mapped_column(String(300))  # who wrote a comment
    reply_to: Mapped[str | None] = mapped_column(Text)  # first words of the post it answers
    # the propos detector's verdict: category (insulte, menace…), severity 1-3, the
    # words that triggered it (", "-joined) and the French reason
    propos: Mapped[str | None] = mapped_column(String(20))
    propos_severity: Mapped[int | None] = mapped_column(Integer)
    propos_words: Mapped[str | None] = mapped_column(Text)
    propos_reason: Mapped[str | None] = mapped_column(Text)
    # the workspace: who follows it up, and how it speaks of the Cégep (set by a person)
    assignee: Mapped[str | None] = mapped_column(String(200), index=True)
    tone: Mapped[str | None] = mapped_column(String(20))


class SightingRow(Base):
    """Another source that found the same story as a mention ("aussi vu sur …")."""

    __tablename__ = "sightings"
    __table_args__ = (UniqueConstraint("mention_id", "source", name="uq_sightings_mention_source"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id"), index=True)
    source: Mapped[str] = mapped_column(String(200), index=True)
    url: Mapped[str] = mapped_column(Text)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RobotsRow(Base):
    """A host's robots.txt, kept a day so that cron runs do not fetch it every time."""

    __tablename__ = "robots"

    host: Mapped[str] = mapped_column(String(300), primary_key=True)
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text, default="")
    fetched_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ModerationRow(Base):
    """One moderation request on a comment (``veille masquer``): who asked, when, and
    what the platform answered. Appended, never changed."""

    __tablename__ = "moderations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id"), index=True)
    requested_by: Mapped[str] = mapped_column(String(200))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    platform: Mapped[str] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(40))  # "masquer"
    done: Mapped[bool] = mapped_column(Boolean)  # the platform did it
    answer: Mapped[str] = mapped_column(Text)  # its answer, in French


class MentionTagRow(Base):
    __tablename__ = "mention_tags"
    __table_args__ = (UniqueConstraint("mention_id", "tag", name="uq_mention_tags_mention_tag"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id"))
    tag: Mapped[str] = mapped_column(String(100), index=True)


class MentionEventRow(Base):
    """One change of a mention (status, assignee, tag, tone, note…): who, when, before →
    after. Appended, never changed nor deleted: the mention's history."""

    __tablename__ = "mention_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(200))
    field: Mapped[str] = mapped_column(String(40))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)


class MentionNoteRow(Base):
    __tablename__ = "mention_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mention_id: Mapped[int] = mapped_column(ForeignKey("mentions.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    author: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)


class UserRow(Base):
    """A person of the workspace; the password only as an Argon2 hash (None: SSO only)."""

    __tablename__ = "users"

    email: Mapped[str] = mapped_column(String(200), primary_key=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApiTokenRow(Base):
    """A token of the JSON API; only its SHA-256 digest is kept."""

    __tablename__ = "api_tokens"
    __table_args__ = (UniqueConstraint("digest", name="uq_api_tokens_digest"),)

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    role: Mapped[str] = mapped_column(String(20))
    digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ExcludedSiteRow(Base):
    """A site ignored by hand (« Ignorer ce site »): its new items are never mentions."""

    __tablename__ = "excluded_sites"

    domain: Mapped[str] = mapped_column(String(300), primary_key=True)
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text)


class DailyNoticeRow(Base):
    """A notice sent at most once a day (``kind``: "pic" for « Pic de mentions »)."""

    __tablename__ = "daily_notices"
    __table_args__ = (UniqueConstraint("kind", "day", name="uq_daily_notices_kind_day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    day: Mapped[date] = mapped_column(Date)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime())
