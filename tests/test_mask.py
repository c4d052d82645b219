"""Masking (POLICY §7): the mobiles and e-mails staff really type, the same in Python and in polars."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from xlcrm.batch.mask import _EMAIL, _mobiles_masked, mask_columns, mask_text


def _masked_always(text: str) -> str:
    """Both substitutions on every text, with no guard at all (the definition)."""
    return _EMAIL.sub(r"\1\3***\2\4", _mobiles_masked(text))


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
        "１",
        "\u00a0",
        "\t",
        "/",
        "王",
        "９",
        "@",
        "＠",
        "(",
        "）",
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
_MOBILES = st.from_regex(
    r"\A(\+86|0086)?[(（]?[1１][ \u00a0\t/_.\-－()（）]{0,5}[3-9３-９]([ 　\u00a0\u2009\t.．/_\-－–—()（）]{0,5}[0-9０-９]){9}\Z"
)
_EMAILS = st.from_regex(
    r"\A([A-Za-z0-9._%+\-ａ-ｚ０-９．]{1,8}|[张三李·]{1,5})[@＠][a-zａ-ｚ]{1,5}[.．]com\Z"
)
# A 统一社会信用代码's shape (left whole unless it touches a letter or digit).
_CODES = st.from_regex(r"\A[0-9A-HJ-NPQRTUW-Y]{2}1[3-9][0-9]{4}[0-9A-HJ-NPQRTUW-Y]{10}\Z")
_TEXTS = st.lists(st.one_of(_PIECES, _MOBILES, _EMAILS, _CODES, st.text(max_size=4)), max_size=12).map(
    "".join
)


@settings(max_examples=1000)
@given(_TEXTS)
def test_guard_is_equivalent_to_masking_everything(text: str) -> None:
    assert mask_text(text) == _masked_always(text)


@settings(max_examples=300)
@given(st.lists(_TEXTS, min_size=1, max_size=20))
def test_polars_masks_as_python_does(texts: list[str]) -> None:
    """The 公司客户 columns (Rust's regex) and every other text (Python's re) are masked alike."""
    masked = mask_columns(pl.DataFrame({"text": texts}, schema={"text": pl.Utf8}), ["text"])
    assert masked["text"].to_list() == [mask_text(t) for t in texts]


@settings(max_examples=300)
@given(st.lists(st.none() | st.lists(st.none() | _TEXTS, max_size=4), min_size=1, max_size=20))
def test_polars_masks_list_columns_as_python_does(lists: list[list[str | None] | None]) -> None:
    """A list column (经营产品) is masked element by element, a credit code in it left whole."""
    frame = pl.DataFrame({"products": lists}, schema={"products": pl.List(pl.Utf8)})
    masked = mask_columns(frame, ["products"])["products"].to_list()
    assert masked == [None if v is None else [None if t is None else mask_text(t) for t in v] for v in lists]


def test_masks_mobiles_and_emails_and_leaves_other_text() -> None:
    assert mask_text("联系人 张三 13812345678，邮箱 wang.li@example.com") == (
        "联系人 张三 138****5678，邮箱 w***@example.com"
    )
    assert mask_text("电话 +86 139-1234-5678") == "电话 +86 139****5678"
    assert mask_text("日期 2025-03-01，无联系方式") == "日期 2025-03-01，无联系方式"
    assert mask_text("١٣٨١٢٣٤٥٦٧٨") == "١٣٨١٢٣٤٥٦٧٨"  # Arabic-Indic digits are not a mobile
    assert mask_text("") == ""


def test_masks_the_ways_staff_write_mobiles_and_emails() -> None:
    """Other groupings, brackets, full-width digits and at signs, Chinese local parts."""
    cases = {
        "(139)2222-7777": "(139****7777",
        "（139）2222 7777": "（139****7777",
        "1391 234 5678": "139****5678",  # 4-3-4
        "139.1234.5678": "139****5678",
        "１３９１２３４５６７８": "１３９****５６７８",
        "电话：１３９－１２３４－５６７８": "电话：１３９****５６７８",
        "139　1234　5678": "139****5678",  # full-width spaces
        "张三@qq.com": "张***@qq.com",
        "wang.li＠example.com": "w***＠example.com",
        "邮箱：zhang@163.com": "邮箱：z***@163.com",
        "张·三@abc.com": "张***@abc.com",
        "ｚｈａｎｇ＠ａｂｃ．ｃｏｍ": "ｚ***＠ａｂｃ．ｃｏｍ",  # all full width
        "１２３４５６７８９＠ｑｑ．ｃｏｍ": "１***＠ｑｑ．ｃｏｍ",
        "139\u00a01234\u00a05678": "139****5678",  # no-break spaces (pasted from the web)
        "139\t1234\u20095678": "139****5678",
        "139  -  1234  -  5678": "139****5678",
        "139/1234_5678": "139****5678",
        "1 3 9 1 2 3 4 5 6 7 8": "1 3 9****5 6 7 8",
        # no over-masking: the text before a Latin address, an @ before a name, a code
        "客户K0012345的邮箱wang@abc.com无效": "客户K0012345的邮箱w***@abc.com无效",
        "福州市鼓楼区五四路100号邮箱zhang@abc.com": "福州市鼓楼区五四路100号邮箱z***@abc.com",
        "已通知@王经理": "已通知@王经理",
        "a" * 30000 + "@x.cn": "a" * 29936 + "a***@x.cn",  # a local part holds at most 64 characters
        "统一社会信用代码“913501001543812340”校验位不对": "统一社会信用代码“913501001543812340”校验位不对",
        # a code that begins with a letter (GB 32100-2015: A, N, Y) and a digit stays whole too
        "按统一社会信用代码识别：Y1370200123456789K": "按统一社会信用代码识别：Y1370200123456789K",
        "N1370200123456789K、A1370200123456789K": "N1370200123456789K、A1370200123456789K",
        "TEL13912345678": "TEL139****5678",  # letters before a mobile do not protect it
        "LIN13912345678、王YAN139 1234 5678、手机Y13912345678": "LIN139****5678、王YAN139****5678、手机Y139****5678",
        "填的是“139123456789”": "填的是“139****56789”",  # a mistyped mobile (a digit too many) still
        "识别：131100005000123454": "识别：131100005000123454",  # a credit code beginning with 13 stays
        "+8613912345678、008613912345678": "+86139****5678、0086139****5678",
        "13912345678,13987654321": "139****5678,139****4321",
        "填的是“wrong@”": "填的是“w***@”",  # a local part without its domain is still masked
        "销售一部@张伟 跟进": "销售一部@张伟 跟进",
        "座机 0591-87654321": "座机 0591-87654321",  # a landline is not a mobile
        "金额 1,380,000.00": "金额 1,380,000.00",
    }
    assert {text: mask_text(text) for text in cases} == cases
