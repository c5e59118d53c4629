"""Urgent alerts (a mention that looks harmful) and the notices for admins (sources
that fail or recover, a store that cannot be used).

A mention is urgent when its title or text contains one of ``alerts.keywords``
as a whole word or phrase, accents and case ignored, plural -s/-x included
("plainte" finds "PLAINTES", "harcèlement" finds "harcelement").
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from matchers.normalize import fold_plain
from storage.store import MentionRecord, SourceRecord
from veille.digest import entry_of, of_brand
from veille.errors import StorageError
from veille.rendering import render
from veille.sanitize import one_line, shorten

SUBJECT_LENGTH = 150  # an alert's subject is shortened to this many characters


class KeywordSpotter:
    """Finds the first alert keyword present in a text (whole words, folded)."""

    def __init__(self, keywords: Sequence[str]):
        self.keywords = {fold_plain(k).strip(): k for k in keywords if fold_plain(k).strip()}
        alternatives = sorted(self.keywords, key=len, reverse=True)
        self._pattern = (
            re.compile(
                r"(?<![a-z0-9])("
                + "|".join(map(re.escape, alternatives))
                + r")(?:s|x)?(?![a-z0-9])"
            )
            if alternatives
            else None
        )

    def find(self, text: str) -> str | None:
        if self._pattern is None:
            return None
        found = self._pattern.search(fold_plain(text))
        return self.keywords[found.group(1)] if found else None


@dataclass(frozen=True, slots=True)
class Notice:
    subject: str
    text: str
    html: str


def alert_keyword(mention: MentionRecord, spotter: KeywordSpotter | None = None) -> str | None:
    """The keyword that made ``mention`` urgent: stored with it, else found again by
    ``spotter`` in its title and snippet (older mentions), else None."""
    if mention.urgent_keyword:
        return one_line(mention.urgent_keyword) or None
    if spotter is None:
        return None
    return spotter.find(f"{mention.title} — {mention.snippet}")


PROPOS_LABELS = {"vie_privee": "vie privée"}  # the category names as a person writes them


def propos_label(category: str) -> str:
    """« insulte », « menace », « vie privée »…"""
    return PROPOS_LABELS.get(category, category)


def alert_subject(heading: str, where: str, keyword: str | None) -> str:
    """« URGENT — « plainte » : <titre> (<média>) », at most SUBJECT_LENGTH characters."""
    where = shorten(one_line(where), 60)
    lead = f"URGENT — « {shorten(one_line(keyword), 40)} » : " if keyword else "URGENT — "
    tail = f" ({where})" if where else ""
    room = max(20, SUBJECT_LENGTH - len(lead) - len(tail))
    return lead + shorten(one_line(heading), room) + tail


def build_alert(
    mention: MentionRecord,
    *,
    brand: str,
    zone: ZoneInfo,
    spotter: KeywordSpotter | None = None,
    base_url: str | None = None,
) -> Notice:
    """The urgent alert of one mention; its subject names the keyword and the headline.

    ``spotter`` finds the keyword again for mentions stored without it.
    """
    keyword = alert_keyword(mention, spotter)
    entry = entry_of(mention, zone, keyword=keyword, base_url=base_url)
    where = mention.outlet or mention.source
    if mention.propos and keyword is None:  # flagged by the propos detector
        subject = shorten(
            one_line(f"Propos à vérifier sur {where} — {propos_label(mention.propos)}"),
            SUBJECT_LENGTH,
        )
    else:
        subject = alert_subject(entry.title, where, keyword)
    context = {"e": entry, "brand": brand, "of_brand": of_brand(one_line(brand))}
    return Notice(subject, render("alert.txt.j2", **context), render("alert.html.j2", **context))


@dataclass(frozen=True, slots=True)
class SourceView:
    """A source as a notice shows it (cleaned strings)."""

    name: str
    type: str
    last_error: str


def _view(source: SourceRecord) -> SourceView:
    return SourceView(
        one_line(source.name),
        one_line(source.type),
        one_line(source.last_error or "") or "erreur inconnue",
    )


def build_source_notice(
    changes: Sequence[SourceRecord], *, now: datetime, zone: ZoneInfo
) -> Notice:
    """One email for every source that started failing or recovered in this run."""
    broken = [s for s in changes if s.failing]
    fixed = [s for s in changes if not s.failing]
    parts = []
    if broken:
        parts.append(f"{len(broken)} source{'s' if len(broken) > 1 else ''} en panne")
    if fixed:
        parts.append(
            f"{len(fixed)} source{'s' if len(fixed) > 1 else ''} rétablie"
            + ("s" if len(fixed) > 1 else "")
        )
    subject = "Veille — " + ", ".join(parts)
    context = {
        "broken": [_view(s) for s in broken],
        "fixed": [_view(s) for s in fixed],
        "when": now.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
    }
    return Notice(subject, render("notice.txt.j2", **context), render("notice.html.j2", **context))


def _plain_notice(subject: str, lines: Sequence[str]) -> Notice:
    """A short notice: its lines as text, and as escaped paragraphs in HTML."""
    body = "".join(f"<p>{html.escape(line)}</p>" for line in lines if line)
    return Notice(
        subject,
        "\n".join(lines) + "\n",
        f'<!DOCTYPE html><html lang="fr"><body>{body}</body></html>',
    )


SPIKE_MINIMUM = 5  # mentions in a day, at least, for a spike notice
SPIKE_DEVIATIONS = 3.0  # above the 28-day mean by this many standard deviations


def is_spike(today: int, history: Sequence[int]) -> bool:
    """Whether ``today``'s count stands out: at least SPIKE_MINIMUM and above the mean
    of ``history`` (the previous days) by more than SPIKE_DEVIATIONS deviations."""
    if today < SPIKE_MINIMUM or not history:
        return False
    mean = sum(history) / len(history)
    deviation = math.sqrt(sum((n - mean) ** 2 for n in history) / len(history))
    return today > mean + SPIKE_DEVIATIONS * deviation


def build_spike_notice(
    count: int, mean: float, titles: Sequence[str], *, brand: str, day: date
) -> Notice:
    """« Pic de mentions » : today's count against the usual, and the latest titles."""
    subject = f"Veille — Pic de mentions {of_brand(one_line(brand))} : {count} aujourd'hui"
    lines = [
        f"{count} mentions {of_brand(one_line(brand))} le {day.isoformat()}, "
        f"contre {mean:.1f} par jour en moyenne sur les 28 jours précédents.",
        "",
        "Les plus récentes :",
        *(f"  - {shorten(one_line(title), 120)}" for title in titles),
        "",
        "Elles figureront toutes dans le prochain résumé quotidien.",
    ]
    return _plain_notice(subject, lines)


def build_storage_notice(error: StorageError | None, *, now: datetime, zone: ZoneInfo) -> Notice:
    """The admins' notice that the store cannot be used (``error``), or works again (None).

    The error is cleaned onto one line, as a source's error is in the source notice;
    each line of the HTML part is escaped.
    """
    when = now.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    if error is None:
        subject = "Veille — la base de données fonctionne de nouveau"
        lines = [f"La base de données de veille accepte de nouveau les écritures ({when})."]
    else:
        subject = "Veille — base de données inutilisable : rien n'est enregistré"
        lines = [
            f"Depuis {when}, veille ne peut plus utiliser sa base de données :",
            "",
            f"  {one_line(str(error))}",
            "",
            "Tant que ce n'est pas réglé, aucune mention n'est enregistrée ni envoyée.",
            "Un second avis partira quand la base fonctionnera de nouveau.",
        ]
    return _plain_notice(subject, lines)
