"""One cycle of veille: collect → normalise → match → deduplicate → store → notify.

``run_once`` is a plain function that ``veille run``, ``veille demo`` and the
daemon's jobs all call. Everything it needs comes in as arguments (built by
:func:`veille.app.build_app`), and time comes from ``clock`` so tests can move it.

Exactly-once rules:
- an item is stored once (unique key); a source's batch is one transaction;
- what goes out (alerts, notices, the digest) goes through
  :class:`veille.notify.Notifier`, which marks it sent only after the SMTP
  server accepted it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Collection as Collection_
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Protocol

from sqlalchemy.exc import SQLAlchemyError

from collectors import REGISTRY
from collectors.base import Collection, Collector, Item, SourceState
from collectors.http import HttpClient
from collectors.response import MAX_BACKOFF
from matchers.base import Matcher, Span, snippet_around
from matchers.normalize import quick_fold
from storage.store import TITLE_WINDOW, MentionStore, NewItem, NewMention, SourceRecord
from storage.workspace import on_site
from veille.alerts import KeywordSpotter
from veille.config import Config, SourceConfig
from veille.errors import CycleStopped, DeliveryError, SourceError, StorageError
from veille.intake import MAX_ITEMS, RejectedItem, clean_item, newest
from veille.notify import Notifier
from veille.urls import canonical_url

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class SourceOutcome:
    name: str
    ok: bool
    items: int = 0
    new_items: int = 0
    new_mentions: int = 0
    not_modified: bool = False
    error: str | None = None
    rejected: int = 0  # items skipped because they could not be used
    usage: str | None = None  # what the visit cost, when an API counts (YouTube units…)


@dataclass(frozen=True, slots=True)
class Waiting:
    """A source left alone this cycle because it asked to be (Retry-After, paused host)."""

    name: str
    until: datetime
    reason: str | None


@dataclass(frozen=True, slots=True)
class RunReport:
    outcomes: tuple[SourceOutcome, ...] = ()
    alerts_sent: int = 0
    notices_sent: int = 0
    digest_subject: str | None = None
    delivery_errors: tuple[str, ...] = field(default_factory=tuple)
    waiting: tuple[Waiting, ...] = ()

    @property
    def failed_sources(self) -> tuple[SourceOutcome, ...]:
        return tuple(o for o in self.outcomes if not o.ok)

    @property
    def new_mentions(self) -> int:
        return sum(o.new_mentions for o in self.outcomes)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed_sources or self.delivery_errors else 0


def is_due(
    source: SourceConfig, record: SourceRecord | None, now: datetime, *, force: bool = False
) -> bool:
    """Due when never tried, or its interval has passed (minus a little slack for cron).

    A failing source backs off: its interval doubles with each consecutive
    failure, up to ``every`` × 8, and comes back to ``every`` at the first
    success. ``force`` (``veille run --all``) skips the back-off, but a source
    that asked to be left alone (Retry-After, paused host) is never due before
    then.
    """
    if record is not None and record.next_attempt_at is not None and now < record.next_attempt_at:
        return False
    due = next_visit(source, record)
    return force or due is None or now >= due


BACKOFF_CAP = 8
MAX_WAIT = timedelta(seconds=MAX_BACKOFF)  # a site never makes veille wait longer


def next_visit(source: SourceConfig, record: SourceRecord | None) -> datetime | None:
    """When ``source`` becomes due (None: now, it was never visited)."""
    if record is None or record.last_attempt_at is None:
        return record.next_attempt_at if record else None
    interval = source.every * backoff_factor(record.consecutive_failures)
    slack = min(timedelta(seconds=60), source.every * 0.1)
    due = record.last_attempt_at + interval - slack
    if record.next_attempt_at is not None and record.next_attempt_at > due:
        return record.next_attempt_at
    return due


def backoff_factor(failures: int) -> int:
    """1, 2, 4, 8, 8, … for 0, 2, 3, 4, 5… consecutive failures (1 failure: 1)."""
    if failures <= 1:
        return 1
    return int(min(2 ** (failures - 1), BACKOFF_CAP))


async def _collect_one(
    collector: Collector, client: HttpClient, state: SourceState
) -> Collection | SourceError:
    try:
        return await collector.collect(client, state)
    except SourceError as exc:
        return exc
    except Exception as exc:  # a bug in one collector must not stop the others
        log.exception("%s : erreur interne du collecteur", collector.name)
        return SourceError(f"erreur interne ({exc.__class__.__name__})")


async def _collect_all(
    client: HttpClient,
    jobs: Sequence[tuple[Collector, SourceState]],
    handle: Callable[[int, Collection | SourceError], SourceOutcome],
    quick: Callable[[int, Collection | SourceError], SourceOutcome | None] | None = None,
    stopping: threading.Event | None = None,
) -> list[SourceOutcome]:
    """Collect every job concurrently; results are handled (matched, stored) in one worker
    thread while the other sources are still being fetched, in the order of config.yaml,
    so that the first source listed is the one a shared story is credited to. A result
    ``quick`` answers for (a visit that found nothing new) stays on the event loop.

    When ``stopping`` is set, the fetches still running are cancelled, the source being
    stored is finished (its one transaction), and :class:`CycleStopped` is raised."""
    loop = asyncio.get_running_loop()
    handled = [asyncio.Event() for _ in jobs]
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="veille-store") as worker:

        async def one(index: int, collector: Collector, state: SourceState) -> SourceOutcome:
            result = await _collect_one(collector, client, state)
            if index:
                await handled[index - 1].wait()
            try:
                done = quick(index, result) if quick is not None else None
                if done is not None:
                    return done
                return await loop.run_in_executor(worker, handle, index, result)
            finally:
                handled[index].set()

        async with client:
            gathered = asyncio.gather(*(one(i, c, s) for i, (c, s) in enumerate(jobs)))
            if stopping is None:
                return await gathered
            watch = asyncio.ensure_future(_stopped(stopping))
            await asyncio.wait((gathered, watch), return_when=asyncio.FIRST_COMPLETED)
            if not gathered.done():
                gathered.cancel()
                await asyncio.gather(gathered, return_exceptions=True)
                raise CycleStopped("cycle abandonné : veille s'arrête")
            watch.cancel()
            return gathered.result()


STOP_POLL = 0.1  # seconds between two looks at the stop request


async def _stopped(stopping: threading.Event) -> None:
    while not stopping.is_set():
        await asyncio.sleep(STOP_POLL)


_TITLE_NOISE = re.compile(r"[^a-z0-9]+")
MIN_TITLE_KEY = 20


def title_key(title: str, outlet: str | None) -> str | None:
    """A title folded for comparison ("Titre - Média", "Titre — Média" and "Titre"
    agree); None if too short."""
    folded = " ".join(quick_fold(title).split())
    if outlet:
        suffix = " ".join(quick_fold(outlet).split())
        for sep in (" - ", " | ", " ; "):  # quick_fold has turned — and – into ";"
            if suffix and folded.endswith(sep + suffix):
                folded = folded[: -len(sep + suffix)]
                break
    key = _TITLE_NOISE.sub(" ", folded).strip()
    return key[:500] if len(key) >= MIN_TITLE_KEY else None


def matched_text(title: str, body: str | None) -> str:
    """What the matcher reads of an item: the title, an em dash (a hard separator: no
    match spans both), then the text — or the text alone when there is no title or the
    title is only the text's first words (a post without a title)."""
    if not body:
        return title
    head = " ".join(title.removesuffix("…").split())
    if not head or " ".join(body[: len(title) * 2].split()).startswith(head):
        return body
    return f"{title} — {body}"


