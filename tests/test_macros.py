"""The Excel buttons' macros, run through real xlwings code on a test double of Excel's storage.

The double (tests/xlwings_double.py) is an xlwings engine backed by openpyxl, registered with
``xw.engines.add``; xlwings' own Book/Sheet/Range and converters run on top of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

xw = pytest.importorskip("xlwings")

from openpyxl import load_workbook  # noqa: E402
from openpyxl.comments import Comment  # noqa: E402
from openpyxl.styles import PatternFill  # noqa: E402

from tests.staff import ARCHIVE_SHEET, write_staff  # noqa: E402
from tests.two_row import EXPECTED as TWO_ROW_EXPECTED  # noqa: E402
from tests.two_row import write_two_row  # noqa: E402
from tests.workbooks import AS_OF, write_rich  # noqa: E402
from tests.xlwings_double import Engine  # noqa: E402
from xlcrm import macros  # noqa: E402
from xlcrm.engine import Options, check  # noqa: E402
from xlcrm.sample import write_sample  # noqa: E402

if "openpyxl-double" not in [e.name for e in xw.engines]:
    xw.engines.add(xw.Engine(impl=Engine()))


def open_book(path: Path) -> Any:
    return xw.engines["openpyxl-double"].apps.active.books.open(str(path))


def snapshot(book: Any) -> dict[str, Any]:
    """Every cell's value, fill and note, and the sheets, as the double holds them."""
    workbook = book.impl.workbook
    cells = {}
    for ws in workbook.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                fill = cell.fill.fgColor.rgb if cell.fill.fill_type == "solid" else None
                note = cell.comment.text if cell.comment else None
                if cell.value is not None or fill or note:
                    cells[(ws.title, cell.coordinate)] = (cell.value, fill, note)
    return {"sheets": workbook.sheetnames, "cells": cells}


def places(diagnostics: Any) -> list[tuple[str, str | None, str | None]]:
    return [(d.code, d.sheet, d.cell) for d in diagnostics]


def test_the_macros_and_the_cli_find_the_same(tmp_path: Path) -> None:
    path = write_sample(tmp_path / "dept.xlsx")
    book = open_book(path)
    by_macro = macros.check(book)
    by_cli = check([path], Options())
    assert places(by_macro.diagnostics) == places(by_cli.diagnostics)
    assert len(by_macro.diagnostics) >= 25
    issues = book.sheets[macros.ISSUES]
    listed = issues.range(f"B2:B{len(by_cli.diagnostics) + 1}").value
    assert listed == [d.code for d in by_cli.diagnostics]
    archive = book.sheets["客户档案"]
    assert archive["K6"].color == macros.FILLS["error"]
    assert archive["K6"].note.text.startswith("[xlcrm] S005")


def test_clear_after_check_and_process_leaves_the_workbook_as_it_was(tmp_path: Path) -> None:
    path = write_rich(tmp_path / "rich.xlsx")
    workbook = load_workbook(path)
    workbook["客户档案"]["K6"].comment = Comment(
        "用户：电话待核实", "内勤"
    )  # a finding cell with a user's note
    workbook["客户档案"]["K6"].fill = PatternFill("solid", fgColor="FF00B0F0")  # and the user's fill
    workbook.save(path)
    book = open_book(path)
    before = snapshot(book)
    macros.check(book)
    during = snapshot(book)
    assert during != before and macros.ISSUES in during["sheets"]
    k6 = during["cells"][("客户档案", "K6")]
    assert k6[2].startswith("用户：电话待核实\n[xlcrm] S005")
    macros.clear(book)
    assert snapshot(book) == before
    macros.process(book)
    header = [c.value for c in book.impl.workbook["客户档案"][3]]
    assert header[-2:] == ["系统等级", "等级依据"]
    macros.clear(book)
    assert snapshot(book) == before


def test_the_macros_read_merged_and_hidden_cells_as_the_cli_does(tmp_path: Path) -> None:
    """The staff-made workbook (merged 部门/客户类别, a hidden column, a hidden row): the buttons
    find exactly what the CLI finds, mark only visible cells, and clear leaves it as it was."""
    path = write_staff(tmp_path / "staff.xlsx")
    workbook = load_workbook(path)
    workbook[ARCHIVE_SHEET].row_dimensions[8].hidden = True  # H004's row, whose phone is wrong
    workbook.save(path)
    book = open_book(path)
    before = snapshot(book)
    by_macro = macros.check(book)
    by_cli = check([path], Options())
    assert (
        places(by_macro.diagnostics)
        == places(by_cli.diagnostics)
        == [
            ("S005", ARCHIVE_SHEET, "K8"),
            ("T201", ARCHIVE_SHEET, "W9"),
        ]
    )
    assert [d.hidden for d in by_macro.diagnostics] == [d.hidden for d in by_cli.diagnostics] == ["row", None]
    assert by_macro.diagnostics[0].message().endswith("（该行已隐藏）")
    macros.clear(book)
    assert snapshot(book) == before


def test_the_macros_read_unsaved_edits(tmp_path: Path) -> None:
    path = write_sample(tmp_path / "dept.xlsx")
    book = open_book(path)
    book.sheets["客户档案"]["K6"].value = "13800138000"  # typed, not saved
    found = places(macros.check(book).diagnostics)
    assert ("S005", "客户档案", "K6") not in found
    assert ("S005", "客户档案", "K6") in places(check([path], Options()).diagnostics)


