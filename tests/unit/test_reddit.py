"""Where Reddit's OAuth token is asked for, where the authorised search goes, and
the engine's auth flow step by step (the requests it yields, what it does with
each response)."""

from __future__ import annotations

import base64
import json

import pytest

from collectors.engines import ENGINES, ClientCredentials, NoAuth, SearchRequest
from collectors.engines.reddit import Reddit, RedditOAuth
from collectors.response import Response
from veille.errors import SourceError

CREDENTIALS = ClientCredentials("REDDIT_ID", "REDDIT_SECRET")
SEARCH = SearchRequest("https://oauth.reddit.com/search?q=cegep", headers={"Accept": "x"})


def _token(value: str = "jeton-1", lifetime: object = 3600) -> Response:
    body = json.dumps({"access_token": value, "expires_in": lifetime}).encode()
    return Response("t", 200, {"content-type": "application/json"}, body)


def _status(status: int) -> Response:
    return Response("s", status, {"content-type": "application/json"}, b"{}")


@pytest.fixture
def secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDDIT_ID", "mon-appli")
    monkeypatch.setenv("REDDIT_SECRET", "s3cret")


def test_public_reddit_goes_to_oauth_host_keeping_the_subreddit() -> None:
    auth = RedditOAuth(base="https://www.reddit.com/r/drummondville", credentials=CREDENTIALS)
    assert auth.token_url == "https://www.reddit.com/api/v1/access_token"
    assert auth.api_base == "https://oauth.reddit.com/r/drummondville"
    request = Reddit().request("cegep", {"restrict_sr": "on"}, auth.api_base)
    assert request.url.startswith("https://oauth.reddit.com/r/drummondville/search?")
    assert "restrict_sr=on" in request.url and "q=cegep" in request.url


def test_another_address_keeps_its_own_host() -> None:
    auth = RedditOAuth(base="http://127.0.0.1:8080/proxy", credentials=CREDENTIALS)
    assert auth.token_url == "http://127.0.0.1:8080/api/v1/access_token"
    assert auth.api_base == "http://127.0.0.1:8080/proxy"
    assert "/proxy/search.json?" in Reddit().request("c", {}, auth.api_base).url


def test_without_credentials_the_request_is_sent_once_as_it_is() -> None:
    auth = Reddit().auth("https://www.reddit.com", None)
    assert isinstance(auth, NoAuth) and auth.api_base == "https://www.reddit.com"
    flow = auth.auth_flow(SEARCH)
    assert next(flow) == SEARCH
    with pytest.raises(StopIteration):
        flow.send(_status(200))


@pytest.mark.usefixtures("secrets")
def test_token_first_then_the_search_with_the_bearer_then_the_token_is_kept() -> None:
    auth = Reddit().auth("https://www.reddit.com", CREDENTIALS)
    flow = auth.auth_flow(SEARCH)
    token = next(flow)
    assert (token.method, token.url, token.form) == (
        "POST",
        "https://www.reddit.com/api/v1/access_token",
        {"grant_type": "client_credentials"},
    )
    expected = base64.b64encode(b"mon-appli:s3cret").decode()
    assert token.headers == {"Authorization": f"Basic {expected}"}
    search = flow.send(_token())
    assert search.method == "GET" and search.url == SEARCH.url
    assert search.headers == {"Accept": "x", "Authorization": "bearer jeton-1"}
    with pytest.raises(StopIteration):
        flow.send(_status(200))
    # the next visit reuses the token: the search comes first
    again = auth.auth_flow(SEARCH)
    assert next(again).headers["Authorization"] == "bearer jeton-1"


@pytest.mark.usefixtures("secrets")
def test_a_401_gets_a_new_token_and_one_more_try_only() -> None:
    flow = Reddit().auth("https://www.reddit.com", CREDENTIALS).auth_flow(SEARCH)
    next(flow)
    flow.send(_token("jeton-1"))
    assert flow.send(_status(401)).method == "POST"  # the token again
    assert flow.send(_token("jeton-2")).headers["Authorization"] == "bearer jeton-2"
    with pytest.raises(StopIteration):  # a second 401 is the answer
        flow.send(_status(401))


@pytest.mark.usefixtures("secrets")
def test_an_expired_token_is_asked_for_again() -> None:
    auth = Reddit().auth("https://www.reddit.com", CREDENTIALS)
    flow = auth.auth_flow(SEARCH)
    next(flow)
    flow.send(_token(lifetime=30))  # less than the minute kept in reserve: expired at once
    with pytest.raises(StopIteration):
        flow.send(_status(200))
    assert next(auth.auth_flow(SEARCH)).method == "POST"


def test_missing_variable_and_refused_credentials_are_french_source_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("REDDIT_ID", "mon-appli")
    monkeypatch.delenv("REDDIT_SECRET", raising=False)
    auth = Reddit().auth("https://www.reddit.com", CREDENTIALS)
    with pytest.raises(SourceError, match="REDDIT_SECRET .*n'est pas définie"):
        next(auth.auth_flow(SEARCH))
    monkeypatch.setenv("REDDIT_SECRET", "s3cret")
    flow = auth.auth_flow(SEARCH)
    next(flow)
    with pytest.raises(SourceError, match="identification OAuth") as caught:
        flow.send(_status(401))
    assert "s3cret" not in str(caught.value)


def test_engines_own_their_advice_and_credentials() -> None:
    assert "OAuth" in Reddit.advice[403] and "every" in Reddit.advice[429]
    assert "settings.yml" in ENGINES["searxng"].advice[403]
    assert ENGINES["wikipedia"].advice == {}
    assert [name for name, e in ENGINES.items() if e.credentials_for] == ["reddit"]
