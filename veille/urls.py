"""Canonical URLs: the key that makes one story one item.

Tracking parameters are dropped, scheme and host lower-cased, the fragment and
default ports removed, and the redirect links of Google Alerts, Google search
and Bing News are unwrapped to the address they lead to.
:func:`check_http_url` is the rule config.yaml addresses follow.
"""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_TRACKING = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "yclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
        "mkt_tok",
        "ocid",
        "cvid",
    }
)
_MAX_KEY = 1000


def check_http_url(value: str) -> str:
    """``value`` when it is an http(s) address; else ValueError with a French reason
    (a pydantic validator of config.yaml addresses)."""
    if not value.lower().startswith(("http://", "https://")):
        raise ValueError(
            f"adresse invalide « {value} » : elle doit commencer par http:// ou https://"
        )
    return value


def unwrap_redirect(url: str) -> str:
    """The real address behind a Google / Bing redirect link, else ``url``."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    if (host == "google.com" or host.endswith(".google.com")) and parts.path == "/url":
        target = params.get("url") or params.get("q")
        if target and target.startswith(("http://", "https://")):
            return target
    if host.endswith("bing.com") and "apiclick.aspx" in parts.path.lower():
        target = params.get("url")
        if target and target.startswith(("http://", "https://")):
            return target
    return url


def canonical_url(url: str) -> str:
    """``url`` unwrapped, without tracking parameters, fragment or default port."""
    url = unwrap_redirect(url.strip())
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port if parts.port not in (None, 80 if scheme == "http" else 443) else None
    netloc = host if port is None else f"{host}:{port}"
    query = [
        (key, value)
        for key, value in parse_qsl(parts.query, keep_blank_values=True)
        if not key.lower().startswith("utm_") and key.lower() not in _TRACKING
    ]
    return urlunsplit((scheme, netloc, parts.path or "/", urlencode(sorted(query)), ""))


def item_key(url: str, guid: str | None) -> str:
    """The unique key of an item: its canonical URL, else its guid."""
    if url.startswith(("http://", "https://")):
        key = canonical_url(url)
    elif guid:
        key = "guid:" + guid.strip()
    else:
        key = "url:" + url.strip()
    if len(key) > _MAX_KEY:
        key = key[:200] + "#sha256:" + hashlib.sha256(key.encode()).hexdigest()
    return key
