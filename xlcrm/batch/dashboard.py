"""部门汇总: three native charts over one row per submission, the other forms' figures, complaints.

The charts — VIP and 优选 shares against their caps, findings by family, credit utilisation —
read their data from the 图表数据 sheet (written last) and carry it cached. Beyond
``CHART_DEPARTMENTS`` departments a chart shows those that matter most (closest to or over a
cap, most findings, highest utilisation) and its title says so; the table below lists all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from xlcrm.batch import execution, figures
from xlcrm.batch.report import FAMILY_NAMES, Report, by_family, counted
from xlcrm.batch.worker import DEPARTMENT_SOURCES
from xlcrm.batch.xlsx import Styles, chart, header, page, put, series
from xlcrm.rules.common import percent

SHEET, DATA = "部门汇总", "图表数据"
CHART_DEPARTMENTS = 30
CHART_WIDTH, CHART_HEIGHT = 440, 300  # pixels: two side by side fit an A4 landscape page
CHART_ROWS = 33  # rows the charts take above the table (two rows of charts, 15 rows each)
SEVERITY_ZH = {"error": "错误", "warning": "警告"}


@dataclass
class ChartData:
    """The 图表数据 sheet: blocks of (category, values...) the charts read, written last."""

    blocks: list[tuple[str, list[str], list[list[Any]]]] = field(default_factory=list)
    next_row: int = 0

    def add(self, title: str, headers: list[str], rows: list[list[Any]]) -> int:
        """Add a block; the sheet row of its first data row (the header is the row above it)."""
        first = self.next_row + 2
        self.blocks.append((title, headers, rows))
        self.next_row = first + len(rows) + 1
        return first

    def write(self, book: Any, styles: Styles) -> None:
        """The sheet, at the end of the workbook."""
        sheet = book.add_worksheet(DATA)
        page(sheet)
        sheet.set_column(0, 0, 22)
        sheet.set_column(1, 12, 12)
        row = 0
        for title, headers, rows in self.blocks:
            sheet.write_string(row, 0, title, styles.bold)
            for col, text in enumerate(headers):
                sheet.write_string(row + 1, col, text, styles.header)
            for r, values in enumerate(rows, start=row + 2):
                for col, value in enumerate(values):
                    put(sheet, r, col, value, styles)
            row += len(rows) + 3


def write(book: Any, styles: Styles, report: Report, data: ChartData) -> None:
    """The sheet: title, charts, the table, the figures, the complaint breakdown."""
    sheet = book.add_worksheet(SHEET)
    frame = report.departments
    rows = list(frame.iter_rows(named=True)) if not frame.is_empty() else []
    sheet.write_string(0, 0, f"部门汇总 {report.overview.month}（{len(rows)} 份提交）", styles.title)
    if rows:
        _charts(book, sheet, report, rows, data)
    else:
        sheet.write_string(1, 0, "本月没有已检查的提交。", styles.note)
    columns = _columns(report, styles)
    first = CHART_ROWS + 2 if rows else 3
    header(sheet, styles, [c[0] for c in columns], [c[3] for c in columns], row=first)
    if rows:
        sheet.set_h_pagebreaks([first])  # the charts on the first printed page, the table from the next
    for r, row in enumerate(rows, start=first + 1):
        for col, (_, get, fmt, _) in enumerate(columns):
            put(sheet, r, col, get(row), styles, fmt)
    last = first + len(rows)
    if rows:
        total = last + 1
        sheet.write_string(total, 0, "合计", styles.total)
        for col, (_, get, fmt, _) in enumerate(columns):
            if fmt in (styles.integer, styles.money) and col >= 4:
                put(sheet, total, col, sum(get(r) or 0 for r in rows), styles, _total(fmt, styles))
        for col, (label, *_) in enumerate(columns):
            if label.startswith(("VIP占比", "优选占比")):
                cap = report.vip_cap if label.startswith("VIP") else report.preferred_cap
                sheet.conditional_format(
                    first + 1,
                    col,
                    last,
                    col,
                    {"type": "cell", "criteria": ">", "value": cap, "format": styles.red},
                )
        sheet.autofilter(first, 0, last, len(columns) - 1)
        last = total
    after = _figures(sheet, styles, report, rows, last + 2)
    _complaints(sheet, styles, report, after + 1)


Getter = Callable[[dict[str, Any]], Any]


def _columns(report: Report, styles: Styles) -> list[tuple[str, Getter, Any, float]]:
    frame = report.departments
    keys = sorted(
        {k for row in frame.iter_rows(named=True) for k in counted(row)} if not frame.is_empty() else set(),
        key=lambda k: (list(FAMILY_NAMES).index(k[0]) if k[0] in FAMILY_NAMES else 99, k),
    )
    flags = report.execution_departments
    by_department = (
        {row["__department"]: row for row in flags.iter_rows(named=True)} if not flags.is_empty() else {}
    )
    vip_cap, preferred_cap = percent(report.vip_cap), percent(report.preferred_cap)
    columns: list[tuple[str, Getter, Any, float]] = [
        ("部门", lambda r: r["department"], None, 14),
        ("部门依据", lambda r: DEPARTMENT_SOURCES[r["department_source"]].zh, None, 10),
        ("文件", lambda r: r["file"], None, 30),
        ("基准日期", lambda r: r["as_of"], styles.date, 11),
        ("客户数", lambda r: r["customers"], styles.integer, 8),
        ("已准入", lambda r: r["admitted"], styles.integer, 8),
        ("VIP客户(申报)", lambda r: r["vip"], styles.integer, 9),
        (f"VIP占比(上限{vip_cap})", lambda r: r["vip_share"], styles.percent, 10),
        ("优选类客户(申报)", lambda r: r["preferred"], styles.integer, 10),
        (f"优选占比(上限{preferred_cap})", lambda r: r["preferred_share"], styles.percent, 10),
        ("VIP客户(系统)", lambda r: r["vip_computed"], styles.integer, 9),
        ("优选类客户(系统)", lambda r: r["preferred_computed"], styles.integer, 10),
        ("错误", lambda r: r["errors"], styles.integer, 7),
        ("警告", lambda r: r["warnings"], styles.integer, 7),
    ]
    for key in keys:
        family, severity = key.split("_")
        label = f"{family} {FAMILY_NAMES.get(family, '')}{SEVERITY_ZH[severity]}"
        columns.append((label, _family(key), styles.integer, 9))
    columns += [
        ("信用评定行数", lambda r: r["credit_rows"], styles.integer, 9),
        ("信用额度合计(元)", lambda r: r["limit_total"], styles.money, 16),
        ("当前占用额合计(元)", lambda r: r["exposure_total"], styles.money, 16),
        ("使用率", lambda r: r["utilisation"], styles.percent, 8),
    ]
    for name, _, label, _ in execution.FLAGS:
        columns.append((f"{label}(户)", _flag(by_department, name), styles.integer, 8))
    return columns


def _family(key: str) -> Getter:
    return lambda row: counted(row).get(key, 0)


def _flag(by_department: dict[str, dict[str, Any]], name: str) -> Getter:
    return lambda row: (by_department.get(row["department"]) or {}).get(name, 0)


def _total(fmt: Any, styles: Styles) -> Any:
    return styles.total_money if fmt is styles.money else styles.total_integer


def _figures(sheet: Any, styles: Styles, report: Report, rows: list[dict[str, Any]], row: int) -> int:
    """The other forms' figures per department (xlcrm.stats), with the company's; the next free row."""
    shown = report.figure_columns
    if not shown:
        return row
    sheet.write_string(row, 0, "其他表单统计（投诉、费用报销、回访、大客户优惠、收益计划）", styles.subtitle)
    labels = {c: (label, kind) for c, label, kind in figures.COLUMNS}
    formats = {
        "count": styles.integer,
        "share": styles.percent,
        "hours": styles.decimal,
        "money": styles.money,
    }
    row += 1
    sheet.set_row(row, 44)  # the figures' headers are long: wrapped on three lines
    sheet.write_string(row, 0, "部门", styles.header)
    for col, key in enumerate(shown, start=1):
        sheet.write_string(row, col, labels[key][0], styles.header)
    for r, values in enumerate(rows, start=row + 1):
        put(sheet, r, 0, values["department"], styles)
        for col, key in enumerate(shown, start=1):
            put(sheet, r, col, values.get(key), styles, formats[labels[key][1]])
    row += len(rows) + 1
    sheet.write_string(row, 0, "公司", styles.total)
    for col, key in enumerate(shown, start=1):
        fmt = {"count": styles.total_integer, "share": styles.total_percent, "money": styles.total_money}
        put(sheet, row, col, report.figure_totals.get(key), styles, fmt.get(labels[key][1], styles.total))
    row += 1
    sheet.write_string(
        row, 0,
        "及时响应率：已到响应期限的投诉中在时限内首次响应的比例；满意率 =（满意＋基本满意）÷ 已调查；"
        "公司的中位数取全部已响应投诉（docs/policy.md §2）。",
        styles.grey,
    )  # fmt: skip
    return row + 2


def _complaints(sheet: Any, styles: Styles, report: Report, row: int) -> None:
    frame = report.complaints
    if frame.is_empty():
        return
    sheet.write_string(row, 0, "投诉分类（类型、渠道、责任人）", styles.subtitle)
    row += 1
    for col, text in enumerate(("部门", "维度", "取值", "件数")):
        sheet.write_string(row, col, text, styles.header)
    for r, values in enumerate(frame.iter_rows(), start=row + 1):
        for col, value in enumerate(values):
            put(sheet, r, col, value, styles, styles.integer if col == 3 else None)


def _top(frame: pl.DataFrame, key: pl.Expr) -> tuple[pl.DataFrame, bool]:
    """The departments a chart shows: all, or the CHART_DEPARTMENTS highest by ``key``."""
    if frame.height <= CHART_DEPARTMENTS:
        return frame, False
    return frame.with_columns(key.alias("__key")).sort("__key", descending=True, nulls_last=True).head(
        CHART_DEPARTMENTS
    ).drop("__key"), True


def _charts(book: Any, sheet: Any, report: Report, rows: list[dict[str, Any]], data: ChartData) -> None:
    """The three charts: two side by side, the third below the first."""
    places = ((2, 4), (2, CHART_WIDTH + 14), (2 + 16, 4))
    made = [_shares(book, report, data), _findings(book, rows, data), _utilisation(book, report, data)]
    for (row, x), chart_ in zip(places, [c for c in made if c is not None], strict=False):
        chart_.set_size({"width": CHART_WIDTH, "height": CHART_HEIGHT})
        sheet.insert_chart(row, 0, chart_, {"x_offset": x, "y_offset": 4, "object_position": 3})


def _shares(book: Any, report: Report, data: ChartData) -> Any:
    """VIP and 优选 shares (columns) against their caps (dashed lines)."""
    vip, preferred = report.vip_cap, report.preferred_cap
    risk = pl.max_horizontal(
        pl.col("vip_share").fill_null(0) / vip, pl.col("preferred_share").fill_null(0) / preferred
    )
    shown, cut = _top(report.departments, risk)
    names = shown["department"].to_list()
    columns = {
        "VIP占比": shown["vip_share"].to_list(),
        f"VIP上限 {percent(vip)}": [vip] * len(names),
        "优选占比": shown["preferred_share"].to_list(),
        f"优选上限 {percent(preferred)}": [preferred] * len(names),
    }
    first = data.add(
        "VIP与优选类客户占比",
        ["部门", *columns],
        [[n, *v] for n, *v in zip(names, *columns.values(), strict=True)],
    )
    last = first + len(names) - 1
    made = chart(
        book,
        "column",
        "VIP与优选类客户占比（对比上限）" + ("（超限风险最高的部门）" if cut else ""),
        percent=True,
    )
    caps = book.add_chart({"type": "line"})
    colors = ("#C00000", "#C00000", "#2E75B6", "#2E75B6")
    for col, ((label, values), color) in enumerate(zip(columns.items(), colors, strict=True), start=1):
        options = series(DATA, first, last, 0, col, names, values, name=label)
        if "上限" in label:
            caps.add_series(
                {
                    **options,
                    "line": {"color": color, "dash_type": "dash", "width": 1.5},
                    "marker": {"type": "none"},
                }
            )
        else:
            made.add_series({**options, "fill": {"color": color}, "gap": 80})
    made.combine(caps)
    return made


def _findings(book: Any, rows: list[dict[str, Any]], data: ChartData) -> Any:
    """Counted findings per department, stacked by family (None: no findings at all)."""
    counts = [by_family(row) for row in rows]
    families = [f for f in FAMILY_NAMES if any(f in c for c in counts)]
    if not families:
        return None
    order = sorted(range(len(rows)), key=lambda i: -sum(counts[i].values()))[:CHART_DEPARTMENTS]
    chosen = sorted(order)
    names = [rows[i]["department"] for i in chosen]
    table = [[rows[i]["department"], *(counts[i].get(f, 0) for f in families)] for i in chosen]
    first = data.add("问题按类别", ["部门", *(f"{f} {FAMILY_NAMES[f]}" for f in families)], table)
    last = first + len(names) - 1
    cut = len(rows) > CHART_DEPARTMENTS
    made = chart(
        book, "column", "各部门问题（按类别）" + ("（问题最多的部门）" if cut else ""), subtype="stacked"
    )
    for col, family in enumerate(families, start=1):
        values = [t[col] for t in table]
        made.add_series(
            series(DATA, first, last, 0, col, names, values, name=f"{family} {FAMILY_NAMES[family]}", gap=60)
        )
    return made


def _utilisation(book: Any, report: Report, data: ChartData) -> Any:
    """Exposure over limits per department, against 100% (None: no department has a limit)."""
    if report.departments["utilisation"].is_null().all():
        return None
    shown, cut = _top(report.departments, pl.col("utilisation"))
    names = shown["department"].to_list()
    used = shown["utilisation"].to_list()
    first = data.add(
        "信用额度使用率", ["部门", "使用率", "额度"], [[n, u, 1.0] for n, u in zip(names, used, strict=True)]
    )
    last = first + len(names) - 1
    made = chart(
        book,
        "column",
        "信用额度使用率（占用额÷额度）" + ("（使用率最高的部门）" if cut else ""),
        percent=True,
    )
    made.add_series(
        series(DATA, first, last, 0, 1, names, used, name="使用率", fill={"color": "#548235"}, gap=80)
    )
    full = book.add_chart({"type": "line"})
    line = {"color": "#7F7F7F", "dash_type": "dash"}
    full.add_series(
        {
            **series(DATA, first, last, 0, 2, names, [1.0] * len(names), name="额度 100%"),
            "line": line,
            "marker": {"type": "none"},
        }
    )
    made.combine(full)
    return made
