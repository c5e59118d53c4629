"""The one place that builds veille's parts from the configuration and wires them.

The commands, the daemon, the demo and the benchmarks (and, next, the web
workspace) get their store, matcher, notifier, HTTP client and collectors from
:func:`build_app`, and take the run lock with :func:`acquire` /
:func:`wait_for_lock`; nothing else constructs them.
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from collectors import REGISTRY, options_models
from collectors.base import Collector
from collectors.http import HttpClient
from collectors.robots import RobotsPolicy
from matchers import BrandMatcher
from matchers.propos import ProposDetector
from storage.db import open_database
from storage.lock import DatabaseLock, RunLock, run_lock_for
from storage.problems import storage_problem, where
from storage.store import MentionStore
from veille.alerts import KeywordSpotter
from veille.config import Config, load_config
from veille.errors import ConfigError, StorageError, os_reason
from veille.mail import Mailer
from veille.notify import Notifier
from veille.pipeline import ItemMatcher, RunReport, run_once, utc_now


@dataclass(frozen=True, slots=True)
class App:
    """Everything a command needs, built once from the configuration."""

    config: Config
    store: MentionStore
    item_matcher: ItemMatcher
    notifier: Notifier  # every email goes out through it
    client: HttpClient
    collectors: dict[str, Collector]

    def run(
        self,
        *,
        force_all: bool = False,
        only: set[str] | None = None,
        stopping: threading.Event | None = None,
    ) -> RunReport:
        """One cycle of :func:`veille.pipeline.run_once` with this app's parts."""
        return run_once(
            self.config,
            client=self.client,
            store=self.store,
            item_matcher=self.item_matcher,
            notifier=self.notifier,
            collectors=self.collectors,
            clock=utc_now,
            force_all=force_all,
            only=only,
            stopping=stopping,
        )


def read_config(path: Path) -> Config:
    """config.yaml validated, with the options of every registered source type."""
    return load_config(path, source_types=options_models())


def build_matcher(config: Config) -> BrandMatcher:
    return BrandMatcher.from_brand(config.brand)


def build_propos(config: Config) -> ProposDetector:
    """The injurious-content detector, with the team's words and public contacts."""
    try:
        return ProposDetector.from_config(
            extra_words={str(kind): words for kind, words in config.propos.extra_words.items()},
            ignore_words=config.propos.ignore_words,
            public_contacts=config.propos.public_contacts,
        )
    except ValueError as exc:  # a malformed word or pattern of the team's
        raise ConfigError(f"{config.path}: {exc}") from None


def build_item_matcher(config: Config) -> ItemMatcher:
    return ItemMatcher(
        build_matcher(config),
        KeywordSpotter(config.alerts.keywords),
        build_propos(config),
        alert_at=config.propos.alert_at,
    )


def open_store(config: Config) -> MentionStore:
    return MentionStore(open_database(config.storage.url))


def build_app(config: Config) -> App:
    store = open_store(config)
    robots = RobotsPolicy(user_agent=config.http.user_agent, cache=store, clock=utc_now)
    return App(
        config=config,
        store=store,
        item_matcher=build_item_matcher(config),
        notifier=Notifier(config, store, Mailer(config.smtp, config.outbox_dir)),
        client=HttpClient(config.http, robots=robots),
        collectors={s.name: REGISTRY[s.type].from_config(s) for s in config.sources},
    )


def run_lock(config: Config) -> RunLock | DatabaseLock:
    return run_lock_for(config.storage.url, config.path)


def acquire(lock: RunLock | DatabaseLock, config: Config, *, wait: float) -> bool:
    """``lock.acquire``; a lock that cannot be taken at all is a StorageError (exit 3)."""
    try:
        return lock.acquire(wait=wait)
    except OSError as exc:
        raise StorageError(
            f"impossible de prendre le verrou {lock.path} ({os_reason(exc)}) : son dossier doit "
            "être accessible en écriture à l'utilisateur qui lance veille"
        ) from None
    except SQLAlchemyError as exc:
        raise storage_problem(config.storage.url, exc) or StorageError(
            f"impossible de prendre le verrou de la base {where(config.storage.url)} "
            f"({exc.__class__.__name__})"
        ) from None


def wait_for_lock(config: Config, seconds: float = 120) -> RunLock | DatabaseLock | None:
    """The run lock, waiting for a running cycle to finish; None (and a message) if it won't."""
    lock = run_lock(config)
    if acquire(lock, config, wait=seconds):
        return lock
    print(
        f"Une autre exécution de veille est en cours (verrou {lock.path}) : réessayez.",
        file=sys.stderr,
    )
    return None
