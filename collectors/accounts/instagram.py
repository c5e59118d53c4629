"""``platform: instagram`` — the comments under an Instagram business or creator
account's recent posts, through the Graph API.

Options: ``ig_user_id`` (the Instagram account's id in the Graph API, not its
@name) and ``token_env`` (the variable holding the token of the Facebook Page
the account is linked to, with instagram_basic, instagram_manage_comments and
pages_read_engagement; the same permissions let ``write_token_env`` hide).

A visit asks for the account's ``posts`` latest media (``GET
/{ig-user-id}/media``), then each one's comments with their replies (``GET
/{ig-media-id}/comments?fields=…,replies{…}``). Instagram has no ``since`` and
no documented order for comments: every page is read, up to
:data:`MAX_COMMENT_PAGES` pages of :data:`COMMENT_PAGE` per post, and the
cursor's window tells the new ones apart. A comment has no link of its own: its
item links to the post (``permalink``) and is told apart by its id. The
account's own replies are not items.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
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
    entries,
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

COMMENT_PAGE = 50  # comments asked for per page
MAX_COMMENT_PAGES = 10  # pages of comments read under one post per visit
MEDIA_FIELDS = "id,caption,permalink,timestamp,username"
COMMENT_FIELDS = "id,text,username,timestamp,hidden,replies{id,text,username,timestamp}"


class Instagram:
    name: ClassVar[str] = "instagram"
    label: ClassVar[str] = "Instagram"
    origin: ClassVar[str | None] = GRAPH_ORIGIN
    path: ClassVar[str] = "/" + GRAPH_VERSION
    identifier: ClassVar[str] = "ig_user_id"
    identifier_help: ClassVar[str] = "l'identifiant du compte Instagram dans la Graph API"
    secret: ClassVar[Literal["token_env", "api_key_env"] | None] = "token_env"
    secret_help: ClassVar[str] = "le jeton d'accès de la Page Facebook liée au compte"
    moderation: ClassVar[bool] = True

    def auth(self, secret: str | None) -> Auth:
        return bearer(secret)

    def check(self, response: Response, api: Api) -> None:
        check(self.label, response, api)

    def usage(self, api: Api, account: Account) -> str:
        return graph_usage(self.label, api)

    async def read(self, api: Api, account: Account, cursor: Mapping[str, Any]) -> Reading:
        mark = Watermark(cursor)
        query = urlencode({"fields": MEDIA_FIELDS, "limit": str(account.posts)})
        data = await api.get(f"{account.base}/{quote(account.id)}/media?{query}")
        items: list[Item] = []
        rejected: list[str] = []
        cut = 0
        for media in listing(data, "data", self.label)[: account.posts]:
            media_id = text_field(media.get("id")).strip()
            link = web_url(media.get("permalink"))
            if not media_id or link is None:
                rejected.append("publication Instagram sans identifiant ni lien ignorée")
                continue
            owner = text_field(media.get("username")).strip()
            post = _Post(media_id, link, text_field(media.get("caption")), owner)
            if not await self._comments(api, account, post, mark, items, rejected):
                cut += 1
        warning = None
        if cut:
            warning = (
                f"{cut} publication(s) ont plus de {COMMENT_PAGE * MAX_COMMENT_PAGES} "
                "commentaires : les suivants n'ont pas été lus"
            )
        return Reading(tuple(items), {"a": account.id, **mark.dump()}, warning, tuple(rejected))

    async def _comments(
        self,
        api: Api,
        account: Account,
        post: _Post,
        mark: Watermark,
        items: list[Item],
        rejected: list[str],
    ) -> bool:
        """Read one post's new comments and replies; False when paging was cut short."""
        params = {"fields": COMMENT_FIELDS, "limit": str(COMMENT_PAGE)}
        after: str | None = None
        for _ in range(MAX_COMMENT_PAGES):
            query = urlencode({**params, "after": after} if after else params)
            data = await api.get(f"{account.base}/{quote(post.id)}/comments?{query}")
            for comment in listing(data, "data", self.label):
                for entry in [comment, *entries(field_of(comment, "replies"))]:
                    item = self._item(account, entry, post, mark, rejected)
                    if item is not None:
                        items.append(item)
            after = after_cursor(data)
            if after is None:
                return True
        return False

    def _item(
        self,
        account: Account,
        comment: dict[str, Any],
        post: _Post,
        mark: Watermark,
        rejected: list[str],
    ) -> Item | None:
        comment_id = text_field(comment.get("id")).strip()
        if not comment_id:
            rejected.append("commentaire Instagram sans identifiant ignoré")
            return None
        when = iso_time(comment.get("timestamp"))
        author = text_field(comment.get("username")).strip()
        if not mark.is_new(when, comment_id) or (author and author == post.owner):
            return None  # seen, or the account's own reply
        return comment_item(
            account,
            platform=self.name,
            outlet=self.label,
            comment_id=comment_id,
            url=post.link,
            text=text_field(comment.get("text")).strip(),
            author=author or None,
            published_at=when,
            post_text=post.caption,
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
        """``POST /{ig-comment-id}?hide=true``: hidden from everyone but its author."""
        return await graph_hide(
            client,
            label=self.label,
            url=f"{base}/{quote(comment_id)}?hide=true",
            token=token,
            token_env=token_env,
            permission="instagram_manage_comments",
        )


@dataclass(frozen=True, slots=True)
class _Post:
    """What a comment's item needs of the post it answers."""

    id: str
    link: str
    caption: str
    owner: str  # the account's @name: its own replies are not items
