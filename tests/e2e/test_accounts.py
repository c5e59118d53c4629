"""``type: account`` sources run by ``veille`` as a user would: the comments of an
official account are mentions without naming the college, a second run reports
none twice and asks again only what it must, and a missing token fails that
source alone."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.accounts_server import ApiServer, fixture
from tests.conftest import FeedServer, Workspace

ME = "109000000000000001"


@pytest.fixture
def api() -> Iterator[ApiServer]:
    server = ApiServer()
    yield server
    server.close()


def serve_mastodon(api: ApiServer) -> None:
    api.add("/api/v1/accounts/lookup", fixture("mastodon", "lookup"))
    api.add(f"/api/v1/accounts/{ME}/statuses", fixture("mastodon", "statuses"))
    api.add("/api/v1/statuses/111000000000000010/context", fixture("mastodon", "context_1"))
    api.add("/api/v1/statuses/111000000000000005/context", fixture("mastodon", "context_2"))


def mentions(veille: Any) -> list[dict[str, Any]]:
    result = veille("mentions", "--format", "json")
    assert result.code == 0, result.err
    found: list[dict[str, Any]] = json.loads(result.out)
    return found


def test_comments_of_an_official_account_are_mentions_reported_once(
    api: ApiServer, workspace: Workspace, veille: Any
) -> None:
    serve_mastodon(api)
    account = {
        "name": "Mastodon du Cégep",
        "type": "account",
        "platform": "mastodon",
        "instance": api.base,
        "acct": "cegepdrummond",
    }
    workspace.write([account], at="23:59")

    first = veille("run")

    assert first.code == 0, first.err
    found = {m["url"]: m for m in mentions(veille)}
    insult = found["https://mastodon.social/@jf/111000000000000023"]
    assert insult["source_type"] == "account" and insult["outlet"] == "Mastodon"
    assert insult["title"] == "Avec une direction de même, pas surprenant que ça aille mal. Bande…"
    assert len(found) == 2  # the college's own reply is not one

    api.hits.clear()
    second = veille("run", "--all")

    assert second.code == 0, second.err
    assert len(mentions(veille)) == 2
    assert api.hits_for("/api/v1/accounts/lookup") == []  # the cursor kept the account's id


def test_a_missing_token_fails_that_source_alone_and_check_warns(
    api: ApiServer, feed_server: FeedServer, workspace: Workspace, veille: Any
) -> None:
    feed_server.add_file("/express.xml", "express.xml")
    page = {
        "name": "Facebook du Cégep",
        "type": "account",
        "platform": "facebook",
        "page_id": "100064528817623",
        "token_env": "FB_PAGE_TOKEN",
        "url": api.base,
    }
    journal = {"name": "Journal", "type": "feed", "url": feed_server.url("/express.xml")}
    workspace.write([page, journal], at="23:59")

    check = veille("check")
    run = veille("run")

    assert check.code == 0, check.err
    assert "FB_PAGE_TOKEN n'est pas définie" in check.out
    assert run.code == 1
    assert api.hits == []
    state = {s["name"]: s for s in json.loads(veille("sources", "--format", "json").out)}
    assert "FB_PAGE_TOKEN" in state["Facebook du Cégep"]["last_error"]
    assert state["Journal"]["last_error"] is None
