"""The collector contract: what every ``type:`` of source implements.

A collector is built from its validated options (``from_config``) and, given the
shared :class:`~collectors.http.HttpClient` and the source's stored state, returns a
:class:`Collection`: the items it found and the state to remember (ETag, …).
A failure is raised as :class:`~veille.errors.SourceError` with a short French
reason; the pipeline records it and goes on with the other sources.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar, Generic, Protocol, TypeVar

from veille.config import SourceConfig

if TYPE_CHECKING:
    from collectors.http import HttpClient
    from veille.config import HttpConfig

OptionsT = TypeVar("OptionsT", bound=SourceConfig)


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


@dataclass(frozen=True, slots=True)
class SourceState:
    """What a collector may remember between visits (conditional GET)."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class Collection:
    """The result of one visit to a source."""

    items: tuple[Item, ...] = ()
    state: SourceState = field(default_factory=SourceState)
    not_modified: bool = False
    bytes_received: int = 0
    warning: str | None = None  # worked, but something is worth telling the admins
    rejected: tuple[str, ...] = ()  # why each unusable entry was skipped (French)


class Collector(Protocol):
    """The plug-in contract, one class per ``type:`` of config.yaml."""

    source_type: ClassVar[str]

    @property
    def name(self) -> str: ...

    async def collect(self, client: HttpClient, state: SourceState) -> Collection: ...


class ConfiguredCollector(ABC, Generic[OptionsT]):
    """What every collector class shares: its validated options and ``from_config``."""

    source_type: ClassVar[str]
    options_model: ClassVar[type[SourceConfig]]

    def __init__(self, options: OptionsT):
        self.options = options

    @property
    def name(self) -> str:
        return self.options.name

    @classmethod
    def from_config(cls, options: SourceConfig, http: HttpConfig) -> Collector:
        if not isinstance(options, cls.options_model):
            raise TypeError(f"{cls.__name__} needs {cls.options_model.__name__} options")
        return cls(options)  # type: ignore[arg-type]

    @abstractmethod
    async def collect(self, client: HttpClient, state: SourceState) -> Collection:
        """Visit the source once."""


class CollectorFactory(Protocol):
    """What the registry holds: a class with its options model and a constructor."""

    source_type: ClassVar[str]
    options_model: ClassVar[type[SourceConfig]]

    @classmethod
    def from_config(cls, options: SourceConfig, http: HttpConfig) -> Collector: ...
