"""``veille masquer N°``: hide one comment on an official account, only when asked
(the rule is :func:`veille.moderation.hide_mention`, shared with the workspace).

Exit 0 when the platform hid it; 1 when it refused or has no such API (the
message gives the link to do it by hand); 2 when nothing could be asked of it.
"""

from __future__ import annotations

import argparse

from veille.app import open_store
from veille.commands.console import config_of, utc_now
from veille.errors import EXIT_OK, EXIT_SOURCES_FAILED, UsageError
from veille.moderation import hide_mention
from veille.sanitize import one_line
from veille.users import system_user


def cmd_masquer(args: argparse.Namespace) -> int:
    if not args.id.isdigit():
        raise UsageError(f"numéro de mention invalide « {args.id} » (voir veille mentions)")
    config = config_of(args)
    outcome = hide_mention(
        config, open_store(config), int(args.id), actor=system_user(), now=utc_now()
    )
    if outcome.done:
        print(
            f"Commentaire masqué sur {outcome.platform} (mention {args.id}) : "
            f"{one_line(outcome.answer)}"
        )
        return EXIT_OK
    print(f"Commentaire non masqué (mention {args.id}) : {one_line(outcome.answer)}")
    return EXIT_SOURCES_FAILED
