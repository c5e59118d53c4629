"""The workspace's vocabulary, shared by the store, the commands and the web pages:
mention statuses (public names: CLI, JSON, config), tones, and roles with what each
may do."""

from __future__ import annotations

STATUS_NEW = "nouveau"
STATUS_IN_PROGRESS = "en cours"  # a step is under way
STATUS_DONE = "traité"
STATUS_EXCLUDED = "exclu"  # not about the Cégep: never comes back by itself
STATUSES = (STATUS_NEW, STATUS_IN_PROGRESS, STATUS_DONE, STATUS_EXCLUDED)

TONES = ("positif", "neutre", "négatif")  # set by a person, never guessed

ROLE_READER = "lecteur"  # reads
ROLE_EDITOR = "éditeur"  # also triages: status, assignee, tags, tone, notes, ignored sites
ROLE_ADMIN = "admin"  # also manages users and exclusions
ROLES = (ROLE_READER, ROLE_EDITOR, ROLE_ADMIN)


def can_triage(role: str) -> bool:
    return role in (ROLE_EDITOR, ROLE_ADMIN)


def can_admin(role: str) -> bool:
    return role == ROLE_ADMIN
