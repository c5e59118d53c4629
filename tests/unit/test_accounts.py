"""``type: account``: each platform against a local server answering like its API
(posts → comments → replies, paging, bounds, errors, the cursor, the cost of a
visit, hiding), the options in config.yaml, and the cursor's window."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import collectors
from collectors.accounts import PLATFORMS
from collectors.accounts.base import GRACE, Watermark, dump_cursor, load_cursor
from collectors.accounts.collector import AccountCollector, AccountSource, hide_comment
from collectors.accounts.facebook import COMMENT_PAGE, MAX_COMMENT_PAGES
from collectors.accounts.instagram import MAX_COMMENT_PAGES as IG_MAX_PAGES
from collectors.accounts.youtube import MAX_THREAD_PAGES, until_quota_renewal
from collectors.base import MAX_CURSOR, Collection, SourceState
from collectors.http import HttpClient
from tests.accounts_server import ApiServer, fixture
from veille.config import HttpConfig, load_config
from veille.errors import ConfigError, SourceError

PAGE = "100064528817623"
P1, P2 = f"{PAGE}_1001", f"{PAGE}_1002"
IG_USER = "17841400000000000"
M1, M2 = "17900000000000001", "17900000000000002"
CHANNEL = "UCabcdefghijklmnopqrstuv"
ME = "109000000000000001"
HANDLE = "cegepdrummond.bsky.social"
DID = "did:plc:cegepdrummond00000000000"


@pytest.fixture
def api() -> Iterator[ApiServer]:
    server = ApiServer()
    yield server
    server.close()


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FB_TOKEN", "jeton-de-page-secret")
    monkeypatch.setenv("FB_WRITE", "jeton-moderation-secret")
    monkeypatch.setenv("IG_TOKEN", "jeton-ig-secret")
    monkeypatch.setenv("YT_KEY", "cle-youtube-secrete")
    monkeypatch.setenv("YT_OAUTH", "jeton-oauth-secret")


def source(platform: str, **options: Any) -> AccountSource:
    data = {"name": f"{platform} du Cégep", "type": "account", "platform": platform, **options}
    return AccountSource.model_validate(data)


def _client() -> HttpClient:
    return HttpClient(HttpConfig(timeout=timedelta(seconds=3), per_host_delay=timedelta(0)))


def collect(options: AccountSource, state: SourceState | None = None) -> Collection:
    async def run() -> Collection:
        async with _client() as client:
            return await AccountCollector(options).collect(client, state or SourceState())

    return asyncio.run(run())


def hide(options: AccountSource, comment_id: str, url: str | None = None) -> str:
    async def run() -> str:
        async with _client() as client:
            return await hide_comment(client, options, comment_id, url=url)

    return asyncio.run(run())


def by_guid(collection: Collection) -> dict[str, Any]:
    return {item.guid: item for item in collection.items}


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp())


# --- Facebook -------------------------------------------------------------------------


def facebook(api: ApiServer, **options: Any) -> AccountSource:
    return source("facebook", page_id=PAGE, token_env="FB_TOKEN", url=api.base, **options)


def serve_facebook(api: ApiServer) -> None:
    api.add(f"/v24.0/{PAGE}/posts", fixture("facebook", "posts"))
    api.add(f"/v24.0/{P1}/comments", fixture("facebook", "comments_1001_p1"))
    api.add(
        f"/v24.0/{P1}/comments", fixture("facebook", "comments_1001_p2"), when={"after": "QVFIUc2"}
    )
    api.add(f"/v24.0/{P2}/comments", fixture("facebook", "comments_1002"))


def test_facebook_posts_comments_and_replies_become_items(api: ApiServer, secrets: None) -> None:
    serve_facebook(api)

    collection = collect(facebook(api))

    items = by_guid(collection)
    assert set(items) == {"1001_9003", "1001_9002", "1001_9001", "1002_9101"}  # not the Page's
    reply = items["1001_9002"]
    assert reply.url == f"https://www.facebook.com/{PAGE}/posts/1001?comment_id=9002"
    assert reply.title == reply.text == "t'es juste un crisse de cave"
    assert reply.author == "Marc Gagnon"
    assert reply.reply_to.startswith("Portes ouvertes samedi au Cégep de Drummondville !")
    assert reply.outlet == "Facebook" and reply.key == "facebook:1001_9002"
    assert reply.published_at == datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
    assert not reply.dedup_by_title
    assert items["1002_9101"].reply_to.startswith("Félicitations à nos finissantes")
    (posts,) = api.hits_for(f"/v24.0/{PAGE}/posts")
    assert posts.query == {"fields": "id,message,created_time,permalink_url", "limit": "25"}
    first, second = api.hits_for(f"/v24.0/{P1}/comments")
    assert first.query["filter"] == "stream" and first.query["order"] == "reverse_chronological"
    assert "parent" in first.query["fields"] and "since" not in first.query
    assert second.query["after"] == "QVFIUc2"  # the cursor, on our own address
    for hit in api.hits:
        assert hit.headers["Authorization"] == "Bearer jeton-de-page-secret"
        assert "secret" not in json.dumps(hit.query)
    assert collection.usage == "4 requêtes à la Graph API de Facebook"
    assert collection.state.cursor is not None and len(collection.state.cursor) <= MAX_CURSOR


def test_facebook_second_visit_asks_since_and_returns_only_what_is_new(
    api: ApiServer, secrets: None
) -> None:
    serve_facebook(api)
    first = collect(facebook(api))
    api.hits.clear()
    api.routes[f"/v24.0/{P1}/comments"] = []
    api.add(f"/v24.0/{P1}/comments", fixture("facebook", "comments_1001_again"))

    second = collect(facebook(api), first.state)

    assert [item.guid for item in second.items] == ["1001_9005"]
    newest = str(epoch("2026-11-20T15:30:00+00:00"))
    for path in (f"/v24.0/{P1}/comments", f"/v24.0/{P2}/comments"):
        (hit,) = api.hits_for(path)  # newest first: paging stops at what was seen
        assert hit.query["since"] == newest

    third = collect(facebook(api), second.state)
    assert third.items == ()


def test_facebook_paging_is_bounded(api: ApiServer, secrets: None) -> None:
    api.add(f"/v24.0/{PAGE}/posts", {"data": [{"id": P1, "message": "Rentrée"}]})
    day = datetime(2026, 11, 20, tzinfo=UTC)

    def page(number: int) -> dict[str, Any]:
        comments = [
            {
                "id": f"1001_{number}{index:03d}",
                "message": f"commentaire {number}-{index}",
                "created_time": (day - timedelta(minutes=number * 1000 + index)).isoformat(),
                "permalink_url": f"https://www.facebook.com/c/{number}{index}",
            }
            for index in range(COMMENT_PAGE)
        ]
        paging = {"cursors": {"after": f"p{number + 1}"}, "next": "https://graph.facebook.com/x"}
        return {"data": comments, "paging": paging}

    api.add(f"/v24.0/{P1}/comments", page(0))
    for number in range(1, MAX_COMMENT_PAGES + 2):
        api.add(f"/v24.0/{P1}/comments", page(number), when={"after": f"p{number}"})

    collection = collect(facebook(api))

    assert len(api.hits_for(f"/v24.0/{P1}/comments")) == MAX_COMMENT_PAGES
    assert len(collection.items) == MAX_COMMENT_PAGES * COMMENT_PAGE
    assert collection.warning is not None and "1 publication(s)" in collection.warning


@pytest.mark.parametrize(
    ("status", "body", "headers", "reason", "wait"),
    [
        (
            400,
            "error_190",
            {},
            "jeton expiré ou invalide : renouvelez-le (token_env FB_TOKEN)",
            None,
        ),
        (403, "error_32", {}, "limite d'appels Meta atteinte (code 32)", 3600),
        (429, "comments_empty", {"Retry-After": "120"}, "limite d'appels Meta", 120),
        (500, "comments_empty", {}, "Facebook : erreur HTTP 500 (erreur du serveur)", None),
        (503, "comments_empty", {"Retry-After": "30"}, "service indisponible", 30),
    ],
)
def test_facebook_errors_fail_this_source_in_french(
    api: ApiServer,
    secrets: None,
    status: int,
    body: str,
    headers: dict[str, str],
    reason: str,
    wait: float | None,
) -> None:
    api.add(f"/v24.0/{PAGE}/posts", fixture("facebook", body), status=status, headers=headers)

    with pytest.raises(SourceError) as caught:
        collect(facebook(api))

    assert reason in str(caught.value)
    assert caught.value.retry_after == wait
    assert "secret" not in str(caught.value)


def test_meta_usage_header_near_the_limit_makes_the_source_wait(
    api: ApiServer, secrets: None
) -> None:
    usage = {PAGE: [{"type": "pages", "call_count": 95, "total_cputime": 12, "total_time": 20,
                     "estimated_time_to_regain_access": 7}]}  # fmt: skip
    header = {"X-Business-Use-Case-Usage": json.dumps(usage)}
    api.add(f"/v24.0/{PAGE}/posts", fixture("facebook", "posts"), headers=header)

    with pytest.raises(SourceError) as caught:
        collect(facebook(api))

    assert "95 %" in str(caught.value) and "« pages »" in str(caught.value)
    assert caught.value.retry_after == 7 * 60
    assert len(api.hits) == 1  # nothing more was asked


def test_meta_usage_below_the_limit_is_shown_in_the_cost(api: ApiServer, secrets: None) -> None:
    serve_facebook(api)
    api.add(
        f"/v24.0/{PAGE}/posts",
        fixture("facebook", "posts"),
        headers={"X-App-Usage": '{"call_count": 40, "total_cputime": 5, "total_time": 8}'},
    )

    collection = collect(facebook(api))

    assert (
        collection.usage == "4 requêtes à la Graph API de Facebook, utilisation Meta au plus 40 %"
    )


def test_a_missing_variable_fails_this_source_naming_it(
    api: ApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FB_TOKEN", raising=False)
    serve_facebook(api)

    with pytest.raises(SourceError) as caught:
        collect(facebook(api))

    assert str(caught.value) == (
        "la variable d'environnement FB_TOKEN (le jeton d'accès de la Page) n'est pas définie"
    )
    assert api.hits == []
    assert facebook(api).warnings() == [
        "la variable d'environnement FB_TOKEN n'est pas définie dans cet environnement"
    ]


def test_facebook_hides_a_comment_with_the_write_token(api: ApiServer, secrets: None) -> None:
    api.add("/v24.0/1001_9002", fixture("facebook", "hide"))

    answer = hide(facebook(api, write_token_env="FB_WRITE"), "1001_9002")

    assert answer == "commentaire masqué sur Facebook (réponse de Meta : success)"
    (hit,) = api.hits
    assert hit.method == "POST" and hit.query == {"is_hidden": "true"}
    assert hit.headers["Authorization"] == "Bearer jeton-moderation-secret"


def test_facebook_hide_needs_a_write_token_and_says_when_it_expired(
    api: ApiServer, secrets: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SourceError, match="pages_manage_engagement.*write_token_env"):
        hide(facebook(api), "1001_9002")
    api.add("/v24.0/1001_9002", fixture("facebook", "error_190"), status=400)
    with pytest.raises(
        SourceError, match=r"jeton expiré ou invalide : renouvelez-le \(write_token_env FB_WRITE\)"
    ):
        hide(facebook(api, write_token_env="FB_WRITE"), "1001_9002")
    monkeypatch.delenv("FB_WRITE")
    with pytest.raises(SourceError, match="FB_WRITE .*n'est pas définie"):
        hide(facebook(api, write_token_env="FB_WRITE"), "1001_9002")


# --- Instagram ------------------------------------------------------------------------


def instagram(api: ApiServer, **options: Any) -> AccountSource:
    return source("instagram", ig_user_id=IG_USER, token_env="IG_TOKEN", url=api.base, **options)


def serve_instagram(api: ApiServer) -> None:
    api.add(f"/v24.0/{IG_USER}/media", fixture("instagram", "media"))
    api.add(f"/v24.0/{M1}/comments", fixture("instagram", "comments_1_p1"))
    api.add(f"/v24.0/{M1}/comments", fixture("instagram", "comments_1_p2"), when={"after": "QVFIb"})
    api.add(f"/v24.0/{M2}/comments", fixture("instagram", "comments_2"))


def test_instagram_comments_and_replies_become_items(api: ApiServer, secrets: None) -> None:
    serve_instagram(api)

    collection = collect(instagram(api))

    items = by_guid(collection)
    assert set(items) == {"17850000000000011", "17850000000000012", "17850000000000014"}
    reply = items["17850000000000012"]
    assert reply.url == "https://www.instagram.com/p/DAbc123/"  # a comment has no link
    assert reply.key == "instagram:17850000000000012" != items["17850000000000011"].key
    assert reply.author == "leo_gauthier" and reply.outlet == "Instagram"
    assert reply.title == "@emma.cote on se voit là-bas"
    assert reply.reply_to.startswith("Journée portes ouvertes au Cégep")
    assert items["17850000000000014"].text == "Le pire cégep, des profs incompétents"
    (media,) = api.hits_for(f"/v24.0/{IG_USER}/media")
    assert media.query["limit"] == "25" and "permalink" in media.query["fields"]
    first, second = api.hits_for(f"/v24.0/{M1}/comments")
    assert "replies{id,text,username,timestamp}" in first.query["fields"]
    assert second.query["after"] == "QVFIb"
    assert all(hit.headers["Authorization"] == "Bearer jeton-ig-secret" for hit in api.hits)
    assert collection.usage == "4 requêtes à la Graph API de Instagram"


def test_instagram_second_visit_returns_only_new_comments(api: ApiServer, secrets: None) -> None:
    serve_instagram(api)
    first = collect(instagram(api))
    assert collect(instagram(api), first.state).items == ()
    new = fixture("instagram", "comments_2")
    new["data"] = [
        {"id": "17850000000000099", "text": "On peut visiter les labos?",
         "username": "zoe", "timestamp": "2026-11-21T08:00:00+0000"}
    ]  # fmt: skip
    api.add(f"/v24.0/{M2}/comments", new)

    third = collect(instagram(api), first.state)

    assert [item.guid for item in third.items] == ["17850000000000099"]


def test_instagram_paging_is_bounded(api: ApiServer, secrets: None) -> None:
    api.add(f"/v24.0/{IG_USER}/media", {"data": [{"id": M1, "permalink": "https://i.example/p"}]})
    endless = {"data": [], "paging": {"cursors": {"after": "encore"}, "next": "https://x.example"}}
    api.add(f"/v24.0/{M1}/comments", endless)

    collection = collect(instagram(api))

    assert len(api.hits_for(f"/v24.0/{M1}/comments")) == IG_MAX_PAGES
    assert collection.warning is not None and "n'ont pas été lus" in collection.warning


def test_instagram_expired_token_and_hide(api: ApiServer, secrets: None) -> None:
    api.add(f"/v24.0/{IG_USER}/media", fixture("facebook", "error_190"), status=400)
    with pytest.raises(SourceError, match=r"Instagram : jeton expiré .*\(token_env IG_TOKEN\)"):
        collect(instagram(api))
    api.add("/v24.0/17850000000000014", fixture("facebook", "hide"))

    answer = hide(instagram(api, write_token_env="IG_TOKEN"), "17850000000000014")

    assert answer == "commentaire masqué sur Instagram (réponse de Meta : success)"
    (hit,) = api.hits_for("/v24.0/17850000000000014")
    assert hit.method == "POST" and hit.query == {"hide": "true"}


# --- YouTube --------------------------------------------------------------------------


def youtube(api: ApiServer, **options: Any) -> AccountSource:
    return source("youtube", channel_id=CHANNEL, api_key_env="YT_KEY", url=api.base, **options)


def serve_youtube(api: ApiServer) -> None:
    api.add("/youtube/v3/commentThreads", fixture("youtube", "threads_p1"))
    api.add(
        "/youtube/v3/commentThreads",
        fixture("youtube", "threads_p2"),
        when={"pageToken": "QURTSl9pM2"},
    )
    api.add("/youtube/v3/videos", fixture("youtube", "videos"))


def test_youtube_threads_and_replies_become_items(api: ApiServer, secrets: None) -> None:
    serve_youtube(api)

    collection = collect(youtube(api))

    items = by_guid(collection)
    assert set(items) == {"UgzAAA1", "UgzAAA1.9xR2", "UgzAAA2", "UgzAAA3"}  # not the channel's
    reply = items["UgzAAA1.9xR2"]
    assert reply.url == "https://www.youtube.com/watch?v=vid00000001&lc=UgzAAA1.9xR2"
    assert reply.author == "Troll Québec" and reply.outlet == "YouTube"
    assert reply.title == "Tu dis ça parce que t'es payée, espèce de cave"
    assert reply.reply_to == "Découvrez le programme de Techniques de génie mécanique"
    assert items["UgzAAA3"].text == "Belle présentation du programme & des labos"
    assert items["UgzAAA2"].reply_to == "Visite virtuelle du campus"
    first, second = api.hits_for("/youtube/v3/commentThreads")
    assert first.query == {
        "part": "snippet,replies",
        "allThreadsRelatedToChannelId": CHANNEL,
        "maxResults": "100",
        "order": "time",
    }
    assert second.query["pageToken"] == "QURTSl9pM2"
    (videos,) = api.hits_for("/youtube/v3/videos")
    assert videos.query["id"] == "vid00000001,vid00000002"
    for hit in api.hits:
        assert hit.headers["X-Goog-Api-Key"] == "cle-youtube-secrete"
        assert "key" not in hit.query
    assert collection.usage == (
        "3 requêtes, 3 unités YouTube sur 10 000 par jour (à ce rythme, environ 72 par jour)"
    )


def test_youtube_second_visit_stops_at_what_was_seen(api: ApiServer, secrets: None) -> None:
    serve_youtube(api)
    first = collect(youtube(api))
    api.hits.clear()
    api.add("/youtube/v3/commentThreads", fixture("youtube", "threads_again"))

    second = collect(youtube(api, every="30m"), first.state)

    assert [item.guid for item in second.items] == ["UgzAAA4"]
    assert len(api.hits_for("/youtube/v3/commentThreads")) == 2  # page 2 brought nothing new
    assert api.hits_for("/youtube/v3/videos")[0].query["id"] == "vid00000002"
    api.hits.clear()

    third = collect(youtube(api), second.state)

    assert third.items == ()
    assert [hit.path for hit in api.hits] == ["/youtube/v3/commentThreads"]
    assert third.usage is not None and third.usage.startswith("1 requête, 1 unité YouTube")


def test_youtube_paging_is_bounded(api: ApiServer, secrets: None) -> None:
    def page(number: int) -> dict[str, Any]:
        when = f"2026-11-{20 - number:02d}T00:00:00Z"
        snippet = {"videoId": "v1", "textOriginal": f"n° {number}", "publishedAt": when}
        top = {"id": f"Ugz{number}", "snippet": snippet}
        thread = {"id": f"Ugz{number}", "snippet": {"videoId": "v1", "topLevelComment": top}}
        return {"items": [thread], "nextPageToken": f"t{number + 1}"}

    api.add("/youtube/v3/commentThreads", page(0))
    for number in range(1, MAX_THREAD_PAGES + 2):
        api.add("/youtube/v3/commentThreads", page(number), when={"pageToken": f"t{number}"})
    api.add("/youtube/v3/videos", {"items": []})

    collection = collect(youtube(api))

    assert len(api.hits_for("/youtube/v3/commentThreads")) == MAX_THREAD_PAGES
    assert len(collection.items) == MAX_THREAD_PAGES
    assert collection.warning is not None and "les plus anciens" in collection.warning


def test_youtube_quota_exceeded_waits_until_pacific_midnight(api: ApiServer, secrets: None) -> None:
    api.add("/youtube/v3/commentThreads", fixture("youtube", "error_quota"), status=403)

    with pytest.raises(SourceError) as caught:
        collect(youtube(api))

    assert "quota quotidien de l'API épuisé (10 000 unités)" in str(caught.value)
    assert caught.value.retry_after is not None and 60 <= caught.value.retry_after <= 86400
    # 07:00 UTC is 23:00 in Los Angeles in November (PST): one hour to go
    assert until_quota_renewal(datetime(2026, 11, 20, 7, 0, tzinfo=UTC)) == 3600
    # in July (PDT, UTC-7), 06:30 UTC is 23:30 the day before: half an hour
    assert until_quota_renewal(datetime(2026, 7, 1, 6, 30, tzinfo=UTC)) == 1800


@pytest.mark.parametrize(
    ("status", "body", "headers", "reason", "wait"),
    [
        (
            400,
            "error_key",
            {},
            "YouTube : clé d'API refusée : vérifiez-la (api_key_env YT_KEY)",
            None,
        ),
        (403, "error_forbidden", {}, "YouTube : accès refusé (The comment could not", None),
        (
            429,
            "error_key",
            {"Retry-After": "60"},
            "(trop de requêtes) (nouvel essai dans 60 s)",
            60,
        ),
        (500, "videos", {}, "YouTube : erreur HTTP 500", None),
    ],
)
def test_youtube_errors(
    api: ApiServer,
    secrets: None,
    status: int,
    body: str,
    headers: dict[str, str],
    reason: str,
    wait: float | None,
) -> None:
    api.add("/youtube/v3/commentThreads", fixture("youtube", body), status=status, headers=headers)

    with pytest.raises(SourceError) as caught:
        collect(youtube(api))

    assert reason in str(caught.value)
    assert caught.value.retry_after == wait


def test_youtube_hide_needs_the_owners_oauth_token(api: ApiServer, secrets: None) -> None:
    with pytest.raises(SourceError, match="jeton OAuth du propriétaire de la chaîne"):
        hide(youtube(api), "UgzAAA1.9xR2")
    api.add("/youtube/v3/comments/setModerationStatus", b"", status=204)

    answer = hide(youtube(api, write_token_env="YT_OAUTH"), "UgzAAA1.9xR2")

    assert "retenu pour examen (heldForReview)" in answer and "204" in answer
    (hit,) = api.hits
    assert hit.method == "POST"
    assert hit.query == {"id": "UgzAAA1.9xR2", "moderationStatus": "heldForReview"}
    assert hit.headers["Authorization"] == "Bearer jeton-oauth-secret"
    api.add(
        "/youtube/v3/comments/setModerationStatus",
        fixture("youtube", "error_forbidden"),
        status=403,
    )
    with pytest.raises(SourceError, match="YouTube : accès refusé"):
        hide(youtube(api, write_token_env="YT_OAUTH"), "UgzAAA1.9xR2")


# --- Mastodon -------------------------------------------------------------------------


def mastodon(api: ApiServer, **options: Any) -> AccountSource:
    return source("mastodon", instance=api.base, acct="cegepdrummond", **options)


def serve_mastodon(api: ApiServer) -> None:
    api.add("/api/v1/accounts/lookup", fixture("mastodon", "lookup"))
    api.add(f"/api/v1/accounts/{ME}/statuses", fixture("mastodon", "statuses"))
    api.add("/api/v1/statuses/111000000000000010/context", fixture("mastodon", "context_1"))
    api.add("/api/v1/statuses/111000000000000005/context", fixture("mastodon", "context_2"))


def test_mastodon_replies_become_items(api: ApiServer) -> None:
    serve_mastodon(api)

    collection = collect(mastodon(api))

    items = by_guid(collection)
    assert set(items) == {"111000000000000021", "111000000000000023"}  # not the college's
    question = items["111000000000000021"]
    assert question.url == "https://piaille.fr/@marie/111000000000000021"
    assert question.text.startswith("@cegepdrummond Est-ce que la date limite")
    assert question.author == "Marie L." and question.outlet == "Mastodon"
    assert (
        question.reply_to
        == "La rentrée d'hiver approche ! Inscriptions jusqu'au 1er décembre. #CegepDrummond"
    )
    insult = items["111000000000000023"]
    assert insult.text.endswith("Bande d'incompétents.")
    assert insult.author == "jf@mastodon.social"  # no display name
    (lookup,) = api.hits_for("/api/v1/accounts/lookup")
    assert lookup.query == {"acct": "cegepdrummond"}
    (statuses,) = api.hits_for(f"/api/v1/accounts/{ME}/statuses")
    assert statuses.query == {
        "limit": "25",
        "exclude_replies": "true",
        "exclude_reblogs": "true",
    }
    assert collection.usage == "4 requêtes (limite de l'instance : 300 par 5 min)"


def test_mastodon_second_visit_keeps_the_account_id_and_returns_only_new(
    api: ApiServer,
) -> None:
    serve_mastodon(api)
    first = collect(mastodon(api))
    api.hits.clear()
    context = fixture("mastodon", "context_1")
    late = dict(context["descendants"][0], id="111000000000000030", url="https://x.example/30")
    late["created_at"] = "2026-11-19T09:00:00.000Z"  # federated late: older than the newest
    context["descendants"].append(late)
    api.add("/api/v1/statuses/111000000000000010/context", context)

    second = collect(mastodon(api), first.state)

    assert [item.guid for item in second.items] == ["111000000000000030"]
    assert api.hits_for("/api/v1/accounts/lookup") == []
    assert collect(mastodon(api), second.state).items == ()


def test_mastodon_pages_statuses_up_to_posts(api: ApiServer) -> None:
    serve_mastodon(api)
    status = fixture("mastodon", "statuses")[0]
    first_page = [dict(status, id=str(1000 - n)) for n in range(40)]
    second_page = [dict(status, id=str(900 - n)) for n in range(10)]
    api.add(f"/api/v1/accounts/{ME}/statuses", first_page)
    api.add(f"/api/v1/accounts/{ME}/statuses", second_page, when={"max_id": "961"})
    api.add("/api/v1/statuses/961/context", fixture("mastodon", "context_2"))

    collect(mastodon(api, posts=50))

    first, second = api.hits_for(f"/api/v1/accounts/{ME}/statuses")
    assert first.query["limit"] == "40" and second.query == {
        "limit": "10",
        "exclude_replies": "true",
        "exclude_reblogs": "true",
        "max_id": "961",
    }
    assert len([hit for hit in api.hits if hit.path.endswith("/context")]) == 50


def test_mastodon_rate_limit_and_missing_account(api: ApiServer) -> None:
    reset = (datetime.now(UTC) + timedelta(seconds=200)).isoformat()
    api.add(
        "/api/v1/accounts/lookup",
        fixture("mastodon", "lookup"),
        headers={"X-RateLimit-Remaining": "2", "X-RateLimit-Reset": reset},
    )
    with pytest.raises(SourceError, match="limite de requêtes de l'instance") as caught:
        collect(mastodon(api))
    assert caught.value.retry_after is not None and 190 <= caught.value.retry_after <= 200
    api.add("/api/v1/accounts/lookup", {"error": "Record not found"}, status=404)
    with pytest.raises(SourceError, match="compte introuvable : vérifiez acct et instance"):
        collect(mastodon(api))
    api.add("/api/v1/accounts/lookup", {"error": "Too many"}, status=429)
    with pytest.raises(SourceError) as caught:
        collect(mastodon(api))
    assert caught.value.retry_after == 300  # no reset given: Mastodon's window


def test_mastodon_post_deleted_meanwhile_is_skipped(api: ApiServer) -> None:
    serve_mastodon(api)
    api.add("/api/v1/statuses/111000000000000005/context", {"error": "gone"}, status=404)

    collection = collect(mastodon(api))

    assert len(collection.items) == 2
    assert collection.warning == "1 publication(s) disparue(s) pendant la visite"


def test_mastodon_has_no_api_to_hide(api: ApiServer) -> None:
    url = "https://piaille.fr/@marie/111000000000000021"
    with pytest.raises(SourceError) as caught:
        hide(mastodon(api), "111000000000000021", url=url)
    assert "Mastodon n'offre pas d'API pour masquer" in str(caught.value)
    assert url in str(caught.value)
    assert api.hits == []


# --- Bluesky --------------------------------------------------------------------------


def bluesky(api: ApiServer, **options: Any) -> AccountSource:
    return source("bluesky", handle=HANDLE, url=api.base, **options)


def serve_bluesky(api: ApiServer) -> None:
    api.add("/xrpc/app.bsky.feed.getAuthorFeed", fixture("bluesky", "feed"))
    thread = "/xrpc/app.bsky.feed.getPostThread"
    api.add(thread, fixture("bluesky", "thread_1"),
            when={"uri": f"at://{DID}/app.bsky.feed.post/3kabc000001"})  # fmt: skip
    api.add(thread, fixture("bluesky", "thread_2"),
            when={"uri": f"at://{DID}/app.bsky.feed.post/3kabc000002"})  # fmt: skip


def test_bluesky_replies_become_items(api: ApiServer) -> None:
    serve_bluesky(api)

    collection = collect(bluesky(api))

    items = by_guid(collection)
    alice = "at://did:plc:alice000000000000000000/app.bsky.feed.post/3kdef000001"
    troll = "at://did:plc:troll000000000000000000/app.bsky.feed.post/3kdef000002"
    assert set(items) == {alice, troll}  # not the college's own, nor blocked or deleted ones
    assert items[alice].url == "https://bsky.app/profile/alice.bsky.social/post/3kdef000001"
    assert items[alice].author == "Alice B." and items[alice].outlet == "Bluesky"
    assert items[troll].author == "troll.bsky.social"  # no display name
    assert items[troll].text == "@alice.bsky.social t'as rien compris, gang de caves"
    assert items[troll].reply_to.startswith("Bonne fin de session à toute la communauté")
    assert items[troll].published_at == datetime(2026, 11, 18, 17, 0, tzinfo=UTC)
    (feed,) = api.hits_for("/xrpc/app.bsky.feed.getAuthorFeed")
    assert feed.query == {"actor": HANDLE, "limit": "25", "filter": "posts_no_replies"}
    threads = api.hits_for("/xrpc/app.bsky.feed.getPostThread")
    assert [hit.query["uri"].rsplit("/", 1)[1] for hit in threads] == ["3kabc000001", "3kabc000002"]
    assert all(hit.query["depth"] == "6" for hit in threads)  # the repost is not read
    assert collection.usage == "3 requêtes (limite : 3 000 par 5 min par adresse)"


def test_bluesky_second_visit_returns_only_new(api: ApiServer) -> None:
    serve_bluesky(api)
    first = collect(bluesky(api))
    assert collect(bluesky(api), first.state).items == ()
    thread = fixture("bluesky", "thread_2")
    reply = json.loads(json.dumps(fixture("bluesky", "thread_1")["thread"]["replies"][0]))
    reply["post"]["uri"] = "at://did:plc:zoe/app.bsky.feed.post/3knew"
    reply["post"]["author"]["handle"] = "zoe.bsky.social"
    reply["post"]["indexedAt"] = "2026-11-21T10:00:00.000Z"
    reply["replies"] = []
    thread["thread"]["replies"] = [reply]
    api.add("/xrpc/app.bsky.feed.getPostThread", thread,
            when={"uri": f"at://{DID}/app.bsky.feed.post/3kabc000002"})  # fmt: skip

    second = collect(bluesky(api), first.state)

    assert [item.url for item in second.items] == [
        "https://bsky.app/profile/zoe.bsky.social/post/3knew"
    ]


def test_bluesky_errors(api: ApiServer) -> None:
    serve_bluesky(api)
    api.add("/xrpc/app.bsky.feed.getPostThread", fixture("bluesky", "error_notfound"),
            status=400, when={"uri": f"at://{DID}/app.bsky.feed.post/3kabc000002"})  # fmt: skip
    collection = collect(bluesky(api))
    assert len(collection.items) == 2 and collection.warning is not None
    api.add("/xrpc/app.bsky.feed.getAuthorFeed", fixture("bluesky", "error_profile"), status=400)
    with pytest.raises(SourceError, match=r"requête refusée \(Profile not found\) : vérifiez"):
        collect(bluesky(api))
    reset = str(int(datetime.now(UTC).timestamp()) + 100)
    api.add("/xrpc/app.bsky.feed.getAuthorFeed", {"error": "RateLimitExceeded"}, status=429,
            headers={"RateLimit-Reset": reset})  # fmt: skip
    with pytest.raises(SourceError, match="trop de requêtes") as caught:
        collect(bluesky(api))
    assert caught.value.retry_after is not None and 90 <= caught.value.retry_after <= 100
    api.add("/xrpc/app.bsky.feed.getAuthorFeed", b"<html>oops</html>", status=502)
    with pytest.raises(SourceError, match="Bluesky : erreur HTTP 502"):
        collect(bluesky(api))


def test_bluesky_has_no_api_to_hide(api: ApiServer) -> None:
    uri = "at://did:plc:troll000000000000000000/app.bsky.feed.post/3kdef000002"
    with pytest.raises(SourceError) as caught:
        hide(bluesky(api), uri)
    assert "Bluesky n'offre pas d'API publique pour masquer une réponse" in str(caught.value)
    assert "https://bsky.app/profile/did:plc:troll000000000000000000/post/3kdef000002" in str(
        caught.value
    )


# --- answers that are not the platform's format ---------------------------------------


@pytest.mark.parametrize(
    ("platform", "path", "body"),
    [
        ("facebook", f"/v24.0/{PAGE}/posts", b"<!DOCTYPE html><html>Connexion</html>"),
        ("facebook", f"/v24.0/{PAGE}/posts", b'{"posts": []}'),
        ("youtube", "/youtube/v3/commentThreads", b"[1, 2]"),
        ("bluesky", "/xrpc/app.bsky.feed.getAuthorFeed", b"not json"),
    ],
)
def test_an_answer_of_another_format_is_this_sources_error(
    api: ApiServer, secrets: None, platform: str, path: str, body: bytes
) -> None:
    options = {"facebook": facebook, "youtube": youtube, "bluesky": bluesky}[platform](api)
    api.add(path, body, content_type="application/octet-stream")
    with pytest.raises(SourceError, match="page HTML|illisible|inattendu"):
        collect(options)


def test_a_static_server_without_json_content_type_is_read(api: ApiServer) -> None:
    """What ``veille demo`` does: files served as they are, query string ignored."""
    for path, name in [
        ("/api/v1/accounts/lookup", "lookup"),
        (f"/api/v1/accounts/{ME}/statuses", "statuses"),
        ("/api/v1/statuses/111000000000000010/context", "context_1"),
        ("/api/v1/statuses/111000000000000005/context", "context_2"),
    ]:
        api.add(path, fixture("mastodon", name), content_type="application/octet-stream")

    assert len(collect(mastodon(api)).items) == 2


# --- the cursor -----------------------------------------------------------------------


def test_the_cursor_stays_short_and_moves_its_window_when_comments_do_not_fit() -> None:
    mark = Watermark({})
    start = datetime(2026, 11, 20, tzinfo=UTC)
    for n in range(1000):
        assert mark.is_new(start + timedelta(seconds=n), f"{PAGE}_{n:012d}")
    dumped = dump_cursor({"a": PAGE, **mark.dump()})
    assert dumped is not None and len(dumped) <= MAX_CURSOR
    again = Watermark(load_cursor(dumped, PAGE))
    assert again.since == int((start + timedelta(seconds=999)).timestamp())
    # every comment read is known: those listed, and those before the window's start
    assert not any(
        again.is_new(start + timedelta(seconds=n), f"{PAGE}_{n:012d}") for n in range(1000)
    )
    assert again.is_new(start + timedelta(seconds=995), "a late one")  # inside the window
    assert not again.is_new(start + timedelta(seconds=500), "too late")  # before its start


def test_the_window_catches_a_late_comment_within_grace_only() -> None:
    mark = Watermark({})
    now = datetime(2026, 11, 20, 12, tzinfo=UTC)
    mark.is_new(now, "seen")
    cursor = mark.dump()
    late = Watermark(cursor)
    assert late.is_new(now - timedelta(seconds=GRACE / 2), "late")
    assert not late.is_new(now - timedelta(seconds=GRACE + 1), "too late")
    assert not late.is_new(now, "seen")
    assert late.behind(now - timedelta(seconds=1)) and not late.behind(now)


def test_a_cursor_unreadable_or_of_another_account_starts_afresh() -> None:
    assert load_cursor("{not json", PAGE) == {}
    assert load_cursor('{"a": "autre", "t": 1, "w": 0, "s": []}', PAGE) == {}
    assert load_cursor(None, PAGE) == {}
    assert Watermark({"t": "x", "w": 3}).since is None


# --- options --------------------------------------------------------------------------

BRAND = """\
brand: {name: Cégep de Drummondville}
digest: {to: [communications@cegep.example], from: veille@cegep.example}
sources:
"""


def write_config(tmp_path: Path, *entries: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(BRAND + "".join(f"  - {entry}\n" for entry in entries), encoding="utf-8")
    return path


def test_account_sources_load_through_the_registry(tmp_path: Path) -> None:
    assert collectors.REGISTRY["account"] is AccountCollector
    assert collectors.group_label("account") == "Sur nos comptes officiels"
    assert AccountCollector.always_in_scope and not collectors.REGISTRY["feed"].always_in_scope
    path = write_config(
        tmp_path,
        "{name: Facebook, type: account, platform: facebook, page_id: '123', "
        "token_env: FB_TOKEN, write_token_env: FB_WRITE, every: 2h}",
        "{name: Instagram, type: account, platform: instagram, ig_user_id: '1784', "
        "token_env: FB_TOKEN, posts: 10}",
        "{name: YouTube, type: account, platform: youtube, channel_id: UCabc, api_key_env: YT}",
        "{name: Mastodon, type: account, platform: mastodon, "
        "instance: 'https://mastodon.social', acct: '@cegepdrummond'}",
        "{name: Bluesky, type: account, platform: bluesky, handle: cegepdrummond.bsky.social}",
    )

    config = load_config(path, source_types=collectors.options_models())

    facebook, instagram, youtube, mastodon, bluesky = config.sources
    assert isinstance(facebook, AccountSource) and facebook.every == timedelta(hours=2)
    assert facebook.api_base == "https://graph.facebook.com/v24.0"
    assert instagram.posts == 10 and instagram.account_id == "1784"
    assert youtube.api_base == "https://www.googleapis.com/youtube/v3"
    assert mastodon.api_base == "https://mastodon.social" and mastodon.account_id == "cegepdrummond"
    assert bluesky.api_base == "https://public.api.bsky.app/xrpc"
    test = source("facebook", page_id="1", url="http://127.0.0.1:9/proxy/")
    assert test.api_base == "http://127.0.0.1:9/proxy/v24.0"  # the Graph version is kept


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("platform: facebok, page_id: '1', token_env: T",
         "ligne 4 : sources[0].platform (C) : plateforme inconnue « facebok » (vouliez-vous dire "
         "« facebook » ? plateformes possibles : bluesky, facebook, instagram, mastodon, youtube)"),
        ("platform: facebook, token_env: T",
         "ligne 4 : sources[0].platform (C) : la plateforme facebook demande page_id "
         "(l'identifiant numérique de la Page)"),
        ("platform: mastodon, acct: cegep",
         "la plateforme mastodon demande instance (l'adresse du serveur)"),
        ("platform: facebook, page_id: '1', token_env: T, handle: x",
         "sources[0].handle (C) : « handle » ne sert pas à la plateforme facebook "
         "(elle demande page_id)"),
        ("platform: facebook, page_id: '1'",
         "la plateforme facebook demande token_env : le nom de la variable d'environnement qui "
         "contient le jeton d'accès de la Page"),
        ("platform: youtube, channel_id: UC1, token_env: T",
         "« token_env » ne sert pas à la plateforme youtube (elle demande api_key_env : une clé "
         "d'API YouTube Data v3)"),
        ("platform: bluesky, handle: c.bsky.social, token_env: T",
         "« token_env » ne sert pas à la plateforme bluesky (elle ne demande aucun secret)"),
        ("platform: bluesky, handle: c.bsky.social, write_token_env: T",
         "« write_token_env » ne sert pas à la plateforme bluesky : elle n'offre pas d'API pour "
         "masquer une réponse"),
        ("platform: facebook, page_id: '1', token_env: 'EAAB|x9Zz-secret'",
         "sources[0].token_env (C) : nom de variable d'environnement attendu (par exemple "
         "VEILLE_FACEBOOK_TOKEN), jamais le secret lui-même"),
        ("platform: youtube, channel_id: '@cegepdrummond', api_key_env: K",
         "channel_id commence par UC (l'identifiant de la chaîne, pas son @nom)"),
        ("platform: facebook, page_id: '1', token_env: T, posts: 101", "doit être au plus 100"),
        ("platform: facebook, page_id: '1', token_env: T, url: ftp://x",
         "doit commencer par http:// ou https://"),
        ("platform: facebook, page_id: '1', token_env: T, page: 2", "option inconnue « page »"),
    ],
)  # fmt: skip
def test_account_options_are_checked_in_french(tmp_path: Path, entry: str, message: str) -> None:
    path = write_config(tmp_path, f"{{name: C, type: account, {entry}}}")

    with pytest.raises(ConfigError) as caught:
        load_config(path, source_types=collectors.options_models())

    assert message in str(caught.value)


def test_check_warns_about_unset_variables_and_posts_on_youtube(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("YT", "x")
    monkeypatch.delenv("YT_OAUTH", raising=False)
    options = source(
        "youtube", channel_id="UC1", api_key_env="YT", write_token_env="YT_OAUTH", posts=10
    )
    assert options.warnings() == [
        "la variable d'environnement YT_OAUTH n'est pas définie dans cet environnement "
        "(nécessaire seulement pour veille masquer)",
        "posts est sans effet avec youtube : les fils de commentaires de toute la chaîne sont "
        "lus, du plus récent au plus ancien",
    ]
    assert source("mastodon", instance="https://m.example", acct="c").warnings() == []


def test_every_platform_is_registered_with_its_display_name() -> None:
    assert {name: p.label for name, p in PLATFORMS.items()} == {
        "facebook": "Facebook",
        "instagram": "Instagram",
        "youtube": "YouTube",
        "mastodon": "Mastodon",
        "bluesky": "Bluesky",
    }


# --- the demo ---------------------------------------------------------------------------


def test_the_demo_serves_a_facebook_page_and_a_mastodon_account_statically() -> None:
    """``veille demo``'s static server (query strings ignored, no JSON content type)
    answers the paths the platforms ask for; a second visit finds nothing new."""
    from veille.demo import serve_demo_data

    with serve_demo_data() as (base, _):
        page = source("facebook", page_id=PAGE, url=f"{base}/facebook")
        account = source("mastodon", instance=f"{base}/mastodon", acct="cegepdrummond")
        comments = collect(page)
        replies = collect(account)
        again = (collect(page, comments.state), collect(account, replies.state))

    assert len(comments.items) == 5  # the Page's own reply is not one
    assert "t'es juste un crisse de cave" in [item.text for item in comments.items]
    assert {item.reply_to for item in comments.items} == {
        "Notre nouveau pavillon des sciences ouvre ses portes en janvier ! Merci à toutes…",
        "Félicitations à nos finissantes et finissants honorés au gala régional !",
    }
    assert [item.author for item in replies.items] == ["Marie L.", "Alex Tremblay", "Sam"]
    assert again[0].items == () and again[1].items == ()


# --- what a visit costs ---------------------------------------------------------------


def busy_account(api: ApiServer, platform: str) -> AccountSource:
    """An account with 25 recent posts and 500 comments (20 under each post; on
    YouTube 400 threads, 100 of them with one reply, under 25 videos)."""
    day = datetime(2026, 11, 20, tzinfo=UTC)

    def when(n: int) -> str:
        return (day - timedelta(minutes=n)).isoformat()

    if platform in ("facebook", "instagram"):
        edge = "posts" if platform == "facebook" else "media"
        owner = PAGE if platform == "facebook" else IG_USER
        posts = [{"id": f"p{i}", "permalink": f"https://i.example/p{i}"} for i in range(25)]
        api.add(f"/v24.0/{owner}/{edge}", {"data": posts})
        for i in range(25):
            comments = [
                {"id": f"c{i}-{n}", "created_time": when(n), "timestamp": when(n),
                 "permalink_url": f"https://f.example/c{i}-{n}", "message": "m", "text": "t"}
                for n in range(20)
            ]  # fmt: skip
            api.add(f"/v24.0/p{i}/comments", {"data": comments})
        if platform == "facebook":
            return facebook(api)
        return instagram(api)
    if platform == "mastodon":
        api.add("/api/v1/accounts/lookup", {"id": ME})
        api.add(f"/api/v1/accounts/{ME}/statuses", [{"id": str(i)} for i in range(25)])
        for i in range(25):
            replies = [
                {"id": f"{i}{n:03d}", "created_at": when(n), "url": f"https://m.example/{i}/{n}",
                 "content": "<p>r</p>", "account": {"id": "9", "display_name": "R"}}
                for n in range(20)
            ]  # fmt: skip
            api.add(f"/api/v1/statuses/{i}/context", {"ancestors": [], "descendants": replies})
        return mastodon(api)
    if platform == "bluesky":
        author = {"handle": HANDLE, "did": DID}
        posts = [{"post": {"uri": f"at://{DID}/app.bsky.feed.post/p{i}", "author": author}}
                 for i in range(25)]  # fmt: skip
        api.add("/xrpc/app.bsky.feed.getAuthorFeed", {"feed": posts})
        for i in range(25):
            replies = [
                {"post": {"uri": f"at://did:plc:r/app.bsky.feed.post/r{i}-{n}",
                          "author": {"handle": "r.bsky.social", "did": "did:plc:r"},
                          "record": {"text": "r", "createdAt": when(n)}, "indexedAt": when(n)}}
                for n in range(20)
            ]  # fmt: skip
            api.add("/xrpc/app.bsky.feed.getPostThread", {"thread": {"replies": replies}},
                    when={"uri": f"at://{DID}/app.bsky.feed.post/p{i}"})  # fmt: skip
        return bluesky(api)
    for page in range(4):
        threads = []
        for n in range(100):
            number = page * 100 + n
            top = {"id": f"t{number}", "snippet": {"videoId": f"v{number % 25}",
                   "textOriginal": "c", "publishedAt": when(number)}}  # fmt: skip
            thread: dict[str, Any] = {"snippet": {"topLevelComment": top}}
            if number % 4 == 0:
                reply = {"id": f"t{number}.r", "snippet": {"textOriginal": "r",
                         "publishedAt": when(number)}}  # fmt: skip
                thread["replies"] = {"comments": [reply]}
            threads.append(thread)
        answer: dict[str, Any] = {"items": threads}
        if page < 3:
            answer["nextPageToken"] = f"page{page + 1}"
        query = {"pageToken": f"page{page}"} if page else None
        api.add("/youtube/v3/commentThreads", answer, when=query)
    api.add("/youtube/v3/videos", {"items": []})
    return youtube(api)


@pytest.mark.parametrize(
    ("platform", "first", "again"),
    [
        ("facebook", "26 requêtes à la Graph API de Facebook", "26 requêtes"),
        ("instagram", "26 requêtes à la Graph API de Instagram", "26 requêtes"),
        ("youtube", "5 requêtes, 5 unités YouTube sur 10 000 par jour (à ce rythme, environ "
         "120 par jour)", "1 requête, 1 unité YouTube"),
        ("mastodon", "27 requêtes (limite de l'instance : 300 par 5 min)", "26 requêtes"),
        ("bluesky", "26 requêtes (limite : 3 000 par 5 min par adresse)", "26 requêtes"),
    ],
)  # fmt: skip
def test_cost_of_a_visit_to_an_account_with_25_posts_and_500_comments(
    api: ApiServer, secrets: None, platform: str, first: str, again: str
) -> None:
    options = busy_account(api, platform)

    visit = collect(options)
    second = collect(options, visit.state)

    assert len(visit.items) == 500
    assert visit.usage == first
    assert second.items == () and second.usage is not None and second.usage.startswith(again)
