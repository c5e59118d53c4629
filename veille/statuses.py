"""The statuses a mention can have: public names (CLI, JSON, config), shared by
the store, the commands and the workspace."""

from __future__ import annotations

STATUS_NEW = "nouveau"
STATUS_DONE = "traité"
STATUS_EXCLUDED = "exclu"  # not about the Cégep: never comes back by itself
STATUSES = (STATUS_NEW, STATUS_DONE, STATUS_EXCLUDED)
