"""Contacts masked in what people read (POLICY §7): mobiles as 138****5678, e-mail local parts as w***@….

One rule in two forms: ``mask_text`` for a string (a finding's message, a blacklist reason, a
JSON value) and ``mask_columns`` for polars columns (the hundreds of thousands of rows of
公司客户). A mobile is 1[3-9] and nine more digits, with or without +86/0086 and spaces or
dashes or dots in the 3-4-4 places; it is masked wherever it stands in a text, not only in the 联系电话
column (staff write numbers into 联系人 or 地址 too). Identifiers (客户编码, 统一社会信用代码)
are left alone: they are not contacts, and a code must stay findable.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import polars as pl

# The same patterns serve Python's re and polars (Rust's regex): no look-around. A mobile starts
# the text or follows a non-digit or the country code 86 (+86, 0086): eleven digits inside a
# longer number — an 18-digit 统一社会信用代码 in a finding's message — are no mobile, and the
# code stays whole. Digits after the eleven do not matter (over-masking is harmless there).
# Staff group the eleven digits as they like (3-4-4, 4-3-4, (139)1234-5678, one by one) and type
# them in full width (１３９…) as often as not, or paste them from the web or WeChat (no-break
# and thin spaces): between any two digits up to five separators — spaces (ASCII, full width,
# no-break, thin), tabs, dashes (ASCII or full width, en or em), dots, slashes, underscores,
# brackets (ASCII or full width) — and a digit is ASCII or full width. Other scripts' digits
# (٣, ३) are not a mobile.
_DIGIT = "[0-9０-９]"
_SEP = "[ 　\u00a0\u2009\t.．/_\\-－–—()（）]{0,5}"
_MOBILE_PATTERN = (
    f"(^|[^0-9０-９]|[8８][6６])"
    f"([1１]{_SEP}[3-9３-９]{_SEP}{_DIGIT})(?:{_SEP}{_DIGIT}){{4}}{_SEP}({_DIGIT}(?:{_SEP}{_DIGIT}){{3}})"
)
# An e-mail: its local part ASCII (or full width) before an at sign (ASCII or full width), or a
# Chinese name of one to four characters (张三@…, 张·三@…) before an at sign and the domain's
# first character — required there, so that "已通知@王经理" is not taken for an address. A local
# part holds at most 64 characters (RFC 5321): unbounded, Python's re took seconds on a hostile
# cell ("@" and 32,000 letters: every start tried to its end).
_WIDE = "A-Za-z0-9ａ-ｚＡ-Ｚ０-９"
_EMAIL_PATTERN = f"([{_WIDE}_%+\\-])[{_WIDE}._%+\\-．]{{0,63}}([@＠])|([\u4e00-\u9fff])[\u4e00-\u9fff·]{{0,3}}([@＠][{_WIDE}])"
_MOBILE, _EMAIL = re.compile(_MOBILE_PATTERN), re.compile(_EMAIL_PATTERN)
# What every mobile's match holds (its separators are no digits): cheap to look for in polars.
_ELEVEN_DIGITS = "([0-9０-９][^0-9０-９]{0,5}){11}"
# Nor are eleven digits inside a 统一社会信用代码 a mobile: 18 characters of the code alphabet,
# two of them before the region's six digits (GB 32100-2015) — "Y1370200123456789K" begins with
# a letter, "131100005000123454" with 13. Such a code (not touching another letter or digit)
# is left whole; the text around it is masked. Rust's regex cannot say "not touching", so a
# text in which polars finds the code's shape (``_CODE_SHAPE``, rare) is masked by Python's rule.
_CODE_CHAR = "0-9A-HJ-NPQRTUW-Y"
_CODE_SHAPE = f"[{_CODE_CHAR}]{{2}}[0-9]{{6}}[{_CODE_CHAR}]{{10}}"
_CODE = re.compile(f"(?<![0-9A-Za-z]){_CODE_SHAPE}(?![0-9A-Za-z])")
# What each match becomes, in polars' syntax (``${1}``) and, derived from it, in Python's (``\g<1>``).
_MOBILE_MASK, _EMAIL_MASK = "${1}${2}****${3}", "${1}${3}***${2}${4}"
_MOBILE_SUB, _EMAIL_SUB = (re.sub(r"\$\{(\d+)\}", r"\\g<\1>", t) for t in (_MOBILE_MASK, _EMAIL_MASK))
# A mobile needs a digit of [0-9] or full width and an e-mail an at sign: text with none has
# nothing to mask (tests/test_mask.py checks this against masking everything).
_MAYBE = re.compile(r"[0-9０-９@＠]")


def mask_text(text: str) -> str:
    """``text`` with every mobile number and e-mail local part masked."""
    if _MAYBE.search(text) is None:
        return text
    text = _mobiles_masked(text)  # keeps every at sign: a mobile's match holds none
    return _EMAIL.sub(_EMAIL_SUB, text) if "@" in text or "＠" in text else text


def mask_value(value: Any) -> Any:
    """A JSON-like value with its strings masked (dicts and lists walked)."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: mask_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_value(v) for v in value]
    return value


