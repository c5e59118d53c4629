"""Collectors: one module per ``type:`` of source in config.yaml.

The registry below is the only place a type is declared: greppable, no import
side effects, and a typo in config.yaml is reported with the list of types.
Each entry is a :class:`~collectors.base.BaseCollector` subclass; what the
pipeline uses of the collectors it builds is :class:`~collectors.base.Collector`.
"""

from __future__ import annotations

from typing import Any

from collectors.accounts.collector import AccountCollector
from collectors.base import BaseCollector, Collection, Collector, Item, SourceState
from collectors.feed import FeedCollector
from collectors.page import PageCollector
from collectors.search import SearchCollector
from veille.config import SourceConfig

REGISTRY: dict[str, type[BaseCollector[Any]]] = {
    FeedCollector.source_type: FeedCollector,
    SearchCollector.source_type: SearchCollector,
    PageCollector.source_type: PageCollector,
    AccountCollector.source_type: AccountCollector,
}


def options_models() -> dict[str, type[SourceConfig]]:
    """The options model of each source type, for ``load_config``."""
    return {kind: collector.options_model for kind, collector in REGISTRY.items()}


def group_label(source_type: str) -> str:
    """The French heading of a source type's mentions in the digest ("Pages Web"),
    else the type's own name (a type no longer registered)."""
    collector = REGISTRY.get(source_type)
    return collector.group_label if collector is not None else source_type


__all__ = [
    "REGISTRY",
    "BaseCollector",
    "Collection",
    "Collector",
    "Item",
    "SourceState",
    "group_label",
    "options_models",
]
