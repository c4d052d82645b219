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


class WorkCalendar:
    """Answers working-day questions and remembers which years fell back to Monday–Friday."""

    def __init__(self) -> None:
        self.fallback_years: set[int] = set()
        self._deadline = lru_cache(maxsize=8192)(self._nth_workday_after)
        self._workday: dict[dt.date, bool] = {}

    def is_workday(self, day: dt.date) -> bool:
        """Whether ``day`` is a working day (each date looked up once)."""
        known = self._workday.get(day)
        if known is not None:
            return known
        try:
            answer = bool(chinese_calendar.is_workday(day))
        except NotImplementedError:
            self.fallback_years.add(day.year)
            answer = day.weekday() < 5
        self._workday[day] = answer
        return answer

    def _nth_workday_after(self, start: dt.date, count: int) -> dt.date:
        day, seen = start, 0
        while seen < count:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                seen += 1
        return day

    def deadline(self, start: dt.date, count: int) -> dt.date:
        """The ``count``-th working day after ``start`` (the last day that is "within")."""
        return self._deadline(start, count)  # type: ignore[no-any-return]


def months_later(column: str, months: int) -> pl.Expr:
    """The same day ``months`` later, clamped to the month's end (2025-08-31 + 6 → 2026-02-28)."""
    return pl.col(column).dt.offset_by(f"{months}mo")
