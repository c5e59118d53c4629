"""What the workspace reads and writes beside the mentions themselves: the inbox and
its filters, a mention's history and notes, users, API tokens, sites ignored by
hand and the dashboard's counts.

:class:`WorkspaceStore` holds these operations; :class:`~storage.store.MentionStore`
inherits them, so there is still one store with one unit-of-work rule. Values come
out as frozen dataclasses (ORM rows never leave the store); every change of a
mention appends to its history, which nothing edits.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, tzinfo
from enum import Enum
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from sqlalchemy import ColumnElement, Row, case, delete, func, or_, select

from storage.models import (
    ApiTokenRow,
    DailyNoticeRow,
    ExcludedSiteRow,
    ItemRow,
    MentionEventRow,
    MentionNoteRow,
    MentionRow,
    MentionTagRow,
    UserRow,
)
from storage.packing import item_text
from veille.statuses import STATUS_EXCLUDED, STATUSES

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from storage.store import MentionRecord, Moderation


class Unchanged(Enum):
    """A field :meth:`~storage.store.MentionStore.change` leaves as it is."""

    UNCHANGED = "unchanged"


UNCHANGED = Unchanged.UNCHANGED


@dataclass(frozen=True, slots=True)
class MentionFilter:
    """The inbox's filters (all optional), as the URL and the API give them."""

    status: str | None = None
    urgent: bool | None = None
    source_type: str | None = None
    source: str | None = None
    outlet: str | None = None
    tag: str | None = None
    assignee: str | None = None
    since: datetime | None = None  # found at or after
    until: datetime | None = None  # found before
    q: str | None = None  # words in the title or the snippet


@dataclass(frozen=True, slots=True)
class InboxPage:
    mentions: list[MentionRecord]
    total: int  # mentions matching the filter
    counts: dict[str, int] = field(default_factory=dict)  # per status, filter without status


@dataclass(frozen=True, slots=True)
class Event:
    """One change in a mention's history."""

    at: datetime
    actor: str
    field: str  # status, assignee, tags, tone, note, propos…
    before: str | None
    after: str | None


@dataclass(frozen=True, slots=True)
class Note:
    at: datetime
    author: str
    text: str


@dataclass(frozen=True, slots=True)
class MentionDetail:
    mention: MentionRecord
    text: str | None  # the item's stored text (None once retention pruned it)
    history: list[Event]
    notes: list[Note]
    moderations: list[Moderation]


@dataclass(frozen=True, slots=True)
class User:
    email: str
    role: str
    password_hash: str | None  # None: signs in only through the trusted SSO header
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ApiToken:
    name: str
    role: str
    created_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class ExcludedSite:
    domain: str
    actor: str
    at: datetime
    reason: str


