"""The blank templates: generated from the declarations, committed, and never drifting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.office import needs_soffice, soffice
from xlcrm.engine import check
from xlcrm.forms import forms, table_forms
from xlcrm.templates import BUTTON_BOOK, COMBINED, GUIDE, write_templates

COMMITTED = Path(__file__).resolve().parent.parent / "workbook_templates"
# The number format a blank cell of each column type shows what is typed in.
FORMATS = {"date": "yyyy-mm-dd", "datetime": "yyyy-mm-dd hh:mm", "rate": "0.0%", "number": "#,##0.00"}


def describe(path: Path) -> dict[str, Any]:
    """What a user sees in a workbook: sheets, cells, validations, panes, widths."""
    book = load_workbook(path)
    out: dict[str, Any] = {}
    for ws in book.worksheets:
        out[ws.title] = {
            "cells": [[c.value for c in row] for row in ws.iter_rows()],
            "freeze": ws.freeze_panes,
            "widths": {k: round(v.width, 2) for k, v in ws.column_dimensions.items() if v.width},
            "validations": sorted(
                (
                    str(dv.sqref),
                    dv.type,
                    dv.formula1,
                    dv.formula2,
                    dv.operator,
                    dv.promptTitle,
                    dv.prompt,
                    dv.errorStyle,
                )
                for dv in ws.data_validations.dataValidation
            ),
            "formats": {c.column_letter: c.number_format for c in ws[2]} if ws.max_row >= 2 else {},
        }
    return out


def width_of(ws: Any, number: int) -> float:
    """A column's width, resolving the <col min max> ranges openpyxl keys by first letter."""
    for dimension in ws.column_dimensions.values():
        if dimension.min <= number <= dimension.max:
            return float(dimension.width)
    return 0.0


def format_of(ws: Any, number: int) -> str:
    """A column's number format (the style the template gives the whole column)."""
    for dimension in ws.column_dimensions.values():
        if dimension.min <= number <= dimension.max:
            return str(dimension.number_format)
    return ""


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("templates")
    write_templates(out)
    return out


def test_committed_templates_match_the_declarations(generated: Path) -> None:
    names = sorted(p.name for p in generated.glob("*.xlsx"))
    assert names == sorted(p.name for p in COMMITTED.glob("*.xlsx")), "run `make templates`"
    for name in names:
        assert describe(COMMITTED / name) == describe(generated / name), (
            f"{name} drifted: run `make templates`"
        )


def test_every_form_sheet_has_header_hints_and_dropdowns(generated: Path) -> None:
    book = load_workbook(generated / COMBINED)
    assert book.sheetnames == [f.zh for f in forms().values()] + [GUIDE]
    for form in table_forms():
        ws = book[form.zh]
        assert [c.value for c in ws[1]] == [c.zh for c in form.columns]
        assert ws.freeze_panes == "B2"
        assert ws.page_setup.orientation == "landscape" and ws.print_title_rows == "$1:$1"
        by_column = {
            str(dv.sqref).split(":")[0].rstrip("0123456789"): dv for dv in ws.data_validations.dataValidation
        }
        for index, column in enumerate(form.columns):
            letter = ws.cell(1, index + 1).column_letter
            dv = by_column[letter]
            assert dv.prompt and column.help[:20] in dv.prompt, column.key
            assert str(dv.sqref) == f"{letter}2:{letter}1048576"
            if column.choices:
                assert dv.type == "list"
                assert dv.formula1 == '"' + ",".join(column.choices) + '"'
            elif column.type in ("date", "datetime"):
                assert dv.type == "date"
            elif column.type in ("integer", "number", "rate"):
                assert dv.type == ("whole" if column.type == "integer" else "decimal")
            if column.type == "rate":  # 0–1, shown and typed as a percentage
                assert (dv.operator or "between", dv.formula1, dv.formula2) == ("between", "0", "1")
            if column.min_exclusive:
                assert (dv.operator, dv.formula1) == ("greaterThan", "0")
            if column.type in FORMATS:
                assert format_of(ws, index + 1) == FORMATS[column.type], column.key
            assert width_of(ws, index + 1) >= column.width, column.key


def test_bool_columns_offer_yes_no(generated: Path) -> None:
    ws = load_workbook(generated / "客户档案.xlsx")["客户档案"]
    formulas = {dv.formula1 for dv in ws.data_validations.dataValidation}
    assert '"是,否"' in formulas


def test_guide_lists_every_column(generated: Path) -> None:
    ws = load_workbook(generated / COMBINED)[GUIDE]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=4)]
    expected = [(f.zh, c.zh) for f in forms().values() for c in f.columns]
    assert [(r[0], r[1]) for r in rows] == expected
    licensed = next(r for r in rows if r[1] == "证照齐全")
    assert licensed[3] == "已准入客户必填" and "是 或 否" in licensed[4]


