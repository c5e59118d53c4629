"""The store's operations, each one unit of work in its own transaction.

ORM rows never leave this module: callers get frozen dataclasses.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import Protocol, TypeVar

from sqlalchemy import Connection, Insert, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.dml import ReturningInsert

from storage.models import (
    DigestRow,
    ItemRow,
    MentionRow,
    MentionTagRow,
    ModerationRow,
    RobotsRow,
    SightingRow,
    SourceRow,
)
from storage.packing import (
    item_text,
    pack_guid,
    pack_text,
    pack_url,
    title_hash,
    unpack_guid,
    unpack_url,
)
from storage.problems import storage_problem
from storage.workspace import WorkspaceStore
from veille.errors import StorageError
from veille.statuses import STATUS_EXCLUDED, STATUS_NEW

TITLE_WINDOW = timedelta(hours=72)  # same normalised title within it: the same story

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class Comment:
    """A mention that is a comment on an official account, as moderation needs it."""

    mention_id: int
    source: str
    source_type: str
    url: str
    platform_id: str | None  # the platform's id of the comment (the item's guid)


@dataclass(frozen=True, slots=True)
class Moderation:
    requested_by: str
    requested_at: datetime
    platform: str
    action: str
    done: bool
    answer: str


@dataclass(frozen=True, slots=True)
class RobotsRecord:
    """A host's robots.txt answer as stored (the HTTP status and the text)."""

    status: int
    body: str
    fetched_at: datetime


class RobotsValues(Protocol):
    """What :meth:`MentionStore.robots_put` reads of an answer (the collectors' own
    value fits: the store imports no collector)."""

    @property
    def status(self) -> int: ...

    @property
    def body(self) -> str: ...

    @property
    def fetched_at(self) -> datetime: ...


@dataclass(frozen=True, slots=True)
class SourceRecord:
    name: str
    type: str
    last_attempt_at: datetime | None
    last_success_at: datetime | None
    failing_since: datetime | None
    consecutive_failures: int
    last_error: str | None
    etag: str | None
    last_modified: str | None
    items_seen: int
    mentions_found: int
    notified_failing: bool
    next_attempt_at: datetime | None = None
    last_warning: str | None = None
    last_new_item_at: datetime | None = None
    first_success_at: datetime | None = None
    items_rejected: int = 0  # bad items skipped (cumulative)
    last_rejection: str | None = None  # why the last one was
    cursor: str | None = None  # where an account's next visit resumes

    @property
    def failing(self) -> bool:
        return self.consecutive_failures > 0


@dataclass(frozen=True, slots=True)
class MentionRecord:
    id: int
    url: str
    title: str
    source: str
    source_type: str
    published_at: datetime | None
    found_at: datetime
    matched: str
    rule: str
    score: int
    snippet: str
    highlight_start: int
    highlight_end: int
    status: str
    urgent: bool
    alert_sent_at: datetime | None
    digest_id: int | None
    also_seen: tuple[str, ...] = ()
    outlet: str | None = None  # the publisher ("Le Nouvelliste"), when known
    urgent_keyword: str | None = None  # the alert keyword that made it urgent
    author: str | None = None  # who wrote a comment (official accounts)
    reply_to: str | None = None  # the first words of the post a comment answers
    propos: str | None = None  # the propos detector's category (insulte, menace…)
    propos_severity: int | None = None
    propos_words: tuple[str, ...] = ()
    propos_reason: str | None = None
    assignee: str | None = None  # who follows it up (workspace)
    tags: tuple[str, ...] = ()
    tone: str | None = None  # positif, neutre, négatif: set by a person


@dataclass(frozen=True, slots=True)
class NewItem:
    """An item to remember, with its mention when it names the brand."""

    key: str
    url: str
    guid: str | None
    title: str
    text: str
    published_at: datetime | None
    mention: NewMention | None = None
    title_key: str | None = None
    outlet: str | None = None
    author: str | None = None
    reply_to: str | None = None


@dataclass(frozen=True, slots=True)
class NewMention:
    matched: str
    rule: str
    score: int
    snippet: str
    highlight_start: int
    highlight_end: int
    urgent: bool
    urgent_keyword: str | None = None
    propos: str | None = None  # category of injurious content, when the detector found one
    propos_severity: int | None = None
    propos_words: tuple[str, ...] = ()
    propos_reason: str | None = None


@dataclass(frozen=True, slots=True)
class StoredItem:
    """An item as kept for a rescan."""

    id: int
    source: str
    url: str
    title: str
    text: str | None
    published_at: datetime | None
    outlet: str | None = None
    author: str | None = None
    reply_to: str | None = None


