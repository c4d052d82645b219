"""Working days by the mainland-China statutory calendar (chinesecalendar), else Monday–Friday.

chinesecalendar knows each year's holidays and the weekend days made working days once the
State Council publishes them. For a year it does not cover, weekdays are working days and the
year is remembered so the output can say so once.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import chinese_calendar
import polars as pl


@lru_cache(maxsize=1 << 16)
def _known_workday(day: dt.date) -> bool | None:
    """The statutory calendar's answer for ``day`` (chinesecalendar); None for a year it lacks.

    Process-wide: the answer never changes, and a consolidation worker checks hundreds of
    submissions in one process.
    """
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


@lru_cache(maxsize=1 << 16)
def _nth_workday_after(start: dt.date, count: int) -> tuple[dt.date, frozenset[int]]:
    """The ``count``-th working day after ``start``, and the years that fell back on the way."""
    day, seen, fallback = start, 0, set()
    while seen < count:
        if day == dt.date.max:  # past the last date Python has: nothing can be later
            break
        day += dt.timedelta(days=1)
        known = _known_workday(day)
        if known is None:
            fallback.add(day.year)
        if known or (known is None and day.weekday() < 5):
            seen += 1
    return day, frozenset(fallback)


class WorkCalendar:
    """Answers working-day questions and remembers which years fell back to Monday–Friday."""

    def __init__(self) -> None:
        self.fallback_years: set[int] = set()

    def is_workday(self, day: dt.date) -> bool:
        """Whether ``day`` is a working day."""
        known = _known_workday(day)
        if known is None:
            self.fallback_years.add(day.year)
            return day.weekday() < 5
        return known

    def deadline(self, start: dt.date, count: int) -> dt.date:
        """The ``count``-th working day after ``start`` (the last day that is "within")."""
        day, fallback = _nth_workday_after(start, count)
        self.fallback_years.update(fallback)
        return day


def months_later(column: str, months: int) -> pl.Expr:
    """The same day ``months`` later, clamped to the month's end (2025-08-31 + 6 → 2026-02-28)."""
    return pl.col(column).dt.offset_by(f"{months}mo")
