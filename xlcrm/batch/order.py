"""Names in the order people count them: 销售2部 before 销售10部, 一部 二部 三部 … 十部 十一部.

Code-point order puts 三部 before 二部 (三 is U+4E09, 二 U+4E8C) and 10 before 2. Here a run of
digits, ASCII or full width, or of Chinese numerals (一 … 九, 零/〇, 两, 十, 百, 千) counts as its
number; the rest of the text compares as text. Every list of departments and of files found
follows this order.
"""

from __future__ import annotations

import re

import polars as pl

_CHINESE = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_UNITS = {"十": 10, "百": 100, "千": 1000}
# At most 18 characters a number (a longer run is several): a name is user text, and Python
# refuses to turn thousands of digits into a number.
_RUN = re.compile(r"[0-9０-９]{1,18}|[零〇一二两三四五六七八九十百千]{1,18}")


def natural_key(text: str) -> tuple[tuple[int, int | str], ...]:
    """The sort key of ``text``: its numbers as numbers, in place, the rest as text.

    ``text`` itself ends the key, so that 一部 and 1部 still come in one order.
    """
    key: list[tuple[int, int | str]] = []
    end = 0
    for run in _RUN.finditer(text):
        if run.start() > end:
            key.append((1, text[end : run.start()]))
        key.append((0, _number(run.group())))
        end = run.end()
    if end < len(text):
        key.append((1, text[end:]))
    key.append((2, text))
    return tuple(key)


def _number(run: str) -> int:
    if run.isdecimal():  # ASCII or full-width digits: int() reads both
        return int(run)
    total, digit = 0, 0
    for c in run:
        if c in _UNITS:
            total += (digit or 1) * _UNITS[c]  # 十一: (1) × 10 + 1
            digit = 0
        else:
            digit = (
                digit * 10 + _CHINESE[c] if digit and not total else _CHINESE[c]
            )  # 一二 (written digit by digit)
    return total + digit


def natural(column: str) -> pl.Expr:
    """A polars sort key for a text column: each value's rank in ``natural_key`` order."""
    return pl.col(column).map_batches(_ranks, return_dtype=pl.UInt32)


def _ranks(values: pl.Series) -> pl.Series:
    distinct = sorted(values.drop_nulls().unique().to_list(), key=natural_key)
    return values.replace_strict(distinct, list(range(len(distinct))), default=None, return_dtype=pl.UInt32)
