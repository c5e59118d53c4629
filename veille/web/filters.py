"""The inbox's filters as the query string carries them (shareable URLs), both ways.

``?status=nouveau&urgent=oui&source_type=feed&source=…&outlet=…&tag=…&assignee=…
&since=2026-11-01&until=2026-11-30&q=…&page=2``: dates are local days (``until``
included), ``urgent`` is oui/non. A value that cannot be read is left out and
named in :attr:`Query.problems` (the pages show it, the API answers 400).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from storage.workspace import MentionFilter
from veille.statuses import STATUSES

PAGE_SIZE = 50
TEXT_LIMIT = 200  # longest free-text filter kept
TEXT_KEYS = ("source_type", "source", "outlet", "tag", "assignee", "q")
ALL_KEYS = ("status", "urgent", *TEXT_KEYS, "since", "until")


@dataclass(frozen=True, slots=True)
class Query:
    """What the query string asks: the filter, the page, and the values refused."""

    filters: MentionFilter
    page: int = 1
    values: dict[str, str] = field(default_factory=dict)  # as given, for the form and links
    problems: tuple[str, ...] = ()

    def link(self, **changes: str | int | None) -> str:
        """The query string of this view with some values changed (None removes)."""
        values: dict[str, str | int] = dict(self.values)
        if self.page > 1:
            values["page"] = self.page
        for key, value in changes.items():
            if value is None or value == "":
                values.pop(key, None)
            else:
                values[key] = value
        if values.get("page") in (1, "1"):
            values.pop("page")
        return "?" + urlencode(values) if values else ""

    @property
    def active(self) -> bool:
        return bool(self.values)


def parse_query(params: Mapping[str, str], zone: ZoneInfo) -> Query:
    values: dict[str, str] = {}
    problems: list[str] = []
    status: str | None = None
    urgent: bool | None = None
    days: dict[str, datetime] = {}
    for key in ALL_KEYS:
        raw = " ".join(str(params.get(key, "")).split())[:TEXT_LIMIT]
        if raw:
            values[key] = raw
    if "status" in values:
        if values["status"] in STATUSES:
            status = values["status"]
        else:
            problems.append(f"statut inconnu « {values.pop('status')} »")
    if "urgent" in values:
        answer = values["urgent"].lower()
        if answer in ("oui", "non"):
            urgent = answer == "oui"
        else:
            problems.append(f"urgent : « oui » ou « non » attendu, pas « {values.pop('urgent')} »")
    for key, shift in (("since", 0), ("until", 1)):
        if key in values:
            day = _day(values[key])
            if day is None:
                label = "depuis" if key == "since" else "jusqu'au"
                problems.append(f"date « {values.pop(key)} » ({label}) : AAAA-MM-JJ attendu")
            else:
                days[key] = datetime.combine(day + timedelta(days=shift), time(0), tzinfo=zone)
    page = 1
    raw_page = str(params.get("page", "1")).strip()
    if raw_page.isdigit() and 0 < int(raw_page) < 1_000_000:
        page = int(raw_page)
    return Query(
        filters=MentionFilter(
            status=status,
            urgent=urgent,
            source_type=values.get("source_type"),
            source=values.get("source"),
            outlet=values.get("outlet"),
            tag=values.get("tag"),
            assignee=values.get("assignee"),
            since=days.get("since"),
            until=days.get("until"),
            q=values.get("q"),
        ),
        page=page,
        values=values,
        problems=tuple(problems),
    )


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None
