"""Two-row headers (docs/policy.md §5, Merged cells): group headings above, headers merged down.

The case (tests/two_row.py): row 1 a title merged across A1:Z1; row 2 the headers merged down
over rows 2-3, and the group headings 准入条件 (Q2:T2) and 规模 (N2:P2); row 3 the grouped
headers 医院等级 … 有违法记录; customers C001-C004 on rows 4-7, with 经营资质齐全 = 也许
(C002), 有违法记录 = 是 (C003) and 联系电话 = 12345 (C004).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook, load_workbook

from tests.two_row import EXPECTED, write_two_row
from tests.workbooks import AS_OF, full_row, write_case
from xlcrm.cli import cli
from xlcrm.engine import Options, check
from xlcrm.forms import forms
from xlcrm.reader import scan_workbook

DATA = Path(__file__).parent / "data"
GROUPED = {16: "证照齐全", 17: "经营资质齐全", 18: "已签购销合同", 19: "有违法记录"}  # Q-T, 0-based


def _findings(path: Path) -> list[tuple[str, str | None, int | None, str | None]]:
    result = check([path], Options(as_of=AS_OF))
    return [(d.code, d.cell, d.row, d.customer_code) for d in result.diagnostics]


def _shifted(up: int) -> list[tuple[str, str, int, str]]:
    """EXPECTED with every row ``up`` rows higher (the case without its title row)."""
    return [
        (code, f"{cell.rstrip('0123456789')}{row - up}", row - up, who) for code, cell, row, who in EXPECTED
    ]


@pytest.mark.parametrize(
    ("title", "sheet"),
    [(True, "客户档案"), (False, "客户档案"), (True, "华东区2025"), (False, "Sheet1")],
    ids=["title-by-name", "by-name", "title-by-signature", "by-signature"],
)
def test_a_two_row_header_is_read_across_both_rows(tmp_path: Path, title: bool, sheet: str) -> None:
    """Found by its sheet name or by its header signature, with or without a title row above."""
    path = write_two_row(tmp_path / "two.xlsx", title=title, sheet=sheet)
    assert _findings(path) == _shifted(0 if title else 1)  # no S001; each finding at its cell
    table = next(t for t in scan_workbook(path).tables if t.form.key == "archive")
    assert table.sheet == sheet and table.header_row == 2 + title
    assert table.rows == [3 + title + n for n in range(4)]  # the lower header row is no customer
    assert set(table.columns) == {c.key for c in forms()["archive"].columns}
    assert table.columns["licensed"] == 16 and table.columns["illegal_record"] == 19
    assert table.columns["customer_code"] == 0 and table.columns["owner"] == 25
    assert {col: table.headers[col] for col in GROUPED} == GROUPED
    assert "准入条件" not in table.headers.values() and "规模" not in table.headers.values()


def test_the_copy_libreoffice_saved_gives_the_same_findings() -> None:
    """tests/data/two_row_libreoffice.xlsx: the case saved by LibreOffice Calc, checked by the CLI."""
    path = DATA / "two_row_libreoffice.xlsx"
    result = CliRunner().invoke(cli, ["check", str(path), "--format", "json", "--as-of", AS_OF.isoformat()])
    found = json.loads(result.stdout)["diagnostics"]
    assert [(d["code"], d["sheet"], d["cell"], d["row"], d["customer_code"]) for d in found] == [
        (code, "客户档案", cell, row, who) for code, cell, row, who in EXPECTED
    ]
    assert [d["column"] for d in found] == ["经营资质齐全", "有违法记录", "联系电话"]


def test_a_title_merged_across_the_whole_width_is_not_a_header(tmp_path: Path) -> None:
    """The title (A1:Z1) is no header row and no group heading; the header is rows 2-3."""
    scan = scan_workbook(write_two_row(tmp_path / "t.xlsx"))
    table = next(t for t in scan.tables if t.form.key == "archive")
    assert table.header_row == 3 and table.rows[0] == 4
    assert "客户档案 标题行 1" not in table.headers.values()
    assert table.headers[0] == "客户编码"  # the upper cell of A2:A3, under the title's first cell


def _phone_group(path: Path) -> Path:
    """联系电话 merged over the staff's own 手机 / 座机 (Z1:AA1), the other headers merged down.

    Customers C001 (手机 13800138000) on row 3 and C002 (手机 12345) on row 4.
    """
    write_case(
        path,
        {"客户档案": [{}, {}]},
        drop_columns={"客户档案": ["联系电话"]},
        layout={
            "客户档案": {
                "extra_columns": {"手机": "13800138000", "座机": ""},
                "groups": {"联系电话": ["手机", "座机"]},
            }
        },
    )
    book = load_workbook(path)
    book["客户档案"]["Z4"] = "12345"  # C002's 手机 (Z: the 26th column, first of the group)
    book.save(path)
    return path


def test_a_group_heading_names_a_column_only_when_it_is_one(tmp_path: Path) -> None:
    """The phone number is read under 手机. Before, the upper row was the header and the lower
    header row a customer's: S002 for its blank 客户编码 …, its 手机 an S005 at Z2."""
    path = _phone_group(tmp_path / "g.xlsx")
    assert _findings(path) == [("S005", "Z4", 4, "C002")]
    table = next(t for t in scan_workbook(path).tables if t.form.key == "archive")
    assert table.header_row == 2 and table.columns["phone"] == 25 and table.headers[25] == "手机"


