"""The daily digest: built without side effects, rendered by Jinja2 in French.

``build_digest(...)`` returns a :class:`Digest` (subject, text, html); sending
is :func:`veille.pipeline.send_digest`'s job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from storage.store import MentionRecord, SourceRecord

LOCALE = "fr_CA"
GROUP_LABELS = {
    "feed": "Actualités, blogues et flux",
    "search": "Moteurs de recherche",
    "page": "Pages Web",
}
GROUP_ORDER = ("feed", "search", "page")

_env = Environment(
    loader=PackageLoader("veille", "templates"),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


@dataclass(frozen=True, slots=True)
class Digest:
    subject: str
    text: str
    html: str
    mention_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Entry:
    """A mention as the templates show it (all strings; escaping is the template's)."""

    title: str
    source: str
    when: str
    url: str
    before: str
    match: str
    after: str
    urgent: bool
    also: str = ""  # "aussi vu sur" these other sources


@dataclass(frozen=True, slots=True)
class Group:
    label: str
    entries: tuple[Entry, ...]


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


def entry_of(mention: MentionRecord, zone: ZoneInfo) -> Entry:
    snippet = mention.snippet
    start, end = mention.highlight_start, mention.highlight_end
    when = mention.published_at or mention.found_at
    return Entry(
        title=mention.title or mention.url,
        source=mention.source,
        when=_moment(when, zone),
        url=mention.url,
        before=snippet[:start],
        match=snippet[start:end],
        after=snippet[end:],
        urgent=mention.urgent,
        also=", ".join(s for s in mention.also_seen if s != mention.source),
    )


def _newest_first(mentions: Sequence[MentionRecord]) -> list[MentionRecord]:
    return sorted(mentions, key=lambda m: (m.published_at or m.found_at, m.id), reverse=True)


def subject_for(count: int, brand: str, day: date) -> str:
    if count == 0:
        what = "Aucune nouvelle mention"
    elif count == 1:
        what = "1 nouvelle mention"
    else:
        what = f"{count} nouvelles mentions"
    return f"Veille — {what} {of_brand(brand)} — {long_date(day)}"


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
) -> Digest:
    """Render the digest of ``mentions`` (urgent first, then by kind of source)."""
    ordered = _newest_first(mentions)
    urgent = tuple(entry_of(m, zone) for m in ordered if m.urgent)
    groups = []
    kinds = list(GROUP_ORDER) + sorted({m.source_type for m in ordered} - set(GROUP_ORDER))
    for kind in kinds:
        entries = tuple(
            entry_of(m, zone) for m in ordered if m.source_type == kind and not m.urgent
        )
        if entries:
            groups.append(Group(GROUP_LABELS.get(kind, kind), entries))
    failing = tuple(
        FailingSource(
            s.name, s.last_error or "erreur inconnue", _duration_fr(s.failing_since or now, now)
        )
        for s in sorted(sources, key=lambda s: s.name)
        if s.consecutive_failures > 0
    )
    context = {
        "brand": brand,
        "of_brand": of_brand(brand),
        "day": long_date(day),
        "count": len(ordered),
        "urgent": urgent,
        "groups": tuple(groups),
        "failing": failing,
        "sources_total": len(sources),
        "sources_ok": len(sources) - len(failing),
        "total_mentions": total_mentions,
        "stale": tuple(stale),
        "generated": _moment(now, zone),
    }
    subject = subject_for(len(ordered), brand, day)
    return Digest(
        subject=subject,
        text=_env.get_template("digest.txt.j2").render(context),
        html=_env.get_template("digest.html.j2").render(context, subject=subject),
        mention_ids=tuple(m.id for m in ordered),
    )


def render(template: str, **context: object) -> str:
    """Render one of the package's templates (alerts and notices use it too)."""
    return _env.get_template(template).render(context)