@dataclass(frozen=True, slots=True)
class DigestClaim:
    """A digest reserved before sending: its id, Message-ID and mentions."""

    id: int
    message_id: str
    mentions: tuple[MentionRecord, ...]
    day: date


def _source_record(row: SourceRow) -> SourceRecord:
    return SourceRecord(
        name=row.name,
        type=row.type,
        last_attempt_at=row.last_attempt_at,
        last_success_at=row.last_success_at,
        failing_since=row.failing_since,
        consecutive_failures=row.consecutive_failures or 0,
        last_error=row.last_error,
        etag=row.etag,
        last_modified=row.last_modified,
        items_seen=row.items_seen or 0,
        mentions_found=row.mentions_found or 0,
        notified_failing=bool(row.notified_failing),
        next_attempt_at=row.next_attempt_at,
        last_warning=row.last_warning,
        last_new_item_at=row.last_new_item_at,
        first_success_at=row.first_success_at,
        items_rejected=row.items_rejected or 0,
        last_rejection=row.last_rejection,
        cursor=row.cursor,
    )


def _mention_record(
    row: MentionRow, also_seen: Sequence[str] = (), tags: Sequence[str] = ()
) -> MentionRecord:
    return MentionRecord(
        id=row.id,
        url=row.url,
        title=row.title,
        source=row.source,
        source_type=row.source_type,
        published_at=row.published_at,
        found_at=row.found_at,
        matched=row.matched,
        rule=row.rule,
        score=row.score,
        snippet=row.snippet,
        highlight_start=row.highlight_start,
        highlight_end=row.highlight_end,
        status=row.status,
        urgent=row.urgent,
        alert_sent_at=row.alert_sent_at,
        digest_id=row.digest_id,
        also_seen=tuple(also_seen),
        outlet=row.outlet,
        urgent_keyword=row.urgent_keyword,
        author=row.author,
        reply_to=row.reply_to,
        propos=row.propos,
        propos_severity=row.propos_severity,
        propos_words=tuple(row.propos_words.split(", ")) if row.propos_words else (),
        propos_reason=row.propos_reason,
        assignee=row.assignee,
        tags=tuple(tags),
        tone=row.tone,
    )


def _mention_values(
    mention: NewMention,
    *,
    item_id: int,
    source: str,
    source_type: str,
    url: str,
    title: str,
    published_at: datetime | None,
    outlet: str | None,
    now: datetime,
    author: str | None = None,
    reply_to: str | None = None,
) -> dict[str, object]:
    """The columns of a new mention's row."""
    return {
        "item_id": item_id,
        "source": source,
        "source_type": source_type,
        "url": url,
        "title": title,
        "published_at": published_at,
        "found_at": now,
        "matched": mention.matched,
        "rule": mention.rule,
        "score": mention.score,
        "snippet": mention.snippet,
        "highlight_start": mention.highlight_start,
        "highlight_end": mention.highlight_end,
        "status": STATUS_NEW,
        "urgent": mention.urgent,
        "urgent_keyword": mention.urgent_keyword,
        "outlet": outlet,
        "author": author,
        "reply_to": reply_to,
        "propos": mention.propos,
        "propos_severity": mention.propos_severity,
        "propos_words": ", ".join(mention.propos_words) or None,
        "propos_reason": mention.propos_reason,
    }


CHUNK = 500  # values in one IN (...) list


def _chunks(values: Sequence[_T]) -> Iterator[list[_T]]:
    for start in range(0, len(values), CHUNK):
        yield list(values[start : start + CHUNK])


