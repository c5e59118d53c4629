"""Platforms of ``type: account`` sources, keyed by ``platform:`` in config.yaml.

The options and the collector are in :mod:`collectors.accounts.collector`; the
platform contract in :mod:`collectors.accounts.base`.
"""

from __future__ import annotations

from collectors.accounts.base import Account, Api, ApiRequest, Auth, AuthFlow, Platform, Reading
from collectors.accounts.bluesky import Bluesky
from collectors.accounts.facebook import Facebook
from collectors.accounts.instagram import Instagram
from collectors.accounts.mastodon import Mastodon
from collectors.accounts.youtube import YouTube

PLATFORMS: dict[str, Platform] = {
    platform.name: platform
    for platform in (Facebook(), Instagram(), YouTube(), Mastodon(), Bluesky())
}

__all__ = [
    "PLATFORMS",
    "Account",
    "Api",
    "ApiRequest",
    "Auth",
    "AuthFlow",
    "Platform",
    "Reading",
]
