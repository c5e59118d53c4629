"""Storage: the SQLite (or any SQLAlchemy) store of sources, items, mentions, digests."""

from __future__ import annotations

from storage.db import open_database
from storage.store import MentionRecord, MentionStore, SourceRecord

__all__ = ["MentionRecord", "MentionStore", "SourceRecord", "open_database"]
