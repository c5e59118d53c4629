"""Reddit with an OAuth "script" app: the token is asked for with the id and
secret read from the environment, the search carries it, and every fault is
told in French without ever showing the secret."""

from __future__ import annotations

import base64
import json

from tests.conftest import DATA, FeedServer, Workspace

ENGINES = DATA / "engines"
TOKEN = json.dumps(
    {"access_token": "jeton-1", "token_type": "bearer", "expires_in": 3600, "scope": "*"}
)
SECRET_ENV = {"REDDIT_ID": "mon-appli", "REDDIT_SECRET": "s3cret-tres-secret"}


def _reddit(base: str) -> dict[str, str]:
    return {
        "name": "Reddit",
        "type": "search",
        "engine": "reddit",
        "query": "cegep drummond",
        "url": base,
        "user_agent": "script:veille-cegep:1.0 (by /u/cegep)",
        "client_id_env": "REDDIT_ID",
        "client_secret_env": "REDDIT_SECRET",
    }


def _state(veille) -> dict[str, dict]:
    return {r["name"]: r for r in json.loads(veille("sources", "--format", "json").out)}


def test_token_is_asked_for_then_carried_by_the_search(
    feed_server: FeedServer, workspace: Workspace, veille
) -> None:
    feed_server.add("/api/v1/access_token", TOKEN, content_type="application/json")
    feed_server.add(
        "/search.json", (ENGINES / "reddit.json").read_bytes(), content_type="application/json"
    )
    workspace.write([_reddit(feed_server.base)], at="23:59")

    result = veille("run", env=SECRET_ENV)

    assert result.code == 0, result.err
    (token,) = feed_server.hits_for("/api/v1/access_token")
    assert token.method == "POST" and token.body == b"grant_type=client_credentials"
    expected = base64.b64encode(b"mon-appli:s3cret-tres-secret").decode()
    assert token.headers["Authorization"] == f"Basic {expected}"
    assert token.headers["User-Agent"] == "script:veille-cegep:1.0 (by /u/cegep)"
    (search,) = feed_server.hits_for("/search.json")
    assert search.headers["Authorization"] == "bearer jeton-1"
    titles = [m["title"] for m in json.loads(veille("mentions", "--format", "json").out)]
    assert "Résidences au Cégep de Drummondville?" in titles
    assert "s3cret" not in result.out + result.err


def test_missing_variable_fails_this_source_only_and_check_warns(
    feed_server: FeedServer, workspace: Workspace, veille
) -> None:
    feed_server.add("/api/v1/access_token", TOKEN, content_type="application/json")
    feed_server.add_file("/express.xml", "express.xml")
    workspace.write(
        [
            _reddit(feed_server.base),
            {"name": "Journal", "type": "feed", "url": feed_server.url("/express.xml")},
        ],
        at="23:59",
    )

    check = veille("check", env={"REDDIT_ID": "mon-appli"})
    result = veille("run", env={"REDDIT_ID": "mon-appli"})

    assert check.code == 0
    assert "REDDIT_SECRET n'est pas définie" in check.out
    assert result.code == 1
    assert feed_server.hits_for("/api/v1/access_token") == []
    state = _state(veille)
    assert "REDDIT_SECRET" in state["Reddit"]["last_error"]
    assert state["Journal"]["last_error"] is None


def test_refused_credentials_and_refused_token_are_explained(
    feed_server: FeedServer, workspace: Workspace, veille
) -> None:
    feed_server.add(
        "/api/v1/access_token", b'{"error": 401}', status=401, content_type="application/json"
    )
    workspace.write([_reddit(feed_server.base)], at="23:59")

    result = veille("run", env=SECRET_ENV)

    assert result.code == 1
    error = _state(veille)["Reddit"]["last_error"]
    assert "identification OAuth" in error and "REDDIT_ID" in error and "prefs/apps" in error
    assert "s3cret" not in error + result.out + result.err
    assert feed_server.hits_for("/search.json") == []


def test_a_token_refused_by_the_search_is_asked_for_again_once(
    feed_server: FeedServer, workspace: Workspace, veille
) -> None:
    feed_server.add("/api/v1/access_token", TOKEN, content_type="application/json")
    feed_server.add("/search.json", b'{"error": 401}', status=401, content_type="application/json")
    workspace.write([_reddit(feed_server.base)], at="23:59")

    result = veille("run", env=SECRET_ENV)

    assert result.code == 1
    assert len(feed_server.hits_for("/api/v1/access_token")) == 2
    assert len(feed_server.hits_for("/search.json")) == 2
    assert "401" in _state(veille)["Reddit"]["last_error"]


def test_oauth_options_are_checked(workspace: Workspace, veille) -> None:
    alone = {**_reddit("https://www.reddit.com"), "client_secret_env": None}
    del alone["client_secret_env"]
    workspace.write([alone])
    half = veille("check")
    workspace.write([{**_reddit("https://www.reddit.com"), "engine": "searxng"}])
    elsewhere = veille("check")

    assert half.code == 2 and "vont ensemble" in half.err and "Traceback" not in half.err
    assert elsewhere.code == 2 and "ne servent qu'au moteur reddit" in elsewhere.err
