"""Value normalisation (POLICY §5): what staff typed, made comparable — never an error by itself.

Each ``to_*`` function takes one raw cell value as the reader returns it (str, float, int,
bool, date, datetime, time or None) and returns the normalised value, or ``INVALID`` when the
value cannot be read as that type even after normalisation. Normalising a normalised value
returns it unchanged (idempotent).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import polars as pl

# Full-width ASCII (U+FF01–FF5E) to half-width; ideographic and non-breaking spaces to a space;
# invisible characters dropped: zero-width spaces and joiners, the BOM, the soft hyphen, the word
# joiner and invisible operators, and the direction marks, embeddings and isolates that text
# pasted from web pages and chat tools carries (none of them shows in a cell).
_INVISIBLE: Final = (
    0x00AD, 0x180E, 0x200B, 0x200C, 0x200D, 0x200E, 0x200F, *range(0x202A, 0x202F),
    *range(0x2060, 0x2065), *range(0x2066, 0x206A), 0xFEFF,
)  # fmt: skip
_SPACE_LIKE: Final = (0x3000, 0x00A0, 0x2007, 0x202F)  # ideographic and non-breaking spaces
_WIDTH: Final = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_WIDTH.update(dict.fromkeys(_SPACE_LIKE, 0x20))
_WIDTH.update(dict.fromkeys(_INVISIBLE, None))  # type: ignore[arg-type]
# Whitespace, listed explicitly so the scalar and the vectorised (polars) paths agree exactly.
SPACE_CHARS: Final = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2008\u2009\u200a\u2028\u2029\u205f"
)
# Every character ``to_text`` takes for a space or drops: none of them shows in a cell.
UNSEEN_CHARS: Final = SPACE_CHARS + "".join(map(chr, (*_SPACE_LIKE, *_INVISIBLE)))
SPACE_RUN: Final = "[" + "".join(f"\\u{ord(c):04x}" for c in SPACE_CHARS) + "]+"  # valid in re and Rust regex
_SPACES: Final = re.compile(SPACE_RUN)
_WIDTH_FROM: Final = [chr(k) for k in _WIDTH]
_WIDTH_TO: Final = [chr(v) if v is not None else "" for v in _WIDTH.values()]
# A text ``to_text`` would change: it holds a character folded, dropped or taken for a space
# (other than a plain space), starts or ends with a space, or holds two spaces in a row.
_ODD_CHARS: Final = "".join(f"\\u{c:04x}" for c in sorted({*_WIDTH, *map(ord, SPACE_CHARS)} - {0x20}))
_CHANGES_TEXT: Final = f"[{_ODD_CHARS}]|^ | $|  "
_CHANGES_CODE: Final = f"[{_ODD_CHARS} a-z]"  # ``to_code`` also drops spaces, upper-cases a-z
_LOWER: Final = [chr(c) for c in range(ord("a"), ord("z") + 1)]
_UPPER: Final = [c.upper() for c in _LOWER]
_ASCII_UPPER: Final = str.maketrans(dict(zip(_LOWER, _UPPER, strict=True)))
_LIST_SEPARATORS: Final = re.compile(r"[、,;/]")
_DATE: Final = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?$"
)
# A date (the layouts of _DATE) with an optional time of day: 09:30, 9:30:15.5, T09:30:00, or
# 9时, 9时30分, 9时30分15秒.
_DATETIME: Final = re.compile(
    r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?"
    r"(?:(?:\s*T\s*|\s+|(?<=日))(\d{1,2})\s*"
    r"(?::\s*(\d{1,2})(?:\s*:\s*(\d{1,2})(?:\.(\d{1,6}))?)?"
    r"|时\s*(?:(\d{1,2})\s*分?\s*(?:(\d{1,2})\s*秒)?)?))?$"
)
# No two parts can take the same digits: with ``(?:\d[\d,]*)?\.?\d*`` a long run of digits that is
# no percentage (32,000 nines in a rate cell) made Python's re try every split of it (34 s).
_PERCENT: Final = re.compile(r"^([-+]?(?:\d[\d,]*(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*%$")
# Thousands separators (POLICY §5: ``100,000``; a space as well, ``1 234``) stand between groups of
# three digits before the decimal point; anywhere else a comma or space is no separator
# (``12,5``, ``1.234,5``, ``1 234,5``) and the text is no number, rather than 125, 1.2345, 12345.
_GROUPED: Final = re.compile(r"^[-+]? ?\d{1,3}(?:[, ]\d{3})*(?:\.\d*)?(?:[eE][-+]?\d+)?$")
_HALF_YEAR: Final = re.compile(r"^(\d{4})\s*(?:年)?\s*(?:H([12])|(上|下)半年)$", re.IGNORECASE)
_TRUE: Final = frozenset({"是", "y", "yes", "true", "1", "√", "✓", "✔"})
_FALSE: Final = frozenset({"否", "n", "no", "false", "0", "×", "✗", "✘"})
_EXCEL_EPOCH: Final = dt.date(1899, 12, 30)
_EXCEL_EPOCH_TIME: Final = dt.datetime(1899, 12, 30)
_MAX_SERIAL: Final = 2958465  # 9999-12-31


class _Invalid:
    """Marker for a value that cannot be read as the column's type."""

    _instance: _Invalid | None = None

    def __new__(cls) -> _Invalid:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "INVALID"


