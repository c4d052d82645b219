"""XlsxWriter helpers shared by the company workbook's sheets: styles, typed cells, tables, charts.

Text is always written as text (``write_string``), never through ``write()``, which could
turn "=…" into a formula. Charts carry their data in the chart part itself (XlsxWriter's
``categories_data``/``values_data``): a workbook written in constant-memory mode has no cell
cache for XlsxWriter to fill them from, and LibreOffice and WPS draw a chart from that cache.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl
import xlsxwriter
from xlsxwriter.utility import quote_sheetname, xl_range_abs

from xlcrm.batch import sheetxml

FONT = "Microsoft YaHei"  # charts' font; LibreOffice falls back to a CJK font it has


@dataclass
class Bulk:
    """A sheet whose rows are made by ``sheetxml`` and spliced into XlsxWriter's part."""

    frame: pl.DataFrame
    kinds: list[sheetxml.Kind]
    styles: dict[str, str] = field(default_factory=dict)
    links: pl.DataFrame | None = None  # cell, target, location of each hyperlink
    numbers: dict[str, Any] = field(default_factory=dict)  # column -> format of its number cells


class Styles:
    """The workbook's cell formats."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.subtitle = book.add_format({"bold": True, "font_size": 12, "font_color": "#1F4E78"})
        self.bold = book.add_format({"bold": True})
        self.header = book.add_format(
            {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"}
        )
        self.date = book.add_format({"num_format": "yyyy-mm-dd"})
        self.time = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self.percent = book.add_format({"num_format": "0.0%"})
        self.money = book.add_format({"num_format": "#,##0.00"})
        self.integer = book.add_format({"num_format": "#,##0"})
        self.decimal = book.add_format({"num_format": "0.0"})
        self.link = book.add_format({"font_color": "#0563C1", "underline": 1})
        self.wrap = book.add_format({"text_wrap": True, "valign": "top"})
        self.red = book.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
        self.yellow = book.add_format({"bg_color": "#FFEB9C", "font_color": "#9C5700"})
        self.grey = book.add_format({"font_color": "#7F7F7F"})
        self.note = book.add_format({"font_color": "#595959", "text_wrap": True, "valign": "top"})
        self.left = book.add_format({"align": "left"})
        self.date_left = book.add_format({"num_format": "yyyy-mm-dd", "align": "left"})
        self.time_left = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss", "align": "left"})
        self.total = book.add_format({"bold": True, "top": 1})
        self.total_integer = book.add_format({"bold": True, "top": 1, "num_format": "#,##0"})
        self.total_money = book.add_format({"bold": True, "top": 1, "num_format": "#,##0.00"})
        self.total_percent = book.add_format({"bold": True, "top": 1, "num_format": "0.0%"})


def put(sheet: Any, row: int, col: int, value: Any, styles: Styles, fmt: Any = None) -> None:
    """One cell, by type; text always as text."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return
    if isinstance(value, bool):
        sheet.write_string(row, col, "是" if value else "否", fmt)
    elif isinstance(value, (int, float)):
        sheet.write_number(row, col, value, fmt)
    elif isinstance(value, dt.datetime):
        sheet.write_datetime(row, col, value, fmt or styles.time)
    elif isinstance(value, dt.date):
        sheet.write_datetime(row, col, dt.datetime.combine(value, dt.time()), fmt or styles.date)
    elif isinstance(value, (list, tuple)):
        sheet.write_string(row, col, "、".join(str(v) for v in value), fmt)
    else:
        sheet.write_string(row, col, str(value), fmt)


PAGE_WIDTH = 150  # column-width units a printed A4 landscape page holds at ~93% (139 at 100%)


def page(sheet: Any, *, width: float | None = None) -> None:
    """A4 landscape (printing and PDF): one page wide, or as many pages as ``width`` needs at ≥ 93%."""
    sheet.set_paper(9)
    sheet.set_landscape()
    sheet.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    sheet.fit_to_pages(1 if width is None else max(1, math.ceil(width / PAGE_WIDTH)), 0)


