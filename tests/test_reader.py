"""Reading real workbooks: header discovery, header variants, text kept as typed, office files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from tests.workbooks import AS_OF, write_case
from xlcrm.engine import Options, check
from xlcrm.errors import InputError
from xlcrm.forms import forms
from xlcrm.reader import scan_workbook
from xlcrm.sample import PLANTED, credit_code
from xlcrm.submission import converter

DATA = Path(__file__).parent / "data"


def _archive_book(
    path: Path, headers: list[object], rows: list[list[object]], title_rows: int = 0, sheet: str = "客户档案"
) -> Path:
    book = Workbook()
    ws = book.active
    ws.title = sheet
    for n in range(title_rows):
        ws.append([f"标题 {n}"])
    ws.append(headers)
    for row in rows:
        ws.append(row)
    book.save(path)
    return path


def test_header_below_title_rows_and_cells_located(tmp_path: Path) -> None:
    path = write_case(
        tmp_path / "t.xlsx", {"客户档案": [{"客户编码": "C001", "联系电话": "123"}]}, title_rows=3
    )
    result = check([path], Options(as_of=AS_OF))
    assert [(d.code, d.sheet, d.cell, d.row) for d in result.diagnostics] == [("S005", "客户档案", "K5", 5)]


def test_headers_in_english_full_width_and_with_spaces(tmp_path: Path) -> None:
    columns = forms()["archive"].columns
    headers: list[object] = []
    for index, column in enumerate(columns):
        if index % 3 == 0:
            headers.append(column.en.upper())
        elif index % 3 == 1:
            headers.append(f"  {column.zh.replace('(', '（').replace(')', '）')} ")
        else:
            headers.append(" ".join(column.zh))
    headers.insert(3, "备注（非表单列）")  # an extra column, kept and ignored
    scan = scan_workbook(_archive_book(tmp_path / "h.xlsx", headers, [["C001"]]))
    table = scan.tables[0]
    assert table.form.key == "archive"
    assert set(table.columns) == {c.key for c in columns}
    assert table.columns["customer_code"] == 0 and table.columns["name"] == 1
    assert table.columns["department"] == 2 and table.columns["customer_type"] == 4


def test_codes_typed_as_text_stay_text(tmp_path: Path) -> None:
    path = write_case(tmp_path / "z.xlsx", {"客户档案": [{"客户编码": "00123"}, {"客户编码": "1E5"}]})
    result = check([path], Options(as_of=AS_OF))
    assert result.diagnostics == []
    frame = result.submission.forms["archive"].frame  # type: ignore[union-attr]
    assert frame["customer_code"].to_list() == ["00123", "1E5"]


def test_form_found_by_signature_under_any_sheet_name(tmp_path: Path) -> None:
    headers = [c.zh for c in forms()["archive"].columns]
    scan = scan_workbook(_archive_book(tmp_path / "s.xlsx", headers, [["C001"]], sheet="Sheet1"))
    assert scan.tables[0].form.key == "archive"
    assert scan.unrecognised == []


def test_sheet_named_as_form_without_header_is_unusable(tmp_path: Path) -> None:
    path = _archive_book(tmp_path / "n.xlsx", ["甲", "乙"], [["1", "2"]])
    with pytest.raises(InputError) as info:
        scan_workbook(path)
    assert info.value.reason == "no_header"
    assert "客户档案" in info.value.message("zh") and "n.xlsx" in info.value.message("zh")


def test_split_submission_across_files(tmp_path: Path) -> None:
    first = write_case(
        tmp_path / "a.xlsx",
        {"客户档案": [{"客户编码": "C001"}]},
        omit_sheets=("客户评价", "信用评定", "黑名单"),
    )
    second = write_case(
        tmp_path / "b.xlsx",
        {"客户档案": [{"客户编码": "C002"}], "客户评价": [{"客户编码": "C009"}]},
        omit_sheets=("客户档案",),
        auto_evaluations=False,
    )
    result = check([first, second], Options(as_of=AS_OF, select=("S",)))  # reading: structure only
    assert [(d.code, Path(d.file or "").name, d.sheet, d.cell) for d in result.diagnostics] == [
        ("S008", "b.xlsx", "客户评价", "A2"),
    ]


def test_a_duplicate_across_files_names_each_file(tmp_path: Path) -> None:
    rows = {"客户档案": [{"客户编码": "C001", "客户名称": "甲公司"}]}
    first = write_case(tmp_path / "a.xlsx", rows, auto_evaluations=False)
    second = write_case(
        tmp_path / "b.xlsx",
        {"客户档案": [{"客户编码": "C001", "客户名称": "乙公司", "统一社会信用代码": credit_code(5)}]},
        auto_evaluations=False,
    )
    result = check([first, second], Options(as_of=AS_OF, select=("S",)))  # reading: structure only
    assert [(d.code, Path(d.file or "").name, d.cell) for d in result.diagnostics] == [
        ("S007", "b.xlsx", "A2")
    ]
    (duplicate,) = result.diagnostics  # the first one is in the other file: its message says where
    assert f"与{first}“客户档案”的第 2 行相同" in duplicate.message("zh")
    assert f"same as {first} “客户档案” row 2;" in duplicate.message("en")


@pytest.mark.parametrize("name", ["libreoffice_sample.xlsx", "libreoffice_sample.xlsm"])
def test_workbook_written_by_libreoffice(name: str) -> None:
    """The demo sample, saved again by LibreOffice Calc: same findings at the same cells."""
    result = check([DATA / name])  # its 参数!基准日期 is the as-of date
    assert [(d.code, d.sheet, d.cell) for d in result.diagnostics] == PLANTED
    frame = result.submission.forms["archive"].frame  # type: ignore[union-attr]
    assert frame["customer_code"][0] == "C001"
    assert frame["annual_business"][1] == 120.0  # full-width text number, read through LibreOffice


# Whatever staff type, the reader and the whole check answer: findings, never an exception.
_CELL = st.one_of(
    st.none(),
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(2099, 12, 31)),
    st.sampled_from(["是", "否", "２０２５-０３-０１", "1,000", "=SUM(A1)", "  ", "#N/A", "00123", "1E5"]),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(_CELL, min_size=3, max_size=8), min_size=1, max_size=6))
def test_the_reader_never_raises_on_any_cell_content(tmp_path: Path, rows: list[list[object]]) -> None:
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    columns = [c.zh for c in forms()["archive"].columns][:8]
    book = Workbook()
    sheet = book.active
    sheet.title = "客户档案"
    sheet.append(columns)
    for row in rows:  # text Excel cannot store is not a cell anyone can type
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row])
    for line in sheet.iter_rows(min_row=2):
        for cell in line:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    path = tmp_path / "typed.xlsx"
    book.save(path)
    result = check([path], Options(as_of=dt.date(2025, 12, 31)))
    assert not result.problems and result.submission is not None
    assert all(d.code.startswith(("S", "A", "T", "C", "B", "X")) for d in result.diagnostics)
    frame = result.submission.forms["archive"].frame
    for column in forms()["archive"].columns[:8]:  # typing a typed value again changes nothing
        convert = converter(column)
        for value in frame[column.key].to_list():
            if value is not None and column.type in ("text", "enum", "number", "integer", "date", "bool"):
                assert convert(value) == value, (column.key, value)


_OTHER_CELL = st.one_of(
    _CELL,
    st.datetimes(min_value=dt.datetime(1900, 3, 1), max_value=dt.datetime(2099, 12, 31)),
    st.sampled_from(
        ["30%", "３０％", "0.3", "30", "-5%", "%", "2025-11-03 09:30", "2025年11月3日 9时", "25:00"]
    ),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    form=st.sampled_from(["complaints", "expenses", "visits", "revenue_plan", "discounts"]),
    rows=st.lists(st.lists(_OTHER_CELL, min_size=4, max_size=11), min_size=1, max_size=6),
)
def test_the_other_forms_never_raise_on_any_cell_content(
    tmp_path: Path, form: str, rows: list[list[object]]
) -> None:
    """Anything typed into 投诉记录 … 大客户优惠 gives findings (with an archive beside it), never an error."""
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    path = write_case(tmp_path / "typed.xlsx", {"客户档案": [{}, {"客户类别": "重点客户"}]})
    book = load_workbook(path)
    declared = forms()[form]
    sheet = book.create_sheet(declared.zh)
    sheet.append([c.zh for c in declared.columns])
    for row in rows:
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", v) if isinstance(v, str) else v for v in row])
    for line in sheet.iter_rows(min_row=2):
        for cell in line:
            if isinstance(cell.value, str):
                cell.data_type = "s"
    book.save(path)
    result = check([path], Options(as_of=dt.date(2025, 12, 31)))
    assert not result.problems and result.submission is not None
    assert all(d.message("zh") and d.message("en") for d in result.diagnostics)
    frame = result.submission.forms[form].frame
    for column in declared.columns:  # typing a typed value again changes nothing
        convert = converter(column)
        for value in frame[column.key].to_list():
            if value is not None and column.type in ("number", "date", "datetime", "rate", "bool"):
                assert convert(value) == value, (column.key, value)


def test_a_notes_sheet_named_after_a_form_beside_that_form_is_not_recognised(tmp_path: Path) -> None:
    """客户档案填写说明 (free text) beside a 客户档案 with its header: S009 for the notes, and the
    workbook is checked; alone, a header-less sheet so named still makes it unusable (above)."""
    path = write_case(
        tmp_path / "notes.xlsx",
        {"客户档案": [{"客户编码": "C001"}]},
        extra_sheets={"客户档案填写说明": [["请按模板填写，每个客户一行。"], ["联系电话填手机号。"]]},
    )
    scan = scan_workbook(path)
    assert [t.form.key for t in scan.tables] == ["archive", "evaluation", "credit", "blacklist"]
    assert scan.unrecognised == ["客户档案填写说明"]
    result = check([path], Options(as_of=AS_OF))
    assert result.problems == []
    assert [d.sheet for d in result.diagnostics if d.code == "S009"] == ["客户档案填写说明"]
