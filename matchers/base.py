"""The matcher contract: text in, spans out.

A matcher decides whether a text names the brand and where. Spans are offsets
into the *original* text (never the folded one), so a snippet can highlight the
right characters; each span says which form and which rule fired.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class Rule(StrEnum):
    """The rule that found a span; :attr:`Span.rule` holds its value (shown to
    users, stored with each mention)."""

    NAME = "nom"  # kind, optional connectors, place: "Cégep de Drummondville"
    ENGLISH_ORDER = "ordre anglais"  # "Drummondville CEGEP"
    COORDINATION = "coordination"  # "les cégeps de Victoriaville et de Drummondville"
    ALIAS = "alias"
    HANDLE = "identifiant"  # @cegepdrummond, or a long handle written bare
    HASHTAG = "mot-clic"  # #cegepdedrummondville
    DOMAIN = "domaine"  # cegepdrummond.ca, info@cegepdrummond.ca


@dataclass(frozen=True, slots=True)
class Span:
    """One place where the brand is named."""

    start: int  # offsets into the original text
    end: int
    text: str
    form: str  # the configured form it reads as
    rule: str  # the value of a Rule: a plain string
    score: int  # 50 to 100, lower with typos


@dataclass(frozen=True, slots=True)
class MatchResult:
    """The verdict on one text."""

    spans: tuple[Span, ...] = ()
    near_miss: str | None = None

    @property
    def matched(self) -> bool:
        return bool(self.spans)

    @property
    def score(self) -> int:
        return max((span.score for span in self.spans), default=0)


class Matcher(Protocol):
    def match(self, text: str) -> MatchResult: ...


@dataclass(frozen=True, slots=True)
class Snippet:
    """A short excerpt around a span, with the span's place inside it."""

    text: str
    start: int
    end: int


def snippet_around(text: str, span: Span, *, width: int = 220) -> Snippet:
    """An excerpt of about ``width`` characters centred on ``span``, on word edges."""
    margin = max(0, (width - (span.end - span.start)) // 2)
    begin = max(0, span.start - margin)
    stop = min(len(text), span.end + margin)
    if begin > 0:
        space = text.find(" ", begin, span.start)
        begin = space + 1 if space != -1 else begin
    if stop < len(text):
        space = text.rfind(" ", span.end, stop)
        stop = space if space != -1 else stop
    raw = text[begin:stop]
    head = raw[: span.start - begin]
    body = raw[span.start - begin : span.end - begin]
    tail = raw[span.end - begin :]
    prefix = "… " if begin > 0 else ""
    suffix = " …" if stop < len(text) else ""
    head = prefix + " ".join(head.split()) + (" " if head[-1:].isspace() else "")
    body = " ".join(body.split())
    tail = (" " if tail[:1].isspace() else "") + " ".join(tail.split()) + suffix
    return Snippet(head + body + tail, len(head), len(head) + len(body))