class ProposVerdict(Protocol):
    """What the pipeline reads of the propos detector's verdict (matchers.propos)."""

    @property
    def category(self) -> str | None: ...

    @property
    def severity(self) -> int: ...

    @property
    def words(self) -> tuple[str, ...]: ...

    @property
    def reason(self) -> str | None: ...


class ProposJudge(Protocol):
    def judge(self, text: str) -> ProposVerdict: ...


ACCOUNT_RULE = "compte officiel"  # the rule of a comment in scope without naming the brand


class ItemMatcher:
    """Matches items and turns hits into stored mentions (snippet, urgency).

    A mention is an item that names the brand, or any comment of an official
    account (``in_scope``). The propos detector judges every mention: injurious
    content at ``alert_at`` or above makes it urgent.
    """

    def __init__(
        self,
        matcher: Matcher,
        spotter: KeywordSpotter,
        propos: ProposJudge | None = None,
        *,
        alert_at: int = 1,
    ):
        self.matcher = matcher
        self.spotter = spotter
        self.propos = propos
        self.alert_at = alert_at
        self.ignored_sites: frozenset[str] = frozenset()  # « Ignorer ce site », from the store

    def mention_for(
        self, title: str, body: str | None, *, in_scope: bool = False
    ) -> NewMention | None:
        """The mention in an item's title and text, or None."""
        text = matched_text(title, body)
        result = self.matcher.match(text)
        if not result.spans and not in_scope:
            return None
        verdict = self.propos.judge(text) if self.propos is not None else None
        if verdict is not None and verdict.category is None:
            verdict = None  # nothing injurious
        if result.spans:
            # Prefer a span in the body for the snippet: it gives more context.
            body_start = len(text) - len(body or "")
            best = max(result.spans, key=lambda s: (s.score, s.start >= body_start))
            matched, rule, score = best.text, best.rule, result.score
        else:  # a comment on an official account: around what the detector saw, if anything
            word = verdict.words[0] if verdict is not None and verdict.words else ""
            start = max(text.find(word), 0) if word else 0
            end = start + len(word) if word and text.find(word) >= 0 else start
            best = Span(start, end, text[start:end], "", ACCOUNT_RULE, 0)
            matched, rule, score = "", ACCOUNT_RULE, 0
        snippet = snippet_around(text, best)
        keyword = self.spotter.find(text)
        flagged = verdict is not None and verdict.severity >= self.alert_at
        return NewMention(
            matched=matched,
            rule=rule,
            score=score,
            snippet=snippet.text,
            highlight_start=snippet.start,
            highlight_end=snippet.end,
            urgent=keyword is not None or flagged,
            urgent_keyword=keyword,
            propos=verdict.category if verdict is not None else None,
            propos_severity=verdict.severity if verdict is not None else None,
            propos_words=verdict.words if verdict is not None else (),
            propos_reason=verdict.reason if verdict is not None else None,
        )

    def new_item(self, key: str, item: Item, *, in_scope: bool = False) -> NewItem:
        mention = (
            None
            if on_site(item.url, self.ignored_sites)
            else self.mention_for(item.title, item.text, in_scope=in_scope)
        )
        return NewItem(
            key=key,
            url=canonical_url(item.url)
            if item.url.startswith(("http://", "https://"))
            else item.url,
            guid=item.guid,
            title=item.title,
            text=item.text,
            published_at=item.published_at,
            mention=mention,
            title_key=title_key(item.title, item.outlet) if item.dedup_by_title else None,
            outlet=item.outlet,
            author=item.author,
            reply_to=item.reply_to,
        )


