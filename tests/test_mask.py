"""mask_text: its quick guard never changes what masking every text would give."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from xlcrm.batch.mask import _EMAIL, _MOBILE, mask_text


def _masked_always(text: str) -> str:
    """Both substitutions on every text, with no guard at all (the definition)."""
    return _EMAIL.sub(r"\1***@", _MOBILE.sub(r"\1****\2", text))


# Pieces that matter to the patterns and the guard: ASCII and other Unicode digits (٣, ३, ²,
# full-width ３ are digits to str.isdigit but not to [0-9]), the separators, "@", letters, Chinese.
_PIECES = st.sampled_from(
    [
        "1",
        "3",
        "8",
        "9",
        "0",
        "5",
        "٣",
        "३",
        "²",
        "３",
        "@",
        " ",
        "-",
        ".",
        "–",
        "—",
        "a",
        "Z",
        "_",
        "+",
        "%",
        "客",
        "户",
        "\n",
    ]
)
_MOBILES = st.from_regex(r"\A(\+86|0086)?1[3-9][0-9][ .\-–—]{0,3}[0-9]{4}[ .\-–—]{0,3}[0-9]{4}\Z")
_EMAILS = st.from_regex(r"\A[A-Za-z0-9._%+\-]{1,8}@[a-z]{1,5}\.com\Z")


@settings(max_examples=1000)
@given(st.lists(st.one_of(_PIECES, _MOBILES, _EMAILS, st.text(max_size=4)), max_size=12).map("".join))
def test_guard_is_equivalent_to_masking_everything(text: str) -> None:
    assert mask_text(text) == _masked_always(text)


def test_masks_mobiles_and_emails_and_leaves_other_text() -> None:
    assert mask_text("联系人 张三 13812345678，邮箱 wang.li@example.com") == (
        "联系人 张三 138****5678，邮箱 w***@example.com"
    )
    assert mask_text("电话 +86 139-1234-5678") == "电话 +86 139****5678"
    assert mask_text("日期 2025-03-01，无联系方式") == "日期 2025-03-01，无联系方式"
    assert mask_text("١٣٨١٢٣٤٥٦٧٨") == "١٣٨١٢٣٤٥٦٧٨"  # Arabic-Indic digits are not a mobile
    assert mask_text("") == ""
