"""Storage: the SQLite (or any SQLAlchemy) store of sources, items, mentions, digests.

Import what you need from its modules (``storage.db.open_database``,
``storage.store.MentionStore``…): this package imports nothing by itself, so that
``storage.problems`` (used by ``veille check``) costs no SQLAlchemy import.
"""
