"""``type: search`` — a query sent to a search engine.

Options (config.yaml)::

    - name: Google Actualités
      type: search
      engine: google_news      # google_news, bing_news, reddit, searxng, wikipedia
      query: '"Cégep de Drummondville"'
      every: 1h
      url: http://127.0.0.1:8080   # optional: replaces scheme and host (searxng: required)
      params: {hl: en-CA, ceid: "CA:en"}   # optional: overrides the engine's defaults
      fetch_full: false        # true: also fetch each result's page for its full text
      max_results: 100
      user_agent: "script:veille-cegep:1.0 (by /u/NOM)"   # optional, e.g. for Reddit
      client_id_env: REDDIT_CLIENT_ID          # reddit only: OAuth "script" app, id and
      client_secret_env: REDDIT_CLIENT_SECRET  # secret read from these variables

A 429 or 503 answer honours Retry-After and backs off this source only. With
``fetch_full``, result links are untrusted: only public http(s) addresses are
fetched (see ``http.allow_private_links``), the first FULL_TEXT_LIMIT results
at most, within FULL_TEXT_BUDGET seconds per visit: the pages not fetched in
time keep their snippet, and the source's warning says how many they were.
Google News links are never fetched (they lead to a "sorry" page).
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import replace
from typing import ClassVar, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from collectors.base import BaseCollector, Collection, Item, SourceState
from collectors.engines import ENGINES
from collectors.engines.reddit import RedditToken
from collectors.feed import join_warnings
from collectors.http import HttpClient, Response, retry_after, status_reason
from collectors.page import page_text
from veille.config import SourceConfig
from veille.errors import SourceError
from veille.urls import check_http_url

log = logging.getLogger(__name__)

FULL_TEXT_LIMIT = 20  # result pages fetched per visit at most
FULL_TEXT_BUDGET = 60.0  # seconds for all the result pages of one visit
# hosts whose result links never lead to the article (a consent or "sorry" page)
UNFETCHABLE_HOSTS = ("news.google.com",)
ADVICE = {
    "reddit": {
        403: "Reddit refuse l'accès (adresse de centre de données ?) : espacez les visites "
        "ou configurez OAuth (client_id_env, client_secret_env)",
        429: "Reddit limite le rythme : augmentez every",
    },
    "searxng": {
        403: "SearXNG refuse le format JSON : ajoutez json sous search: formats: dans settings.yml",
        429: "le limiteur de SearXNG bloque veille : mettez limiter: false "
        "pour une instance privée",
    },
    "google_news": {429: "Google limite le rythme : augmentez every"},
}


class SearchSource(SourceConfig):
    type: Literal["search"] = "search"
    engine: Literal["google_news", "bing_news", "reddit", "searxng", "wikipedia"]
    query: str = Field(min_length=1)
    url: str | None = None
    params: dict[str, str] = {}
    fetch_full: bool = False
    max_results: int = Field(default=100, ge=1, le=1000)
    user_agent: str | None = None  # e.g. Reddit's "<platform>:<app id>:<version> (by /u/name)"
    client_id_env: str | None = None  # Reddit OAuth: names of environment variables,
    client_secret_env: str | None = None  # never the values themselves

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        return None if value is None else check_http_url(value)

    @model_validator(mode="after")
    def _needs_base(self) -> SearchSource:
        if self.url is None and ENGINES[self.engine].default_base is None:
            raise ValueError(f"le moteur {self.engine} demande url: (l'adresse de l'instance)")
        return self

    @model_validator(mode="after")
    def _oauth_pair(self) -> SearchSource:
        given = [self.client_id_env, self.client_secret_env]
        if any(given) and self.engine != "reddit":
            raise ValueError("client_id_env et client_secret_env ne servent qu'au moteur reddit")
        if any(given) and not all(given):
            raise ValueError("client_id_env et client_secret_env vont ensemble (OAuth Reddit)")
        return self

    def warnings(self) -> list[str]:
        notes = [
            f"la variable d'environnement {name} n'est pas définie dans cet environnement"
            for name in (self.client_id_env, self.client_secret_env)
            if name and not os.environ.get(name)
        ]
        if self.fetch_full and not ENGINES[self.engine].fetch_full_allowed:
            notes.append(
                f"fetch_full est sans effet avec {self.engine} : ses liens ne mènent pas "
                "directement à l'article"
            )
        return notes


class SearchCollector(BaseCollector[SearchSource]):
    """Sends one query to one engine and turns the answer into items."""

    source_type: ClassVar[str] = "search"
    options_model: ClassVar[type[SourceConfig]] = SearchSource
    group_label: ClassVar[str] = "Moteurs de recherche"

    def __init__(self, options: SearchSource):
        super().__init__(options)
        self.engine = ENGINES[options.engine]
        base = options.url or self.engine.default_base
        assert base is not None
        self.base = base.rstrip("/")
        self.token: RedditToken | None = None
        if options.client_id_env and options.client_secret_env:
            self.token = RedditToken(
                base=self.base, id_env=options.client_id_env, secret_env=options.client_secret_env
            )
            self.base = self.token.api_base

    async def collect(self, client: HttpClient, state: SourceState) -> Collection:
        request = self.engine.request(self.options.query, self.options.params, self.base)
        headers = dict(request.headers)
        if self.options.user_agent:
            headers["User-Agent"] = self.options.user_agent
        response = await self._get(client, request.url, headers)
        if response.status in (429, 503):
            wait = retry_after(response.headers, self.options.every.total_seconds())
            advice = ADVICE.get(self.engine.name, {}).get(response.status, "")
            reason = status_reason(response.status) + (f" — {advice}" if advice else "")
            raise SourceError(f"{reason} (nouvel essai dans {wait:.0f} s)", retry_after=wait)
        if response.status >= 400:
            hint = ADVICE.get(self.engine.name, {}).get(response.status)
            raise SourceError(status_reason(response.status) + (f" — {hint}" if hint else ""))
        result = self.engine.parse(response, source=self.name, base=self.base)
        items = result.items[: self.options.max_results]
        warning = result.warning
        if self.options.fetch_full and self.engine.fetch_full_allowed:
            full, late = await self._full_texts(client, items)
            items = tuple(full)
            if late:
                warning = join_warnings(
                    warning,
                    f"texte complet non récupéré pour {late} page(s) de résultat : "
                    f"limite de {FULL_TEXT_BUDGET:g} s par visite atteinte",
                )
        return Collection(
            items=items,
            warning=warning,
            bytes_received=len(response.content),
            rejected=result.rejected,
        )

    async def _get(self, client: HttpClient, url: str, headers: dict[str, str]) -> Response:
        """GET, authorised when the source has an OAuth token; a token refused
        (401: expired or revoked) is asked for again, once."""
        if self.token is None:
            return await client.get(url, headers=headers)
        for attempt in range(2):
            authorised = {**headers, **await self.token.headers(client, self.options.user_agent)}
            response = await client.get(url, headers=authorised)
            if response.status != 401 or attempt:
                return response
            self.token.forget()
        return response

    async def _full_texts(
        self, client: HttpClient, items: tuple[Item, ...]
    ) -> tuple[list[Item], int]:
        """Items with their page's text added, and how many pages the time budget
        left unfetched (redirect hops and slow sites cannot hold a source for long)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + FULL_TEXT_BUDGET
        full: list[Item] = []
        late = 0
        for index, item in enumerate(items):
            if index >= FULL_TEXT_LIMIT or not _fetchable(item.url):
                full.append(item)
                continue
            left = deadline - loop.time()
            if left <= 0:
                late += 1
                full.append(item)
                continue
            try:
                async with asyncio.timeout(left):
                    response = await client.get_untrusted(item.url)
            except TimeoutError:
                late += 1
                full.append(item)
                continue
            except SourceError as exc:
                log.info("%s : texte complet non récupéré pour %s (%s)", self.name, item.url, exc)
                full.append(item)
                continue
            if response.status >= 400 or not response.content_type.startswith("text/html"):
                full.append(item)
                continue
            _, text = page_text(response, selector=None)
            full.append(replace(item, text=f"{item.text}\n\n{text}" if item.text else text))
        return full, late


def _fetchable(url: str) -> bool:
    try:
        host = (urlsplit(url).hostname or "").lower()
    except ValueError:
        return False
    return bool(host) and host not in UNFETCHABLE_HOSTS
