"""The daily digest: built without side effects, rendered by Jinja2 in French.

``build_digest(...)`` returns a :class:`Digest` (subject, text, html); sending
is :meth:`veille.notify.Notifier.send_digest`'s job.

Everything that came from the web (titles, snippets, outlets, links) goes
through :mod:`veille.sanitize` here, before the templates see it: control and
bidirectional-override characters are removed, subjects and headings are one
line, and only http(s) links get an ``href``. The templates escape the rest.

A digest lists at most ``list_limit`` mentions (urgent first, then by kind of
source, newest first), then says how many it left out and how to see them all
(``veille mentions --since AAAA-MM-JJ``); its subject always gives the real
count of the mentions it covers, listed or not.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime

from collectors import group_label
from matchers.normalize import fold_plain
from storage.store import MentionRecord, SourceRecord
from veille.config import SourceConfig
from veille.rendering import LOCALE, number, render
from veille.sanitize import clean_text, one_line, safe_link, shorten

GROUP_ORDER = ("feed", "search", "page")
ACCOUNT = "account"  # comments on the official accounts: counted per account, flagged listed
LIST_LIMIT = 200  # mentions listed in one digest; the others are counted
HEADING_LENGTH = 80  # a heading made from a snippet stops at the word before this
NO_HEADING = "Mention sans titre"


@dataclass(frozen=True, slots=True)
class Digest:
    subject: str
    text: str
    html: str


@dataclass(frozen=True, slots=True)
class Entry:
    """A mention as the templates show it: cleaned strings; escaping is the template's.

    ``href`` is the link only when it is http(s) (else None: ``url`` is then shown
    as plain text, never clickable).
    """

    title: str
    source: str
    when: str
    url: str
    before: str
    match: str
    after: str
    urgent: bool
    also: str = ""  # "aussi vu sur" these other sources
    href: str | None = None
    keyword: str = ""  # the alert keyword, when known
    author: str = ""  # who wrote a comment (official accounts)
    reply_to: str = ""  # the first words of the post it answers
    propos: str = ""  # why the propos detector flagged it (French), when it did
    number: int = 0  # the mention's N°, shown with a link when the workspace has an address
    workspace: str | None = None  # « Ouvrir dans veille »: web.base_url + /mentions/N°
    mark_done: str | None = None  # « Marquer traité »: the page with a confirm button


@dataclass(frozen=True, slots=True)
class Group:
    label: str
    entries: tuple[Entry, ...]
    total: int = 0  # mentions of this kind in the digest, listed or not


@dataclass(frozen=True, slots=True)
class Tally:
    """How many mentions of one kind a digest holds (for what is not listed)."""

    label: str
    count: int


@dataclass(frozen=True, slots=True)
class AccountTally:
    """New comments on one official account, and how many the detector flagged."""

    name: str
    count: int
    flagged: int


@dataclass(frozen=True, slots=True)
class Accounts:
    """The « Sur nos comptes officiels » part: a count per account, the flagged comments
    listed (the urgent ones are already first in the digest), the others counted only."""

    label: str
    tallies: tuple[AccountTally, ...]
    entries: tuple[Entry, ...]
    total: int  # new comments, flagged or not


@dataclass(frozen=True, slots=True)
class FailingSource:
    name: str
    error: str
    since: str


def of_brand(name: str) -> str:
    """French contraction: "du Cégep de …", "de l'Université …"."""
    return ("de l'" if name[:1].lower() in "aeiouyhéèêàâîôû" else "du ") + name


def long_date(day: date) -> str:
    return format_date(day, "long", locale=LOCALE)


def _moment(value: datetime, zone: ZoneInfo) -> str:
    return format_datetime(value, "d MMMM yyyy 'à' HH'h'mm", tzinfo=zone, locale=LOCALE)


def _duration_fr(since: datetime, now: datetime) -> str:
    seconds = max(0, int((now - since).total_seconds()))
    days, hours = seconds // 86400, seconds // 3600
    if days >= 1:
        return f"en panne depuis {days} jour{'s' if days > 1 else ''}"
    if hours >= 1:
        return f"en panne depuis {hours} heure{'s' if hours > 1 else ''}"
    return "en panne depuis moins d'une heure"


_INLINE_BREAKS = re.compile(r"[\r\n\u2028\u2029\x85\t]+")
# A snippet may start at the separator the pipeline puts between title and body.
_LEADING_DASH = re.compile(r"^(\s*(?:…\s*)?)[—–-]+\s+")


def _inline(text: str) -> str:
    """Cleaned, line breaks as spaces, edges kept (pieces of a snippet are joined back)."""
    return _INLINE_BREAKS.sub(" ", clean_text(text))


def _snippet_parts(mention: MentionRecord) -> tuple[str, str, str]:
    """Before, match and after of the snippet, cleaned, without a leading « — »."""
    snippet = mention.snippet
    start = max(0, min(mention.highlight_start, len(snippet)))
    end = max(start, min(mention.highlight_end, len(snippet)))
    dash = _LEADING_DASH.match(snippet)
    if dash and dash.end() <= start:
        kept = dash.group(1).strip()
        before = (kept + " " if kept else "") + snippet[dash.end() : start]
    else:
        before = snippet[:start]
    return _inline(before), _inline(snippet[start:end]), _inline(snippet[end:])


def heading_of(mention: MentionRecord) -> str:
    """The title; else the first words of the snippet (« … »); never the bare URL."""
    title = one_line(mention.title)
    if title and title != one_line(mention.url):
        return title
    before, match, after = _snippet_parts(mention)
    words = _LEADING_DASH.sub("", one_line(before + match + after).removeprefix("…").strip())
    if not words.strip(" …"):
        return NO_HEADING
    cut_short = words.endswith("…")  # the snippet stops before the text does
    heading = shorten(words.removesuffix("…").rstrip(), HEADING_LENGTH)
    return heading + "…" if cut_short and not heading.endswith("…") else heading


def source_label(mention: MentionRecord) -> str:
    """« Le Nouvelliste, via Google Actualités » when the outlet is not the source itself."""
    source = one_line(mention.source)
    outlet = one_line(mention.outlet or "")
    if outlet and fold_plain(outlet).strip() != fold_plain(source).strip():
        return f"{outlet}, via {source}"
    return source


def entry_of(
    mention: MentionRecord,
    zone: ZoneInfo,
    *,
    keyword: str | None = None,
    base_url: str | None = None,
) -> Entry:
    before, match, after = _snippet_parts(mention)
    when = mention.published_at or mention.found_at
    return Entry(
        title=heading_of(mention),
        source=source_label(mention),
        when=_moment(when, zone),
        url=one_line(mention.url),
        before=before,
        match=match,
        after=after,
        urgent=mention.urgent,
        also=", ".join(one_line(s) for s in mention.also_seen if s != mention.source),
        href=safe_link(mention.url),
        keyword=one_line(keyword or mention.urgent_keyword or ""),
        author=shorten(one_line(mention.author or ""), 80),
        reply_to=shorten(one_line(mention.reply_to or ""), 80),
        propos=one_line(mention.propos_reason or ""),
        number=mention.id,
        workspace=f"{base_url}/mentions/{mention.id}" if base_url else None,
        mark_done=f"{base_url}/mentions/{mention.id}?statut=trait%C3%A9" if base_url else None,
    )


def _newest_first(mentions: Sequence[MentionRecord]) -> list[MentionRecord]:
    return sorted(mentions, key=lambda m: (m.published_at or m.found_at, m.id), reverse=True)


def _mentions_word(count: int) -> str:
    if count == 1:
        return "1 nouvelle mention"
    return f"{number(count)} nouvelles mentions"


def subject_for(
    count: int,
    brand: str,
    day: date,
    *,
    blind: bool = False,
    part: tuple[int, int] | None = None,
) -> str:
    """The digest's subject; ``blind``: no mention because no source could be visited."""
    if blind:
        subject = f"Veille — aucune source n'a pu être consultée — {long_date(day)}"
    else:
        what = "Aucune nouvelle mention" if count == 0 else _mentions_word(count)
        subject = f"Veille — {what} {of_brand(one_line(brand))} — {long_date(day)}"
    if part is not None:
        subject += f" (partie {part[0]} sur {part[1]})"
    return subject


