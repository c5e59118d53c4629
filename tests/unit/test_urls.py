from __future__ import annotations

import pytest

from veille.urls import canonical_url, check_http_url, item_key, unwrap_redirect


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        (
            "HTTPS://Journal.Test/a/?utm_source=x&utm_medium=y&id=3#top",
            "https://journal.test/a/?id=3",
        ),
        ("https://journal.test:443/a?fbclid=1&gclid=2&b=2&a=1", "https://journal.test/a?a=1&b=2"),
        ("http://journal.test:8080", "http://journal.test:8080/"),
        (
            "https://www.google.com/url?rct=j&sa=t&url=https://news.test/x%3Futm_source%3Da&ct=ga",
            "https://news.test/x",
        ),
        (
            "https://www.bing.com/news/apiclick.aspx?ref=FexRss&url=https%3a%2f%2fnews.test%2fy&c=1",
            "https://news.test/y",
        ),
        (
            "https://news.google.com/rss/articles/CBMiX?oc=5",
            "https://news.google.com/rss/articles/CBMiX?oc=5",
        ),
    ],
)
def test_canonical_url(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


def test_unwrap_leaves_other_links_alone() -> None:
    assert (
        unwrap_redirect("https://www.google.com/search?q=x") == "https://www.google.com/search?q=x"
    )


def test_item_key_falls_back_to_guid_and_stays_short() -> None:
    assert item_key("", "tag:abc") == "guid:tag:abc"
    assert item_key("https://a.test/x?utm_source=1", "g") == "https://a.test/x"
    long = item_key("https://a.test/" + "x" * 5000, None)
    assert len(long) < 300 and "#sha256:" in long
    assert long == item_key("https://a.test/" + "x" * 5000, None)


@pytest.mark.parametrize("url", ["https://journal.test/feed", "HTTP://journal.test"])
def test_check_http_url_keeps_web_addresses(url: str) -> None:
    assert check_http_url(url) == url


@pytest.mark.parametrize("url", ["journal.test/feed", "ftp://journal.test", "javascript:x"])
def test_check_http_url_refuses_the_rest_in_french(url: str) -> None:
    with pytest.raises(ValueError, match="doit commencer par http:// ou https://"):
        check_http_url(url)