def header(sheet: Any, styles: Styles, headers: Sequence[str], widths: Sequence[float], row: int = 0) -> None:
    """A table's header row, the column widths, the print setup and the frozen header.

    A wide table prints across as many pages as it needs to stay readable (``page``).
    """
    page(sheet, width=sum(widths))
    sheet.repeat_rows(row)
    sheet.set_row(row, 30)
    for col, (text, width) in enumerate(zip(headers, widths, strict=True)):
        sheet.set_column(col, col, width)
        sheet.write_string(row, col, text, styles.header)
    sheet.freeze_panes(row + 1, 0)


# A column of a small table: header, value of a row, format, and whether the total row sums it.
Column = tuple[str, Callable[[Any], Any], Any]


def table(
    sheet: Any, styles: Styles, row: int, columns: Sequence[Column], rows: Sequence[Any],
    totals: dict[int, Any] | None = None,
) -> int:  # fmt: skip
    """A small table at ``row`` (header, rows, an optional total row); the next free row."""
    for col, (text, _, _) in enumerate(columns):
        sheet.write_string(row, col, text, styles.header)
    for r, values in enumerate(rows, start=row + 1):
        for col, (_, get, fmt) in enumerate(columns):
            put(sheet, r, col, get(values), styles, fmt)
    row += len(rows) + 1
    if totals:
        sheet.write_string(row, 0, "合计", styles.total)
        for col, (value, fmt) in totals.items():
            put(sheet, row, col, value, styles, fmt)
        row += 1
    return row


def reference(sheet: str, first_row: int, col: int, last_row: int) -> str:
    """``='部门汇总'!$B$2:$B$9`` for a column range."""
    return f"={quote_sheetname(sheet)}!{xl_range_abs(first_row, col, last_row, col)}"


def series(
    sheet: str, first_row: int, last_row: int, category_col: int, value_col: int,
    categories: Sequence[Any], values: Sequence[Any], **options: Any,
) -> dict[str, Any]:  # fmt: skip
    """A chart series over a column range, with its data cached in the chart."""
    return {
        "categories": reference(sheet, first_row, category_col, last_row),
        "values": reference(sheet, first_row, value_col, last_row),
        "categories_data": list(categories),
        "values_data": [
            None if v is None or (isinstance(v, float) and not math.isfinite(v)) else v for v in values
        ],
        **options,
    }


VALUE_AXIS: dict[str, Any] = {  # a chart's value axis: the font and light gridlines
    "num_font": {"name": FONT, "size": 9},
    "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}},
}


def chart(book: Any, kind: str, title: str, *, subtype: str | None = None, percent: bool = False) -> Any:
    """A chart with a title, Chinese-capable fonts and the legend below."""
    options = {"type": kind, **({"subtype": subtype} if subtype else {})}
    made = book.add_chart(options)
    made.set_title({"name": title, "name_font": {"name": FONT, "size": 12, "bold": True}})
    made.set_legend({"position": "bottom", "font": {"name": FONT, "size": 9}})
    axis: dict[str, Any] = dict(VALUE_AXIS)
    if percent:
        axis["num_format"] = "0%"
    category_axis: dict[str, Any] = {"num_font": {"name": FONT, "size": 9}}
    if kind == "bar":  # horizontal bars: the values run along x, the first category on top
        made.set_x_axis(axis)
        made.set_y_axis({**category_axis, "reverse": True})
    else:
        made.set_y_axis(axis)
        made.set_x_axis(category_axis)
    return made


def kinds(frame: pl.DataFrame) -> list[sheetxml.Kind]:
    """How ``sheetxml`` writes each column of ``frame``: dates, numbers, everything else as text."""
    found: list[sheetxml.Kind] = []
    for dtype in frame.dtypes:
        if dtype == pl.Date:
            found.append("date")
        elif dtype.is_numeric():
            found.append("number")
        else:
            found.append("text")
    return found