def is_stale(source: SourceConfig, record: SourceRecord | None, now: datetime) -> bool:
    """Answers fine but has brought nothing new for ``stale_after`` (or nothing at all since
    it first answered that long ago): a dead feed?"""
    if record is None or record.failing or record.last_success_at is None:
        return False
    last = record.last_new_item_at or record.first_success_at
    return last is not None and now - last > source.stale_after


def source_state(source: SourceConfig, record: SourceRecord | None, now: datetime) -> str:
    """What ``veille sources`` and the workspace call a source's state: désactivée,
    jamais visitée, muette ?, EN PANNE, ok (avertissement) or ok."""
    if not source.enabled:
        return "désactivée"
    if record is None or record.last_attempt_at is None:
        return "jamais visitée"
    if is_stale(source, record, now):
        return "muette ?"
    if record.consecutive_failures:
        return "EN PANNE"
    return "ok (avertissement)" if record.last_warning else "ok"


def _account_tallies(comments: Sequence[MentionRecord]) -> tuple[AccountTally, ...]:
    counts: dict[str, list[int]] = {}
    for comment in comments:
        tally = counts.setdefault(one_line(comment.source), [0, 0])
        tally[0] += 1
        tally[1] += comment.propos is not None
    return tuple(AccountTally(name, n, flagged) for name, (n, flagged) in sorted(counts.items()))


