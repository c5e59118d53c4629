"""``platform: youtube`` — the comments and replies on a YouTube channel.

Options: ``channel_id`` (the channel's id, ``UC…``, not its @name) and
``api_key_env`` (the variable holding a YouTube Data API v3 key, sent in the
``X-Goog-Api-Key`` header, never in the address). Hiding a comment needs more
than a key: an OAuth token of the channel's owner, named by ``write_token_env``.

A visit reads the channel's comment threads newest first (``GET
/commentThreads?part=snippet,replies&allThreadsRelatedToChannelId=UC…&order=time&maxResults=100``),
each with the replies YouTube includes, page after page (``nextPageToken``)
until a page brings nothing new, :data:`MAX_THREAD_PAGES` pages at most; then
the titles of the videos the new comments answer (``GET /videos?part=snippet&id=…``,
50 a call). ``posts`` does not apply: the threads of all the channel's videos
come in one list. The channel's own comments are not items.

Quota: every call costs 1 unit of the project's 10,000 a day; the visit's cost
is the source's ``usage`` (with the day's total at this ``every``). When the
quota is used up (``quotaExceeded``), the source waits until it is renewed, at
midnight Pacific time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Literal
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from collectors.accounts.base import (
    Account,
    Api,
    ApiRequest,
    Auth,
    HeaderAuth,
    NoAuth,
    Reading,
    Watermark,
    bearer,
    comment_item,
    entries,
    error_body,
    field_of,
    listing,
    platform_error,
    plural,
    short,
    thousands,
)
from collectors.base import Item
from collectors.engines.base import text_field
from collectors.response import MAX_BACKOFF, Response
from collectors.text import html_to_text, iso_time
from veille.errors import SourceError

if TYPE_CHECKING:
    from collectors.http import HttpClient

MAX_THREAD_PAGES = 10  # pages of 100 comment threads read per visit
THREAD_PAGE = 100  # the most YouTube gives per page
VIDEOS_PER_CALL = 50  # ids per videos.list call
DAILY_QUOTA = 10_000  # units a day, YouTube's default for a project
QUOTA_ZONE = "America/Los_Angeles"  # the quota is renewed at midnight Pacific time
QUOTA_REASONS = frozenset({"quotaExceeded", "dailyLimitExceeded"})
RATE_REASONS = frozenset({"rateLimitExceeded", "userRateLimitExceeded"})
KEY_REASONS = frozenset({"keyInvalid", "keyExpired", "API_KEY_INVALID"})


def until_quota_renewal(now: datetime) -> float:
    """Seconds from ``now`` until the next midnight Pacific time (at most MAX_BACKOFF)."""
    try:
        zone = ZoneInfo(QUOTA_ZONE)
    except ZoneInfoNotFoundError:
        return MAX_BACKOFF
    local = now.astimezone(zone)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), zone)
    return min(max((midnight - local).total_seconds(), 60.0), MAX_BACKOFF)


def _reasons(error: Mapping[str, Any]) -> set[str]:
    found = {text_field(entry.get("reason")) for entry in entries(error, "errors")}
    found |= {text_field(entry.get("reason")) for entry in entries(error, "details")}
    return found - {""}


def youtube_error(response: Response, *, every: float, secret: str) -> SourceError:
    """The French reason of a YouTube Data API error answer; ``secret`` says where the
    key or token comes from ("api_key_env VEILLE_YOUTUBE_KEY")."""
    error = error_body(response)
    reasons = _reasons(error)
    message = short(error.get("message"))
    variable = f" ({secret})"
    if reasons & QUOTA_REASONS:
        wait = until_quota_renewal(datetime.now(UTC))
        return SourceError(
            f"YouTube : quota quotidien de l'API épuisé ({thousands(DAILY_QUOTA)} unités) : "
            f"cette source attend son renouvellement à minuit, heure du Pacifique "
            f"(dans {wait:.0f} s)",
            retry_after=wait,
        )
    if response.status in (429, 503):  # Retry-After, whatever the body says
        return platform_error("YouTube", response, every=every)
    if reasons & RATE_REASONS:
        return SourceError(
            f"YouTube : trop de requêtes ({message}) : nouvel essai dans {every:.0f} s",
            retry_after=every,
        )
    if reasons & KEY_REASONS or "API key" in message:
        return SourceError(f"YouTube : clé d'API refusée : vérifiez-la{variable}")
    if response.status == 401:
        return SourceError(f"YouTube : jeton expiré ou invalide : renouvelez-le{variable}")
    if "accessNotConfigured" in reasons or "SERVICE_DISABLED" in reasons:
        return SourceError(
            "YouTube : l'API YouTube Data v3 n'est pas activée pour le projet Google Cloud "
            "de cette clé"
        )
    if "channelNotFound" in reasons or response.status == 404:
        return SourceError(f"YouTube : chaîne ou commentaire introuvable ({message})")
    if "commentsDisabled" in reasons:
        return SourceError("YouTube : les commentaires sont désactivés")
    if response.status == 403 and message:
        return SourceError(f"YouTube : accès refusé ({message})")
    return platform_error("YouTube", response, every=every)


class YouTube:
    name: ClassVar[str] = "youtube"
    label: ClassVar[str] = "YouTube"
    origin: ClassVar[str | None] = "https://www.googleapis.com"
    path: ClassVar[str] = "/youtube/v3"
    identifier: ClassVar[str] = "channel_id"
    identifier_help: ClassVar[str] = "l'identifiant de la chaîne (UC…)"
    secret: ClassVar[Literal["token_env", "api_key_env"] | None] = "api_key_env"
    secret_help: ClassVar[str] = "une clé d'API YouTube Data v3"
    moderation: ClassVar[bool] = True

    def auth(self, secret: str | None) -> Auth:
        return HeaderAuth("X-Goog-Api-Key", secret) if secret else NoAuth()

    def check(self, response: Response, api: Api) -> None:
        if response.status >= 400:
            variable = api.account.secret_env
            secret = f"api_key_env {variable}" if variable else "api_key_env"
            raise youtube_error(response, every=api.account.every, secret=secret)

    def usage(self, api: Api, account: Account) -> str:
        per_day = math.ceil(api.requests * 86400 / account.every)
        return (
            f"{plural(api.requests, 'requête')}, {plural(api.requests, 'unité')} YouTube sur "
            f"{thousands(DAILY_QUOTA)} par jour (à ce rythme, environ "
            f"{thousands(per_day)} par jour)"
        )

    async def read(self, api: Api, account: Account, cursor: Mapping[str, Any]) -> Reading:
        mark = Watermark(cursor)
        found: list[tuple[str, dict[str, Any], str]] = []  # (video id, comment, comment id)
        rejected: list[str] = []
        params = {
            "part": "snippet,replies",
            "allThreadsRelatedToChannelId": account.id,
            "maxResults": str(THREAD_PAGE),
            "order": "time",
        }
        token: str | None = None
        cut = False
        for page in range(MAX_THREAD_PAGES):
            query = urlencode({**params, "pageToken": token} if token else params)
            data = await api.get(f"{account.base}/commentThreads?{query}")
            fresh = 0
            for thread in listing(data, "items", self.label):
                top = field_of(thread, "snippet", "topLevelComment")
                video = text_field(field_of(thread, "snippet", "videoId")) or text_field(
                    field_of(top, "snippet", "videoId")
                )
                for comment in [top, *entries(field_of(thread, "replies"), "comments")]:
                    comment_id = text_field(field_of(comment, "id")).strip()
                    if not isinstance(comment, dict) or not comment_id:
                        rejected.append("commentaire YouTube sans identifiant ignoré")
                        continue
                    when = iso_time(field_of(comment, "snippet", "publishedAt"))
                    if not mark.is_new(when, comment_id):
                        continue
                    fresh += 1
                    author_channel = field_of(comment, "snippet", "authorChannelId", "value")
                    if text_field(author_channel) != account.id:  # not the channel's own
                        found.append((video, comment, comment_id))
            token = text_field(field_of(data, "nextPageToken")) or None
            if token is None or (fresh == 0 and mark.start is not None):
                break
            cut = page == MAX_THREAD_PAGES - 1
        titles = await self._titles(api, account, sorted({video for video, _, _ in found if video}))
        items = tuple(
            self._item(account, video, comment, comment_id, titles.get(video))
            for video, comment, comment_id in found
        )
        warning = (
            f"plus de {THREAD_PAGE * MAX_THREAD_PAGES} fils de commentaires nouveaux : "
            "les plus anciens n'ont pas été lus"
            if cut
            else None
        )
        return Reading(items, {"a": account.id, **mark.dump()}, warning, tuple(rejected))

    async def _titles(self, api: Api, account: Account, videos: list[str]) -> dict[str, str]:
        """The titles of these videos (one call, one unit, per VIDEOS_PER_CALL)."""
        titles: dict[str, str] = {}
        for start in range(0, len(videos), VIDEOS_PER_CALL):
            ids = ",".join(videos[start : start + VIDEOS_PER_CALL])
            query = urlencode({"part": "snippet", "id": ids, "maxResults": str(VIDEOS_PER_CALL)})
            data = await api.get(f"{account.base}/videos?{query}")
            for video in entries(data, "items"):
                title = text_field(field_of(video, "snippet", "title"))
                if title:
                    titles[text_field(video.get("id"))] = title
        return titles

    def _item(
        self,
        account: Account,
        video: str,
        comment: dict[str, Any],
        comment_id: str,
        title: str | None,
    ) -> Item:
        snippet = field_of(comment, "snippet")
        text = text_field(field_of(snippet, "textOriginal")) or html_to_text(
            text_field(field_of(snippet, "textDisplay"))
        )
        if video:
            url = f"https://www.youtube.com/watch?{urlencode({'v': video, 'lc': comment_id})}"
        else:  # a comment on the channel itself
            channel = f"https://www.youtube.com/channel/{quote(account.id)}"
            url = f"{channel}?{urlencode({'lc': comment_id})}"
        return comment_item(
            account,
            platform=self.name,
            outlet=self.label,
            comment_id=comment_id,
            url=url,
            text=text.strip(),
            author=text_field(field_of(snippet, "authorDisplayName")) or None,
            published_at=iso_time(field_of(snippet, "publishedAt")),
            post_text=title,
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
        """``comments.setModerationStatus`` (heldForReview, 50 units): the comment waits
        in YouTube Studio's review queue, where the owner publishes or removes it."""
        if not token:
            raise SourceError(
                "YouTube : masquer un commentaire demande un jeton OAuth du propriétaire de la "
                "chaîne (portée youtube.force-ssl) : la clé d'API ne suffit pas ; nommez la "
                "variable du jeton avec write_token_env"
            )
        query = urlencode({"id": comment_id, "moderationStatus": "heldForReview"})
        request = ApiRequest(f"{base}/comments/setModerationStatus?{query}", method="POST")
        outgoing = next(bearer(token).auth_flow(request))
        response = await client.post(outgoing.url, form={}, headers=dict(outgoing.headers))
        if response.status >= 400:
            secret = f"write_token_env {token_env}" if token_env else "write_token_env"
            raise youtube_error(response, every=3600.0, secret=secret)
        return (
            f"commentaire retenu pour examen (heldForReview) sur YouTube : réponse "
            f"{response.status} ; 50 unités de quota"
        )
