"""Search engines of the ``search`` collector, keyed by ``engine:`` in config.yaml."""

from __future__ import annotations

from collectors.engines.base import (
    Auth,
    AuthFlow,
    BaseEngine,
    ClientCredentials,
    Engine,
    NoAuth,
    SearchRequest,
    SearchResult,
)
from collectors.engines.bing_news import BingNews
from collectors.engines.google_news import GoogleNews
from collectors.engines.reddit import Reddit
from collectors.engines.searxng import SearXNG
from collectors.engines.wikipedia import Wikipedia

ENGINES: dict[str, Engine] = {
    engine.name: engine for engine in (GoogleNews(), BingNews(), Reddit(), SearXNG(), Wikipedia())
}

__all__ = [
    "ENGINES",
    "Auth",
    "AuthFlow",
    "BaseEngine",
    "ClientCredentials",
    "Engine",
    "NoAuth",
    "SearchRequest",
    "SearchResult",
]
