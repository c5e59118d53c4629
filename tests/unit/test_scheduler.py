"""The daemon's schedule: 07:30 local on both sides of daylight-saving changes."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from collectors import options_models
from tests.unit.test_config import GOOD
from veille.config import load_config
from veille.scheduler import build_scheduler, digest_trigger, source_trigger

MONTREAL = ZoneInfo("America/Montreal")


@pytest.fixture
def config(tmp_path: Path):
    path = tmp_path / "config.yaml"
    path.write_text(GOOD + "  timezone: America/Montreal\n", encoding="utf-8")
    return load_config(path, source_types=options_models())


@pytest.mark.parametrize(
    "start",
    [
        datetime(2026, 3, 6, 12, 0, tzinfo=MONTREAL),  # spring forward: 8 March 2026
        datetime(2026, 10, 30, 12, 0, tzinfo=MONTREAL),  # fall back: 1 November 2026
    ],
)
def test_digest_fires_at_0730_local_across_dst(config, start: datetime) -> None:
    trigger = digest_trigger(config)
    fire = None
    previous = start
    offsets = set()
    for _ in range(5):
        fire = trigger.get_next_fire_time(fire, previous)
        assert fire is not None
        local = fire.astimezone(MONTREAL)
        assert (local.hour, local.minute) == (7, 30), local
        offsets.add(local.utcoffset())
        previous = fire + timedelta(seconds=1)
    assert offsets == {timedelta(hours=-5), timedelta(hours=-4)}  # both sides of the change


def test_source_jobs_coalesce_and_never_overlap(config) -> None:
    now = datetime(2026, 11, 28, 12, 0, tzinfo=MONTREAL)
    scheduler = build_scheduler(
        config, run_source=lambda name: None, run_digest=lambda: None, now=now
    )
    scheduler.start(paused=True)
    try:
        jobs = {job.id: job for job in scheduler.get_jobs()}
    finally:
        scheduler.shutdown(wait=False)
    assert set(jobs) == {"source:Journal", "digest"}
    job = jobs["source:Journal"]
    assert job.coalesce and job.max_instances == 1 and job.misfire_grace_time == 600
    assert job.trigger.interval == timedelta(minutes=30)
    assert source_trigger(timedelta(hours=1)).jitter == 30


def test_an_unusable_store_is_reported_once_then_its_recovery(config) -> None:
    from veille.errors import StorageError
    from veille.scheduler import Daemon

    outcomes = [StorageError("la base x est en lecture seule"), StorageError("encore"), None, None]
    reports: list[object] = []

    def cycle(name: str | None) -> None:
        error = outcomes.pop(0)
        if error is not None:
            raise error

    daemon = Daemon(
        lambda run_source, run_digest: build_scheduler(
            config,
            run_source=run_source,
            run_digest=run_digest,
            now=datetime(2026, 11, 29, tzinfo=ZoneInfo("UTC")),
        ),
        cycle=cycle,
        digest=lambda: None,
        on_storage_error=reports.append,
    )
    for _ in range(4):
        daemon._source_job(config.sources[0].name)

    assert [str(r) if r else None for r in reports] == ["la base x est en lecture seule", None]