def test_every_sheet_prints_one_page_wide(generated: Path) -> None:
    """The 填写说明 sheet printed portrait, cut into pages of three columns: 必填, 规则 and 说明
    came out on pages of their own, without the form or column they belong to (and its title
    cut off); 参数's explanations likewise left their names. Every sheet prints one page wide,
    the guide repeating its header row, and the guide's rows are tall enough for their wrapped
    text (LibreOffice does not grow a row to fit)."""
    book = load_workbook(generated / COMBINED)
    for ws in book.worksheets:
        if ws.sheet_state != "visible":
            continue
        assert ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0, ws.title
    guide = book[GUIDE]
    assert guide.print_title_rows == "$3:$3"
    for row in guide.iter_rows(min_row=4):
        needed = max(
            -(
                -sum(2 if ord(ch) > 0x2E80 else 1 for ch in str(cell.value or ""))
                // int(width_of(guide, cell.column))
            )
            for cell in row
        )
        assert (guide.row_dimensions[row[0].row].height or 15) >= 14 * needed, (row[1].value, needed)


def test_blank_templates_check_clean(generated: Path) -> None:
    result = check([generated / COMBINED])
    assert result.exit_code == 0 and result.diagnostics == []


def test_the_other_forms_have_date_time_and_rate_columns(generated: Path) -> None:
    book = load_workbook(generated / "投诉记录.xlsx")
    assert book.sheetnames == ["投诉记录", GUIDE]
    ws = book["投诉记录"]
    received = next(dv for dv in ws.data_validations.dataValidation if str(dv.sqref).startswith("C2"))
    assert received.type == "date" and float(received.formula2) > 73050  # until 2099-12-31 23:59
    guide = {
        r[1]: r for r in load_workbook(generated / COMBINED)[GUIDE].iter_rows(min_row=4, values_only=True)
    }
    assert "日期时间" in guide["投诉时间"][4] and "00:00" in guide["投诉时间"][4]
    assert "30%" in guide["获取率"][4] and "0%–100%" in guide["获取率"][4]
    assert "> 0" in guide["金额(元)"][4]


@needs_soffice
def test_dropdowns_survive_libreoffice(generated: Path, tmp_path: Path) -> None:
    """Every template, opened and saved again by LibreOffice Calc, keeps each enum and 是/否
    column's dropdown with its values, and the date and rate validations."""
    sources = sorted(generated.glob("*.xlsx"))
    button_book = tmp_path / "按钮台账.xlsm"  # its own name: the .xlsx of the same stem would collide
    button_book.write_bytes((generated / BUTTON_BOOK).read_bytes())
    sources.append(button_book)
    done = soffice("--convert-to", "xlsx", "--outdir", str(tmp_path / "lo"), *(str(p) for p in sources))
    checked = 0
    for source in sources:
        converted = tmp_path / "lo" / f"{source.stem}.xlsx"
        assert converted.is_file(), (source.name, done.stderr)
        book = load_workbook(converted)
        for form in table_forms():
            if form.zh not in book.sheetnames:
                continue
            ws = book[form.zh]
            assert [c.value for c in ws[1]] == [c.zh for c in form.columns]
            by_column = {
                str(dv.sqref).split(":")[0]: dv for dv in ws.data_validations.dataValidation if dv.sqref
            }
            for index, column in enumerate(form.columns):
                dv = by_column[f"{ws.cell(2, index + 1).column_letter}2"]
                if column.choices:
                    assert dv.type == "list", (source.name, form.zh, column.zh)
                    assert dv.formula1 == '"' + ",".join(column.choices) + '"', (form.zh, column.zh)
                    checked += 1
                elif column.type in ("date", "datetime"):
                    assert dv.type == "date", (form.zh, column.zh)
                elif column.type == "rate":
                    assert (dv.type, dv.formula1, dv.formula2) == ("decimal", "0", "1"), (form.zh, column.zh)
    lists = sum(1 for f in table_forms() for c in f.columns if c.choices)
    assert checked == lists * 3  # each form alone, in the combined 台账 and in the button workbook


def test_a_folder_where_a_template_goes_is_one_line(tmp_path: Path) -> None:
    """``templates --force`` with a folder named 客户档案.xlsx: refused, naming it (an internal error)."""
    from click.testing import CliRunner

    from xlcrm.cli import cli

    (tmp_path / "客户档案.xlsx").mkdir()
    result = CliRunner().invoke(cli, ["templates", "--out", str(tmp_path), "--force"])
    assert result.exit_code == 2 and "文件夹" in result.stderr and "客户档案.xlsx" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "内部错误" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["客户档案.xlsx"]