def test_a_merge_from_the_header_into_the_data_rows_leaves_them_data(tmp_path: Path) -> None:
    """所属部门 merged from the upper header row down over C001 and C002 (C2:C5).

    The cells it covers in rows 4-5 are blank (a heading, not a value of the rows): two
    customers with no 所属部门 (S002), still customers, besides the planted findings.
    """
    path = write_two_row(tmp_path / "v.xlsx")
    book = load_workbook(path)
    ws = book["客户档案"]
    ws.unmerge_cells("C2:C3")
    ws["C2"] = "所属部门"
    ws["C4"] = ws["C5"] = None
    ws.merge_cells("C2:C5")
    book.save(path)
    found = _findings(path)
    assert [f for f in found if f[0] != "S002"] == EXPECTED
    assert [f for f in found if f[0] == "S002"] == [("S002", "C4", 4, "C001"), ("S002", "C5", 5, "C002")]


def test_a_merge_over_the_whole_sheet_holds_no_customer(tmp_path: Path) -> None:
    """Guard (also held before): 客户档案 merged whole (A1:Z40), only A1 = 客户编码 shown.

    The rows the merge covers are no customers and no header below the top row names a
    column; every other column is missing (S001).
    """
    book = Workbook()
    ws = book.active
    ws.title = "客户档案"
    ws["A1"] = "客户编码"
    ws.merge_cells("A1:Z40")
    book.save(tmp_path / "w.xlsx")
    table = scan_workbook(tmp_path / "w.xlsx").tables[0]
    assert table.columns == {"customer_code": 0}
    result = check([tmp_path / "w.xlsx"], Options(as_of=AS_OF, select=("S",)))
    assert {d.code for d in result.diagnostics} <= {"S001", "S009"}
    assert result.submission.forms["archive"].frame.height == 0  # type: ignore[union-attr]


def test_widened_header_cells_and_a_merge_into_the_first_row_leave_it_data(tmp_path: Path) -> None:
    """Guard (also held before): a one-row header, each header cell merged across two columns
    (A1:B1 客户编码, C1:D1 客户名称 …) and 所属部门 merged down into the first customer's row
    (E1:F2); customers C001-C003, all text, in the first column of each pair, rows 2-4.

    The first customer's row looks like a lower header row under groups, but a blank under each
    widened cell shows it is data: three customers, C001 without its 所属部门 (S002 at E2).
    """
    headers = [c.zh for c in forms()["archive"].columns]
    book = Workbook()
    ws = book.active
    ws.title = "客户档案"
    for col, header in enumerate(headers):
        ws.cell(1, 2 * col + 1, header).data_type = "s"
        for n in range(3):
            value = full_row("客户档案", {}, n).get(header)
            if value is not None and (header != "所属部门" or n > 0):
                ws.cell(2 + n, 2 * col + 1, str(value)).data_type = "s"
        tall = header == "所属部门"
        ws.merge_cells(start_row=1, start_column=2 * col + 1, end_row=1 + tall, end_column=2 * col + 2)
    book.save(tmp_path / "w.xlsx")
    table = scan_workbook(tmp_path / "w.xlsx").tables[0]
    assert (table.header_row, table.rows) == (1, [2, 3, 4])
    found = check([tmp_path / "w.xlsx"], Options(as_of=AS_OF, select=("S",))).diagnostics
    assert [(d.code, d.cell) for d in found if d.sheet == "客户档案"] == [("S002", "E2")]


def test_the_annotated_copy_marks_the_cells_and_heads_its_columns_on_the_lower_row(tmp_path: Path) -> None:
    """xlcrm process: marks at R5, T6, K7; 系统等级 / 等级依据 on header row 3, values from row 4."""
    source, target = write_two_row(tmp_path / "two.xlsx"), tmp_path / "two.checked.xlsx"
    result = CliRunner().invoke(
        cli, ["process", str(source), "-o", str(target), "--as-of", AS_OF.isoformat()]
    )
    assert result.exit_code == 1, result.output
    ws = load_workbook(target)["客户档案"]
    assert {c.coordinate for row in ws.iter_rows() for c in row if c.comment} == {"R5", "T6", "K7"}
    assert (ws["AA2"].value, ws["AA3"].value, ws["AB3"].value) == (None, "系统等级", "等级依据")
    assert ws["AA4"].value == "合格类客户"
    assert {"A2:A3", "Q2:T2", "N2:P2", "A1:Z1"} <= {str(r) for r in ws.merged_cells.ranges}


def test_an_annotated_copy_processed_again_reads_the_same(tmp_path: Path) -> None:
    """The 手机 / 座机 case: xlcrm process heads its computed columns on the lower header row
    (AB2, AC2, where the upper row is blank); its copy, checked and processed again, reads the
    same header, gives the same finding and keeps the computed columns where they were."""
    first, second = tmp_path / "g.checked.xlsx", tmp_path / "g.checked.again.xlsx"
    for source, target in ((_phone_group(tmp_path / "g.xlsx"), first), (first, second)):
        result = CliRunner().invoke(
            cli, ["process", str(source), "-o", str(target), "--as-of", AS_OF.isoformat()]
        )
        assert result.exit_code == 1, result.output
        assert _findings(target) == [("S005", "Z4", 4, "C002")]
        ws = load_workbook(target)["客户档案"]
        assert (ws["AB1"].value, ws["AB2"].value, ws["AC2"].value, ws.max_column) == (
            None,
            "系统等级",
            "等级依据",
            29,
        )
