"""Read a header across two rows: vertical merges from the row above, group headings over it.

Staff often build a two-row header: a group heading (准入条件) merged across the columns it
groups, whose own headers (证照齐全, 经营资质齐全 …) sit on the second row, while every other
header is merged down over both rows (its text in the upper cell, the lower cell blank). Read
as a header, a row's column takes its own cell's text, else the text of a vertical merge that
starts in the row above and covers the cell (a merge's text counts in its first column only).
A group heading — a merge within the row above, across columns — names a column only when its
own text is a form column's header that the row does not already have (``xlcrm.reader``).
Merges that start further up are not read: a header is one row, or two.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from xlcrm.normalize import header_key

Merge = tuple[tuple[int, int], tuple[int, int]]  # (top, left), (bottom, right): 0-based, inclusive


@dataclass(frozen=True, slots=True)
class HeaderRow:
    """One row of a sheet read as a header, position by position (positions index the row)."""

    values: list[Any]  # each cell's own value, else the vertical merge's from the row above
    folded: list[str]  # ``values`` as matched (header_key); "" where not text
    covered: frozenset[int]  # positions whose value came down a merge from the row above
    groups: dict[int, str]  # first position -> folded text of a group heading in the row above
    grouped: frozenset[int]  # positions under a group heading of the row above


class HeaderMerges:
    """A sheet's merges that start within the rows scanned for a header, by their top row."""

    def __init__(self, merges: Sequence[Merge], first_row: int, first_col: int, scanned: int) -> None:
        self.first_col = first_col
        self._by_top: dict[int, list[Merge]] = {}
        for merge in merges:  # a sheet may hold a great many merges: only the scanned rows' are kept
            (top, left), (bottom, right) = merge
            if 0 <= top - first_row < scanned and bottom >= top and right >= left:
                self._by_top.setdefault(top - first_row, []).append(merge)

    def read(self, rows: list[list[Any]], index: int) -> HeaderRow:
        """``rows[index]`` read as a header under ``rows[index - 1]`` (module docstring)."""
        own = rows[index]
        values = list(own)
        covered: set[int] = set()
        groups: dict[int, str] = {}
        grouped: set[int] = set()
        for (top, left), (bottom, right) in self._by_top.get(index - 1, []) if index > 0 else ():
            first = left - self.first_col
            if not 0 <= first < len(own):
                continue
            heading = rows[index - 1][first]
            if bottom > top:  # runs down into this row: a vertical merge
                if _blank(own[first]):
                    values[first] = heading
                    covered.add(first)
            elif right > left:  # within the row above, across columns: a group heading
                if isinstance(heading, str):
                    groups[first] = header_key(heading)
                grouped.update(range(first, min(right - self.first_col, len(own) - 1) + 1))
        folded = [header_key(v) if isinstance(v, str) else "" for v in values]
        return HeaderRow(values, folded, frozenset(covered), groups, frozenset(grouped))

    def continues(self, rows: list[list[Any]], index: int, columns: dict[str, int]) -> bool:
        """Whether ``rows[index + 1]`` is the lower row of a header whose upper row is ``rows[index]``.

        It is when a header cell of the upper row runs down into it, every column the upper row
        names either runs down into it or heads a group, and the lower row holds only headers:
        a text under every column of each group, and texts where the upper row is blank (a
        column headed on the lower row alone, as xlcrm's computed columns are). A data row
        under a one-row header is not: some column of the header is a plain cell, or the row
        holds a value under one, or a number, or a blank under a (merely widened) header cell.
        """
        if index + 1 >= len(rows):
            return False
        lower = self.read(rows, index + 1)
        positions = {col - self.first_col for col in columns.values()}
        return (
            bool(lower.covered & positions)
            and all(p in lower.covered or p in lower.groups for p in positions)
            and all(
                _text(v) if p in lower.grouped else _blank(v) or (_text(v) and _blank(rows[index][p]))
                for p, v in enumerate(rows[index + 1])
            )
        )


def _blank(value: Any) -> bool:
    return value in ("", None)


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())
