"""Values shaped for the templates: texts cut around what the matcher found (the
template marks them, escaping every part), and the health of each source as
``veille sources`` states it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from matchers.base import Span
from storage.store import MentionRecord, SourceRecord
from veille.config import SourceConfig
from veille.digest import source_state
from veille.pipeline import next_visit

TEXT_LIMIT = 50_000  # characters of a stored text shown on a mention's page


@dataclass(frozen=True, slots=True)
class Piece:
    text: str
    marked: bool = False


def snippet_pieces(mention: MentionRecord) -> list[Piece]:
    """The snippet with its highlighted part (the form found) marked."""
    text, start, end = mention.snippet, mention.highlight_start, mention.highlight_end
    if not 0 <= start < end <= len(text):
        return [Piece(text)]
    return [
        p for p in (Piece(text[:start]), Piece(text[start:end], True), Piece(text[end:])) if p.text
    ]


def text_pieces(text: str, spans: Sequence[Span], limit: int = TEXT_LIMIT) -> list[Piece]:
    """``text`` (cut at ``limit``) with each span marked."""
    pieces: list[Piece] = []
    at = 0
    for span in sorted(spans, key=lambda s: s.start):
        if span.start < at or span.end > limit:
            continue
        if span.start > at:
            pieces.append(Piece(text[at : span.start]))
        pieces.append(Piece(text[span.start : span.end], True))
        at = span.end
    if at < min(len(text), limit):
        pieces.append(Piece(text[at:limit]))
    if len(text) > limit:
        pieces.append(Piece(f" […] ({len(text) - limit} caractères de plus)"))
    return pieces


@dataclass(frozen=True, slots=True)
class SourceHealth:
    name: str
    type: str
    state: str  # as in ``veille sources``: ok, EN PANNE, muette ?…
    css: str  # etat-ok, etat-panne, etat-muette, etat-inactive
    last_success_at: datetime | None
    failing_since: datetime | None
    next_visit: datetime | None
    failures: int
    problem: str
    mentions: int


_STATE_CSS = {
    "désactivée": "etat-inactive",
    "jamais visitée": "etat-inactive",
    "muette ?": "etat-muette",
    "EN PANNE": "etat-panne",
}


def source_health(
    sources: Sequence[SourceConfig], records: dict[str, SourceRecord], now: datetime
) -> list[SourceHealth]:
    rows = []
    for source in sources:
        record = records.get(source.name)
        failures = record.consecutive_failures if record else 0
        state = source_state(source, record, now)
        css = _STATE_CSS.get(state, "etat-ok")
        due = next_visit(source, record) if source.enabled else None
        rows.append(
            SourceHealth(
                name=source.name,
                type=source.type,
                state=state,
                css=css,
                last_success_at=record.last_success_at if record else None,
                failing_since=record.failing_since if record else None,
                next_visit=due if due is not None and due > now else None,
                failures=failures,
                problem=(record.last_error or record.last_warning or "") if record else "",
                mentions=record.mentions_found if record else 0,
            )
        )
    return rows
