"""A column's allowed range and how messages and documents put it in words."""

from __future__ import annotations

from xlcrm.forms import Column
from xlcrm.phrase import Phrase
from xlcrm.policy import Policy, default_policy


def value_range(column: Column, policy: Policy | None = None) -> tuple[float | None, float | None]:
    """A column's inclusive range, its maximum taken from the policy where declared so."""
    if column.max_policy:
        return column.min, float((policy or default_policy())[column.max_policy])
    return column.min, column.max


def _show(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def range_text(low: float | None, high: float | None, low_exclusive: bool = False) -> str:
    """``0–30``, ``≥ 0``, ``> 0`` or ``≤ 100``."""
    if low is not None and high is not None:
        return f"{_show(low)}–{_show(high)}"
    if low is not None:
        return f"{'>' if low_exclusive else '≥'} {_show(low)}"
    return f"≤ {_show(high)}"  # type: ignore[arg-type]


def range_phrase(column: Column, policy: Policy | None = None, hint: bool = False) -> str | Phrase:
    """A column's range in words; a rate's also as percentages (``hint``: and how to write one)."""
    low, high = value_range(column, policy)
    text = range_text(low, high, column.min_exclusive)
    if column.type != "rate" or low is None or high is None:
        return text
    percent = f"{_show(low * 100)}%–{_show(high * 100)}%"
    if hint:
        return Phrase(
            f"{text}（即 {percent}；三成写作 30% 或 0.3）", f"{text} ({percent}; 30 per cent is 30% or 0.3)"
        )
    return Phrase(f"{text}（即 {percent}）", f"{text} ({percent})")
