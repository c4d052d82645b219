"""Blank workbooks generated from the form declarations.

One workbook per form plus the combined ``客户管理台账.xlsx``, and ``客户管理台账.xlsm``: the
combined workbook with an 操作 sheet whose buttons run the checks in Excel (xlcrm.macros),
carrying xlwings' standalone VBA module unchanged, with ``客户管理台账.py`` beside it. Every form sheet has its header
row frozen, sensible widths, an input message with the column's help text, a dropdown on each
column with allowed values (and on 是/否 columns), date and number validation, text format on
code columns, and the workbook has a ``填写说明`` sheet listing each column's rule.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import io
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from xlcrm.diagnostics import column_letter
from xlcrm.docs import required_text, rule_text
from xlcrm.errors import InputError
from xlcrm.forms import Column, Form, forms
from xlcrm.phrase import Phrase
from xlcrm.ranges import value_range

COMBINED = "客户管理台账.xlsx"
BUTTON_BOOK = "客户管理台账.xlsm"
CONTROL, ACTION_ROW, ACTION_COL = "操作", 2, 1  # the buttons' sheet, the cell naming the action (0-based)
ACTION_CELL = f"{column_letter(ACTION_COL)}{ACTION_ROW + 1}"  # the same cell, as xlcrm.macros reads it (B3)
BUTTONS = ("检查", "计算等级与授信", "清除标注")  # Button 1, 2, 3: xlcrm.macros.main runs them by number
CONF = "xlwings.conf"
_CONF_KEYS = ("Interpreter_Win", "Interpreter_Mac", "PYTHONPATH", "Conda Path", "Conda Env", "Show Console")
_MODULE = '''"""The Excel buttons of 客户管理台账.xlsm: xlwings runs ``main()`` of the module named
like the workbook. Keep this file beside the workbook, and rename both together."""

from xlcrm.macros import main

__all__ = ["main"]
'''
GUIDE = "填写说明"
LAST_ROW = 1_048_575  # validations cover the whole column below the header
# Fixed document dates keep regenerated templates byte-comparable with the committed ones.
_FIXED_TIME = dt.datetime(2026, 1, 1)
_DATE_MIN, _DATE_MAX = dt.date(1990, 1, 1), dt.date(2099, 12, 31)
_DATETIME_MAX = dt.datetime(2099, 12, 31, 23, 59)


def write_templates(out: Path, *, force: bool = False) -> list[Path]:
    """Write every template into ``out`` and return their paths.

    Without ``force`` nothing is written if any of the files exists (a template someone has
    filled in would be lost): InputError naming it.
    """
    all_forms = list(forms().values())
    singles = [(out / f"{form.zh}.xlsx", [form]) for form in all_forms]
    buttons = out / BUTTON_BOOK
    module = buttons.with_suffix(".py")
    paths = [p for p, _ in singles] + [out / COMBINED, buttons, module]
    folder = next((p for p in paths if p.is_dir()), None)  # --force cannot make a folder a file
    if folder is not None:
        raise InputError("output", str(folder), detail=Phrase("是一个文件夹", "is a folder"))
    taken = next((p for p in paths if p.exists()), None)
    if taken is not None and not force:
        raise InputError("exists", str(taken))
    path = out
    try:
        out.mkdir(parents=True, exist_ok=True)
        for path, selected in singles:
            write_workbook(path, selected)
        path = out / COMBINED
        write_workbook(path, all_forms)
        path = buttons
        write_workbook(path, all_forms, vba=xlwings_vba())
        path = module
        module.write_text(_MODULE, encoding="utf-8")
    except (OSError, xlsxwriter.exceptions.FileCreateError) as exc:
        cause = exc.__cause__ if isinstance(exc.__cause__, OSError) else exc
        detail = cause.strerror if isinstance(cause, OSError) and cause.strerror else str(cause)
        raise InputError("output", str(path), detail=detail) from None
    return paths


def xlwings_vba() -> bytes:
    """The VBA project of xlwings' standalone quickstart workbook, as the installed xlwings ships it.

    Read from the package's files without importing xlwings (only xlcrm.macros does).
    """
    spec = importlib.util.find_spec("xlwings")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("xlwings is not installed")
    quickstart = Path(next(iter(spec.submodule_search_locations))) / "quickstart_standalone.xlsm"
    with zipfile.ZipFile(quickstart) as archive:
        return archive.read("xl/vbaProject.bin")


def write_workbook(path: Path, selected: Sequence[Form], vba: bytes | None = None) -> None:
    """One workbook holding the given forms and a 填写说明 sheet (and, with ``vba``, the buttons)."""
    book = xlsxwriter.Workbook(str(path))
    book.set_properties({"title": "xlcrm 客户管理台账模板", "created": _FIXED_TIME})
    styles = _styles(book)
    if vba is not None:
        book.add_vba_project(io.BytesIO(vba), is_stream=True)
        _control_sheet(book, styles)
    for form in selected:
        if form.layout == "keyvalue":
            _key_value_sheet(book, form, styles)
        else:
            _form_sheet(book, form, styles)
    _guide_sheet(book, selected, styles)
    if vba is not None:
        _conf_sheet(book)
    book.close()


def _control_sheet(book: Workbook, styles: dict[str, Any]) -> None:
    """The buttons, and the cell naming the action where Excel cannot say which was clicked."""
    sheet = book.add_worksheet(CONTROL)
    sheet.set_column(0, 0, 14)
    sheet.set_column(1, 1, 20)
    sheet.write_string(
        0, 0, "xlcrm：在 Excel 里检查本台账（需按 README 安装 Python、xlcrm 和 xlwings）", styles["title"]
    )
    sheet.write_string(2, 0, "操作", styles["required"])
    sheet.write_string(ACTION_ROW, ACTION_COL, BUTTONS[0], styles["plain"])
    sheet.data_validation(
        ACTION_ROW, ACTION_COL, ACTION_ROW, ACTION_COL, {"validate": "list", "source": list(BUTTONS)}
    )
    sheet.write_string(
        3, 0, "（Mac 上点任一按钮时执行此处选择的操作；Windows 上执行所点按钮的操作）", styles["plain"]
    )
    for index, caption in enumerate(BUTTONS):  # Button 1, 2, 3 in this order (xlcrm.macros.main)
        sheet.insert_button(
            5, index * 2, {"macro": "SampleCall", "caption": caption, "width": 128, "height": 36}
        )
    sheet.activate()


def _conf_sheet(book: Workbook) -> None:
    """Xlwings' settings sheet: where IT puts the Python interpreter's path (blank: the default)."""
    sheet = book.add_worksheet(CONF)
    for row, key in enumerate(_CONF_KEYS):
        sheet.write_string(row, 0, key)
    sheet.hide()


def _styles(book: Workbook) -> dict[str, Any]:
    base = {"font_name": "等线", "font_size": 11, "valign": "vcenter"}
    head = {**base, "bold": True, "border": 1, "text_wrap": True, "align": "center"}
    return {
        "required": book.add_format({**head, "bg_color": "#1F4E78", "font_color": "#FFFFFF"}),
        "optional": book.add_format({**head, "bg_color": "#DDEBF7"}),
        "text": book.add_format({**base, "num_format": "@"}),
        "date": book.add_format({**base, "num_format": "yyyy-mm-dd"}),
        "datetime": book.add_format({**base, "num_format": "yyyy-mm-dd hh:mm"}),
        "rate": book.add_format({**base, "num_format": "0.0%"}),  # typing 30 here enters 30%
        "number": book.add_format({**base, "num_format": "#,##0.00"}),
        "integer": book.add_format({**base, "num_format": "0"}),
        "plain": book.add_format(base),
        "title": book.add_format({**base, "bold": True, "font_size": 14}),
        "wrap": book.add_format({**base, "text_wrap": True, "valign": "top"}),
    }


def _cell_format(column: Column, styles: dict[str, Any]) -> Any:
    if column.type in ("date", "datetime", "rate"):
        return styles[column.type]
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
    elif column.type in ("date", "datetime"):  # a date-time is a date serial with a fraction of a day
        latest = _DATE_MAX if column.type == "date" else _DATETIME_MAX
        rule = {"validate": "date", "criteria": "between", "minimum": _DATE_MIN, "maximum": latest}
    elif column.type in ("integer", "number", "rate"):
        kind = "integer" if column.type == "integer" else "decimal"
        lo, hi = value_range(column)
        if lo is not None and hi is not None:
            rule = {"validate": kind, "criteria": "between", "minimum": lo, "maximum": hi}
        elif lo is not None:
            rule = {"validate": kind, "criteria": ">" if column.min_exclusive else ">=", "value": lo}
        elif hi is not None:
            rule = {"validate": kind, "criteria": "<=", "value": hi}
        else:
            rule = {"validate": kind, "criteria": "between", "minimum": -1e307, "maximum": 1e307}
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
    sheet.set_landscape()  # printing: the explanations on the page of their names
    sheet.fit_to_pages(1, 0)
    return sheet


def _lines(text: str, width: float) -> int:
    """How many lines ``text`` wraps to in a column ``width`` characters wide (CJK: two each)."""
    shown = sum(2 if ord(ch) >= 0x2E80 else 1 for ch in text)
    return max(1, -(-shown // int(width)))


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
            lines = max(_lines(text, width) for text, width in zip(values, widths, strict=True))
            if lines > 1:  # LibreOffice does not grow a row to fit its wrapped text
                sheet.set_row(row, 15 * lines)
            row += 1
    sheet.freeze_panes(3, 0)
    sheet.set_landscape()  # printing: one page wide, so 规则 and 说明 stay beside their column
    sheet.fit_to_pages(1, 0)
    sheet.repeat_rows(2)
    sheet.autofilter(2, 0, row - 1, len(headers) - 1)
