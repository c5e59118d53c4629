"""``platform: facebook`` — the comments under a Facebook Page's recent posts.

Options: ``page_id`` (the Page's numeric id) and ``token_env`` (the variable
holding a Page access token with pages_read_engagement and
pages_read_user_content; with pages_manage_engagement, ``write_token_env`` can
name it to hide comments).

A visit asks for the Page's ``posts`` latest posts (``GET /{page-id}/posts``),
then, under each, its comments and replies newest first (``GET
/{post-id}/comments?filter=stream&order=reverse_chronological&since=…``):
``since`` is the start of the cursor's window, and paging stops at the first
comment already seen, or after :data:`MAX_COMMENT_PAGES` pages of
:data:`COMMENT_PAGE` comments (the older ones are then left, and the source's
warning says where). The Page's own replies are not items. A comment's link is
its ``permalink_url``; its author is ``from.name`` when Meta gives it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from urllib.parse import quote, urlencode

from collectors.accounts.base import (
    Account,
    Api,
    Auth,
    Reading,
    Watermark,
    bearer,
    comment_item,
    field_of,
    listing,
)
from collectors.accounts.graph import (
    GRAPH_ORIGIN,
    GRAPH_VERSION,
    after_cursor,
    check,
    graph_hide,
    graph_usage,
)
from collectors.base import Item
from collectors.engines.base import text_field
from collectors.response import Response
from collectors.text import iso_time, web_url

if TYPE_CHECKING:
    from collectors.http import HttpClient

COMMENT_PAGE = 100  # comments asked for per page
MAX_COMMENT_PAGES = 5  # pages of comments read under one post per visit
POST_FIELDS = "id,message,created_time,permalink_url"
COMMENT_FIELDS = "id,message,from,created_time,parent,permalink_url,is_hidden"


class Facebook:
    name: ClassVar[str] = "facebook"
    label: ClassVar[str] = "Facebook"
    origin: ClassVar[str | None] = GRAPH_ORIGIN
    path: ClassVar[str] = "/" + GRAPH_VERSION
    identifier: ClassVar[str] = "page_id"
    identifier_help: ClassVar[str] = "l'identifiant numérique de la Page"
    secret: ClassVar[Literal["token_env", "api_key_env"] | None] = "token_env"
    secret_help: ClassVar[str] = "le jeton d'accès de la Page"
    moderation: ClassVar[bool] = True

    def auth(self, secret: str | None) -> Auth:
        return bearer(secret)

    def check(self, response: Response, api: Api) -> None:
        check(self.label, response, api)

    def usage(self, api: Api, account: Account) -> str:
        return graph_usage(self.label, api)

    async def read(self, api: Api, account: Account, cursor: Mapping[str, Any]) -> Reading:
        mark = Watermark(cursor)
        query = urlencode({"fields": POST_FIELDS, "limit": str(account.posts)})
        posts = listing(
            await api.get(f"{account.base}/{quote(account.id)}/posts?{query}"), "data", self.label
        )
        items: list[Item] = []
        rejected: list[str] = []
        cut: list[str] = []
        for post in posts[: account.posts]:
            post_id = text_field(post.get("id")).strip()
            if not post_id:
                rejected.append("publication Facebook sans identifiant ignorée")
                continue
            message = text_field(post.get("message"))
            complete = await self._comments(api, account, post_id, message, mark, items, rejected)
            if not complete:
                cut.append(post_id)
        warning = None
        if cut:
            warning = (
                f"{len(cut)} publication(s) ont plus de {COMMENT_PAGE * MAX_COMMENT_PAGES} "
                f"commentaires nouveaux : les plus anciens n'ont pas été lus ({', '.join(cut[:3])})"
            )
        return Reading(tuple(items), {"a": account.id, **mark.dump()}, warning, tuple(rejected))

    async def _comments(
        self,
        api: Api,
        account: Account,
        post_id: str,
        message: str,
        mark: Watermark,
        items: list[Item],
        rejected: list[str],
    ) -> bool:
        """Read one post's new comments into ``items``; False when paging was cut short."""
        params = {
            "filter": "stream",
            "order": "reverse_chronological",
            "fields": COMMENT_FIELDS,
            "limit": str(COMMENT_PAGE),
        }
        if mark.since is not None:
            params["since"] = str(mark.since)
        after: str | None = None
        for _ in range(MAX_COMMENT_PAGES):
            query = urlencode({**params, "after": after} if after else params)
            data = await api.get(f"{account.base}/{quote(post_id)}/comments?{query}")
            for comment in listing(data, "data", self.label):
                when = iso_time(comment.get("created_time"))
                if mark.behind(when):
                    return True  # newest first: the rest was seen
                comment_id = text_field(comment.get("id")).strip()
                url = web_url(comment.get("permalink_url"))
                if not comment_id or url is None:
                    rejected.append("commentaire Facebook sans identifiant ni lien ignoré")
                    continue
                if not mark.is_new(when, comment_id):
                    continue
                if text_field(field_of(comment, "from", "id")) == account.id:
                    continue  # the Page's own reply
                items.append(
                    comment_item(
                        account,
                        platform=self.name,
                        outlet=self.label,
                        comment_id=comment_id,
                        url=url,
                        text=text_field(comment.get("message")).strip(),
                        author=text_field(field_of(comment, "from", "name")) or None,
                        published_at=when,
                        post_text=message,
                    )
                )
            after = after_cursor(data)
            if after is None:
                return True
        return False

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
        """``POST /{comment-id}?is_hidden=true``: hidden from everyone but its author and
        their friends (it stays visible to them, as Meta does)."""
        return await graph_hide(
            client,
            label=self.label,
            url=f"{base}/{quote(comment_id)}?is_hidden=true",
            token=token,
            token_env=token_env,
            permission="pages_manage_engagement",
        )
