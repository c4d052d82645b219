"""POLICY §5 normalisation: unit cases and properties (never raises, idempotent)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from unittest import mock

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xlcrm.normalize import (
    INVALID,
    header_key,
    text_series,
    to_bool,
    to_code,
    to_date,
    to_datetime,
    to_integer,
    to_list,
    to_number,
    to_period,
    to_rate,
    to_text,
)

cells = st.one_of(
    st.none(),
    st.text(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.dates(),
    st.datetimes(),
    st.times(),
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  ＡＢＣ　 公司 ", "ABC 公司"),
        ("\u00a0C001\u200b", "C001"),
        ("C0\u00ad01\u2060\u200e", "C001"),  # a soft hyphen, a word joiner, a direction mark
        ("\u202a华康\u00ad医疗\u202c", "华康医疗"),
        (123.0, "123"),
        (1.5, "1.5"),
        ("", None),
        ("   ", None),
        ("00123", "00123"),
        ("1E5", "1E5"),
    ],
)
def test_to_text(raw: object, expected: str | None) -> None:
    assert to_text(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("１００，０００", 100000.0),
        ("1,234.5", 1234.5),
        ("1 234 567", 1234567.0),
        ("1，234", 1234.0),
        ("-1,000", -1000.0),
        ("12,5", INVALID),  # a decimal comma, not a thousands separator: never 125
        ("1.234,5", INVALID),  # never 1.2345
        ("1 234,5", INVALID),  # never 12345
        ("1,2,3", INVALID),
        ("12 5", INVALID),
        ("(1,000)", INVALID),
        (" 42 ", 42.0),
        (7, 7.0),
        ("nan", INVALID),
        ("inf", INVALID),
        ("abc", INVALID),
        (True, INVALID),
        (dt.date(2025, 1, 1), INVALID),
        (None, None),
    ],
)
def test_to_number(raw: object, expected: object) -> None:
    assert to_number(raw) == expected


def test_to_integer() -> None:
    assert to_integer("3") == 3
    assert to_integer(3.0) == 3
    assert to_integer(3.5) is INVALID


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2025-03-01", dt.date(2025, 3, 1)),
        ("2025/3/1", dt.date(2025, 3, 1)),
        ("2025.03.01", dt.date(2025, 3, 1)),
        ("2025年3月1日", dt.date(2025, 3, 1)),
        ("２０２５－０３－０１", dt.date(2025, 3, 1)),
        ("2025-03-01 00:00:00", dt.date(2025, 3, 1)),
        ("2025/03/01 23:59:59", dt.date(2025, 3, 1)),
        ("2025-03-01 25:00", INVALID),  # no such hour: an impossible date-time, never 2025-03-01
        ("2025-03-01 09:60:00", INVALID),
        (45717, dt.date(2025, 3, 1)),
        (45717.75, dt.date(2025, 3, 1)),
        (dt.datetime(2025, 3, 1, 9, 30), dt.date(2025, 3, 1)),
        (1, dt.date(1900, 1, 1)),
        (61, dt.date(1900, 3, 1)),
        ("2025-02-30", INVALID),
        ("20250301", INVALID),
        (0, INVALID),
        (True, INVALID),
    ],
)
def test_to_date(raw: object, expected: object) -> None:
    assert to_date(raw) == expected


@pytest.mark.parametrize("raw", ["是", "Y", "yes", "TRUE", "true", "1", 1, 1.0, True, "√", "✓"])
def test_to_bool_true(raw: object) -> None:
    assert to_bool(raw) is True


@pytest.mark.parametrize("raw", ["否", "N", "no", "FALSE", "0", 0, False, "×"])
def test_to_bool_false(raw: object) -> None:
    assert to_bool(raw) is False


def test_to_bool_other() -> None:
    assert to_bool("也许") is INVALID
    assert to_bool(2) is INVALID
    assert to_bool("") is None


def test_period_and_list() -> None:
    assert to_period("2025h1") == "2025H1"
    assert to_period("2025年下半年") == "2025H2"
    assert to_list("甲、乙，丙;丁／戊") == ("甲", "乙", "丙", "丁", "戊")
    assert to_list(" 、 ") is None


def test_header_key() -> None:
    assert header_key(" 年业务量（万元） ") == header_key("年业务量(万元)")
    assert header_key("Customer  Code") == header_key("customercode")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2025-03-01 09:30", dt.datetime(2025, 3, 1, 9, 30)),
        ("2025/3/1 9:30", dt.datetime(2025, 3, 1, 9, 30)),
        ("2025.03.01 23:59:59", dt.datetime(2025, 3, 1, 23, 59, 59)),
        ("2025年3月1日 9时30分", dt.datetime(2025, 3, 1, 9, 30)),
        ("2025年3月1日9时", dt.datetime(2025, 3, 1, 9, 0)),
        ("２０２５－０３－０１　０９：３０", dt.datetime(2025, 3, 1, 9, 30)),
        ("2025-03-01T09:30:00", dt.datetime(2025, 3, 1, 9, 30)),  # how xlwings' VBA client sends dates
        ("2025-03-01", dt.datetime(2025, 3, 1)),  # a bare date is 00:00
        (dt.date(2025, 3, 1), dt.datetime(2025, 3, 1)),
        (dt.datetime(2025, 3, 1, 9, 30), dt.datetime(2025, 3, 1, 9, 30)),
        (45717.4375, dt.datetime(2025, 3, 1, 10, 30)),
        (45717, dt.datetime(2025, 3, 1)),
        ("2025-03-01 24:00", INVALID),
        ("2025-03-01 9", INVALID),
        ("2025-03-01 09:3015", INVALID),
        ("2025-02-30 09:00", INVALID),
        ("上午九点", INVALID),
        (dt.time(9, 30), INVALID),
        (True, INVALID),
        (0, INVALID),
        ("", None),
    ],
)
def test_to_datetime(raw: object, expected: object) -> None:
    assert to_datetime(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("30%", 0.3),
        ("0.3", 0.3),
        ("３０％", 0.3),
        (" 30 % ", 0.3),
        ("10%", 0.1),
        ("12.5%", 0.125),
        (0.3, 0.3),
        ("30", 30.0),  # a bare 30 stays 30: out of the rate's range (S006), never read as 30%
        (30, 30.0),
        ("-5%", -0.05),
        ("1,000%", 10.0),
        ("1,2%", INVALID),  # never 0.012
        ("%", INVALID),
        ("三成", INVALID),
        ("1e999999999%", INVALID),
        (True, INVALID),
        (None, None),
    ],
)
def test_to_rate(raw: object, expected: object) -> None:
    assert to_rate(raw) == expected


def _excel_serial(moment: dt.datetime) -> float:
    return (moment - dt.datetime(1899, 12, 30)).total_seconds() / 86400


_MOMENTS = st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(9999, 12, 30))


@given(_MOMENTS)
def test_a_date_time_reads_the_same_however_it_is_written(moment: dt.datetime) -> None:
    minute = moment.replace(second=0, microsecond=0)
    for text in (
        minute.strftime("%Y-%m-%d %H:%M"),
        minute.strftime("%Y/%m/%d %H:%M"),
        minute.strftime("%Y.%m.%d %H:%M"),
        f"{minute.year}年{minute.month}月{minute.day}日 {minute.hour}时{minute.minute}分",
        minute.strftime("%Y-%m-%dT%H:%M:%S"),
        minute.strftime("%Y-%m-%d %H:%M").translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)}),
    ):
        assert to_datetime(text) == minute, text
    assert to_datetime(minute.strftime("%Y-%m-%d")) == minute.replace(hour=0, minute=0)  # bare date: 00:00
    second = moment.replace(microsecond=0)
    assert to_datetime(_excel_serial(second)) == second  # an Excel serial, to the second


@given(
    st.decimals(min_value=-1000, max_value=1000, places=3, allow_nan=False, allow_infinity=False),
    st.sampled_from(["{}%", "{} %", " {}％ "]),
)
def test_a_percentage_is_its_fraction(number: Decimal, layout: str) -> None:
    text = layout.format(number)
    assert to_rate(text) == float(number / 100)  # divided in decimal: 10% is exactly the float 0.1
    assert to_rate(text.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})) == to_rate(text)  # full width
    assert to_rate(str(to_rate(text))) == to_rate(text)  # the fraction written out reads the same


_OLD_PERCENT = re.compile(r"^([-+]?(?:\d[\d,]*)?\.?\d*(?:[eE][-+]?\d+)?)\s*%$")  # before the fix


@settings(max_examples=2000)
@given(st.text(alphabet="0123456789,.eE+-% ", max_size=12))
def test_the_percentage_pattern_reads_what_the_old_one_read(text: str) -> None:
    """The pattern without overlapping parts (linear on long digit runs) reads every text alike.

    Where the old one matched text without a digit (``e5%``, ``.%``), both read it as invalid.
    """
    old = _OLD_PERCENT.match(text)
    with mock.patch("xlcrm.normalize._PERCENT", _OLD_PERCENT):
        before = to_rate(text)
    assert to_rate(text) == before or (before is INVALID and old is not None), text


def test_a_long_run_of_digits_is_read_at_once() -> None:
    """32,767 nines in a rate cell took 34 s to refuse (S006/S009 then say why): a number too big."""
    assert to_rate("9" * 32_767) is INVALID
    assert to_rate("9" * 32_000 + "x%") is INVALID
    assert to_rate("1" + "0" * 20 + "%") == 1e18


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_a_bare_number_is_a_rate_as_it_is(number: float) -> None:
    assert to_rate(repr(number)) == number and to_rate(number) == number


@given(cells)
def test_normalisers_never_raise(value: object) -> None:
    for function in (
        to_text,
        to_number,
        to_integer,
        to_date,
        to_datetime,
        to_rate,
        to_bool,
        to_period,
        to_list,
    ):
        function(value)


@given(cells)
def test_normalising_is_idempotent(value: object) -> None:
    text = to_text(value)
    assert to_text(text) == text
    for function in (to_number, to_integer, to_date, to_datetime, to_rate, to_bool, to_period):
        once = function(value)
        if once is not INVALID and once is not None:
            assert function(once) == once, function.__name__
    items = to_list(value)
    if items is not None:
        assert to_list("、".join(items)) == items


texts = st.text(
    alphabet=st.one_of(
        st.characters(exclude_categories=("Cs",)),  # lone surrogates cannot occur in xlsx XML
        st.sampled_from(
            " \t\n\r\x1c\x85\xa0\u2007\u202f\u3000\u200b\ufeff\xad\u2060\u200e\u202eＡａ１，。、（）"
        ),
    )
)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        texts | st.sampled_from(["张三", "a b", "abc", "Ａ公司", " x", "x  y", ""]), min_size=1, max_size=30
    )
)
def test_vectorised_text_equals_scalar(values: list[str]) -> None:
    series = pl.Series("v", values, dtype=pl.Utf8)
    assert text_series(series).to_list() == [to_text(v) for v in values]
    assert text_series(series, compact_upper=True).to_list() == [to_code(v) for v in values]
    assert series.to_list() == values  # only the values that change are rewritten, in a copy


@settings(max_examples=500)
@given(
    st.lists(
        st.one_of(
            st.none(),
            st.floats(allow_nan=True, allow_infinity=True),
            st.sampled_from([1.7e308, -1.7e308, float("inf"), float("-inf"), float("nan"), 0.0, -0.0]),
        ),
        max_size=40,
    )
)
def test_all_finite_equals_the_element_wise_test(values: list[float | None]) -> None:
    """The sum shortcut agrees with testing each value, overflowing sums included."""
    from xlcrm.submission import all_finite

    series = pl.Series("x", values, dtype=pl.Float64)
    assert all_finite(series) == series.is_finite().fill_null(True).all()
