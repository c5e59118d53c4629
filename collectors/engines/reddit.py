"""``engine: reddit`` — Reddit search as JSON (no key needed).

Defaults: ``sort=new``, ``t=week``, ``limit=100``, ``raw_json=1``. One
subreddit: ``params: {restrict_sr: "on"}`` with ``url:
https://www.reddit.com/r/NOM``. Reddit asks for a descriptive User-Agent
(``http.user_agent``) and answers 403/429 to data-centre addresses or bursts:
the source then backs off and the reason says what to do.

Each post links to its thread. Its outlet is the site of the article a link
post shares (``url`` ≠ the thread), else ``r/<subreddit>``. A post without a
usable permalink is skipped; a field of the wrong kind is read as empty.

With a free OAuth "script" app (``client_id_env`` and ``client_secret_env``
name the environment variables holding its id and secret), an application
token is asked for at ``/api/v1/access_token`` (client credentials, basic
auth), kept until it expires, and the search goes to ``oauth.reddit.com``
with ``Authorization: bearer …``: 100 requests a minute instead of 10. A
search refused with 401 gets a new token and is sent again, once
(:class:`RedditOAuth`, the engine's auth flow).
"""

from __future__ import annotations

import base64
import math
import os
import time
from collections.abc import Generator, Mapping
from dataclasses import replace
from typing import Any, ClassVar
from urllib.parse import urlsplit

from collectors.base import Item
from collectors.engines.base import (
    Auth,
    AuthFlow,
    BaseEngine,
    ClientCredentials,
    NoAuth,
    SearchRequest,
    SearchResult,
    endpoint,
    load_json,
    text_field,
    unexpected,
)
from collectors.feed import skipped_entries
from collectors.response import MAX_BACKOFF, Response, status_reason
from collectors.text import clean_label, epoch_time, html_to_text, one_line, url_domain, web_url
from veille.errors import SourceError

PUBLIC_BASE = "https://www.reddit.com"
OAUTH_BASE = "https://oauth.reddit.com"
APPS_PAGE = "https://www.reddit.com/prefs/apps"
# a link post to these (an image, a gallery, another thread) is not an outside article
REDDIT_DOMAINS = ("reddit.com", "redd.it", "redditmedia.com")


class Reddit(BaseEngine):
    name: ClassVar[str] = "reddit"
    default_base: ClassVar[str | None] = "https://www.reddit.com"
    advice: ClassVar[Mapping[int, str]] = {
        403: "Reddit refuse l'accès (adresse de centre de données ?) : espacez les visites "
        "ou configurez OAuth (client_id_env, client_secret_env)",
        429: "Reddit limite le rythme : augmentez every",
    }
    credentials_for: ClassVar[str | None] = "OAuth Reddit"

    def auth(self, base: str, credentials: ClientCredentials | None) -> Auth:
        """With an OAuth app's credentials, the search goes to oauth.reddit.com with a token."""
        if credentials is None:
            return NoAuth(base)
        return RedditOAuth(base=base, credentials=credentials)

    def request(self, query: str, params: Mapping[str, str], base: str) -> SearchRequest:
        defaults = {"sort": "new", "t": "week", "limit": "100", "raw_json": "1"}
        path = "/search" if base.startswith(OAUTH_BASE) else "/search.json"
        return SearchRequest(endpoint(base, path, defaults, params, {"q": query}))

    def parse(self, response: Response, *, source: str, base: str) -> SearchResult:
        data = load_json(response, "Reddit")
        try:
            children = data["data"]["children"]
        except (KeyError, TypeError):
            raise unexpected("Reddit") from None
        if not isinstance(children, list):
            raise unexpected("Reddit")
        site = PUBLIC_BASE if "reddit.com" in base else base.split("/r/")[0]
        items = []
        for child in children:
            post = child.get("data") if isinstance(child, dict) else None
            item = post_item(post, source=source, site=site) if isinstance(post, dict) else None
            if item is not None:
                items.append(item)
        return SearchResult(tuple(items), rejected=skipped_entries(len(children) - len(items)))