def in_scope(source_type: str) -> bool:
    """Whether every item of this type of source is a mention (official accounts)."""
    collector = REGISTRY.get(source_type)
    return collector is not None and collector.always_in_scope


def store_collection(
    *,
    source: SourceConfig,
    collection: Collection,
    store: MentionStore,
    item_matcher: ItemMatcher,
    now: datetime,
) -> SourceOutcome:
    """Clean, deduplicate, match and store one source's items in one transaction.

    An item that cannot be used (an unparsable link, a matcher or database error
    on its data) is skipped and counted as rejected; the others are stored.
    """
    rejections = _Rejections(source.name)
    for reason in collection.rejected:
        rejections.add(reason)
    items, left_out = newest(collection.items)
    warnings = [collection.warning] if collection.warning else []
    if left_out:
        warnings.append(
            f"{left_out} élément(s) laissé(s) de côté : au plus {MAX_ITEMS} par visite "
            "(les plus récents sont gardés)"
        )
    fresh: dict[str, Item] = {}
    for item in items:
        try:
            key, cleaned = clean_item(item, now)
        except RejectedItem as exc:
            rejections.add(str(exc))
            continue
        fresh.setdefault(key, cleaned)
    known = store.known_keys(list(fresh))
    new_items = []
    for key, item in fresh.items():
        if key in known:
            continue
        try:
            new_items.append(item_matcher.new_item(key, item, in_scope=in_scope(source.type)))
        except Exception as exc:  # a matcher bug on one text must not lose the others
            log.exception("%s : élément non analysé (%s)", source.name, item.url)
            rejections.add(f"erreur interne à l'analyse ({exc.__class__.__name__})")
    warning = " ; ".join(warnings) or None
    save = partial(
        store.save_batch,
        source=source.name,
        source_type=source.type,
        etag=collection.state.etag,
        last_modified=collection.state.last_modified,
        cursor=collection.state.cursor,
        now=now,
    )
    seen_again = [(key, fresh[key].url) for key in known]
    try:
        mention_ids = save(
            items=new_items,
            seen_again=seen_again,
            warning=warning,
            rejected=rejections.count,
            rejection=rejections.last,
        )
    except SQLAlchemyError:  # (an unusable store is a StorageError: it goes up)
        # One item's data upset the database: store them one by one, skip the bad ones.
        log.warning("%s : enregistrement élément par élément", source.name)
        mention_ids = []
        for new_item in new_items:
            try:
                mention_ids += save(items=[new_item])
            except SQLAlchemyError as exc:
                rejections.add(f"refusé par la base ({exc.__class__.__name__})")
        mention_ids += save(
            items=[],
            seen_again=seen_again,
            warning=warning,
            rejected=rejections.count,
            rejection=rejections.last,
        )
    if warning:
        log.warning("%s : %s", source.name, warning)
    return SourceOutcome(
        name=source.name,
        ok=True,
        items=len(collection.items),
        new_items=len(new_items),
        new_mentions=len(mention_ids),
        not_modified=collection.not_modified,
        rejected=rejections.count,
        usage=collection.usage,
    )


