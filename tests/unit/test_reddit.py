"""Where Reddit's OAuth token is asked for and where the authorised search goes."""

from __future__ import annotations

from collectors.engines.reddit import Reddit, RedditToken


def test_public_reddit_goes_to_oauth_host_keeping_the_subreddit() -> None:
    token = RedditToken(base="https://www.reddit.com/r/drummondville", id_env="I", secret_env="S")
    assert token.token_url == "https://www.reddit.com/api/v1/access_token"
    assert token.api_base == "https://oauth.reddit.com/r/drummondville"
    request = Reddit().request("cegep", {"restrict_sr": "on"}, token.api_base)
    assert request.url.startswith("https://oauth.reddit.com/r/drummondville/search?")
    assert "restrict_sr=on" in request.url and "q=cegep" in request.url


def test_another_address_keeps_its_own_host() -> None:
    token = RedditToken(base="http://127.0.0.1:8080/proxy", id_env="I", secret_env="S")
    assert token.token_url == "http://127.0.0.1:8080/api/v1/access_token"
    assert token.api_base == "http://127.0.0.1:8080/proxy"
    assert "/proxy/search.json?" in Reddit().request("c", {}, token.api_base).url