INVALID: Final = _Invalid()


def fold_width(text: str) -> str:
    """Full-width letters, digits and punctuation to half-width; odd spaces to plain ones."""
    return text.translate(_WIDTH)


def header_key(text: object) -> str:
    """A header or sheet name reduced for matching: width-folded, no spaces, case-folded."""
    if text is None:
        return ""
    return _SPACES.sub("", fold_width(str(text))).casefold()


def to_text(value: object) -> str | None:
    """Trimmed, width-folded text with runs of spaces collapsed; None for blank."""
    if value is None:
        return None
    if isinstance(value, str):
        if value.isascii() and value.isprintable():  # the only whitespace is " "
            text = value.strip(" ")
            if "  " in text:
                text = _SPACES.sub(" ", text)
        else:
            text = _SPACES.sub(" ", value.translate(_WIDTH).strip(SPACE_CHARS))
        return text or None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 2**53:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    return str(value)


def to_number(value: object) -> float | _Invalid | None:
    """A finite float, from numbers or text such as ``1,234.5`` or ``１２３``."""
    if value is None or value == "":
        return None
    if isinstance(value, (bool, dt.date, dt.time, dt.timedelta)):
        return INVALID
    if isinstance(value, (int, float)):
        number = float(value)
    else:
        text = to_text(value)
        if text is None:
            return None
        if ("," in text or " " in text) and not _GROUPED.match(text):
            return INVALID
        try:
            number = float(text.replace(",", "").replace(" ", ""))
        except ValueError:
            return INVALID
    return number if math.isfinite(number) else INVALID


def to_integer(value: object) -> int | _Invalid | None:
    """A whole number; 3.0 is 3, 3.5 cannot be read as one."""
    number = to_number(value)
    if number is None or number is INVALID:
        return number  # type: ignore[return-value]
    assert isinstance(number, float)
    if not number.is_integer() or abs(number) >= 2**63:
        return INVALID
    return int(number)