class _Rejections:
    """Counts the items of one source that were skipped, and logs why."""

    def __init__(self, source: str):
        self.source = source
        self.count = 0
        self.last: str | None = None

    def add(self, reason: str) -> None:
        self.count += 1
        self.last = reason
        log.warning("%s : élément rejeté — %s", self.source, reason)


def collect_and_store(
    config: Config,
    *,
    client: HttpClient,
    store: MentionStore,
    item_matcher: ItemMatcher,
    collectors: Mapping[str, Collector],
    now: datetime,
    force_all: bool = False,
    only: Collection_[str] | None = None,
    stopping: threading.Event | None = None,
) -> tuple[tuple[SourceOutcome, ...], tuple[Waiting, ...]]:
    """Visit the due sources; returns their outcomes, and the sources that asked to be
    left alone until later (Retry-After, a paused host). :class:`CycleStopped` when
    ``stopping`` is set before the visits are done."""
    enabled = [s for s in config.enabled_sources if only is None or s.name in only]
    store.sync_sources((s.name, s.type) for s in enabled)
    records = store.sources([s.name for s in enabled])
    due = [s for s in enabled if is_due(s, records.get(s.name), now, force=force_all)]
    waiting = tuple(
        Waiting(s.name, record.next_attempt_at, record.last_error)
        for s in enabled
        if (record := records.get(s.name)) is not None
        and record.next_attempt_at is not None
        and record.next_attempt_at > now
    )
    for wait in waiting:
        log.info("%s : en attente jusqu'à %s (%s)", wait.name, wait.until, wait.reason or "")
    if not due:
        log.info("Aucune source à visiter pour l'instant")
        return (), waiting
    store.claim_sources([s.name for s in due], now)
    jobs = []
    for source in due:
        record = records.get(source.name)
        state = SourceState(
            etag=record.etag if record else None,
            last_modified=record.last_modified if record else None,
            cursor=record.cursor if record else None,
        )
        jobs.append((collectors[source.name], state))

    unchanged: list[str] = []  # visits that found nothing new: recorded together

    def record_unchanged() -> None:
        # quick() appends on the event loop while the store's thread records: take the
        # names recorded off the front, so that one appended meanwhile stays for later
        names = unchanged[:]
        if names:
            store.record_unchanged(names, now)
            del unchanged[: len(names)]

    def quick(index: int, result: Collection | SourceError) -> SourceOutcome | None:
        """The outcome of a visit that found nothing new (no store work now), else None."""
        if isinstance(result, SourceError) or not nothing_new(result, jobs[index][1]):
            return None
        name = due[index].name
        unchanged.append(name)
        log.info("%s : inchangé depuis la dernière visite (304)", name)
        return SourceOutcome(name, ok=True, not_modified=True, usage=result.usage)

    def handle(index: int, result: Collection | SourceError) -> SourceOutcome:
        source = due[index]
        if len(unchanged) >= UNCHANGED_BATCH:
            record_unchanged()
        if isinstance(result, SourceError):
            wait = min(result.retry_after or 0.0, MAX_WAIT.total_seconds())
            retry_at = now + timedelta(seconds=wait) if wait > 0 else None
            store.record_failure(source.name, str(result), now, retry_at=retry_at)
            log.warning("%s : échec — %s", source.name, result)
            return SourceOutcome(source.name, ok=False, error=str(result))
        try:
            outcome = store_collection(
                source=source, collection=result, store=store, item_matcher=item_matcher, now=now
            )
        except StorageError:
            raise  # the store itself is unusable: the run stops, in French
        except Exception as exc:  # a bug on this source's data is this source's failure
            log.exception("%s : erreur interne pendant l'enregistrement", source.name)
            error = f"erreur interne pendant l'enregistrement ({exc.__class__.__name__})"
            store.record_failure(source.name, error, now)
            return SourceOutcome(source.name, ok=False, error=error)
        if outcome.not_modified:
            log.info("%s : inchangé depuis la dernière visite (304)", source.name)
        else:
            log.info(
                "%s : %d élément(s), %d nouveau(x), %d mention(s)%s",
                source.name,
                outcome.items,
                outcome.new_items,
                outcome.new_mentions,
                f" ; coût : {outcome.usage}" if outcome.usage else "",
            )
        return outcome

    outcomes = asyncio.run(_collect_all(client, jobs, handle, quick, stopping))
    record_unchanged()
    return tuple(outcomes), waiting


