"""The dashboard's charts as geometry for inline SVG, computed here, drawn by the
template (no chart library, no script, no inline style: colours come from CSS
classes, so the CSP holds).

:func:`daily_chart` stacks each day's mentions by kind of source over the last
``days`` days, with the 28-day moving mean of the totals; :func:`bar_chart`
draws horizontal bars (top outlets).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

MEAN_WINDOW = 28
KIND_LABELS = {
    "feed": "fils RSS",
    "search": "moteurs de recherche",
    "page": "pages",
    "account": "comptes officiels",
}


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind)


@dataclass(frozen=True, slots=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    css: str  # the CSS class that colours it
    label: str  # the tooltip (<title>)


@dataclass(frozen=True, slots=True)
class Tick:
    at: float
    label: str


@dataclass(frozen=True, slots=True)
class DayRow:
    """One day as the data table under the chart shows it."""

    day: date
    counts: dict[str, int]
    total: int
    mean: float


@dataclass(frozen=True, slots=True)
class DailyChart:
    width: int
    height: int
    left: int
    bottom: int  # y of the axis
    rects: tuple[Rect, ...]
    mean_path: str  # SVG path of the moving mean
    x_ticks: tuple[Tick, ...]
    y_ticks: tuple[Tick, ...]
    kinds: tuple[tuple[str, str, str], ...]  # (kind, label, css) for the legend
    rows: tuple[DayRow, ...]
    total: int

    @property
    def summary(self) -> str:
        """What a screen reader is told of the chart."""
        if not self.rows:
            return "Aucune donnée."
        busiest = max(self.rows, key=lambda r: r.total)
        return (
            f"{self.total} mention(s) en {len(self.rows)} jours ; jour le plus chargé : "
            f"{busiest.day:%Y-%m-%d} ({busiest.total})."
        )


def _css(kind: str) -> str:
    known = list(KIND_LABELS)
    return f"serie-{known.index(kind)}" if kind in known else "serie-autre"


def daily_chart(
    counts: Sequence[tuple[date, str, int]],
    *,
    today: date,
    days: int = 90,
    width: int = 720,
    height: int = 240,
) -> DailyChart:
    """``counts`` (day, kind of source, mentions) — the store's ``daily_counts`` since
    ``days + 27`` days back, so that the mean of the first shown day is whole."""
    first = today - timedelta(days=days - 1)
    per_day: dict[date, dict[str, int]] = {}
    for day, kind, count in counts:
        per_day.setdefault(day, {})
        per_day[day][kind] = per_day[day].get(kind, 0) + count
    kinds = sorted({kind for _, kind, _ in counts}, key=lambda k: (k not in KIND_LABELS, k))
    totals = {day: sum(c.values()) for day, c in per_day.items()}
    shown = [first + timedelta(days=i) for i in range(days)]
    means = [
        sum(totals.get(day - timedelta(days=j), 0) for j in range(MEAN_WINDOW)) / MEAN_WINDOW
        for day in shown
    ]
    left, top, bottom = 36, 8, height - 24
    plot_h = bottom - top
    step = (width - left - 4) / days
    peak = max([*(totals.get(day, 0) for day in shown), *means, 1])
    scale = _nice_ceiling(peak)
    rects: list[Rect] = []
    for i, day in enumerate(shown):
        y = float(bottom)
        for kind in kinds:
            value = per_day.get(day, {}).get(kind, 0)
            if not value:
                continue
            h = value / scale * plot_h
            y -= h
            rects.append(
                Rect(
                    x=round(left + i * step + step * 0.1, 2),
                    y=round(y, 2),
                    width=round(step * 0.8, 2),
                    height=round(h, 2),
                    css=_css(kind),
                    label=f"{day:%Y-%m-%d} — {kind_label(kind)} : {value}",
                )
            )
    points = [
        f"{left + i * step + step / 2:.2f},{bottom - mean / scale * plot_h:.2f}"
        for i, mean in enumerate(means)
    ]
    mean_path = ("M" + " L".join(points)) if points else ""
    months = [i for i, day in enumerate(shown) if day.day == 1]
    marked = months if months and months[0] < 7 else [0, *months]  # labels never overlap
    x_ticks = tuple(Tick(round(left + i * step + step / 2, 2), f"{shown[i]:%m-%d}") for i in marked)
    y_ticks = tuple(
        Tick(round(bottom - value / scale * plot_h, 2), str(value))
        for value in (0, scale // 2, scale)
    )
    rows = tuple(
        DayRow(day, dict(per_day.get(day, {})), totals.get(day, 0), round(mean, 1))
        for day, mean in zip(shown, means, strict=True)
    )
    return DailyChart(
        width=width,
        height=height,
        left=left,
        bottom=bottom,
        rects=tuple(rects),
        mean_path=mean_path,
        x_ticks=x_ticks,
        y_ticks=y_ticks,
        kinds=tuple((k, kind_label(k), _css(k)) for k in kinds),
        rows=rows,
        total=sum(totals.get(day, 0) for day in shown),
    )


def _nice_ceiling(value: float) -> int:
    """The smallest of 2, 4, 6, 10, 20, 40, 60, 100… at or above ``value``."""
    magnitude = 1
    while True:
        for factor in (2, 4, 6, 10):
            if factor * magnitude >= value:
                return factor * magnitude
        magnitude *= 10


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: int
    width: float  # of the bar, in the SVG's units
    y: float


@dataclass(frozen=True, slots=True)
class BarChart:
    width: int
    height: int
    label_width: int
    bars: tuple[Bar, ...]


def bar_chart(
    values: Sequence[tuple[str, int]], *, width: int = 480, label_width: int = 200
) -> BarChart:
    row = 24
    peak = max((value for _, value in values), default=1) or 1
    room = width - label_width - 48
    bars = tuple(
        Bar(label, value, round(value / peak * room, 2), i * row)
        for i, (label, value) in enumerate(values)
    )
    return BarChart(width, max(row, len(bars) * row), label_width, bars)
