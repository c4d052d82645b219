"""What a worksheet's XML says about its layout that the cell reader does not: hidden rows and columns.

A finding in a hidden row or column must say so, or staff look for it in vain. python-calamine
returns values only, so the pre-flight pass that already reads every sheet part picks these
up: hidden columns from ``<cols>`` before the rows, hidden rows from the row start tags.
Attributes may use either quote and spaces around ``=`` (XML allows both).
"""

from __future__ import annotations

import re

_COL = re.compile(rb"<(?:\w+:)?col\b([^>]*)>")
_ROW = re.compile(rb"<(?:\w+:)?row\b([^>]*)>")
_HIDDEN = re.compile(rb"""\bhidden\s*=\s*(["'])\s*(?:1|true)\s*\1""")


def _number(attributes: bytes, name: bytes) -> int | None:
    found = re.search(rb"\b" + name + rb"""\s*=\s*(["'])\s*(\d+)\s*\1""", attributes)
    return int(found.group(2)) if found else None


def hidden_columns(head: bytes) -> frozenset[int]:
    """1-based columns hidden by ``<col min max hidden>`` in a sheet's head (before its rows)."""
    hidden: set[int] = set()
    for match in _COL.finditer(head):
        attributes = match.group(1)
        if not _HIDDEN.search(attributes):
            continue
        low, high = _number(attributes, b"min"), _number(attributes, b"max")
        if low is not None and high is not None and 0 < low <= high:
            hidden.update(range(low, min(high, 16384) + 1))
    return frozenset(hidden)


def hidden_rows(rows: bytes) -> set[int]:
    """1-based rows whose start tag says ``hidden`` (rows without a number are not known)."""
    if b"hidden" not in rows:
        return set()
    hidden = set()
    for match in _ROW.finditer(rows):
        attributes = match.group(1)
        if _HIDDEN.search(attributes) and (number := _number(attributes, b"r")) is not None:
            hidden.add(number)
    return hidden
