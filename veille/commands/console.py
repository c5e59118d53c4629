"""What the commands share at the console: the configuration named on the command
line, ``--since``, and dates, tables and cells printed on one line."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from collectors import options_models
from veille.config import Config, config_path, load_config, parse_duration
from veille.errors import UsageError
from veille.sanitize import one_line, shorten


def config_of(args: argparse.Namespace) -> Config:
    """The config.yaml of ``--config`` (or $VEILLE_CONFIG, or ./config.yaml), validated."""
    return load_config(config_path(args.config), source_types=options_models())


def utc_now() -> datetime:
    return datetime.now(UTC)


def local_time(value: datetime | None, config: Config) -> str:
    if value is None:
        return "jamais"
    return value.astimezone(config.digest.zone).strftime("%Y-%m-%d %H:%M")


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    return "\n".join(lines)


def clip(text: str, size: int) -> str:
    """A table cell: ``text`` on one line, single-spaced, without control or bidi
    characters, shortened to ``size`` characters (:func:`veille.sanitize.shorten`)."""
    return shorten(" ".join(one_line(text).split()), size)


def until(value: datetime, config: Config) -> str:
    """A moment to come, local: "14:05" today, "2026-11-30 14:05" another day."""
    local = value.astimezone(config.digest.zone)
    today = utc_now().astimezone(config.digest.zone).date()
    return f"{local:%H:%M}" if local.date() == today else f"{local:%Y-%m-%d %H:%M}"


def every_text(seconds: float) -> str:
    for unit, size in (("j", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)} {unit}"
    return f"{seconds:g} s"


def parse_since(value: str, zone: ZoneInfo) -> datetime:
    """``--since``: a duration back from now (7d) or a date/time, local when no zone."""
    text = value.strip()
    try:
        return utc_now() - parse_duration(text)
    except ValueError:
        pass
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"date invalide « {value} » pour --since (exemples : 2026-11-01, 7d, 12h)"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)
