"""Hiding a comment on an official account, only when a person asks: the one rule
that ``veille masquer`` and the workspace's « Masquer ce commentaire » share.

The platform's API does it where it can (Facebook ``is_hidden``, Instagram
``hide``, YouTube ``heldForReview``) with the token named by the source's
``write_token_env``; elsewhere (Mastodon, Bluesky) the answer says that the
platform has no such API and gives the link to do it by hand. Every attempt that
reached a platform, done or refused, is recorded with who asked, when, and what
the platform said. Nothing is ever hidden automatically.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from datetime import datetime

from collectors.accounts.collector import AccountSource, hide_comment
from collectors.http import HttpClient
from storage.store import MentionStore
from veille.config import Config
from veille.errors import SourceError, UsageError
from veille.sanitize import one_line

log = logging.getLogger(__name__)

ACTION = "masquer"


@dataclass(frozen=True, slots=True)
class HideOutcome:
    done: bool  # the platform hid it
    platform: str
    answer: str  # the platform's answer, or why not, in French


def hidable_source(config: Config, store: MentionStore, mention_id: int) -> AccountSource | None:
    """The official-account source of a mention's comment, or None (not a comment)."""
    comment = store.comment_of(mention_id)
    if comment is None:
        return None
    source = next((s for s in config.sources if s.name == comment.source), None)
    return source if isinstance(source, AccountSource) else None


def hide_mention(
    config: Config, store: MentionStore, mention_id: int, *, actor: str, now: datetime
) -> HideOutcome:
    """Ask the platform to hide the comment of ``mention_id`` and record it. A request
    that cannot reach a platform (no such mention, not a comment, no write token in
    this environment) is a UsageError and is not recorded."""
    comment = store.comment_of(mention_id)
    if comment is None:
        raise UsageError(f"mention {mention_id} introuvable (voir veille mentions)")
    source = hidable_source(config, store, mention_id)
    if source is None:
        raise UsageError(
            f"la mention {mention_id} n'est pas un commentaire sur un de nos comptes "
            f"officiels (source « {one_line(comment.source)} ») : rien à masquer"
        )
    variable = source.write_token_env
    if variable and not os.environ.get(variable):
        raise UsageError(
            f"la variable d'environnement {variable} (write_token_env de « {source.name} », "
            "le jeton autorisé à masquer) n'est pas définie dans cet environnement"
        )
    if not comment.platform_id:
        raise UsageError(f"la mention {mention_id} n'a pas d'identifiant de commentaire")

    async def hide() -> str:
        async with HttpClient(config.http) as client:
            return await hide_comment(client, source, comment.platform_id or "", url=comment.url)

    try:
        outcome = HideOutcome(True, source.platform, asyncio.run(hide()))
    except SourceError as exc:
        outcome = HideOutcome(False, source.platform, str(exc))
    store.record_moderation(
        mention_id,
        requested_by=actor,
        now=now,
        platform=source.platform,
        action=ACTION,
        done=outcome.done,
        answer=outcome.answer,
    )
    log.info(
        "masquer mention %s (%s) par %s : %s", mention_id, source.platform, actor, outcome.answer
    )
    return outcome
