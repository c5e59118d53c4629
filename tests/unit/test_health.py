"""Source health: back-off of failing sources, dead feeds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from collectors.feed import FeedSource
from storage.store import SourceRecord
from veille.digest import is_stale
from veille.pipeline import backoff_factor, is_due

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
SOURCE = FeedSource(name="F", type="feed", url="https://a.test/", every=timedelta(hours=1))


def _record(**values: object) -> SourceRecord:
    base: dict[str, object] = {
        "name": "F",
        "type": "feed",
        "last_attempt_at": None,
        "last_success_at": None,
        "failing_since": None,
        "consecutive_failures": 0,
        "last_error": None,
        "etag": None,
        "last_modified": None,
        "items_seen": 0,
        "mentions_found": 0,
        "notified_failing": False,
    }
    base.update(values)
    return SourceRecord(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(("failures", "factor"), [(0, 1), (1, 1), (2, 2), (3, 4), (4, 8), (9, 8)])
def test_backoff_doubles_up_to_eight_times_the_interval(failures: int, factor: int) -> None:
    assert backoff_factor(failures) == factor


def test_failing_source_waits_longer_and_recovers_by_itself() -> None:
    hour_ago = _record(last_attempt_at=NOW - timedelta(hours=1), consecutive_failures=0)
    assert is_due(SOURCE, hour_ago, NOW)
    failing = _record(last_attempt_at=NOW - timedelta(hours=3), consecutive_failures=3)
    assert not is_due(SOURCE, failing, NOW)  # waits 4 h
    assert is_due(SOURCE, failing, NOW + timedelta(hours=1))
    long_failing = _record(last_attempt_at=NOW - timedelta(hours=7), consecutive_failures=20)
    assert not is_due(SOURCE, long_failing, NOW)
    assert is_due(SOURCE, long_failing, NOW + timedelta(hours=1))  # capped at 8 h
    assert is_due(SOURCE, failing, NOW, force=True)  # veille run --all


def test_retry_after_wins_even_over_force() -> None:
    asked = _record(
        last_attempt_at=NOW - timedelta(hours=5), next_attempt_at=NOW + timedelta(minutes=5)
    )
    assert not is_due(SOURCE, asked, NOW, force=True)
    assert is_due(SOURCE, asked, NOW + timedelta(minutes=6))


def test_a_feed_silent_for_stale_after_is_flagged() -> None:
    quiet = _record(last_success_at=NOW, last_new_item_at=NOW - timedelta(days=31), items_seen=10)
    assert is_stale(SOURCE, quiet, NOW)
    assert not is_stale(SOURCE, quiet, NOW - timedelta(days=2))
    assert not is_stale(SOURCE, _record(last_success_at=NOW, last_new_item_at=NOW), NOW)
    failing = _record(
        last_success_at=NOW - timedelta(days=40),
        consecutive_failures=2,
        last_new_item_at=NOW - timedelta(days=40),
    )
    assert not is_stale(SOURCE, failing, NOW)  # failing is reported as failing instead
    never = _record(last_success_at=NOW, first_success_at=NOW - timedelta(days=31))
    assert is_stale(SOURCE, never, NOW)  # answered for a month, never a single item
    assert not is_stale(SOURCE, _record(last_success_at=NOW, first_success_at=NOW), NOW)