def _works(source: SourceRecord) -> bool:
    """Visited with success and not failing since (never visited yet: not working)."""
    return source.consecutive_failures == 0 and source.last_success_at is not None


def _failing(sources: Sequence[SourceRecord], now: datetime) -> tuple[FailingSource, ...]:
    failing = []
    for source in sorted(sources, key=lambda s: s.name):
        if source.consecutive_failures > 0:
            error = one_line(source.last_error or "") or "erreur inconnue"
            since = _duration_fr(source.failing_since or now, now)
            failing.append(FailingSource(one_line(source.name), error, since))
        elif source.last_success_at is None:
            failing.append(FailingSource(one_line(source.name), "pas encore consultée", ""))
    return tuple(failing)


def build_digest(
    mentions: Sequence[MentionRecord],
    *,
    brand: str,
    day: date,
    now: datetime,
    zone: ZoneInfo,
    sources: Sequence[SourceRecord],
    total_mentions: int,
    stale: Sequence[str] = (),
    list_limit: int = LIST_LIMIT,
    part: tuple[int, int] | None = None,
    base_url: str | None = None,
) -> Digest:
    """Render the digest of ``mentions`` (urgent first, then by kind of source).

    At most ``list_limit`` mentions are listed, in that order; the rest are
    counted, with the command that lists them. ``list_limit=0`` gives counts
    only (the last-resort digest when even a short one is refused). ``part=(k,
    n)`` adds « (partie k sur n) » to the subject. The subject counts every
    mention given, listed or not.
    """
    if list_limit < 0:
        raise ValueError("list_limit must be >= 0")
    if part is not None and not 1 <= part[0] <= part[1]:
        raise ValueError(f"bad part {part!r}")
    ordered = _newest_first(mentions)
    comments = [m for m in ordered if m.source_type == ACCOUNT]
    quiet = {m.id for m in comments if not m.urgent and m.propos is None}  # counted only
    kinds = list(GROUP_ORDER) + sorted({m.source_type for m in ordered} - set(GROUP_ORDER))
    urgent_all = [m for m in ordered if m.urgent]
    by_kind: dict[str, list[MentionRecord]] = {kind: [] for kind in kinds}
    for mention in ordered:
        if not mention.urgent and mention.id not in quiet:
            by_kind[mention.source_type].append(mention)
    room = list_limit
    urgent = tuple(entry_of(m, zone, base_url=base_url) for m in urgent_all[:room])
    room -= len(urgent)
    groups = []
    tallies = [Tally("Urgentes", len(urgent_all))] if urgent_all else []
    listed_ids = {m.id for m in urgent_all[: len(urgent)]}
    accounts = None
    for kind in kinds:
        members = by_kind[kind]
        label = one_line(group_label(kind))
        if kind == ACCOUNT and comments:
            tallies.append(Tally(label, len(comments)))
            shown = members[: max(room, 0)]
            room -= len(shown)
            listed_ids.update(m.id for m in shown)
            accounts = Accounts(
                label,
                _account_tallies(comments),
                tuple(entry_of(m, zone, base_url=base_url) for m in shown),
                len(comments),
            )
            continue
        if not members:
            continue
        tallies.append(Tally(label, len(members)))
        shown = members[: max(room, 0)]
        room -= len(shown)
        listed_ids.update(m.id for m in shown)
        if shown:
            entries = tuple(entry_of(m, zone, base_url=base_url) for m in shown)
            groups.append(Group(label, entries, len(members)))
    omitted = [m for m in ordered if m.id not in listed_ids and m.id not in quiet]
    since = min(m.found_at for m in omitted).astimezone(zone).date() if omitted else None
    failing = _failing(sources, now)
    sources_ok = sum(1 for s in sources if _works(s))
    blind = not ordered and sources_ok == 0
    context = {
        "brand": one_line(brand),
        "of_brand": of_brand(one_line(brand)),
        "day": long_date(day),
        "count": len(ordered),
        "listed": len(ordered) - len(omitted),
        "omitted": len(omitted),
        "since": since.isoformat() if since else "",
        "tallies": tuple(tallies),
        "urgent": urgent,
        "groups": tuple(groups),
        "accounts": accounts,
        "failing": failing,
        "blind": blind,
        "sources_total": len(sources),
        "sources_ok": sources_ok,
        "total_mentions": total_mentions,
        "stale": tuple(one_line(s) for s in stale),
        "generated": _moment(now, zone),
        # the workspace's inbox filtered on what is new, when it has an address
        "inbox": f"{base_url}/?status=nouveau" if base_url else None,
    }
    subject = subject_for(len(ordered), brand, day, blind=blind, part=part)
    return Digest(
        subject=subject,
        text=render("digest.txt.j2", **context, subject=subject),
        html=render("digest.html.j2", **context, subject=subject),
    )