# The statements of save_batch, built once: SQLAlchemy then only binds values (an IN
# list is one expanding parameter). The values of an IN list go by CHUNK.
_KNOWN_KEYS = select(ItemRow.key).where(ItemRow.key.in_(bindparam("keys", expanding=True)))
_ITEMS_OF_KEYS = select(ItemRow.key, ItemRow.id, ItemRow.seen_at).where(
    ItemRow.key.in_(bindparam("keys", expanding=True))
)
# the first item of each title key (by its digest) seen from another source since a time
_FIRST_OF_TITLES = (
    select(ItemRow.title_hash, func.min(ItemRow.id))
    .where(
        ItemRow.title_hash.in_(bindparam("title_hashes", expanding=True)),
        ItemRow.seen_at >= bindparam("since"),
        ItemRow.source != bindparam("source"),
    )
    .group_by(ItemRow.title_hash)
)
_MENTIONS_OF_ITEMS = select(MentionRow.item_id, MentionRow.id, MentionRow.source).where(
    MentionRow.item_id.in_(bindparam("ids", expanding=True))
)
_SIGHTED = select(SightingRow.mention_id).where(
    SightingRow.source == bindparam("source"),
    SightingRow.mention_id.in_(bindparam("ids", expanding=True)),
)
_NEW_SIGHTINGS = insert(SightingRow)
_NEW_MENTIONS = insert(MentionRow).returning(MentionRow.id)
# one source's row: read, then written in one statement (the same columns every time)
_SOURCE_STATE = select(
    SourceRow.last_new_item_at,
    SourceRow.first_success_at,
    SourceRow.items_seen,
    SourceRow.mentions_found,
    SourceRow.items_rejected,
    SourceRow.last_rejection,
    SourceRow.etag,
    SourceRow.last_modified,
    SourceRow.cursor,
).where(SourceRow.name == bindparam("source_name"))
_SOURCE_SUCCESS = update(SourceRow).where(SourceRow.name == bindparam("source_name"))
MAX_TITLE_KEYS_PRUNED = 50_000  # per cycle (a store upgraded has them on every item)
# title-key retention, read from two indexes only: the newest item seen before a time,
# and the items that still have a key's digest
# (the greatest id among the items seen at that newest time: several share it when a
# batch is stored at once, and a database returns ties in any order)
_NEWEST_BEFORE = select(func.max(ItemRow.id)).where(
    ItemRow.seen_at
    == select(func.max(ItemRow.seen_at))
    .where(ItemRow.seen_at < bindparam("before"))
    .scalar_subquery()
)
_TITLE_KEYED = select(ItemRow.id).where(ItemRow.title_hash.is_not(None))
_FORGET_TITLE_KEYS = (
    update(ItemRow)
    .where(ItemRow.id.in_(bindparam("ids", expanding=True)), ItemRow.seen_at < bindparam("before"))
    .values(title_hash=None)
)
# an item that still has its text: packed (since migration 0009) or plain (stored before)
_HAS_TEXT = or_(ItemRow.packed_text.is_not(None), ItemRow.text.is_not(None))


