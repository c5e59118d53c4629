"""``platform: mastodon`` — the replies under a Mastodon account's recent posts.

Options: ``instance`` (the account's server, ``https://mastodon.social``) and
``acct`` (its name there, ``cegepdrummond``). No token: the public API is read.

A visit finds the account's id (``GET /api/v1/accounts/lookup?acct=…``, once:
the cursor keeps it with the instance's address), its ``posts`` latest posts
without replies nor boosts (``GET /api/v1/accounts/{id}/statuses?exclude_replies=true``, 40 a
page), then each post's thread (``GET /api/v1/statuses/{id}/context``): every
reply in its ``descendants``, replies to replies included. Mastodon has no
``since`` here: threads are read whole and the cursor's window tells the new
replies apart (a reply that federates late, within a day, is still caught).
The account's own replies are not items; a post deleted meanwhile is skipped.

Rate limit: 300 requests per 5 minutes per address; when
``X-RateLimit-Remaining`` falls under :data:`MIN_REMAINING`, or on a 429, the
source waits until ``X-RateLimit-Reset``. There is no API to hide a reply.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
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
    field_of,
    platform_error,
    plural,
)
from collectors.base import Item
from collectors.engines.base import text_field, unexpected
from collectors.response import MAX_BACKOFF, Response
from collectors.text import html_to_text, iso_time, one_line, web_url
from veille.errors import SourceError

if TYPE_CHECKING:
    from collectors.http import HttpClient

STATUS_PAGE = 40  # the most Mastodon gives per page of statuses
MIN_REMAINING = 5  # requests left in the window under which the source waits
WINDOW = 300.0  # seconds: Mastodon's rate-limit window


def reset_wait(headers: Mapping[str, str], default: float) -> float:
    """Seconds until ``X-RateLimit-Reset`` (an ISO 8601 time at Mastodon), else ``default``."""
    when = iso_time(headers.get("x-ratelimit-reset"))
    if when is None:
        return default
    return min(max((when - datetime.now(UTC)).total_seconds(), 1.0), MAX_BACKOFF)


class Mastodon:
    name: ClassVar[str] = "mastodon"
    label: ClassVar[str] = "Mastodon"
    origin: ClassVar[str | None] = None  # the account's own instance
    path: ClassVar[str] = ""
    identifier: ClassVar[str] = "acct"
    identifier_help: ClassVar[str] = "le nom du compte sur son instance (cegepdrummond)"
    secret: ClassVar[Literal["token_env", "api_key_env"] | None] = None
    secret_help: ClassVar[str] = ""
    moderation: ClassVar[bool] = False

    def auth(self, secret: str | None) -> Auth:
        return NoAuth()

    def check(self, response: Response, api: Api) -> None:
        remaining = response.headers.get("x-ratelimit-remaining", "").strip()
        if remaining.isdigit():
            api.remaining = int(remaining)
        if response.status == 429 or (api.remaining is not None and api.remaining < MIN_REMAINING):
            wait = reset_wait(response.headers, WINDOW)
            raise SourceError(
                f"Mastodon : limite de requêtes de l'instance atteinte : "
                f"nouvel essai dans {wait:.0f} s",
                retry_after=wait,
            )
        if response.status >= 400:
            if response.status == 404:
                raise SourceError("Mastodon : compte introuvable : vérifiez acct et instance")
            raise platform_error(self.label, response, every=api.account.every)

    def usage(self, api: Api, account: Account) -> str:
        text = f"{plural(api.requests, 'requête')} (limite de l'instance : 300 par 5 min"
        if api.remaining is not None:
            text += f", {api.remaining} restantes"
        return text + ")"

    async def read(self, api: Api, account: Account, cursor: Mapping[str, Any]) -> Reading:
        mark = Watermark(cursor)
        known = text_field(cursor.get("i")) if cursor.get("b") == account.base else ""
        account_id = known or await self._lookup(api, account)
        statuses = await self._statuses(api, account, account_id)
        items: list[Item] = []
        rejected: list[str] = []
        gone = 0
        for status in statuses:
            status_id = text_field(status.get("id")).strip()
            post_text = html_to_text(text_field(status.get("content")))
            url = f"{account.base}/api/v1/statuses/{quote(status_id)}/context"
            context = await api.get(url, missing_ok=True)
            if context is None:
                gone += 1
                continue
            replies = field_of(context, "descendants")
            if not isinstance(replies, list):
                raise unexpected(self.label)
            for reply in replies:
                item = self._item(account, reply, account_id, post_text, mark, rejected)
                if item is not None:
                    items.append(item)
        warning = f"{gone} publication(s) disparue(s) pendant la visite" if gone else None
        cursor_out = {"a": account.id, "b": account.base, "i": account_id, **mark.dump()}
        return Reading(tuple(items), cursor_out, warning, tuple(rejected))

    async def _lookup(self, api: Api, account: Account) -> str:
        query = urlencode({"acct": account.id})
        data = await api.get(f"{account.base}/api/v1/accounts/lookup?{query}")
        account_id = text_field(field_of(data, "id")).strip()
        if not account_id:
            raise unexpected(self.label)
        return account_id

    async def _statuses(self, api: Api, account: Account, account_id: str) -> list[dict[str, Any]]:
        """The account's ``posts`` latest posts (no replies, no boosts), newest first."""
        found: list[dict[str, Any]] = []
        max_id: str | None = None
        for _ in range(-(-account.posts // STATUS_PAGE)):
            params = {
                "limit": str(min(STATUS_PAGE, account.posts - len(found))),
                "exclude_replies": "true",
                "exclude_reblogs": "true",
            }
            if max_id:
                params["max_id"] = max_id
            url = f"{account.base}/api/v1/accounts/{quote(account_id)}/statuses?{urlencode(params)}"
            page = await api.get(url)
            if not isinstance(page, list):
                raise unexpected(self.label)
            statuses = [
                s
                for s in page
                if isinstance(s, dict) and text_field(s.get("id")) and s.get("reblog") is None
            ]
            found.extend(statuses)
            if not statuses or len(page) < int(params["limit"]) or len(found) >= account.posts:
                break
            max_id = text_field(statuses[-1].get("id"))
        return found[: account.posts]

    def _item(
        self,
        account: Account,
        reply: object,
        account_id: str,
        post_text: str,
        mark: Watermark,
        rejected: list[str],
    ) -> Item | None:
        reply_id = text_field(field_of(reply, "id")).strip()
        url = web_url(field_of(reply, "url")) or web_url(field_of(reply, "uri"))
        if not isinstance(reply, dict) or not reply_id or url is None:
            rejected.append("réponse Mastodon sans identifiant ni lien ignorée")
            return None
        when = iso_time(reply.get("created_at"))
        if not mark.is_new(when, reply_id):
            return None
        if text_field(field_of(reply, "account", "id")) == account_id:
            return None  # the account's own reply
        text = html_to_text(text_field(reply.get("content")))
        warning = html_to_text(text_field(reply.get("spoiler_text")))
        if warning:
            text = f"{warning}\n\n{text}" if text else warning
        author = text_field(field_of(reply, "account", "display_name")).strip()
        return comment_item(
            account,
            platform=self.name,
            outlet=self.label,
            comment_id=reply_id,
            url=url,
            text=text,
            author=author or text_field(field_of(reply, "account", "acct")) or None,
            published_at=when,
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
        link = url or f"{base}/web/statuses/{quote(comment_id)}"
        raise SourceError(
            "Mastodon n'offre pas d'API pour masquer la réponse d'un autre compte : ouvrez-la "
            f"({one_line(link)}) et, depuis le compte du Cégep, signalez-la aux modérateurs "
            "de l'instance ou bloquez son auteur"
        )
