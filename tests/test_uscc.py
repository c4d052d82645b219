"""The vectorised GB 32100-2015 checks agree with python-stdnum on any input.

python-stdnum wants a code's first eight characters to be digits; GB 32100-2015 lets the first
two (the registering authority and the kind of body: N 农业, Y 其他 …) be letters of the code
alphabet. For those codes the reference is the standard itself, with stdnum's check digit.
"""

from __future__ import annotations

import polars as pl
from hypothesis import example, given, settings
from hypothesis import strategies as st
from stdnum.cn import uscc
from stdnum.exceptions import InvalidChecksum, ValidationError

from xlcrm.forms import formats
from xlcrm.sample import credit_code
from xlcrm.schema import USCC_ALPHABET, uscc_check_digit

PATTERN = formats()["uscc"].pattern.pattern
codes = st.one_of(
    st.text(alphabet=USCC_ALPHABET + "IOSVZ", min_size=16, max_size=19),
    st.text(alphabet="0123456789", min_size=8, max_size=8).flatmap(
        lambda head: st.text(alphabet=USCC_ALPHABET, min_size=10, max_size=10).map(lambda tail: head + tail)
    ),
    st.integers(0, 9_999_999).map(credit_code),
    st.tuples(  # a letter first (N2…, Y1…): valid by the standard, refused by stdnum
        st.text(alphabet=USCC_ALPHABET, min_size=2, max_size=2),
        st.text(alphabet="0123456789", min_size=6, max_size=6),
        st.text(alphabet=USCC_ALPHABET, min_size=9, max_size=9),
    ).map(lambda parts: "".join(parts) + uscc.calc_check_digit("".join(parts))),
)


def ours(values: list[str]) -> list[str | None]:
    frame = pl.DataFrame({"v": values}, schema={"v": pl.Utf8}).select(
        ok_format=pl.col("v").str.contains(PATTERN),
        digit=uscc_check_digit(pl.col("v")),
        last=pl.col("v").str.slice(17, 1),
    )
    return [
        "S005" if not ok else ("A102" if digit != last else None) for ok, digit, last in frame.iter_rows()
    ]


def stdnum(value: str) -> str | None:
    """stdnum's verdict, with GB 32100-2015's letters allowed in the first two places."""
    if len(value) == 18 and value[:2].isascii() and not value[:2].isdigit() and value[2:8].isdigit():
        if any(c not in USCC_ALPHABET for c in value):
            return "S005"
        return None if uscc.calc_check_digit(value[:17]) == value[17] else "A102"
    try:
        uscc.validate(value)
    except InvalidChecksum:
        return "A102"
    except ValidationError:
        return "S005"
    return None


@settings(max_examples=500, deadline=None)  # a loaded machine must not fail it
@given(st.lists(codes, min_size=1, max_size=50))
@example(["91110108MA0000001D", "91110108MA00000010", "91110108MA000000"])
@example(["N2330106MA2B3C4D5W", "Y1110000MA0001234X", "Y1110000MA0001234Y", "I1110000MA0001234X"])
def test_vectorised_checks_agree_with_stdnum(values: list[str]) -> None:
    assert ours(values) == [stdnum(v) for v in values]


def test_every_check_character_occurs() -> None:
    values = [credit_code(i) for i in range(2000)]
    assert {v[-1] for v in values} == set(USCC_ALPHABET)
    assert ours(values) == [None] * len(values)
