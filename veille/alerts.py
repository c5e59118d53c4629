"""Urgent alerts (a mention that looks harmful) and source notices for admins.

A mention is urgent when its title or text contains one of ``alerts.keywords``
as a whole word or phrase, accents and case ignored, plural -s/-x included
("plainte" finds "PLAINTES", "harcèlement" finds "harcelement").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from matchers.normalize import fold_plain
from storage.store import MentionRecord, SourceRecord
from veille.digest import entry_of, of_brand, render


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


def build_alert(mention: MentionRecord, *, brand: str, zone: ZoneInfo) -> Notice:
    entry = entry_of(mention, zone)
    subject = f"URGENT — Veille : mention à surveiller {of_brand(brand)} ({mention.source})"
    context = {"e": entry, "brand": brand, "of_brand": of_brand(brand)}
    return Notice(subject, render("alert.txt.j2", **context), render("alert.html.j2", **context))


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
        "broken": broken,
        "fixed": fixed,
        "when": now.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
    }
    return Notice(subject, render("notice.txt.j2", **context), render("notice.html.j2", **context))