def _known_keys(connection: Connection, keys: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(keys):
        found.update(connection.execute(_KNOWN_KEYS, {"keys": chunk}).scalars())
    return found


def _visited(now: datetime, warning: str | None) -> dict[str, object]:
    """What a successful visit sets on its source's row, whatever it brought."""
    return {
        "last_attempt_at": now,
        "last_success_at": now,
        "consecutive_failures": 0,
        "failing_since": None,
        "last_error": None,
        "next_attempt_at": None,
        "last_warning": warning,
    }


def _added(count: int | None, more: int) -> int | None:
    return (count or 0) + more if more else count


@cache
def _new_items(dialect: str) -> ReturningInsert[str, int]:
    """``insert into items … returning key, id``, skipping a row whose key is already
    stored (``on conflict do nothing``) where the database has it (SQLite, PostgreSQL)."""
    statement: Insert
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        statement = sqlite_insert(ItemRow).on_conflict_do_nothing(index_elements=["key"])
    elif dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        statement = postgresql_insert(ItemRow).on_conflict_do_nothing(index_elements=["key"])
    else:
        statement = insert(ItemRow)
    return statement.returning(ItemRow.key, ItemRow.id)


class _Sightings:
    """The sightings ("aussi vu sur") one source's batch adds, looked up in bulk.

    :meth:`of_keys` and :meth:`of_titles` find the first item of each key or title;
    when that item is a mention from another source that this source has not been
    seen on yet, a sighting with the url this source gives is added (one per
    mention: the first url found wins)."""

    def __init__(self, connection: Connection, source: str, now: datetime):
        self.connection = connection
        self.source = source
        self.now = now
        self._done: set[int] = set()  # mentions this batch already looked at

    def of_keys(self, seen: Sequence[tuple[str, str]]) -> datetime | None:
        """Sight the items stored under these keys ((key, url)); returns when the most
        recent of them was first seen (None: none is stored)."""
        urls: dict[str, str] = {}
        for key, url in seen:
            urls.setdefault(key, url)
        firsts: list[tuple[int, str]] = []
        latest: datetime | None = None
        for chunk in _chunks(list(urls)):
            for key, item_id, seen_at in self.connection.execute(_ITEMS_OF_KEYS, {"keys": chunk}):
                firsts.append((item_id, urls[key]))
                if latest is None or seen_at > latest:
                    latest = seen_at
        self._sight(sorted(firsts))
        return latest

    def of_titles(self, titles: Sequence[tuple[int, str]]) -> set[int]:
        """The title keys (their digests) among ``titles`` ((digest, url)) that an item
        of another source had in the last 72 hours; the first such item of each is
        sighted."""
        urls: dict[int, str] = {}
        for digest, url in titles:
            urls.setdefault(digest, url)
        found: set[int] = set()
        firsts: list[tuple[int, str]] = []
        since = self.now - TITLE_WINDOW
        for chunk in _chunks(list(urls)):
            values = {"title_hashes": chunk, "since": since, "source": self.source}
            for shared, item_id in self.connection.execute(_FIRST_OF_TITLES, values):
                if shared is not None:  # (always: the digest is in the list)
                    found.add(shared)
                    firsts.append((item_id, urls[shared]))
        self._sight(sorted(firsts))
        return found

    def _sight(self, firsts: Sequence[tuple[int, str]]) -> None:
        mentions: dict[int, tuple[int, str]] = {}
        for chunk in _chunks([item_id for item_id, _ in firsts]):
            for item_id, mention_id, source in self.connection.execute(
                _MENTIONS_OF_ITEMS, {"ids": chunk}
            ):
                mentions[item_id] = (mention_id, source)
        wanted: dict[int, str] = {}
        for item_id, url in firsts:
            mention_id, source = mentions.get(item_id, (0, self.source))
            if source != self.source and mention_id not in self._done:
                wanted.setdefault(mention_id, url)
        if not wanted:
            return
        self._done.update(wanted)
        for chunk in _chunks(list(wanted)):
            values = {"source": self.source, "ids": chunk}
            for mention_id in self.connection.execute(_SIGHTED, values).scalars():
                del wanted[mention_id]
        if wanted:
            rows = [
                {"mention_id": mention_id, "source": self.source, "url": url, "seen_at": self.now}
                for mention_id, url in wanted.items()
            ]
            self.connection.execute(_NEW_SIGHTINGS, rows)


class MentionStore(WorkspaceStore):
    """All reads and writes veille makes; each method is one transaction."""

    def __init__(self, session_factory: sessionmaker[Session]):
        self._sessions = session_factory
        engine = session_factory.kw.get("bind")
        self._url = engine.url.render_as_string(hide_password=False) if engine else ""

    @contextmanager
    def _unit(self, *, write: bool) -> Iterator[Session]:
        """One unit of work: a transaction committed at the end (``write``) or a read.

        The engine's error hook (storage.db) already turns what makes the store
        unusable into a French StorageError; what escapes it (an error raised
        outside a statement, such as a lost connection at commit) is translated here,
        so that every operation fails the same way. An error about one row's data
        (IntegrityError, DataError) stays what it is: the pipeline then stores the
        batch item by item.
        """
        try:
            with self._sessions.begin() if write else self._sessions() as session:
                yield session
        except SQLAlchemyError as exc:
            problem = storage_problem(self._url, exc)
            if problem is None:
                raise
            raise problem from exc

    def _read(self) -> AbstractContextManager[Session]:
        return self._unit(write=False)

    def _write(self) -> AbstractContextManager[Session]:
        return self._unit(write=True)

    # --- sources -------------------------------------------------------------------

    def sync_sources(self, sources: Iterable[tuple[str, str]]) -> None:
        """Make sure every configured source has a row (kept when removed from config)."""
        try:
            with self._write() as session:
                known = set(session.scalars(select(SourceRow.name)))
                for name, kind in sources:
                    if name not in known:
                        session.add(
                            SourceRow(
                                name=name,
                                type=kind,
                                consecutive_failures=0,
                                items_seen=0,
                                mentions_found=0,
                                notified_failing=False,
                            )
                        )
        except SQLAlchemyError as exc:
            raise StorageError(
                f"écriture impossible dans la base ({exc.__class__.__name__})"
            ) from exc

    def sources(self, names: Sequence[str] | None = None) -> dict[str, SourceRecord]:
        with self._read() as session:
            query = select(SourceRow)
            if names is not None:
                query = query.where(SourceRow.name.in_(list(names)))
            return {row.name: _source_record(row) for row in session.scalars(query)}

    def claim_sources(self, names: Sequence[str], now: datetime) -> None:
        """Mark sources as attempted now, before collecting them."""
        with self._write() as session:
            session.execute(
                update(SourceRow).where(SourceRow.name.in_(list(names))).values(last_attempt_at=now)
            )

    def record_failure(
        self,
        name: str,
        error: str,
        now: datetime,
        *,
        retry_at: datetime | None = None,
    ) -> None:
        """Count a failure; ``retry_at`` is when the site asked to be visited again."""
        with self._write() as session:
            row = session.get_one(SourceRow, name)
            row.consecutive_failures = (row.consecutive_failures or 0) + 1
            row.last_error = error
            row.last_attempt_at = now
            row.next_attempt_at = retry_at
            if row.failing_since is None:
                row.failing_since = now

    def known_keys(self, keys: Sequence[str]) -> set[str]:
        """The keys among ``keys`` already stored."""
        if not keys:
            return set()
        with self._read() as session:
            return _known_keys(session.connection(), keys)

    def save_batch(
        self,
        *,
        source: str,
        source_type: str,
        items: Sequence[NewItem],
        etag: str | None,
        last_modified: str | None,
        now: datetime,
        cursor: str | None = None,
        seen_again: Sequence[tuple[str, str]] = (),
        warning: str | None = None,
        rejected: int = 0,
        rejection: str | None = None,
    ) -> list[int]:
        """Store one source's new items and mentions and its success, in one transaction.

        Deduplication in layers: an item whose key is stored is skipped (the
        unique constraint is the last guard: ``on conflict do nothing``); one whose
        normalised title was seen from *another* source in the last 72 hours is
        stored without a mention (one source's own items are never merged by
        title: the paragraphs of a page share its title). Either way, when the
        first one is a mention from another source, this source is added to its
        sightings ("aussi vu sur"). ``seen_again`` lists (key, url) of known items
        this source found again; one that first arrived after this source's last
        new item counts as news from it (it is not "muette" because another
        source is quicker). ``rejected`` items were unusable and skipped
        (``rejection`` says why). Returns the ids of the new mentions.

        However many items, a batch is a few statements: one lookup per kind
        (keys, titles, their mentions, the sightings already there) and one bulk
        insert per table.
        """
        with self._write() as session:
            connection = session.connection()
            before = connection.execute(_SOURCE_STATE, {"source_name": source}).one()
            sightings = _Sightings(connection, source, now)
            latest_known = sightings.of_keys(seen_again)
            since = before.last_new_item_at or before.first_success_at
            news = latest_known is not None and (since is None or latest_known > since)
            existing = _known_keys(connection, [item.key for item in items]) if items else set()
            fresh: dict[str, NewItem] = {}
            for item in items:
                if item.key not in existing:
                    fresh.setdefault(item.key, item)
            digests = {
                key: title_hash(item.title_key) for key, item in fresh.items() if item.title_key
            }
            same_story = sightings.of_titles(
                [(digest, fresh[key].url) for key, digest in digests.items()]
            )
            stored, mention_ids = self._insert_items(
                connection, list(fresh.values()), digests, same_story, source, source_type, now
            )
            changed = etag is not None or last_modified is not None
            success = {
                **_visited(now, warning),
                "source_name": source,
                "first_success_at": before.first_success_at or now,
                "last_new_item_at": now if news or stored else before.last_new_item_at,
                "items_seen": _added(before.items_seen, stored),
                "mentions_found": _added(before.mentions_found, len(mention_ids)),
                "items_rejected": _added(before.items_rejected, rejected),
                "last_rejection": rejection if rejected else before.last_rejection,
                "etag": etag if changed else before.etag,
                "last_modified": last_modified if changed else before.last_modified,
                "cursor": before.cursor if cursor is None else cursor,
            }
            connection.execute(_SOURCE_SUCCESS, success)
        return mention_ids

    def record_unchanged(self, names: Sequence[str], now: datetime) -> None:
        """Mark sources whose visit found nothing new (a 304, same validators) as
        visited successfully, in one transaction: what :meth:`save_batch` records of a
        visit without items, warning or rejection."""
        with self._write() as session:
            connection = session.connection()
            for chunk in _chunks(names):
                chosen = SourceRow.name.in_(chunk)
                connection.execute(update(SourceRow).where(chosen).values(_visited(now, None)))
                connection.execute(
                    update(SourceRow)
                    .where(chosen, SourceRow.first_success_at.is_(None))
                    .values(first_success_at=now)
                )

    @staticmethod
    def _insert_items(
        connection: Connection,
        items: Sequence[NewItem],
        digests: Mapping[str, int],
        same_story: set[int],
        source: str,
        source_type: str,
        now: datetime,
    ) -> tuple[int, list[int]]:
        """Insert ``items`` (a key stored meanwhile is skipped) and the mentions of
        those whose title key's digest (``digests``, by item key) is not in
        ``same_story``: (items stored, mention ids)."""
        if not items:
            return 0, []
        inserted = connection.execute(
            _new_items(connection.dialect.name),
            [
                {
                    "key": item.key,
                    "source": source,
                    "url": pack_url(item.url, item.key),
                    "guid": pack_guid(item.guid, item.key),
                    "title": item.title,
                    "packed_text": pack_text(item.text),  # "text" stays NULL
                    "published_at": item.published_at,
                    "seen_at": now,
                    "title_hash": digests.get(item.key),
                    "outlet": item.outlet,
                    "author": item.author,
                    "reply_to": item.reply_to,
                }
                for item in items
            ],
        )
        ids: dict[str, int] = {key: item_id for key, item_id in inserted}
        mentions = [
            _mention_values(
                item.mention,
                item_id=ids[item.key],
                source=source,
                source_type=source_type,
                url=item.url,
                title=item.title,
                published_at=item.published_at,
                outlet=item.outlet,
                now=now,
                author=item.author,
                reply_to=item.reply_to,
            )
            for item in items
            if item.mention is not None
            and item.key in ids
            and digests.get(item.key) not in same_story
        ]
        if not mentions:
            return len(ids), []
        created = connection.execute(_NEW_MENTIONS, mentions)
        return len(ids), sorted(created.scalars())

    def mark_notified(self, name: str, failing: bool) -> None:
        with self._write() as session:
            session.get_one(SourceRow, name).notified_failing = failing

    # --- mentions ------------------------------------------------------------------

    def mentions(
        self,
        *,
        since: datetime | None = None,
        status: str | None = None,
        ids: Sequence[int] | None = None,
        source_type: str | None = None,
    ) -> list[MentionRecord]:
        with self._read() as session:
            query = select(MentionRow).order_by(MentionRow.found_at.desc(), MentionRow.id.desc())
            if since is not None:
                query = query.where(MentionRow.found_at >= since)
            if status is not None:
                query = query.where(MentionRow.status == status)
            if source_type is not None:
                query = query.where(MentionRow.source_type == source_type)
            if ids is not None:
                query = query.where(MentionRow.id.in_(list(ids)))
            return self._with_sightings(session, list(session.scalars(query)))

    @staticmethod
    def _with_sightings(session: Session, rows: Sequence[MentionRow]) -> list[MentionRecord]:
        seen: dict[int, list[str]] = {}
        tags: dict[int, list[str]] = {}
        ids = [row.id for row in rows]
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            query = (
                select(SightingRow.mention_id, SightingRow.source)
                .where(SightingRow.mention_id.in_(chunk))
                .order_by(SightingRow.id)
            )
            for mention_id, source in session.execute(query):
                seen.setdefault(mention_id, []).append(source)
            tagged = (
                select(MentionTagRow.mention_id, MentionTagRow.tag)
                .where(MentionTagRow.mention_id.in_(chunk))
                .order_by(MentionTagRow.tag)
            )
            for mention_id, tag in session.execute(tagged):
                tags.setdefault(mention_id, []).append(tag)
        return [_mention_record(row, seen.get(row.id, ()), tags.get(row.id, ())) for row in rows]

    def pending_alerts(self) -> list[MentionRecord]:
        with self._read() as session:
            query = (
                select(MentionRow)
                .where(
                    MentionRow.urgent.is_(True),
                    MentionRow.alert_sent_at.is_(None),
                    MentionRow.status != STATUS_EXCLUDED,
                )
                .order_by(MentionRow.id)
            )
            return [_mention_record(row) for row in session.scalars(query)]

    def mark_alert_sent(self, mention_id: int, now: datetime) -> None:
        with self._write() as session:
            session.get_one(MentionRow, mention_id).alert_sent_at = now

    def counts(self) -> dict[str, int]:
        with self._read() as session:
            return {
                "mentions": session.scalar(select(func.count(MentionRow.id))) or 0,
                "items": session.scalar(select(func.count(ItemRow.id))) or 0,
                "unsent": session.scalar(
                    select(func.count(MentionRow.id)).where(
                        MentionRow.digest_id.is_(None), MentionRow.status != STATUS_EXCLUDED
                    )
                )
                or 0,
            }

    # --- moderation of official-account comments ------------------------------------

    def comment_of(self, mention_id: int) -> Comment | None:
        """The platform's id of a mention's comment and where it was found, or None."""
        with self._read() as session:
            found = session.execute(
                select(
                    MentionRow.source,
                    MentionRow.source_type,
                    MentionRow.url,
                    ItemRow.guid,
                    ItemRow.key,
                )
                .join(ItemRow, ItemRow.id == MentionRow.item_id)
                .where(MentionRow.id == mention_id)
            ).first()
            if found is None:
                return None
            guid = unpack_guid(found.guid, found.key)
            return Comment(mention_id, found.source, found.source_type, found.url, guid)

    def record_moderation(
        self,
        mention_id: int,
        *,
        requested_by: str,
        now: datetime,
        platform: str,
        action: str,
        done: bool,
        answer: str,
    ) -> None:
        """Append what was asked of a platform and what it answered (never changed)."""
        with self._write() as session:
            session.add(
                ModerationRow(
                    mention_id=mention_id,
                    requested_by=requested_by,
                    requested_at=now,
                    platform=platform,
                    action=action,
                    done=done,
                    answer=answer,
                )
            )

    def moderations(self, mention_id: int) -> list[Moderation]:
        with self._read() as session:
            rows = session.scalars(
                select(ModerationRow)
                .where(ModerationRow.mention_id == mention_id)
                .order_by(ModerationRow.id)
            )
            return [
                Moderation(r.requested_by, r.requested_at, r.platform, r.action, r.done, r.answer)
                for r in rows
            ]

    # --- robots.txt cache ---------------------------------------------------------

    def robots_get(self, host: str) -> RobotsRecord | None:
        with self._read() as session:
            row = session.get(RobotsRow, host)
            return RobotsRecord(row.status, row.body, row.fetched_at) if row else None

    def robots_put(self, host: str, entry: RobotsValues) -> None:
        with self._write() as session:
            row = session.get(RobotsRow, host)
            if row is None:
                session.add(
                    RobotsRow(
                        host=host, status=entry.status, body=entry.body, fetched_at=entry.fetched_at
                    )
                )
            else:
                row.status, row.body, row.fetched_at = entry.status, entry.body, entry.fetched_at

    # --- coverage ------------------------------------------------------------------

    def coverage(self, since: datetime | None = None) -> dict[str, tuple[int, int]]:
        """Per source: (mentions it found, mentions only it found), since ``since``."""
        with self._read() as session:
            query = select(MentionRow.id, MentionRow.source)
            if since is not None:
                query = query.where(MentionRow.found_at >= since)
            finders: dict[int, set[str]] = {
                mention_id: {source} for mention_id, source in session.execute(query)
            }
            ids = list(finders)
            for start in range(0, len(ids), 500):
                sightings = select(SightingRow.mention_id, SightingRow.source).where(
                    SightingRow.mention_id.in_(ids[start : start + 500])
                )
                for mention_id, source in session.execute(sightings):
                    finders[mention_id].add(source)
        found: dict[str, list[int]] = {}
        for sources in finders.values():
            for source in sources:
                counts = found.setdefault(source, [0, 0])
                counts[0] += 1
                counts[1] += len(sources) == 1
        return {source: (total, alone) for source, (total, alone) in found.items()}

    # --- rescan and retention ----------------------------------------------------

    def stored_items(
        self, *, since: datetime | None = None, batch: int = 2000
    ) -> Iterator[list[StoredItem]]:
        """Every stored item (seen since ``since``), in batches, by id."""
        last = 0
        while True:
            with self._read() as session:
                query = (
                    select(ItemRow)
                    .where(ItemRow.id > last, _HAS_TEXT)  # pruned: not judged
                    .order_by(ItemRow.id)
                    .limit(batch)
                )
                if since is not None:
                    query = query.where(ItemRow.seen_at >= since)
                rows = [
                    StoredItem(
                        r.id,
                        r.source,
                        unpack_url(r.url, r.key),
                        r.title,
                        item_text(r.text, r.packed_text),
                        r.published_at,
                        r.outlet,
                        r.author,
                        r.reply_to,
                    )
                    for r in session.scalars(query)
                ]
            if not rows:
                return
            yield rows
            last = rows[-1].id

    def apply_rescan(
        self,
        items: Sequence[StoredItem],
        verdicts: Mapping[int, NewMention | None],
        *,
        now: datetime,
    ) -> tuple[int, int, int]:
        """Create, exclude or restore mentions after a rescan: (created, excluded, restored)."""
        created = excluded = restored = 0
        with self._write() as session:
            ids = [item.id for item in items]
            existing = {
                row.item_id: row
                for row in session.scalars(select(MentionRow).where(MentionRow.item_id.in_(ids)))
            }
            types = {
                name: kind for name, kind in session.execute(select(SourceRow.name, SourceRow.type))
            }
            for item in items:
                mention = verdicts.get(item.id)
                row = existing.get(item.id)
                if row is None and mention is not None:
                    session.add(
                        MentionRow(
                            **_mention_values(
                                mention,
                                item_id=item.id,
                                source=item.source,
                                source_type=types.get(item.source, "feed"),
                                url=item.url,
                                title=item.title,
                                published_at=item.published_at,
                                outlet=item.outlet,
                                now=now,
                                author=item.author,
                                reply_to=item.reply_to,
                            )
                        )
                    )
                    created += 1
                elif row is not None and mention is None and row.status != STATUS_EXCLUDED:
                    row.status, row.status_by_hand = STATUS_EXCLUDED, False
                    excluded += 1
                elif (
                    row is not None
                    and mention is not None
                    and row.status == STATUS_EXCLUDED
                    and not row.status_by_hand  # a person's exclusion stands
                ):
                    row.status = STATUS_NEW
                    restored += 1
        return created, excluded, restored

    def prune_items(self, *, before: datetime) -> int:
        """Forget items seen before ``before`` that are not mentions (mentions stay forever)."""
        with self._write() as session:
            result = session.execute(
                delete(ItemRow).where(
                    ItemRow.seen_at < before, ItemRow.id.not_in(select(MentionRow.item_id))
                )
            )
            return int(getattr(result, "rowcount", 0) or 0)

    def prune_title_keys(self, *, before: datetime) -> int:
        """Forget the title keys (their digests) of items seen before ``before``: a story
        is only looked for by its title within :data:`TITLE_WINDOW`, and a digest and
        its index entry would weigh about 20 bytes an item for nothing after.

        Read from indexes alone: ids grow with time, so the keys to forget are among
        those of ids up to the newest item seen before ``before`` (the update checks
        each one's time). A store upgraded with keys everywhere is done a little at
        each cycle (:data:`MAX_TITLE_KEYS_PRUNED`), oldest first, in short transactions."""
        with self._read() as session:
            connection = session.connection()
            newest = connection.execute(_NEWEST_BEFORE, {"before": before}).scalar()
            if newest is None:
                return 0
            keyed = connection.execute(_TITLE_KEYED).scalars()
            old = sorted(item_id for item_id in keyed if item_id <= newest)[:MAX_TITLE_KEYS_PRUNED]
        forgotten = 0
        for start in range(0, len(old), 20 * CHUNK):
            with self._write() as session:
                connection = session.connection()
                for chunk in _chunks(old[start : start + 20 * CHUNK]):
                    done = connection.execute(_FORGET_TITLE_KEYS, {"ids": chunk, "before": before})
                    forgotten += int(getattr(done, "rowcount", 0) or 0)
        return forgotten

    def prune_text(self, *, before: datetime) -> int:
        """Forget the texts of items seen before ``before`` (``storage.keep_text``),
        packed or plain: how many items had one."""
        with self._write() as session:
            result = session.execute(
                update(ItemRow)
                .where(ItemRow.seen_at < before, _HAS_TEXT)
                .values(text=None, packed_text=None)
            )
            return int(getattr(result, "rowcount", 0) or 0)

    # --- digests -------------------------------------------------------------------

    def pending_digests(self) -> list[DigestClaim]:
        """Digests reserved but never confirmed sent (a crash while sending), to send again
        as they were: same mentions, same Message-ID."""
        with self._read() as session:
            claims = []
            query = select(DigestRow).where(DigestRow.status == "pending").order_by(DigestRow.id)
            for digest in session.scalars(query):
                rows = session.scalars(
                    select(MentionRow)
                    .where(MentionRow.digest_id == digest.id)
                    .order_by(MentionRow.id)
                )
                mentions = tuple(self._with_sightings(session, list(rows)))
                claims.append(DigestClaim(digest.id, digest.message_id, mentions, digest.day))
            return claims

    def claim_digest(
        self, *, day: date, now: datetime, message_id: str, subject: str = ""
    ) -> DigestClaim:
        """Reserve every unsent mention for a new pending digest."""
        with self._write() as session:
            rows = list(
                session.scalars(
                    select(MentionRow)
                    .where(MentionRow.digest_id.is_(None), MentionRow.status != STATUS_EXCLUDED)
                    .order_by(MentionRow.id)
                )
            )
            digest = DigestRow(
                message_id=message_id,
                day=day,
                status="pending",
                created_at=now,
                mention_count=len(rows),
                subject=subject,
            )
            session.add(digest)
            session.flush()
            for row in rows:
                row.digest_id = digest.id
            mentions = tuple(self._with_sightings(session, rows))
            return DigestClaim(digest.id, message_id, mentions, day)

    def unsent_mentions(self) -> list[MentionRecord]:
        with self._read() as session:
            query = (
                select(MentionRow)
                .where(MentionRow.digest_id.is_(None), MentionRow.status != STATUS_EXCLUDED)
                .order_by(MentionRow.id)
            )
            return self._with_sightings(session, list(session.scalars(query)))

    def complete_digest(self, digest_id: int, now: datetime, subject: str) -> None:
        with self._write() as session:
            digest = session.get_one(DigestRow, digest_id)
            digest.status = "sent"
            digest.sent_at = now
            digest.subject = subject

    def abort_digest(self, digest_id: int) -> None:
        with self._write() as session:
            session.execute(
                update(MentionRow).where(MentionRow.digest_id == digest_id).values(digest_id=None)
            )
            session.execute(delete(DigestRow).where(DigestRow.id == digest_id))

    def digest_sent_on(self, day: date) -> bool:
        with self._read() as session:
            found = session.scalar(
                select(func.count(DigestRow.id)).where(
                    DigestRow.day == day, DigestRow.status == "sent"
                )
            )
            return bool(found)