def post_item(post: Mapping[str, Any], *, source: str, site: str) -> Item | None:
    """The item of one post (``data`` of a ``t3`` child), or None without a usable permalink."""
    permalink = text_field(post.get("permalink")).strip()
    url = web_url(site.rstrip("/") + permalink) if permalink.startswith("/") else None
    if url is None:
        return None
    post_id = text_field(post.get("id")).strip()
    return Item(
        source=source,
        url=url,
        title=one_line(html_to_text(text_field(post.get("title")))),
        text=html_to_text(text_field(post.get("selftext"))),
        guid=f"reddit:{post_id or permalink}",
        published_at=epoch_time(post.get("created_utc")),
        outlet=post_outlet(post, url),
    )


def post_outlet(post: Mapping[str, Any], thread: str) -> str:
    """A link post's article site ("journalexpress.ca"), else "r/<subreddit>"."""
    link = web_url(post.get("url"))
    domain = url_domain(link) if link and link.rstrip("/") != thread.rstrip("/") else None
    if domain and not any(domain == d or domain.endswith("." + d) for d in REDDIT_DOMAINS):
        return domain
    subreddit = clean_label(post.get("subreddit"))
    return f"r/{subreddit}" if subreddit else "Reddit"


class RedditOAuth:
    """An application-only OAuth token for one source, as an auth flow.

    The token is asked for when none is valid (it is kept until a minute before
    it expires), the search carries it, and a search refused with 401 (token
    expired or revoked) gets a new token and is sent again, once. The id and
    secret are read from the environment when a token is asked for and never
    written anywhere (logs and errors included).
    """

    def __init__(self, *, base: str, credentials: ClientCredentials):
        parts = urlsplit(base)
        public = parts.hostname in ("reddit.com", "www.reddit.com")
        origin = PUBLIC_BASE if public else f"{parts.scheme}://{parts.netloc}"
        self.token_url = origin + "/api/v1/access_token"
        # where the search goes once authorised: oauth.reddit.com, same path
        self._api_base = OAUTH_BASE + parts.path.rstrip("/") if public else base
        self.credentials = credentials
        self._token: str | None = None
        self._expires = 0.0

    @property
    def api_base(self) -> str:
        return self._api_base

    def auth_flow(self, request: SearchRequest) -> AuthFlow:
        response = yield from self._authorised(request)
        if response.status == 401:  # expired or revoked: a new token, once
            self._token = None
            yield from self._authorised(request)

    def _authorised(self, request: SearchRequest) -> Generator[SearchRequest, Response, Response]:
        """Send ``request`` with the bearer, asking for a token first when none is valid."""
        if self._token is None or time.monotonic() >= self._expires:
            token, lifetime = self._read_token((yield self._token_request()))
            self._token = token
            self._expires = time.monotonic() + max(0.0, lifetime - 60)
        headers = {**request.headers, "Authorization": f"bearer {self._token}"}
        return (yield replace(request, headers=headers))

    def _token_request(self) -> SearchRequest:
        values = []
        for name in (self.credentials.id_env, self.credentials.secret_env):
            value = os.environ.get(name, "")
            if not value:
                raise SourceError(
                    f"la variable d'environnement {name} (OAuth Reddit) n'est pas définie"
                )
            values.append(value)
        secret = base64.b64encode(":".join(values).encode()).decode("ascii")
        return SearchRequest(
            self.token_url,
            headers={"Authorization": f"Basic {secret}"},
            method="POST",
            form={"grant_type": "client_credentials"},
        )

    def _read_token(self, response: Response) -> tuple[str, float]:
        """The token and its lifetime in seconds (bounded), from the token answer."""
        if response.status in (401, 403):
            raise SourceError(
                f"Reddit refuse l'identification OAuth ({response.status}) : vérifiez "
                f"{self.credentials.id_env} et {self.credentials.secret_env} "
                f"(application « script » sur {APPS_PAGE})"
            )
        if response.status >= 400:
            raise SourceError(f"jeton OAuth Reddit : {status_reason(response.status)}")
        data = load_json(response, "Reddit (jeton OAuth)")
        token = data.get("access_token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise unexpected("Reddit (jeton OAuth)")
        try:
            lifetime = float(data.get("expires_in", 3600))
        except (TypeError, ValueError, OverflowError):
            lifetime = 3600.0
        if not math.isfinite(lifetime):
            lifetime = 3600.0
        return token, min(max(lifetime, 0.0), MAX_BACKOFF)