UNCHANGED_BATCH = 200  # visits without news recorded when the next news is stored


def nothing_new(collection: Collection, sent: SourceState) -> bool:
    """Whether a visit found nothing to store: not modified (304), no item, no
    rejection or warning, the validators and cursor it was sent with. Such visits are
    recorded together (:meth:`MentionStore.record_unchanged`), not one transaction each,
    and need no trip to the store's thread."""
    return (
        collection.not_modified
        and not collection.items
        and not collection.rejected
        and collection.warning is None
        and collection.state == sent
    )


@dataclass(frozen=True, slots=True)
class RescanReport:
    items: int
    new_mentions: int
    excluded: int
    restored: int


def rescan(
    *,
    store: MentionStore,
    item_matcher: ItemMatcher,
    now: datetime,
    since: datetime | None = None,
    batch: int = 2000,
) -> RescanReport:
    """Re-match stored items after the brand block changed.

    Items that now match become new mentions (in the next digest); mentions
    that no longer match are marked « exclu », never deleted; excluded ones that
    match again become « nouveau » again. One transaction per batch.
    """
    items = created = excluded = restored = 0
    kinds = {name: record.type for name, record in store.sources().items()}
    item_matcher.ignored_sites = store.excluded_domains()
    for rows in store.stored_items(since=since, batch=batch):
        verdicts = {
            row.id: None
            if on_site(row.url, item_matcher.ignored_sites)
            else item_matcher.mention_for(
                row.title, row.text, in_scope=in_scope(kinds.get(row.source, ""))
            )
            for row in rows
        }
        outcome = store.apply_rescan(rows, verdicts, now=now)
        items += len(rows)
        created += outcome[0]
        excluded += outcome[1]
        restored += outcome[2]
    log.info(
        "Nouvelle analyse : %d élément(s), %d nouvelle(s) mention(s), %d exclue(s), %d rétablie(s)",
        items,
        created,
        excluded,
        restored,
    )
    return RescanReport(items, created, excluded, restored)