def site_of(url: str) -> str:
    """The domain « Ignorer ce site » records for a link: its host without « www. »."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    return host.removeprefix("www.")


def on_site(url: str, domains: frozenset[str]) -> bool:
    """Whether ``url`` is on one of ``domains`` or one of their subdomains."""
    host = site_of(url)
    while host:
        if host in domains:
            return True
        _, _, host = host.partition(".")
    return False


log = logging.getLogger(__name__)

MAX_TAG = 100
FEW_ROWS = 500  # an unindexed inbox filter keeping at most this many: counted, sorted here
MAX_NOTE = 10_000


def _text(value: object) -> str | None:
    return None if value is None else str(value)


class WorkspaceStore:
    """The workspace's operations of :class:`~storage.store.MentionStore`."""

    if TYPE_CHECKING:
        _url: str

        def _read(self) -> AbstractContextManager[Session]: ...

        def _write(self) -> AbstractContextManager[Session]: ...

        @staticmethod
        def _with_sightings(
            session: Session, rows: Sequence[MentionRow]
        ) -> list[MentionRecord]: ...

        def moderations(self, mention_id: int) -> list[Moderation]: ...

    # --- the inbox ---------------------------------------------------------------------

    def _conditions(self, filters: MentionFilter) -> list[ColumnElement[bool]]:
        """The WHERE clauses of a filter."""
        conditions: list[ColumnElement[bool]] = []
        if filters.status is not None:
            conditions.append(MentionRow.status == filters.status)
        if filters.urgent is not None:
            conditions.append(MentionRow.urgent.is_(filters.urgent))
        if filters.source_type:
            conditions.append(MentionRow.source_type == filters.source_type)
        if filters.source:
            conditions.append(MentionRow.source == filters.source)
        if filters.outlet:
            conditions.append(MentionRow.outlet == filters.outlet)
        if filters.assignee:
            conditions.append(MentionRow.assignee == filters.assignee)
        if filters.since is not None:
            conditions.append(MentionRow.found_at >= filters.since)
        if filters.until is not None:
            conditions.append(MentionRow.found_at < filters.until)
        if filters.tag:
            tagged = select(MentionTagRow.mention_id).where(MentionTagRow.tag == filters.tag)
            conditions.append(MentionRow.id.in_(tagged))
        if filters.q and filters.q.strip():
            words = filters.q.strip().lower()
            # SQLite's LIKE already ignores ASCII case, all that its lower() folds: lower()
            # there would only cost a call per row of a search that reads every row
            sqlite = self._url.startswith("sqlite")
            conditions.append(
                or_(
                    *(
                        (column if sqlite else func.lower(column)).contains(words, autoescape=True)
                        for column in (MentionRow.title, MentionRow.snippet)
                    )
                )
            )
        return conditions

    def inbox(self, filters: MentionFilter, *, offset: int = 0, limit: int = 50) -> InboxPage:
        """One page of the mentions the filter keeps, newest first, with the total and
        the count per status (of the same filter, whatever its status).

        One pass of conditional counts gives every status's count and the total (one of
        them) — with no filter but the status, the status index alone; the found_at
        index gives the page, newest first. A filter no index serves
        (words searched, an outlet) is first probed: the keys of at most FEW_ROWS + 1
        rows it keeps, in any order, a read that stops early when there are many. When
        they are few, that was all of them: counts, total and page come from them, and
        a rare word costs one pass over the table, not a second one walking the
        found_at index in search of the page's rows."""
        start = max(offset, 0)
        with self._read() as session:
            where = self._conditions(filters)
            any_status = self._conditions(replace(filters, status=None))
            probed = bool(filters.q or filters.outlet)
            keys: Sequence[Row[int, datetime, str]] = []
            if probed:
                keys = session.execute(
                    select(MentionRow.id, MentionRow.found_at, MentionRow.status)
                    .where(*any_status)
                    .limit(FEW_ROWS + 1)
                ).all()
            counts = {status: 0 for status in STATUSES}
            rows: Sequence[MentionRow] = []
            if probed and len(keys) <= FEW_ROWS:
                for key in keys:
                    if key.status in counts:
                        counts[key.status] += 1
                kept = sorted(
                    (key for key in keys if filters.status in (None, key.status)),
                    key=lambda key: (key.found_at, key.id),
                    reverse=True,
                )
                total = len(kept)
                chosen = [key.id for key in kept[start : start + max(limit, 0)]]
                if chosen:
                    found = session.scalars(select(MentionRow).where(MentionRow.id.in_(chosen)))
                    by_id = {row.id: row for row in found}
                    rows = [by_id[mention_id] for mention_id in chosen if mention_id in by_id]
                return InboxPage(self._with_sightings(session, list(rows)), total, counts)
            if any_status:
                # Conditional counts rather than GROUP BY status, which SQLite would read
                # through the status index, row by row, even when another filter is
                # narrower.
                tally = session.execute(
                    select(
                        func.count(MentionRow.id),
                        *(
                            func.count(case((MentionRow.status == status, MentionRow.id)))
                            for status in STATUSES
                        ),
                    ).where(*any_status)
                ).one()
                every = tally[0]
                counts = dict(zip(STATUSES, tally[1:], strict=True))
            else:  # no other filter: the status index alone answers, no row is read
                by_status = select(MentionRow.status, func.count(MentionRow.id))
                grouped: dict[str, int] = {
                    status: count
                    for status, count in session.execute(by_status.group_by(MentionRow.status))
                }
                every = sum(grouped.values())
                counts = {status: grouped.get(status, 0) for status in STATUSES}
            if filters.status is None:
                total = every
            elif filters.status in counts:
                total = counts[filters.status]
            else:  # a status no longer in use
                total = session.scalar(select(func.count(MentionRow.id)).where(*where)) or 0
            if limit > 0 and start < total:
                rows = session.scalars(
                    select(MentionRow)
                    .where(*where)
                    .order_by(MentionRow.found_at.desc(), MentionRow.id.desc())
                    .offset(start)
                    .limit(limit)
                ).all()
            return InboxPage(self._with_sightings(session, list(rows)), total, counts)

    def detail(self, mention_id: int) -> MentionDetail | None:
        """A mention with its stored text, history and notes, or None."""
        with self._read() as session:
            row = session.get(MentionRow, mention_id)
            if row is None:
                return None
            (mention,) = self._with_sightings(session, [row])
            stored = session.execute(
                select(ItemRow.text, ItemRow.packed_text).where(ItemRow.id == row.item_id)
            ).one_or_none()
            text = item_text(*stored) if stored is not None else None
            history = [
                Event(e.at, e.actor, e.field, e.before, e.after)
                for e in session.scalars(
                    select(MentionEventRow)
                    .where(MentionEventRow.mention_id == mention_id)
                    .order_by(MentionEventRow.id)
                )
            ]
            notes = [
                Note(n.at, n.author, n.text)
                for n in session.scalars(
                    select(MentionNoteRow)
                    .where(MentionNoteRow.mention_id == mention_id)
                    .order_by(MentionNoteRow.id)
                )
            ]
        return MentionDetail(mention, text, history, notes, self.moderations(mention_id))

    def change(
        self,
        ids: Sequence[int],
        *,
        actor: str,
        now: datetime,
        status: str | None = None,
        assignee: str | None | Unchanged = UNCHANGED,
        tone: str | None | Unchanged = UNCHANGED,
        add_tags: Sequence[str] = (),
        remove_tags: Sequence[str] = (),
    ) -> list[int]:
        """Change mentions by hand, appending one history event per field that changed.
        Returns the ids that do not exist; then nothing is changed. A status set by hand
        stands: ``veille rescan`` never undoes it (an « exclu » never comes back)."""
        add = sorted({t.strip()[:MAX_TAG] for t in add_tags if t.strip()})
        remove = sorted({t.strip() for t in remove_tags if t.strip()})
        with self._write() as session:
            rows = session.scalars(select(MentionRow).where(MentionRow.id.in_(list(ids)))).all()
            missing = sorted(set(ids) - {row.id for row in rows})
            if missing:
                return missing
            for row in rows:

                def event(name: str, before: object, after: object, row: MentionRow = row) -> None:
                    session.add(
                        MentionEventRow(
                            mention_id=row.id,
                            at=now,
                            actor=actor,
                            field=name,
                            before=_text(before),
                            after=_text(after),
                        )
                    )

                if status is not None and status != row.status:
                    event("status", row.status, status)
                    row.status = status
                if status is not None:
                    row.status_by_hand = True
                if not isinstance(assignee, Unchanged) and assignee != row.assignee:
                    event("assignee", row.assignee, assignee)
                    row.assignee = assignee
                if not isinstance(tone, Unchanged) and tone != row.tone:
                    event("tone", row.tone, tone)
                    row.tone = tone
                have = set(
                    session.scalars(
                        select(MentionTagRow.tag).where(MentionTagRow.mention_id == row.id)
                    )
                )
                for tag in add:
                    if tag not in have:
                        session.add(MentionTagRow(mention_id=row.id, tag=tag))
                        event("tags", None, tag)
                for tag in remove:
                    if tag in have:
                        session.execute(
                            delete(MentionTagRow).where(
                                MentionTagRow.mention_id == row.id, MentionTagRow.tag == tag
                            )
                        )
                        event("tags", tag, None)
        return []

    def add_note(self, mention_id: int, *, author: str, text: str, now: datetime) -> bool:
        """A note on a mention (plain text, also in its history); False if no such mention."""
        with self._write() as session:
            if session.get(MentionRow, mention_id) is None:
                return False
            body = text.strip()[:MAX_NOTE]
            session.add(MentionNoteRow(mention_id=mention_id, at=now, author=author, text=body))
            session.add(
                MentionEventRow(
                    mention_id=mention_id,
                    at=now,
                    actor=author,
                    field="note",
                    before=None,
                    after=body,
                )
            )
        return True

    # --- users and API tokens -----------------------------------------------------------

    def add_user(self, email: str, *, role: str, password_hash: str | None, now: datetime) -> bool:
        """A new user; False when the address is taken."""
        with self._write() as session:
            if session.get(UserRow, email) is not None:
                return False
            session.add(
                UserRow(email=email, role=role, password_hash=password_hash, created_at=now)
            )
        return True

    def user(self, email: str) -> User | None:
        with self._read() as session:
            row = session.get(UserRow, email)
            return User(row.email, row.role, row.password_hash, row.created_at) if row else None

    def users(self) -> list[User]:
        with self._read() as session:
            rows = session.scalars(select(UserRow).order_by(UserRow.email))
            return [User(r.email, r.role, r.password_hash, r.created_at) for r in rows]

    def remove_user(self, email: str) -> bool:
        with self._write() as session:
            row = session.get(UserRow, email)
            if row is None:
                return False
            session.delete(row)
        return True

    def set_password(self, email: str, password_hash: str) -> bool:
        with self._write() as session:
            row = session.get(UserRow, email)
            if row is None:
                return False
            row.password_hash = password_hash
        return True

    def add_token(self, name: str, *, role: str, digest: str, now: datetime) -> bool:
        """A new API token (its digest only); False when the name is taken."""
        with self._write() as session:
            if session.get(ApiTokenRow, name) is not None:
                return False
            session.add(ApiTokenRow(name=name, role=role, digest=digest, created_at=now))
        return True

    def token(self, digest: str) -> ApiToken | None:
        with self._read() as session:
            row = session.scalar(select(ApiTokenRow).where(ApiTokenRow.digest == digest))
            return ApiToken(row.name, row.role, row.created_at, row.last_used_at) if row else None

    def tokens(self) -> list[ApiToken]:
        with self._read() as session:
            rows = session.scalars(select(ApiTokenRow).order_by(ApiTokenRow.name))
            return [ApiToken(r.name, r.role, r.created_at, r.last_used_at) for r in rows]

    def touch_token(self, name: str, now: datetime) -> None:
        with self._write() as session:
            row = session.get(ApiTokenRow, name)
            if row is not None:
                row.last_used_at = now

    def remove_token(self, name: str) -> bool:
        with self._write() as session:
            row = session.get(ApiTokenRow, name)
            if row is None:
                return False
            session.delete(row)
        return True

    # --- sites ignored by hand ----------------------------------------------------------

    def exclude_site(self, domain: str, *, actor: str, reason: str, now: datetime) -> bool:
        """Ignore a site from now on (and in ``veille rescan``); False if already ignored."""
        with self._write() as session:
            if session.get(ExcludedSiteRow, domain) is not None:
                return False
            session.add(ExcludedSiteRow(domain=domain, actor=actor, at=now, reason=reason))
        return True

    def excluded_sites(self) -> list[ExcludedSite]:
        with self._read() as session:
            rows = session.scalars(select(ExcludedSiteRow).order_by(ExcludedSiteRow.domain))
            return [ExcludedSite(r.domain, r.actor, r.at, r.reason) for r in rows]

    def excluded_domains(self) -> frozenset[str]:
        with self._read() as session:
            return frozenset(session.scalars(select(ExcludedSiteRow.domain)))

    def remove_excluded_site(self, domain: str, *, actor: str, now: datetime) -> bool:
        """Stop ignoring a site (``veille rescan`` brings its mentions back); the removal
        is logged with who and when."""
        with self._write() as session:
            row = session.get(ExcludedSiteRow, domain)
            if row is None:
                return False
            session.delete(row)
        log.info("Site de nouveau surveillé : %s (par %s, %s)", domain, actor, now.isoformat())
        return True

    # --- the dashboard ------------------------------------------------------------------

    def daily_counts(self, since: datetime, zone: tzinfo) -> list[tuple[date, str, int]]:
        """Mentions found per day of ``zone`` and kind of source since ``since`` (excluded
        ones left out), by day. The database counts them per UTC hour; each hour goes to
        the day of ``zone`` it begins in (exact where the offset is whole hours, as in
        Québec)."""
        with self._read() as session:
            hour = _utc_hour(session.get_bind().dialect.name)
            rows = session.execute(
                select(hour, MentionRow.source_type, func.count(MentionRow.id))
                .where(MentionRow.found_at >= since, MentionRow.status != STATUS_EXCLUDED)
                .group_by(hour, MentionRow.source_type)
            )
            per_day: dict[tuple[date, str], int] = {}
            for start, kind, count in rows:
                day = (_as_utc(start).astimezone(zone).date(), kind)
                per_day[day] = per_day.get(day, 0) + count
        return sorted((day, kind, count) for (day, kind), count in per_day.items())

    def tone_counts(self, since: datetime) -> dict[str, int]:
        with self._read() as session:
            rows = session.execute(
                select(MentionRow.tone, func.count(MentionRow.id))
                .where(MentionRow.found_at >= since, MentionRow.tone.is_not(None))
                .group_by(MentionRow.tone)
            )
            return {str(tone): n for tone, n in rows}

    def urgent_count(self, since: datetime) -> int:
        with self._read() as session:
            return (
                session.scalar(
                    select(func.count(MentionRow.id)).where(
                        MentionRow.found_at >= since, MentionRow.urgent.is_(True)
                    )
                )
                or 0
            )

    def first_found(self) -> datetime | None:
        """When the oldest mention was found (how far back the store's history goes)."""
        with self._read() as session:
            return session.scalar(select(func.min(MentionRow.found_at)))

    def claim_daily_notice(self, kind: str, day: date, now: datetime) -> bool:
        """Reserve today's notice of ``kind``; False when it was already sent that day."""
        with self._write() as session:
            found = session.scalar(
                select(DailyNoticeRow.id).where(
                    DailyNoticeRow.kind == kind, DailyNoticeRow.day == day
                )
            )
            if found is not None:
                return False
            session.add(DailyNoticeRow(kind=kind, day=day, sent_at=now))
        return True

    def release_daily_notice(self, kind: str, day: date) -> None:
        """Give back a reservation whose email could not be sent (the next run retries)."""
        with self._write() as session:
            session.execute(
                delete(DailyNoticeRow).where(DailyNoticeRow.kind == kind, DailyNoticeRow.day == day)
            )

    def top_titles(self, since: datetime, limit: int = 5) -> list[str]:
        """The titles of the newest mentions found since ``since`` (urgent first)."""
        with self._read() as session:
            rows = session.scalars(
                select(MentionRow.title)
                .where(MentionRow.found_at >= since, MentionRow.status != STATUS_EXCLUDED)
                .order_by(MentionRow.urgent.desc(), MentionRow.found_at.desc())
                .limit(limit)
            )
            return list(rows)

    def top_outlets(self, since: datetime, limit: int = 10) -> list[tuple[str, int]]:
        """The media that published the most mentions (their outlet, else the source)."""
        who = func.coalesce(MentionRow.outlet, MentionRow.source)
        with self._read() as session:
            rows = session.execute(
                select(who, func.count(MentionRow.id))
                .where(MentionRow.found_at >= since, MentionRow.status != STATUS_EXCLUDED)
                .group_by(who)
                .order_by(func.count(MentionRow.id).desc(), who)
                .limit(limit)
            )
            return [(str(name), n) for name, n in rows]


def _utc_hour(dialect: str) -> ColumnElement[Any]:
    """The UTC hour a mention was found in (SQLite: text, PostgreSQL: a timestamp)."""
    if dialect == "postgresql":
        return func.date_trunc("hour", MentionRow.found_at)
    return func.strftime("%Y-%m-%d %H:00:00", MentionRow.found_at)


def _as_utc(value: object) -> datetime:
    """An hour read by :func:`_utc_hour`, as an aware UTC time."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC)
