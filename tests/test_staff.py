"""Workbooks as staff really make them (issue 9, POLICY §5): findings a person can see and act on.

Merged cells, title rows, their own header words, hidden rows and columns, dates typed as
text: the staff-made workbook (tests/staff.py, also as LibreOffice saved it) gives exactly its
two planted findings, each mark of its annotated copy sits on a visible cell, and a finding
in a hidden row or column says so.
"""

from __future__ import annotations

import re
import warnings
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter, range_boundaries

from tests.office import needs_soffice, soffice
from tests.staff import ARCHIVE_SHEET, HIDDEN_COLUMN, PLANTED, write_staff
from tests.workbooks import AS_OF, write_case
from xlcrm.cli import cli
from xlcrm.engine import Options, check

DATA = Path(__file__).parent / "data"
EXPECTED = [("S005", ARCHIVE_SHEET, "K8", "H004"), ("T201", ARCHIVE_SHEET, "W9", "H005")]


@pytest.fixture(params=["openpyxl", "libreoffice"])
def staff(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    if request.param == "libreoffice":
        return DATA / "staff_libreoffice.xlsx"
    return write_staff(tmp_path / "staff.xlsx")


def test_the_staff_workbook_gives_only_its_planted_findings(staff: Path) -> None:
    result = check([staff])  # its 参数!基准日期 (typed as text) is the as-of date
    found = [(d.code, d.sheet, d.cell, d.customer_code) for d in result.diagnostics]
    assert found == EXPECTED
    assert {code for _, _, _, code in found} == set(PLANTED)
    archive = result.submission.forms["archive"].frame  # type: ignore[union-attr]
    assert archive.height == 10  # the spacer row inside the merged 部门 is no customer
    assert set(archive["department"]) == {"华东销售部"}  # merged down every row
    assert archive["category"].to_list() == ["重点客户"] * 3 + ["一般客户"] * 7
    assert str(archive["filed_on"][0]) == "2024-01-04"  # typed as the text "2024/1/4"


def _visible(path: Path, sheet: str) -> tuple[set[str], set[int], set[str]]:
    """Cells hidden behind a merge, hidden rows and hidden column letters of a sheet."""
    ws = load_workbook(path)[sheet]
    covered = set()
    for merged in ws.merged_cells.ranges:
        left, top, right, bottom = range_boundaries(str(merged))
        covered |= {
            f"{get_column_letter(c)}{r}"
            for r in range(top, bottom + 1)
            for c in range(left, right + 1)
            if (r, c) != (top, left)
        }
    rows = {n for n, d in ws.row_dimensions.items() if d.hidden}
    columns = {letter for letter, d in ws.column_dimensions.items() if d.hidden}
    return covered, rows, columns


def _marks(path: Path, sheet: str) -> set[str]:
    """Every cell xlcrm marked on ``sheet``: its fills (conditional formats) and its notes."""
    ws = load_workbook(path)[sheet]
    cells = set()
    for block in ws.conditional_formatting:
        for ref in str(block.sqref).split():
            left, top, right, bottom = range_boundaries(ref)
            cells |= {
                f"{get_column_letter(c)}{r}" for r in range(top, bottom + 1) for c in range(left, right + 1)
            }
    cells |= {c.coordinate for row in ws.iter_rows() for c in row if c.comment}
    return cells


def test_each_mark_of_the_annotated_copy_is_on_a_visible_cell(staff: Path, tmp_path: Path) -> None:
    target = tmp_path / "staff.checked.xlsx"
    result = CliRunner().invoke(cli, ["process", str(staff), "-o", str(target)])
    assert result.exit_code == 1, result.output
    marks = _marks(target, ARCHIVE_SHEET)
    assert marks == {"K8", "W9"}
    covered, rows, columns = _visible(target, ARCHIVE_SHEET)
    assert columns == {HIDDEN_COLUMN}  # the user's hidden column stays hidden
    for cell in marks:
        letters, row = re.match(r"([A-Z]+)(\d+)", cell).groups()  # type: ignore[union-attr]
        assert cell not in covered and int(row) not in rows and letters not in columns


def test_a_mark_on_a_merged_range_goes_on_its_first_cell(tmp_path: Path) -> None:
    path = write_case(
        tmp_path / "m.xlsx",
        {"客户档案": [{"联系人": None}, {}]},
        layout={"客户档案": {"merges": ["J2:J3"]}},
    )
    target = tmp_path / "m.checked.xlsx"
    CliRunner().invoke(cli, ["process", str(path), "-o", str(target), "--as-of", AS_OF.isoformat()])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # openpyxl warns of notes it would drop from merged cells
        assert _marks(target, "客户档案") == {"J2"}
    note = load_workbook(target)["客户档案"]["J2"].comment.text
    assert note.count("S002") == 2  # one line per customer of the range


def test_a_finding_in_a_hidden_row_or_column_says_so(tmp_path: Path) -> None:
    path = write_case(
        tmp_path / "h.xlsx",
        {
            "客户档案": [
                {"联系电话": "12345"},
                {"联系人": None},
                {"联系人": None, "联系电话": "999"},
                {"联系人": None},
            ]
        },
        layout={"客户档案": {"hidden_columns": ["K"], "hidden_rows": [3, 4]}},
    )
    result = check([path], Options(as_of=AS_OF))
    shown = {(d.code, d.cell): (d.message("zh"), d.message("en")) for d in result.diagnostics}
    assert set(shown) == {("S005", "K2"), ("S002", "J3"), ("S002", "J4"), ("S005", "K4"), ("S002", "J5")}
    assert shown[("S005", "K2")][0].endswith("（该列已隐藏）")
    assert shown[("S002", "J3")][0].endswith("（该行已隐藏）")
    assert shown[("S005", "K4")][0].endswith("（该行和该列已隐藏）")
    assert shown[("S005", "K2")][1].endswith("(this column is hidden)")
    assert "隐藏" not in shown[("S002", "J5")][0]  # a visible cell says nothing of the kind


def test_s001_names_the_closest_header_present(tmp_path: Path) -> None:
    path = write_case(
        tmp_path / "s.xlsx",
        {"客户档案": [{}]},
        layout={"客户档案": {"headers": {"联系电话": "联系电话号码"}}},
    )
    [finding] = check([path], Options(as_of=AS_OF)).diagnostics
    assert finding.code == "S001" and "是否指“联系电话号码”？" in finding.message("zh")
    assert "did you mean “联系电话号码”?" in finding.message("en")


def test_s001_suggests_nothing_when_no_header_is_alike(tmp_path: Path) -> None:
    path = write_case(tmp_path / "s.xlsx", {"客户档案": [{}]}, drop_columns={"客户档案": ["联系电话"]})
    [finding] = check([path], Options(as_of=AS_OF)).diagnostics
    assert finding.code == "S001" and "是否指" not in finding.message("zh")


@needs_soffice
def test_libreoffice_renders_the_annotated_staff_copy(tmp_path: Path) -> None:
    target = tmp_path / "staff.checked.xlsx"
    CliRunner().invoke(cli, ["process", str(DATA / "staff_libreoffice.xlsx"), "-o", str(target)])
    done = soffice("--convert-to", "pdf", "--outdir", str(tmp_path), str(target))
    assert [line for line in done.stderr.splitlines() if line.strip() and "javaldx" not in line] == []
    assert (tmp_path / "staff.checked.pdf").stat().st_size > 5_000
    with zipfile.ZipFile(target) as archive:  # the copy keeps the user's merges
        assert b'ref="C4:C14"' in b"".join(archive.read(n) for n in archive.namelist() if "worksheets/" in n)


def test_a_totals_row_is_no_customer(tmp_path: Path) -> None:
    """合计 under the data (its =SUM unsaved, as openpyxl writes it) and 小计 between groups."""
    path = write_case(tmp_path / "t.xlsx", {"客户档案": [{}, {}, {}]})
    book = load_workbook(path)
    archive, evaluation = book["客户档案"], book["客户评价"]
    archive.insert_rows(4)
    archive["B4"] = "小 计："  # in 客户名称: 客户编码 left blank
    archive.append(["合计", *[None] * 14, "=SUM(P2:P5)"])  # P: 年业务量(万元)
    evaluation.append(["总计", *[None] * 6, "=SUM(H2:H4)"])  # H: 总分
    book.save(path)
    result = check([path], Options(as_of=AS_OF))
    assert [(d.code, d.cell) for d in result.diagnostics] == []
    assert result.submission.forms["archive"].frame.height == 3  # type: ignore[union-attr]
    assert result.submission.forms["evaluation"].frame.height == 3  # type: ignore[union-attr]


def test_a_header_without_its_unit_is_the_column(tmp_path: Path) -> None:
    """当前占用额 for 当前占用额(元) …: an optional column left unread would skip C307/C308 silently."""
    units = (
        "信用额度(元)",
        "当前占用额(元)",
        "上月占用额(元)",
        "回款期限(天)",
        "月均发货额(元)",
        "月均回款额(元)",
    )
    grant = {"授信类型": "临时", "信用额度(元)": 10000, "回款期限(天)": 30, "总经理审批": "是"}
    path = write_case(
        tmp_path / "u.xlsx",
        {
            "客户档案": [{}, {}],
            "信用评定": [
                {**grant, "月均发货额(元)": 50000, "月均回款额(元)": 40000, "当前占用额(元)": 20000},
                {"当前占用额(元)": 9000, "上月占用额(元)": 100},
            ],
        },
        layout={"信用评定": {"headers": {h: h[: h.index("(")] for h in units}}},
        parameters={"年初应收账款余额": 5000},
    )
    found = [(d.code, d.cell) for d in check([path], Options(as_of=AS_OF)).diagnostics]
    assert sorted(f for f in found if f[0] in ("C307", "C308", "C311")) == [
        ("C307", "W2"),
        ("C308", "W3"),
        ("C311", None),
    ]


def test_a_parameter_label_may_end_in_a_colon(tmp_path: Path) -> None:
    """参数!A1 “基准日期：” as on a paper form: not read, the rules counted from today."""
    path = write_case(
        tmp_path / "p.xlsx",
        {"客户档案": [{}]},
        extra_sheets={"参数": [["基准日期：", "2025年12月31日"], ["部门:", "销售一部"]]},
    )
    result = check([path])
    assert result.context is not None and result.context.as_of.isoformat() == "2025-12-31"
    assert result.diagnostics == []
    parameters = result.submission.forms["parameters"].frame  # type: ignore[union-attr]
    assert parameters["department"].to_list() == ["销售一部"]
