"""The blank templates: generated from the declarations, committed, and never drifting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from xlcrm.engine import check
from xlcrm.forms import forms, table_forms
from xlcrm.templates import COMBINED, GUIDE, write_templates

COMMITTED = Path(__file__).resolve().parent.parent / "workbook_templates"


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
            elif column.type == "date":
                assert dv.type == "date"
            elif column.type in ("integer", "number"):
                assert dv.type == ("whole" if column.type == "integer" else "decimal")
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


def test_blank_templates_check_clean(generated: Path) -> None:
    result = check([generated / COMBINED])
    assert result.exit_code == 0 and result.diagnostics == []
