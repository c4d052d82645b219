"""Blank workbooks generated from the form declarations.

One workbook per form plus the combined ``客户管理台账.xlsx``. Every form sheet has its header
row frozen, sensible widths, an input message with the column's help text, a dropdown on each
column with allowed values (and on 是/否 columns), date and number validation, text format on
code columns, and the workbook has a ``填写说明`` sheet listing each column's rule.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from xlcrm.docs import required_text, rule_text
from xlcrm.forms import Column, Form, forms
from xlcrm.schema import value_range

COMBINED = "客户管理台账.xlsx"
GUIDE = "填写说明"
LAST_ROW = 1_048_575  # validations cover the whole column below the header
# Fixed document dates keep regenerated templates byte-comparable with the committed ones.
_FIXED_TIME = dt.datetime(2026, 1, 1)
_DATE_MIN, _DATE_MAX = dt.date(1990, 1, 1), dt.date(2099, 12, 31)


def write_templates(out: Path) -> list[Path]:
    """Write every template into ``out`` and return their paths."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    all_forms = list(forms().values())
    for form in all_forms:
        path = out / f"{form.zh}.xlsx"
        write_workbook(path, [form])
        written.append(path)
    combined = out / COMBINED
    write_workbook(combined, all_forms)
    written.append(combined)
    return written


def write_workbook(path: Path, selected: Sequence[Form]) -> None:
    """One workbook holding the given forms and a 填写说明 sheet."""
    book = xlsxwriter.Workbook(str(path))
    book.set_properties({"title": "xlcrm 客户管理台账模板", "created": _FIXED_TIME})
    styles = _styles(book)
    for form in selected:
        if form.layout == "keyvalue":
            _key_value_sheet(book, form, styles)
        else:
            _form_sheet(book, form, styles)
    _guide_sheet(book, selected, styles)
    book.close()


def _styles(book: Workbook) -> dict[str, Any]:
    base = {"font_name": "等线", "font_size": 11, "valign": "vcenter"}
    head = {**base, "bold": True, "border": 1, "text_wrap": True, "align": "center"}
    return {
        "required": book.add_format({**head, "bg_color": "#1F4E78", "font_color": "#FFFFFF"}),
        "optional": book.add_format({**head, "bg_color": "#DDEBF7"}),
        "text": book.add_format({**base, "num_format": "@"}),
        "date": book.add_format({**base, "num_format": "yyyy-mm-dd"}),
        "number": book.add_format({**base, "num_format": "#,##0.00"}),
        "integer": book.add_format({**base, "num_format": "0"}),
        "plain": book.add_format(base),
        "title": book.add_format({**base, "bold": True, "font_size": 14}),
        "wrap": book.add_format({**base, "text_wrap": True, "valign": "top"}),
    }


def _cell_format(column: Column, styles: dict[str, Any]) -> Any:
    if column.type == "date":
        return styles["date"]
    if column.type == "number":
        return styles["number"]
    if column.type == "integer":
        return styles["integer"]
    if column.type in ("text", "period"):
        return styles["text"]  # codes keep their leading zeros
    return styles["plain"]


def validation(column: Column) -> dict[str, Any]:
    """The XlsxWriter data validation for a column: dropdown, date, number or hint only."""
    title = f"{column.zh}（{required_text(column)}）"[:32]
    message = f"{column.help}\n{rule_text(column)}"[:255]
    rule: dict[str, Any] = {"validate": "any"}
    if column.choices:
        rule = {"validate": "list", "source": list(column.choices)}
        if column.type == "list":
            rule["error_type"] = "information"  # several items may be combined with 、
    elif column.type == "date":
        rule = {"validate": "date", "criteria": "between", "minimum": _DATE_MIN, "maximum": _DATE_MAX}
    elif column.type in ("integer", "number"):
        kind = "integer" if column.type == "integer" else "decimal"
        lo, hi = value_range(column)
        if lo is not None and hi is not None:
            rule = {"validate": kind, "criteria": "between", "minimum": lo, "maximum": hi}
        elif lo is not None:
            rule = {"validate": kind, "criteria": ">=", "value": lo}
        else:
            rule = {"validate": kind, "criteria": "<=", "value": hi}
    elif column.format == "customer_code":
        rule = {"validate": "length", "criteria": "between", "minimum": 1, "maximum": 32}
    elif column.format == "uscc":
        rule = {"validate": "length", "criteria": "==", "value": 18}
    rule.update({"input_title": title, "input_message": message})
    if rule["validate"] != "any":
        rule.setdefault("error_title", f"{column.zh}：取值不符"[:32])
        rule["error_message"] = message
    return rule


def _form_sheet(book: Workbook, form: Form, styles: dict[str, Any]) -> Worksheet:
    sheet = book.add_worksheet(form.zh)
    sheet.freeze_panes(1, 1)
    sheet.set_row(0, 32)
    for index, column in enumerate(form.columns):
        head = styles["optional"] if column.required == "no" else styles["required"]
        sheet.write_string(0, index, column.zh, head)
        sheet.set_column(
            index, index, max(column.width, len(column.zh) * 2 + 2), _cell_format(column, styles)
        )
        sheet.data_validation(1, index, LAST_ROW, index, validation(column))
    sheet.autofilter(0, 0, 0, len(form.columns) - 1)
    sheet.set_landscape()  # printing: landscape, one page wide, header on every page
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(0)
    return sheet


def _key_value_sheet(book: Workbook, form: Form, styles: dict[str, Any]) -> Worksheet:
    sheet = book.add_worksheet(form.zh)
    sheet.set_column(0, 0, 24)
    sheet.set_column(1, 1, 18)
    sheet.set_column(2, 2, 60)
    for index, column in enumerate(form.columns):
        row = index
        sheet.write_string(row, 0, column.zh, styles["optional"])
        sheet.write_blank(row, 1, None, _cell_format(column, styles))
        sheet.write_string(row, 2, column.help, styles["wrap"])
        sheet.data_validation(row, 1, row, 1, validation(column))
    return sheet


def _guide_sheet(book: Workbook, selected: Sequence[Form], styles: dict[str, Any]) -> None:
    sheet = book.add_worksheet(GUIDE)
    sheet.write_string(0, 0, "填写说明（由 xlcrm 根据表单声明生成；表头可用中文或英文别名）", styles["title"])
    headers = ("表单", "列（表头）", "英文表头", "必填", "规则", "说明")
    widths = (10, 20, 24, 16, 48, 60)
    for index, (text, width) in enumerate(zip(headers, widths, strict=True)):
        sheet.write_string(2, index, text, styles["required"])
        sheet.set_column(index, index, width, styles["wrap"])
    row = 3
    for form in selected:
        for column in form.columns:
            values = (form.zh, column.zh, column.en, required_text(column), rule_text(column), column.help)
            for index, text in enumerate(values):
                sheet.write_string(row, index, text)
            row += 1
    sheet.freeze_panes(3, 0)
    sheet.autofilter(2, 0, row - 1, len(headers) - 1)