def to_date(value: object) -> dt.date | _Invalid | None:
    """A date from a date cell, an Excel serial number, or text in the accepted layouts."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        return INVALID
    if isinstance(value, (int, float)):
        if not 1 <= value <= _MAX_SERIAL:
            return INVALID
        # Excel counts the non-existent 1900-02-29 as serial 60.
        epoch = _EXCEL_EPOCH if value >= 61 else _EXCEL_EPOCH + dt.timedelta(days=1)
        return epoch + dt.timedelta(days=int(value))
    text = to_text(value)
    if text is None:
        return None
    match = _DATE.match(text)
    if not match:
        return INVALID
    try:
        if match[4] is not None:  # a time of day after the date must be one (25:99 is none)
            dt.time(int(match[4]), int(match[5]), int(match[6] or 0))
        return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return INVALID


def to_datetime(value: object) -> dt.datetime | _Invalid | None:
    """A date with a time of day (POLICY §1.7): an Excel date-time, a serial, or text.

    Text is a date in any layout ``to_date`` reads, optionally followed by ``HH:MM`` (or
    ``HH:MM:SS``, ``9时30分``, ``T09:30``); a bare date means 00:00. Serials are rounded to the
    second (a serial's binary fraction is never an exact minute).
    """
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day)
    if isinstance(value, bool):
        return INVALID
    if isinstance(value, (int, float)):
        if not 1 <= value <= _MAX_SERIAL + 1 or not math.isfinite(value):
            return INVALID
        epoch = _EXCEL_EPOCH_TIME if value >= 61 else _EXCEL_EPOCH_TIME + dt.timedelta(days=1)
        moment = epoch + dt.timedelta(seconds=round(float(value) * 86400))
        return moment if moment.year <= 9999 else INVALID
    text = to_text(value)
    if text is None:
        return None
    match = _DATETIME.match(text)
    if not match:
        return INVALID
    year, month, day, hour, minute, second, fraction, minute_zh, second_zh = match.groups()
    try:
        return dt.datetime(
            int(year),
            int(month),
            int(day),
            int(hour or 0),
            int(minute or minute_zh or 0),
            int(second or second_zh or 0),
            int((fraction or "0").ljust(6, "0")),
        )
    except ValueError:
        return INVALID


def to_rate(value: object) -> float | _Invalid | None:
    """A rate as a fraction: ``30%``, ``３０％`` and ``0.3`` are all 0.3 (POLICY §1.7).

    A bare ``30`` stays 30 (out of the 0–1 range: S006, never silently read as 30%).
    Percentages are divided in decimal, so ``10%`` is exactly the float ``0.1``.
    """
    if isinstance(value, str):
        text = to_text(value)
        if text is None:
            return None
        match = _PERCENT.match(text) if text.endswith("%") else None
        if match:
            if "," in match[1] and not _GROUPED.match(match[1]):
                return INVALID
            digits = match[1].replace(",", "")
            if not any(c.isdigit() for c in digits):
                return INVALID
            try:
                number = float(Decimal(digits) / 100)
            except ArithmeticError:  # an exponent beyond what a decimal holds
                return INVALID
            return number if math.isfinite(number) else INVALID
        return to_number(text)
    return to_number(value)


def to_bool(value: object) -> bool | _Invalid | None:
    """True/False from 是/否, Y/N, yes/no, TRUE/FALSE, 1/0, √/×."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return True if value == 1 else False if value == 0 else INVALID
    text = to_text(value)
    if text is None:
        return None
    folded = text.casefold()
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    return INVALID


def to_period(value: object) -> str | None:
    """A half-year period as ``YYYYH1``/``YYYYH2``; ``2025年上半年`` is 2025H1."""
    text = to_text(value)
    if text is None:
        return None
    match = _HALF_YEAR.match(text)
    if not match:
        return text.upper()
    half = match[2] or ("1" if match[3] == "上" else "2")
    return f"{match[1]}H{half}"


def to_list(value: object) -> tuple[str, ...] | None:
    """Items separated by 、 , ; / (full-width forms too), trimmed, blanks dropped."""
    text = to_text(value)
    if text is None:
        return None
    items = tuple(item for part in _LIST_SEPARATORS.split(text) if (item := part.strip()))
    return items or None


def to_enum(value: object, allowed: tuple[str, ...]) -> str | None:
    """Normalised text, mapped to the allowed spelling when it differs only in case."""
    text = to_text(value)
    if text is None or text in allowed:
        return text
    folded = text.casefold()
    for choice in allowed:
        if choice.casefold() == folded:
            return choice
    return text


def compact(text: str | None) -> str | None:
    """Text with every space removed (phone numbers, credit codes)."""
    return None if text is None else text.replace(" ", "")


def to_code(value: object) -> str | None:
    """Phone numbers and credit codes: text without spaces, ASCII letters upper-cased."""
    text = compact(to_text(value))
    return text.translate(_ASCII_UPPER) if text else None


def text_series(values: pl.Series, compact_upper: bool = False) -> pl.Series:
    """``to_text`` (or ``compact``+upper for codes) over a whole string column at once.

    Equal to the scalar functions value by value (tests/test_normalize.py proves it); about
    ten times faster on a column of 100,000 distinct names. Only the values that need a change
    (found by one regex search) are transformed; the rest pass as they are.
    """
    import polars as pl

    changes = values.str.contains(_CHANGES_CODE if compact_upper else _CHANGES_TEXT)
    if changes.any():
        where = changes.arg_true()
        folded = values.gather(where).str.replace_many(_WIDTH_FROM, _WIDTH_TO)
        text = folded.str.strip_chars(SPACE_CHARS).str.replace_all(SPACE_RUN, " ")
        if compact_upper:
            text = text.str.replace_all(" ", "", literal=True).str.replace_many(_LOWER, _UPPER)
        values = values.clone().scatter(where, text)  # scatter writes in place: never the caller's
    return pl.select(pl.when(values != "").then(values)).to_series().alias(values.name)