def free_text(form_key: str) -> list[str]:
    """A form's columns of free text (text and lists), identifiers left out."""
    from xlcrm.forms import forms

    return [c.key for c in forms()[form_key].columns if c.type in ("text", "list") and c.key not in KEEP]


KEEP = frozenset({"customer_code", "uscc", "claim_id", "complaint_id"})


def _mobiles_masked(text: str) -> str:
    """``text`` with its mobiles masked, a 统一社会信用代码 in it left whole."""
    codes = list(_CODE.finditer(text))
    if not codes:
        return _MOBILE.sub(_MOBILE_SUB, text)
    pieces, start = [], 0
    for code in codes:
        pieces += [_MOBILE.sub(_MOBILE_SUB, text[start : code.start()]), code[0]]
        start = code.end()
    return "".join([*pieces, _MOBILE.sub(_MOBILE_SUB, text[start:])])


def mask_columns(frame: pl.DataFrame, columns: Iterable[str]) -> pl.DataFrame:
    """The ``columns`` of ``frame`` (text, or lists of text) masked, exactly as ``mask_text`` masks."""
    masked = []
    for name in columns:
        dtype = frame.schema.get(name)
        if dtype == pl.Utf8:
            done = _masked_column(frame[name])
        elif dtype == pl.List(pl.Utf8):
            done = frame.select(pl.col(name).list.eval(_masked(pl.element())))[name]
        else:
            continue
        column = frame[name]
        if dtype == pl.Utf8:  # a credit code's shape needs 18 characters: most columns have none
            long_enough = column.str.len_chars() >= 18
            rows = []
            if long_enough.any():
                rows = (long_enough & column.str.contains(_CODE_SHAPE)).fill_null(False).arg_true().to_list()
        else:  # a list with a text of the code's shape (a superset of _CODE's matches)
            coded = column.list.eval(pl.element().str.contains(_CODE_SHAPE)).list.any()
            rows = coded.fill_null(False).arg_true().to_list()
        if rows:  # a credit code in the text (no look-around in Rust's regex): Python's rule
            exact = [_python_masked(v) for v in column.gather(rows).to_list()]
            if dtype == pl.Utf8:
                done = done.scatter(rows, pl.Series(exact, dtype=dtype))
            else:  # polars cannot scatter into a list column (rare: rebuilt whole)
                fixed = dict(zip(rows, exact, strict=True))
                done = pl.Series(name, [fixed.get(i, v) for i, v in enumerate(done.to_list())], dtype=dtype)
        masked.append(done.alias(name))
    return frame.with_columns(masked) if masked else frame


def _python_masked(value: Any) -> Any:
    if isinstance(value, list):
        return [None if v is None else mask_text(v) for v in value]
    return None if value is None else mask_text(value)


def _masked_column(column: pl.Series) -> pl.Series:
    """A text column masked as ``_masked`` masks it, each pattern run only where it could match.

    A mobile needs eleven digits with at most five other characters between each two (the
    separators) and an e-mail an at sign: a column without them, or all blank, is left as it
    is, and a column with few is masked on those rows alone
    (each pass over 400,000 texts costs ~40 ms, matching or not).
    """
    if column.null_count() == column.len():
        return column
    done = _replaced(column, column.str.contains(_ELEVEN_DIGITS), _MOBILE_PATTERN, _MOBILE_MASK)
    return _replaced(done, done.str.contains("[@＠]"), _EMAIL_PATTERN, _EMAIL_MASK)


def _replaced(column: pl.Series, where: pl.Series, pattern: str, replacement: str) -> pl.Series:
    """``column`` with ``pattern`` replaced in the rows ``where`` is true (the others cannot match)."""
    count = where.sum()
    if not count:
        return column
    if count * 2 > column.len():  # most rows: one pass over all
        return column.str.replace_all(pattern, replacement)
    rows = where.fill_null(False).arg_true()
    return column.scatter(rows, column.gather(rows).str.replace_all(pattern, replacement))


def _masked(expr: pl.Expr) -> pl.Expr:
    return expr.str.replace_all(_MOBILE_PATTERN, _MOBILE_MASK).str.replace_all(_EMAIL_PATTERN, _EMAIL_MASK)
