"""``veille masquer N°``: hide one comment on an official account, only when asked.

The platform's API does it where it can (Facebook ``is_hidden``, Instagram
``hide``, YouTube ``heldForReview``), with the token named by the source's
``write_token_env``; elsewhere (Mastodon, Bluesky) the French answer says that
the platform has no such API and gives the link to do it by hand. Every attempt
that reached a platform, done or refused, is recorded in the store with who
asked (the system user running the command), when, and what the platform said.
Nothing is ever hidden automatically.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os

from collectors.accounts.collector import AccountSource, hide_comment
from collectors.http import HttpClient
from veille.app import open_store
from veille.commands.console import config_of, utc_now
from veille.errors import EXIT_OK, EXIT_SOURCES_FAILED, SourceError, UsageError
from veille.sanitize import one_line
from veille.users import system_user

log = logging.getLogger(__name__)

ACTION = "masquer"


def cmd_masquer(args: argparse.Namespace) -> int:
    if not args.id.isdigit():
        raise UsageError(f"numéro de mention invalide « {args.id} » (voir veille mentions)")
    config = config_of(args)
    store = open_store(config)
    comment = store.comment_of(int(args.id))
    if comment is None:
        raise UsageError(f"mention {args.id} introuvable (voir veille mentions)")
    source = next((s for s in config.sources if s.name == comment.source), None)
    if not isinstance(source, AccountSource):
        raise UsageError(
            f"la mention {args.id} n'est pas un commentaire sur un de nos comptes officiels "
            f"(source « {one_line(comment.source)} ») : rien à masquer"
        )
    variable = source.write_token_env
    if variable and not os.environ.get(variable):  # nothing asked of the platform: not recorded
        raise UsageError(
            f"la variable d'environnement {variable} (write_token_env de « {source.name} », "
            "le jeton autorisé à masquer) n'est pas définie dans cet environnement"
        )
    if not comment.platform_id:
        raise UsageError(f"la mention {args.id} n'a pas d'identifiant de commentaire")

    async def hide() -> str:
        async with HttpClient(config.http) as client:
            return await hide_comment(client, source, comment.platform_id or "", url=comment.url)

    try:
        answer, done = asyncio.run(hide()), True
    except SourceError as exc:
        answer, done = str(exc), False
    who = system_user()
    store.record_moderation(
        comment.mention_id,
        requested_by=who,
        now=utc_now(),
        platform=source.platform,
        action=ACTION,
        done=done,
        answer=answer,
    )
    log.info("masquer mention %s (%s) par %s : %s", args.id, source.platform, who, answer)
    if done:
        print(f"Commentaire masqué sur {source.platform} (mention {args.id}) : {one_line(answer)}")
        return EXIT_OK
    print(f"Commentaire non masqué (mention {args.id}) : {one_line(answer)}")
    return EXIT_SOURCES_FAILED
