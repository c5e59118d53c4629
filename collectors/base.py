"""The collector contract: what every ``type:`` of source implements.

:class:`Collector` is what the pipeline uses; :class:`BaseCollector` is the one
base class of the collectors the registry (``collectors.REGISTRY``) holds. A
collector is built from its validated options (``from_config``) and, given the
shared :class:`~collectors.http.HttpClient` and the source's stored state, returns a
:class:`Collection`: the items it found and the state to remember (ETag, …).
A failure is raised as :class:`~veille.errors.SourceError` with a short French
reason; the pipeline records it and goes on with the other sources.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar, Generic, Protocol, Self, TypeVar

from veille.config import SourceConfig

if TYPE_CHECKING:
    from collectors.http import HttpClient

OptionsT = TypeVar("OptionsT", bound=SourceConfig)

MAX_CURSOR = 2000  # characters of SourceState.cursor


@dataclass(frozen=True, slots=True)
class Item:
    """One thing a source found: an article, a post, a result, a page."""

    source: str
    url: str
    title: str
    text: str
    guid: str | None = None
    published_at: datetime | None = None
    outlet: str | None = None  # the medium that published it (Google News, Bing)
    key: str | None = None  # explicit deduplication key (else canonical URL, else guid)
    # False when the title is not the story's own (the paragraphs of a page share the
    # page's title): such an item is never merged with another by its title.
    dedup_by_title: bool = True
    author: str | None = None  # who wrote it (a commenter's display name)
    reply_to: str | None = None  # the first words of the post a comment answers


@dataclass(frozen=True, slots=True)
class SourceState:
    """What a collector may remember between visits: conditional GET validators, and
    ``cursor``, a short text (at most :data:`MAX_CURSOR` characters, JSON by convention)
    holding where the next visit starts (the newest comment seen on an account)."""

    etag: str | None = None
    last_modified: str | None = None
    cursor: str | None = None


@dataclass(frozen=True, slots=True)
class Collection:
    """The result of one visit to a source."""

    items: tuple[Item, ...] = ()
    state: SourceState = field(default_factory=SourceState)
    not_modified: bool = False
    bytes_received: int = 0
    warning: str | None = None  # worked, but something is worth telling the admins
    rejected: tuple[str, ...] = ()  # why each unusable entry was skipped (French)
    # what the visit cost, in French ("7 requêtes, 7 unités YouTube sur 10 000 par jour")
    usage: str | None = None


class Collector(Protocol):
    """What the pipeline uses: a named source of one ``type:`` that can be visited."""

    source_type: ClassVar[str]

    @property
    def name(self) -> str: ...

    async def collect(self, client: HttpClient, state: SourceState) -> Collection: ...


class BaseCollector(ABC, Generic[OptionsT]):
    """The one base class of collectors, one subclass per ``type:`` of config.yaml.

    A subclass names its ``source_type``, its ``options_model`` (which validates
    its options in config.yaml) and its ``group_label`` (the heading of its
    mentions in the digest), and implements :meth:`collect`.
    """

    source_type: ClassVar[str]
    options_model: ClassVar[type[SourceConfig]]
    group_label: ClassVar[str]  # French heading of this type's mentions in the digest
    # True: every item is in scope without the brand matcher (official accounts' comments)
    always_in_scope: ClassVar[bool] = False

    def __init__(self, options: OptionsT):
        self.options = options

    @property
    def name(self) -> str:
        return self.options.name

    @classmethod
    def from_config(cls, options: SourceConfig) -> Self:
        """The collector of one validated source."""
        if not isinstance(options, cls.options_model):
            raise TypeError(f"{cls.__name__} needs {cls.options_model.__name__} options")
        return cls(options)  # type: ignore[arg-type]

    @abstractmethod
    async def collect(self, client: HttpClient, state: SourceState) -> Collection:
        """Visit the source once."""
