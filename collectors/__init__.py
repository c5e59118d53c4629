"""Collectors: one module per ``type:`` of source in config.yaml.

The registry below is the only place a type is declared: greppable, no import
side effects, and a typo in config.yaml is reported with the list of types.
"""

from __future__ import annotations

from collectors.base import Collection, Collector, CollectorFactory, Item, SourceState
from collectors.feed import FeedCollector
from collectors.page import PageCollector
from collectors.search import SearchCollector
from veille.config import SourceConfig

REGISTRY: dict[str, type[CollectorFactory]] = {
    FeedCollector.source_type: FeedCollector,
    SearchCollector.source_type: SearchCollector,
    PageCollector.source_type: PageCollector,
}


def options_models() -> dict[str, type[SourceConfig]]:
    """The options model of each source type, for ``load_config``."""
    return {kind: factory.options_model for kind, factory in REGISTRY.items()}


__all__ = [
    "REGISTRY",
    "Collection",
    "Collector",
    "CollectorFactory",
    "Item",
    "SourceState",
    "options_models",
]
