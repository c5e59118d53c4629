"""``type: search`` — a query sent to a search engine.

Options (config.yaml)::

    - name: Google Actualités
      type: search
      engine: google_news      # a module of collectors/engines/ (a wrong name gets the list)
      query: '"Cégep de Drummondville"'
      every: 1h
      url: http://127.0.0.1:8080   # optional: replaces scheme and host (required by some engines)
      params: {hl: en-CA, ceid: "CA:en"}   # optional: overrides the engine's defaults
      fetch_full: false        # true: also fetch each result's page for its full text
      max_results: 100
      user_agent: "script:veille-cegep:1.0 (by /u/NOM)"   # optional, sent with every request
      client_id_env: REDDIT_CLIENT_ID          # engines with OAuth only: the app's id and
      client_secret_env: REDDIT_CLIENT_SECRET  # secret are read from these variables

Each engine's module documents its defaults, its ``params``, the advice added
to an HTTP error, and its authorisation. A 429 or 503 answer honours
Retry-After and backs off this source only. With ``fetch_full``, result links
are untrusted: only public http(s) addresses are fetched (see
``http.allow_private_links``), and only those the engine allows (some lead to
a consent page, never to the article), the first FULL_TEXT_LIMIT results at
most, within FULL_TEXT_BUDGET seconds per visit: the pages not fetched in time
keep their snippet, and the source's warning says how many they were.
"""

from __future__ import annotations

import asyncio
import difflib
import logging
import os
from dataclasses import replace
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from collectors.base import BaseCollector, Collection, Item, SourceState
from collectors.engines import ENGINES, ClientCredentials, SearchRequest
from collectors.feed import join_warnings
from collectors.page import page_text
from collectors.response import Response, retry_after, status_reason
from veille.config import SourceConfig
from veille.errors import SourceError
from veille.urls import check_http_url

if TYPE_CHECKING:
    from collectors.http import HttpClient

log = logging.getLogger(__name__)

FULL_TEXT_LIMIT = 20  # result pages fetched per visit at most
FULL_TEXT_BUDGET = 60.0  # seconds for all the result pages of one visit


class SearchSource(SourceConfig):
    type: Literal["search"] = "search"
    engine: str  # a key of collectors.engines.ENGINES
    query: str = Field(min_length=1)
    url: str | None = None
    params: dict[str, str] = {}
    fetch_full: bool = False
    max_results: int = Field(default=100, ge=1, le=1000)
    user_agent: str | None = None  # the form an engine may ask for, sent with every request
    client_id_env: str | None = None  # OAuth: names of environment variables,
    client_secret_env: str | None = None  # never the values themselves

    @field_validator("engine")
    @classmethod
    def _known_engine(cls, value: str) -> str:
        if value in ENGINES:
            return value
        close = difflib.get_close_matches(value, ENGINES, n=1)
        hint = f"vouliez-vous dire « {close[0]} » ? " if close else ""
        raise ValueError(
            f"moteur inconnu « {value} » ({hint}moteurs possibles : {', '.join(sorted(ENGINES))})"
        )

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
    def _credentials_pair(self) -> SearchSource:
        given = [self.client_id_env, self.client_secret_env]
        if not any(given):
            return self
        use = ENGINES[self.engine].credentials_for
        if use is None:
            users = sorted(name for name, engine in ENGINES.items() if engine.credentials_for)
            which = (
                f"au moteur {users[0]}" if len(users) == 1 else f"aux moteurs {', '.join(users)}"
            )
            raise ValueError(f"client_id_env et client_secret_env ne servent qu'{which}")
        if not all(given):
            raise ValueError(f"client_id_env et client_secret_env vont ensemble ({use})")
        return self

    @property
    def credentials(self) -> ClientCredentials | None:
        if self.client_id_env and self.client_secret_env:
            return ClientCredentials(self.client_id_env, self.client_secret_env)
        return None

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
        self.auth = self.engine.auth(base.rstrip("/"), options.credentials)
        self.base = self.auth.api_base

    async def collect(self, client: HttpClient, state: SourceState) -> Collection:
        request = self.engine.request(self.options.query, self.options.params, self.base)
        response = await self._send(client, request)
        if response.status >= 400:
            advice = self.engine.advice.get(response.status)
            reason = status_reason(response.status) + (f" — {advice}" if advice else "")
            if response.status in (429, 503):
                wait = retry_after(response.headers, self.options.every.total_seconds())
                raise SourceError(f"{reason} (nouvel essai dans {wait:.0f} s)", retry_after=wait)
            raise SourceError(reason)
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

    async def _send(self, client: HttpClient, request: SearchRequest) -> Response:
        """Drive the engine's auth flow: each request it yields is sent and its
        response sent back; the response to the last one is the answer."""
        flow = self.auth.auth_flow(request)
        try:
            outgoing = next(flow)
            while True:
                response = await self._send_one(client, outgoing)
                try:
                    outgoing = flow.send(response)
                except StopIteration:
                    return response
        finally:
            flow.close()

    async def _send_one(self, client: HttpClient, request: SearchRequest) -> Response:
        headers = dict(request.headers)
        if self.options.user_agent:
            headers["User-Agent"] = self.options.user_agent
        if request.method == "POST":
            return await client.post(request.url, form=request.form or {}, headers=headers)
        return await client.get(request.url, headers=headers)

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
            if index >= FULL_TEXT_LIMIT or not self.engine.may_fetch(item.url):
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