def prune(config: Config, store: MentionStore, now: datetime) -> None:
    """Retention: item text after ``storage.keep_text``, items that are not mentions
    after ``storage.keep_items``; mentions are kept forever. Title keys are forgotten
    once out of the window where a story is looked for by its title."""
    store.prune_title_keys(before=now - TITLE_WINDOW)
    texts = store.prune_text(before=now - config.storage.keep_text)
    items = store.prune_items(before=now - config.storage.keep_items)
    if texts or items:
        log.info("Rétention : %d texte(s) et %d élément(s) ancien(s) oubliés", texts, items)


def run_once(
    config: Config,
    *,
    client: HttpClient,
    store: MentionStore,
    item_matcher: ItemMatcher,
    notifier: Notifier,
    collectors: Mapping[str, Collector],
    clock: Clock = utc_now,
    force_all: bool = False,
    only: Collection_[str] | None = None,
    stopping: threading.Event | None = None,
) -> RunReport:
    """One full cycle (of the sources named in ``only``, if given): collect and store,
    then send the urgent alerts, the admins' notices and the digest if it is due. A
    digest a crash left reserved goes out again first. The caller holds the run lock.
    ``stopping`` set while the sources are fetched ends the cycle there
    (:class:`CycleStopped`: nothing is sent)."""
    prune(config, store, clock())
    item_matcher.ignored_sites = store.excluded_domains()
    errors: list[str] = []
    try:  # a digest a crash left reserved goes out before a long collection, not after
        notifier.resume_pending_digests(clock())
    except DeliveryError as exc:
        errors.append(f"résumé interrompu non renvoyé : {exc}")
    outcomes, waiting = collect_and_store(
        config,
        client=client,
        store=store,
        item_matcher=item_matcher,
        collectors=collectors,
        now=clock(),
        force_all=force_all,
        only=only,
        stopping=stopping,
    )
    alerts = notices = 0
    subject = None
    try:
        alerts = notifier.send_alerts(clock(), spotter=item_matcher.spotter)
    except DeliveryError as exc:
        errors.append(f"alerte urgente non envoyée : {exc}")
    try:
        notices = notifier.send_source_notices(clock())
    except DeliveryError as exc:
        errors.append(f"avis aux administrateurs non envoyé : {exc}")
    try:
        notifier.send_spike_notice(clock())
    except DeliveryError as exc:
        errors.append(f"pic de mentions non signalé : {exc}")
    try:
        subject = notifier.send_digest(clock())
    except DeliveryError as exc:
        errors.append(f"résumé non envoyé : {exc}")
    for error in errors:
        log.error("%s", error)
    report = RunReport(tuple(outcomes), alerts, notices, subject, tuple(errors), waiting)
    log.info(
        "Cycle terminé : %d source(s) visitée(s), %d en échec, %d nouvelle(s) mention(s)%s",
        len(report.outcomes),
        len(report.failed_sources),
        report.new_mentions,
        ", résumé envoyé" if subject else "",
    )
    return report
