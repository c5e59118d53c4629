"""``platform: bluesky`` — the replies under a Bluesky account's recent posts.

Option: ``handle`` (``cegepdrummond.bsky.social``). No token: the public
AppView (``https://public.api.bsky.app/xrpc/``) is read.

A visit asks for the account's ``posts`` latest posts without replies
(``app.bsky.feed.getAuthorFeed?filter=posts_no_replies``; reposts of other
accounts are left out), then each post's thread
(``app.bsky.feed.getPostThread?depth=6``): every reply, replies to replies
included, down to six levels. Bluesky has no ``since`` here: threads are read
whole and the cursor's window (on the time the AppView indexed each reply)
tells the new ones apart. A reply's link is
``https://bsky.app/profile/HANDLE/post/RKEY``. The account's own replies are
not items; a post deleted meanwhile is skipped; blocked or deleted replies are
left out. 3,000 requests per 5 minutes per address; a 429 waits until
``RateLimit-Reset``. There is no public API to hide a reply.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from urllib.parse import quote, urlencode

from collectors.accounts.base import (
    Account,
    Api,
    Auth,
    NoAuth,
    Reading,
    Watermark,
    comment_item,
    entries,
    field_of,
    listing,
    platform_error,
    plural,
    short,
)
from collectors.base import Item
from collectors.engines.base import text_field
from collectors.response import MAX_BACKOFF, Response
from collectors.text import iso_time, one_line
from veille.errors import SourceError

if TYPE_CHECKING:
    from collectors.http import HttpClient

THREAD_DEPTH = 6  # levels of replies under a post
WEB = "https://bsky.app"
MAX_REPLIES = 2000  # replies read under one post (a thread of a viral post is bounded)


def rkey(uri: str) -> str:
    """The record key, last part of an ``at://`` address."""
    return uri.rstrip("/").rsplit("/", 1)[-1]


def web_link(author: str, uri: str) -> str:
    return f"{WEB}/profile/{quote(author, safe=':')}/post/{quote(rkey(uri))}"


class Bluesky:
    name: ClassVar[str] = "bluesky"
    label: ClassVar[str] = "Bluesky"
    origin: ClassVar[str | None] = "https://public.api.bsky.app"
    path: ClassVar[str] = "/xrpc"
    identifier: ClassVar[str] = "handle"
    identifier_help: ClassVar[str] = "le nom du compte (cegepdrummond.bsky.social)"
    secret: ClassVar[Literal["token_env", "api_key_env"] | None] = None
    secret_help: ClassVar[str] = ""
    moderation: ClassVar[bool] = False

    def auth(self, secret: str | None) -> Auth:
        return NoAuth()

    def check(self, response: Response, api: Api) -> None:
        if response.status == 429:
            reset = response.headers.get("ratelimit-reset", "").strip()
            wait = api.account.every
            if reset.isdigit():  # a Unix time
                wait = min(max(int(reset) - time.time(), 1.0), MAX_BACKOFF)
            raise SourceError(
                f"Bluesky : trop de requêtes : nouvel essai dans {wait:.0f} s", retry_after=wait
            )
        if response.status == 400:  # XRPC: {"error": "InvalidRequest", "message": "…"}
            raise SourceError(f"Bluesky : requête refusée ({_message(response)}) : vérifiez handle")
        if response.status >= 400:
            raise platform_error(self.label, response, every=api.account.every)

    def usage(self, api: Api, account: Account) -> str:
        return f"{plural(api.requests, 'requête')} (limite : 3 000 par 5 min par adresse)"

    async def read(self, api: Api, account: Account, cursor: Mapping[str, Any]) -> Reading:
        mark = Watermark(cursor)
        query = urlencode(
            {"actor": account.id, "limit": str(account.posts), "filter": "posts_no_replies"}
        )
        feed = await api.get(f"{account.base}/app.bsky.feed.getAuthorFeed?{query}")
        handle = account.id.lower()
        posts = [
            entry["post"]
            for entry in listing(feed, "feed", self.label)
            if isinstance(entry.get("post"), dict)
            and entry.get("reason") is None  # a repost
            and text_field(field_of(entry, "post", "author", "handle")).lower() == handle
        ][: account.posts]
        own = {text_field(field_of(post, "author", "did")) for post in posts} - {""}
        items: list[Item] = []
        rejected: list[str] = []
        gone = 0
        for post in posts:
            uri = text_field(post.get("uri"))
            if not uri.startswith("at://"):
                rejected.append("publication Bluesky sans adresse at:// ignorée")
                continue
            query = urlencode({"uri": uri, "depth": str(THREAD_DEPTH)})
            data = await api.get(
                f"{account.base}/app.bsky.feed.getPostThread?{query}", missing_ok=True
            )
            if data is None:
                gone += 1
                continue
            post_text = text_field(field_of(post, "record", "text"))
            for reply in _replies(field_of(data, "thread")):
                item = self._item(account, reply, own, handle, post_text, mark, rejected)
                if item is not None:
                    items.append(item)
        warning = f"{gone} publication(s) disparue(s) pendant la visite" if gone else None
        return Reading(tuple(items), {"a": account.id, **mark.dump()}, warning, tuple(rejected))

    def _item(
        self,
        account: Account,
        reply: dict[str, Any],
        own: set[str],
        handle: str,
        post_text: str,
        mark: Watermark,
        rejected: list[str],
    ) -> Item | None:
        uri = text_field(reply.get("uri"))
        author = text_field(field_of(reply, "author", "handle")).strip()
        if not uri.startswith("at://") or not author:
            rejected.append("réponse Bluesky sans adresse ni auteur ignorée")
            return None
        created = iso_time(field_of(reply, "record", "createdAt"))
        indexed = iso_time(reply.get("indexedAt")) or created
        if not mark.is_new(indexed, uri):
            return None
        if author.lower() == handle or text_field(field_of(reply, "author", "did")) in own:
            return None  # the account's own reply
        name = text_field(field_of(reply, "author", "displayName")).strip()
        return comment_item(
            account,
            platform=self.name,
            outlet=self.label,
            comment_id=uri,
            url=web_link(author, uri),
            text=text_field(field_of(reply, "record", "text")).strip(),
            author=name or author,
            published_at=created or indexed,
            post_text=post_text,
        )

    async def hide(
        self,
        client: HttpClient,
        *,
        base: str,
        comment_id: str,
        token: str | None,
        token_env: str | None = None,
        url: str | None = None,
    ) -> str:
        did = comment_id.removeprefix("at://").split("/", 1)[0]
        link = url or web_link(did, comment_id)
        raise SourceError(
            "Bluesky n'offre pas d'API publique pour masquer une réponse : ouvrez-la "
            f"({one_line(link)}) et, depuis le compte du Cégep, masquez-la dans le fil "
            "(menu « … » → « Masquer la réponse pour tout le monde ») ou signalez-la"
        )


def _replies(thread: object) -> list[dict[str, Any]]:
    """The posts of every reply under ``thread``, depth first, blocked and deleted ones
    left out (they have no ``post``), MAX_REPLIES at most."""
    found: list[dict[str, Any]] = []
    stack = list(reversed(entries(thread, "replies")))
    while stack and len(found) < MAX_REPLIES:
        node = stack.pop()
        post = node.get("post")
        if isinstance(post, dict):
            found.append(post)
        stack.extend(reversed(entries(node, "replies")))
    return found


def _message(response: Response) -> str:
    """The ``message`` (else ``error``) of an XRPC error answer."""
    try:
        data = json.loads(response.content)
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, dict):
        return "réponse illisible"
    return short(data.get("message") or data.get("error")) or "sans message"