def test_text_the_macros_write_is_never_a_formula(tmp_path: Path) -> None:
    from tests.workbooks import write_case

    path = write_case(tmp_path / "f.xlsx", {"客户档案": [{"客户编码": "=1+2", "客户名称": "+SUM(1)"}]})
    book = open_book(path)
    found = macros.process(book)  # the double refuses any "=…" written as a value
    codes = book.sheets[macros.ISSUES].range(f"D2:D{len(found.diagnostics) + 1}").value
    assert "=1+2" in codes


def vba_payload(path: Path) -> dict[str, Any]:
    """What the xlwings VBA client sends for a workbook (the remote engine's input)."""
    import python_calamine

    book = python_calamine.CalamineWorkbook.from_path(str(path))
    sheets = []
    for name in book.sheet_names:
        rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False) or [[]]
        values = [[v.isoformat() if hasattr(v, "isoformat") else v for v in row] for row in rows]
        sheets.append(
            {
                "name": name,
                "visibility": "Visible",
                "values": values,
                "pictures": [],
                "shapes": [],
                "charts": [],
                "notes": [],
                "tables": [],
                "print_area": None,
            }
        )
    return {
        "client": "VBA",
        "version": xw.__version__,
        "book": {"name": path.name, "active_sheet_index": 0, "selection": "A1"},
        "names": [],
        "sheets": sheets,
    }


@pytest.mark.skipif(
    not __import__("os").environ.get("XLWINGS_LICENSE_KEY"),
    reason="xlwings' remote engine (xw.Book(json=...)) needs XLWINGS_LICENSE_KEY; never committed here",
)
def test_the_macros_through_the_remote_engine(tmp_path: Path) -> None:
    """The VBA-client payload through xlwings' own remote engine: the actions it returns."""
    path = write_sample(tmp_path / "dept.xlsx")
    book = xw.Book(json=vba_payload(path))
    found = macros.check(book)
    assert places(found.diagnostics) == places(check([path], Options()).diagnostics)
    actions = book.json()["actions"]
    functions = {a["func"] for a in actions}
    assert {"addSheet", "setValues", "setRangeColor", "addNote", "addHyperlink"} <= functions


def test_process_on_an_annotated_copy_reuses_its_computed_columns(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from xlcrm.cli import cli

    source = write_sample(tmp_path / "dept.xlsx")
    copy = tmp_path / "dept.checked.xlsx"
    assert CliRunner().invoke(cli, ["process", str(source), "-o", str(copy)]).exit_code == 1
    book = open_book(copy)
    width = book.impl.workbook["客户档案"].max_column
    before = snapshot(book)
    macros.process(book)
    assert book.impl.workbook["客户档案"].max_column == width  # written over, not beside
    assert (
        "问题清单" in before["sheets"] and "问题清单(xlcrm)" in snapshot(book)["sheets"]
    )  # the copy's own stays
    macros.clear(book)
    assert snapshot(book)["sheets"] == before["sheets"]


def test_an_unusable_workbook_is_one_chinese_line_and_the_policy_file_applies(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from openpyxl import Workbook

    empty = tmp_path / "empty.xlsx"
    Workbook().save(empty)
    with pytest.raises(ValueError, match="工作簿里没有任何数据"):
        macros.check(open_book(empty))
    path = write_sample(tmp_path / "dept.xlsx")
    policy = tmp_path / "policy.toml"
    policy.write_text("[quotas]\nvip_share = 0.9\n", encoding="utf-8")
    monkeypatch.setenv("XLCRM_POLICY", str(policy))
    found = places(macros.check(open_book(path)).diagnostics)
    from xlcrm.policy import load_policy

    assert found == places(check([path], Options(policy=load_policy(policy))).diagnostics)
    assert not [f for f in found if f[0] == "T202"]  # no VIP quota breach under a 90% quota


def test_the_buttons_mark_the_other_forms_like_any_other(tmp_path: Path) -> None:
    """The sample's 投诉记录 … 大客户优惠 read live (date-times, percentages) and marked, then cleared."""
    path = write_sample(tmp_path / "dept.xlsx")
    book = open_book(path)
    before = snapshot(book)
    sheets = ("投诉记录", "费用报销", "回访记录", "收益计划", "大客户优惠")
    other = [p for p in places(macros.check(book).diagnostics) if p[1] in sheets]
    assert other == [p for p in places(check([path], Options()).diagnostics) if p[1] in sheets]
    assert {code for code, _, _ in other} >= {"P501", "P502", "P503", "E601", "V101", "R701", "K801", "K803"}
    complaints = book.sheets["投诉记录"]
    assert complaints["H3"].color == macros.FILLS["error"]
    assert complaints["H3"].note.text.startswith("[xlcrm] P501")
    assert book.sheets["大客户优惠"]["A5"].color == macros.FILLS["warning"]  # K803
    macros.clear(book)
    assert snapshot(book) == before


def test_the_macros_read_a_two_row_header_as_the_cli_does(tmp_path: Path) -> None:
    """tests/two_row.py (a title row, group headings over a two-row header): the same findings."""
    path = write_two_row(tmp_path / "two.xlsx")
    workbook = load_workbook(path)
    workbook.create_sheet("参数").append(["基准日期", AS_OF])  # the case's as-of date, for both
    workbook.save(path)
    by_macro = places(macros.check(open_book(path)).diagnostics)
    assert by_macro == places(check([path], Options()).diagnostics)
    assert by_macro == [(code, "客户档案", cell) for code, cell, _, _ in TWO_ROW_EXPECTED]
