"""``veille daemon``: the same cycle as ``veille run``, on APScheduler.

- one job per source, on its own ``every:`` with a little jitter, each calling
  :func:`veille.pipeline.run_once` for that source only (one code path with
  ``veille run``: alerts, admin notices and a due digest go out the same way);
- the digest at ``digest.at`` in ``digest.timezone`` (a cron trigger in that
  zone, so 07:30 stays 07:30 local across daylight-saving changes);
- its first act is a full cycle of every due source, after which a digest
  missed while the daemon was down goes out (never a catch-up digest that has
  not looked at anything yet);
- a store that cannot be used (read-only, disk full…) is logged on every job
  without a traceback, and reported once (``on_storage_error``) until it works
  again;
- jobs run one at a time (one worker thread), ``max_instances=1``, missed runs
  coalesced with a grace period, so a suspended laptop or a restart does not
  fire a burst;
- SIGTERM or SIGINT stops it within :data:`STOP_WITHIN` seconds: a cycle that is
  fetching stops at once (its fetches are cancelled, the source being stored is
  finished), one busy elsewhere (sending an email) is abandoned after that time;
  since every source's batch is one transaction the store stays consistent.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from types import FrameType

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from veille.config import Config
from veille.errors import CycleStopped, StorageError

log = logging.getLogger(__name__)

STOP_WITHIN = 8.0  # seconds granted to a running cycle after SIGTERM
MISFIRE_GRACE = 600  # seconds: a late job still runs once, never in a burst


def digest_trigger(config: Config) -> CronTrigger:
    """Every day at ``digest.at``, local time of ``digest.timezone``."""
    at = config.digest.at
    return CronTrigger(hour=at.hour, minute=at.minute, timezone=config.digest.zone)


def source_trigger(every: timedelta) -> IntervalTrigger:
    seconds = every.total_seconds()
    jitter = int(min(30.0, seconds * 0.02))
    return IntervalTrigger(seconds=seconds, jitter=jitter or None)


def build_scheduler(
    config: Config,
    *,
    run_source: Callable[[str], None],
    run_digest: Callable[[], None],
    now: datetime,
) -> BackgroundScheduler:
    scheduler = BackgroundScheduler(
        timezone=config.digest.zone,
        executors={"default": ThreadPoolExecutor(1)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": MISFIRE_GRACE},
    )
    enabled = config.enabled_sources
    for number, source in enumerate(enabled):
        scheduler.add_job(
            run_source,
            source_trigger(source.every),
            args=[source.name],
            id=f"source:{source.name}",
            name=source.name,
            next_run_time=now + timedelta(seconds=1 + number),  # a first visit at start
        )
    scheduler.add_job(run_digest, digest_trigger(config), id="digest", name="résumé")
    return scheduler


class Daemon:
    """Runs the scheduler until SIGTERM/SIGINT; at most one job at a time."""

    def __init__(
        self,
        scheduler_factory: Callable[
            [Callable[[str], None], Callable[[], None]], BackgroundScheduler
        ],
        *,
        cycle: Callable[[str | None], None],
        digest: Callable[[], None],
        on_storage_error: Callable[[StorageError | None], None] | None = None,
        stopping: threading.Event | None = None,
    ):
        self._busy = threading.Lock()
        self._stop = stopping or threading.Event()  # the cycles watch it too
        self._cycle = cycle
        self._digest = digest
        self._on_storage_error = on_storage_error
        self._storage_down = False
        self.scheduler = scheduler_factory(self._source_job, self._digest_job)

    def _first_cycle_job(self) -> None:
        self._guarded(lambda: self._cycle(None), "premier cycle")

    def _source_job(self, name: str) -> None:
        self._guarded(lambda: self._cycle(name), f"source {name}")

    def _digest_job(self) -> None:
        self._guarded(self._digest, "résumé")

    def _guarded(self, job: Callable[[], None], what: str) -> None:
        if self._stop.is_set():
            return
        with self._busy:
            try:
                job()
            except CycleStopped:
                log.warning("Cycle abandonné à l'arrêt : les sources déjà enregistrées le restent")
                return
            except StorageError as exc:
                log.error("Base de données inutilisable (%s) : %s", what, exc)
                if not self._storage_down:
                    self._storage_down = True
                    self._report_storage(exc)
                return
            except Exception:  # a bug in one cycle must not kill the daemon
                log.exception("Erreur interne pendant le travail « %s »", what)
                return
            if self._storage_down:
                self._storage_down = False
                log.info("La base de données fonctionne de nouveau")
                self._report_storage(None)

    def _report_storage(self, error: StorageError | None) -> None:
        if self._on_storage_error is None:
            return
        try:
            self._on_storage_error(error)
        except Exception:  # the notice is a courtesy: never the daemon's end
            log.exception("Avis aux administrateurs (base de données) non envoyé")

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        log.info("Signal %s reçu : arrêt de veille", signal.Signals(signum).name)
        self._stop.set()

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        # First act: a full cycle (then a digest missed while veille was down goes out).
        self.scheduler.add_job(
            self._first_cycle_job,
            next_run_time=datetime.now(self.scheduler.timezone),
            id="premier-cycle",
            name="premier cycle",
        )
        self.scheduler.start()
        log.info(
            "veille daemon démarré : %d travail(aux) planifié(s)", len(self.scheduler.get_jobs())
        )
        while not self._stop.wait(0.5):
            pass
        self.scheduler.shutdown(wait=False)
        if self._busy.acquire(timeout=STOP_WITHIN):
            log.info("veille daemon arrêté proprement")
            return 0
        log.warning("Un cycle était en cours : il est abandonné (sa transaction est annulée)")
        logging.shutdown()
        os._exit(0)
