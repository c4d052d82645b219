"""The company workbook of a month: 清单, 部门汇总, 问题明细, 跨部门, 公司客户 (XlsxWriter).

Written from the company view, never by loading a workbook back. XlsxWriter writes every sheet
(in constant-memory mode, to a staging file); the rows of 公司客户 — hundreds of thousands —
are made as sheet XML by polars (``sheetxml``) and streamed into the package in place of the
XlsxWriter sheet that holds only their header. User text is always written as text (never
``write()``, which could turn "=…" into a formula). A table past Excel's 1,048,576 rows goes
on in sheets named ``公司客户(2)``, … and 清单 says so. Contacts are masked (POLICY §7) unless
asked otherwise. The caller gives a temporary path and renames it into place.
"""

from __future__ import annotations

import datetime as dt
import os
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import xlsxwriter

from xlcrm.batch import sheetxml
from xlcrm.batch.company import Company
from xlcrm.batch.cross import DEPT, FILE, Finding
from xlcrm.batch.discover import CHECKED, SKIPPED, UNUSABLE
from xlcrm.batch.worker import COMPANY_SHEETS, DEPARTMENT_SOURCES, ROW, SHEET, SHIPPED
from xlcrm.forms import forms

EXCEL_ROWS = 1_048_576
MAX_LINKS = 65_530  # Excel's limit of hyperlinks per worksheet
MANIFEST, DEPARTMENTS, FINDINGS = COMPANY_SHEETS
CROSS, CUSTOMERS = "跨部门", "公司客户"
STATUS_ZH = {CHECKED: "已检查", UNUSABLE: "无法使用", SKIPPED: "已跳过"}
SEVERITY_ZH = {"error": "错误", "warning": "警告"}
ORIGIN_ZH = {"check": "检查", "company_blacklist": "公司黑名单", "consolidation": "跨部门"}
FORM_ZH = {key: forms()[key].zh for key in SHIPPED}
MANIFEST_HEADERS = (
    "序号", "文件", "状态", "原因", "部门", "部门依据", "SHA-256", "大小(字节)", "工作表",
    *(f"{FORM_ZH[k]}行数" for k in ("archive", "evaluation", "credit", "blacklist")),
    "错误", "警告", "用时(秒)", "工作进程",
)  # fmt: skip
FINDING_HEADERS = ("部门", "文件", "工作表", "单元格", "代码", "级别", "客户编码", "说明", "已豁免", "来源")
LOSS_HEADERS = (
    "部门",
    "文件",
    "工作表",
    "行",
    "客户编码",
    "客户名称",
    "统一社会信用代码",
    "评价期间",
    "本期问题",
    "评价日期",
)
BLACKLIST_HEADERS = (
    "部门",
    "文件",
    "工作表",
    "行",
    "客户编码",
    "客户名称",
    "统一社会信用代码",
    "列入日期",
    "原因",
    "批准人",
)
FAMILIES = {
    "S": "格式", "A": "准入", "T": "等级", "C": "信用", "B": "黑名单", "X": "豁免",
    "P": "投诉", "E": "费用", "V": "回访", "R": "收益", "K": "优惠", "D": "跨部门",
}  # fmt: skip
# 公司客户: where the row came from, every 客户档案 column, then the computed and credit facts.
CUSTOMER_LEAD = ((DEPT, "部门"), (FILE, "来源文件"), (SHEET, "工作表"), (ROW, "行"))
CUSTOMER_TAIL = (
    ("computed_tier", "系统等级"),
    ("computed_grade", "系统信用等级"),
    ("credit_type", "授信类型"),
    ("credit_limit", "信用额度(元)"),
    ("credit_exposure", "当前占用额(元)"),
)


@dataclass(frozen=True)
class RunInfo:
    """Who ran the consolidation, when, how, and where its outputs go (for 清单 and the history)."""

    run_id: str
    user: str
    host: str
    started_at: dt.datetime
    finished_at: dt.datetime
    version: str
    as_of: dt.date | None
    options: dict[str, Any]
    executor: str
    output: Path
    history: Path | None
    inputs: tuple[str, ...]


@dataclass
class _Bulk:
    """A sheet whose rows are made by ``sheetxml`` and spliced into XlsxWriter's part."""

    frame: pl.DataFrame
    kinds: list[sheetxml.Kind]
    styles: dict[str, str] = field(default_factory=dict)
    links: list[tuple[str, str, str]] = field(default_factory=list)  # (cell, target, location)


def write(
    company: Company, target: Path, run: RunInfo, *, unmasked: bool = False, row_limit: int = EXCEL_ROWS
) -> None:
    """Write the company workbook to ``target`` (a temporary path the caller renames)."""
    stage = target.with_name(f".{target.name}.stage")
    try:
        book = xlsxwriter.Workbook(
            str(stage), {"constant_memory": True, "strings_to_formulas": False, "strings_to_urls": False}
        )
        styles = _Styles(book)
        customers = _customer_table(company, unmasked)
        pieces = _chunks(customers.height, row_limit - 1)
        names = [CUSTOMERS if i == 0 else f"{CUSTOMERS}({i + 1})" for i in range(len(pieces))]
        _manifest(book, styles, company, run, names)
        _departments(book, styles, company)
        bulk = _findings(book, styles, company.findings, run.output.parent, row_limit)
        _cross(book, styles, company)
        for name, (start, stop) in zip(names, pieces, strict=True):
            sheet = book.add_worksheet(name)
            frame = customers.slice(start, stop - start)
            _header(sheet, styles, [str(c) for c in frame.columns], _widths(frame))
            sheet.autofilter(0, 0, max(frame.height, 1), frame.width - 1)
            bulk[len(book.worksheets()) - 1] = _Bulk(frame, _kinds(frame))
        book.close()
        date_style = styles.date_left.xf_index  # used by 清单's 生成日期, so it has an index
        link_style = styles.link.xf_index  # used in 问题明细's header row
        with (
            zipfile.ZipFile(stage) as source,
            zipfile.ZipFile(target, "w", compresslevel=1, allowZip64=True) as out,
        ):
            replaced: dict[str, Iterable[bytes]] = {}
            added: dict[str, bytes] = {}
            for index, part in bulk.items():
                name = f"xl/worksheets/sheet{index + 1}.xml"
                frame = part.frame
                if part.styles:
                    frame = frame.with_columns(
                        pl.col(c).replace_strict({True: link_style}, default=None)
                        for c in part.styles.values()
                    )
                rows = sheetxml.rows_xml(frame, part.kinds, 2, date_style, styles=part.styles)
                width = frame.width - len(part.styles)
                links = b""
                if part.links:
                    links, added[f"xl/worksheets/_rels/sheet{index + 1}.xml.rels"] = sheetxml.hyperlinks(
                        part.links
                    )
                replaced[name] = sheetxml.splice(source.read(name), rows, frame.height + 1, width - 1, links)
            sheetxml.copy_with(source, out, replaced, added)
    finally:
        stage.unlink(missing_ok=True)


def _chunks(rows: int, per_sheet: int) -> list[tuple[int, int]]:
    """(start, stop) of each sheet's rows; one (empty) sheet when there are none."""
    return [(start, min(start + per_sheet, rows)) for start in range(0, rows, per_sheet)] or [(0, 0)]


class _Styles:
    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self.title = book.add_format({"bold": True, "font_size": 14})
        self.bold = book.add_format({"bold": True})
        self.header = book.add_format(
            {"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "valign": "top"}
        )
        self.date = book.add_format({"num_format": "yyyy-mm-dd"})
        self.time = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        self.percent = book.add_format({"num_format": "0.0%"})
        self.money = book.add_format({"num_format": "#,##0.00"})
        self.integer = book.add_format({"num_format": "#,##0"})
        self.link = book.add_format({"font_color": "#0563C1", "underline": 1})
        self.wrap = book.add_format({"text_wrap": True, "valign": "top"})
        self.red = book.add_format({"bg_color": "#FFC7CE", "font_color": "#9C0006"})
        self.yellow = book.add_format({"bg_color": "#FFEB9C", "font_color": "#9C5700"})
        self.grey = book.add_format({"font_color": "#7F7F7F"})
        self.left = book.add_format({"align": "left"})
        self.date_left = book.add_format({"num_format": "yyyy-mm-dd", "align": "left"})
        self.time_left = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss", "align": "left"})


def _put(sheet: Any, row: int, col: int, value: Any, styles: _Styles, fmt: Any = None) -> None:
    """One cell, by type; text always as text."""
    if value is None or (isinstance(value, float) and value != value):
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


def _page(sheet: Any, *, fit: bool = True) -> None:
    """A4 landscape, one page wide (printing and PDF)."""
    sheet.set_paper(9)
    sheet.set_landscape()
    if fit:
        sheet.fit_to_pages(1, 0)


def _header(
    sheet: Any, styles: _Styles, headers: Sequence[str], widths: Sequence[float], row: int = 0
) -> None:
    _page(sheet, fit=len(headers) <= 40)
    sheet.repeat_rows(row)
    sheet.set_row(row, 30)
    for col, (text, width) in enumerate(zip(headers, widths, strict=True)):
        sheet.set_column(col, col, width)
        sheet.write_string(row, col, text, styles.header)
    sheet.freeze_panes(row + 1, 0)


def _manifest(book: Any, styles: _Styles, company: Company, run: RunInfo, customer_sheets: list[str]) -> None:
    """清单: who ran it, when, with which options; the reconciliation; every file found."""
    sheet = book.add_worksheet(MANIFEST)
    _page(sheet)
    sheet.write_string(0, 0, f"公司汇总 {company.month}", styles.title)
    counts = {s: company.count(s) for s in (CHECKED, UNUSABLE, SKIPPED)}
    reconcile = (
        f"找到 {len(company.outcomes)} 个文件 = 已检查 {counts[CHECKED]} + 无法使用 {counts[UNUSABLE]} "
        f"+ 已跳过 {counts[SKIPPED]}"
    )
    facts: list[tuple[str, Any]] = [
        ("月份", company.month),
        ("运行人", run.user),
        ("主机", run.host),
        ("开始时间", run.started_at),
        ("完成时间", run.finished_at),
        ("生成日期", run.finished_at.date()),
        ("xlcrm 版本", run.version),
        ("基准日期", run.as_of or "各提交的 参数!基准日期，否则运行当天"),
        (
            "选项",
            "；".join(
                f"{k}={v}" for k, v in run.options.items() if v is not None and v != "" and v is not False
            ),
        ),
        ("执行方式", run.executor),
        ("输入", "、".join(run.inputs)),
        ("输出", str(run.output)),
        ("历史库", str(run.history) if run.history else "未使用（--no-history）"),
        ("对比月份（D106）", company.previous[0] if company.previous else "无（历史库中没有更早的月份）"),
        ("文件核对", reconcile),
    ]
    rows = company.rows_read()
    tables = {key: company.tables[key].height for key in rows}
    for key in ("archive", "evaluation", "credit", "blacklist"):
        target = CUSTOMERS if key == "archive" else "汇总"
        facts.append((f"{FORM_ZH[key]}行数核对", f"读入 {rows[key]} 行 = {target} {tables[key]} 行"))
    if len(customer_sheets) > 1:
        facts.append(
            (
                "公司客户续表",
                f"超过 Excel 每表 {EXCEL_ROWS:,} 行的上限，续在：" + "、".join(customer_sheets[1:]),
            )
        )
    for offset, (label, value) in enumerate(facts, start=2):
        sheet.write_string(offset, 0, label, styles.bold)
        fmt = {dt.datetime: styles.time_left, dt.date: styles.date_left}.get(type(value), styles.left)
        _put(
            sheet, offset, 1, value, styles, fmt
        )  # 生成日期 gives date_left (the bulk rows' style) its index
    first = len(facts) + 3
    widths = (16, 44, 9, 60, 12, 12, 18, 12, 30, 10, 10, 10, 10, 7, 7, 8, 16)
    for col, (text, width) in enumerate(zip(MANIFEST_HEADERS, widths, strict=True)):
        sheet.set_column(col, col, width)
        sheet.write_string(first, col, text, styles.header)
    found = {f.position: f for f in company.found}
    for index, outcome in enumerate(company.outcomes):
        where = found[outcome.position]
        row = first + 1 + index
        status_style = {UNUSABLE: styles.red, SKIPPED: styles.grey}.get(outcome.status)
        values: list[Any] = [
            index + 1,
            outcome.file,
            STATUS_ZH[outcome.status],
            outcome.reason.message("zh") if outcome.reason else None,
            outcome.department,
            DEPARTMENT_SOURCES[outcome.department_source].zh if outcome.department_source else None,
            where.sha256,
            where.size,
            "、".join(outcome.sheets) or None,
            *(
                outcome.rows.get(k) if outcome.status == CHECKED else None
                for k in ("archive", "evaluation", "credit", "blacklist")
            ),
            outcome.errors if outcome.status == CHECKED else None,
            outcome.warnings if outcome.status == CHECKED else None,
            outcome.seconds or None,
            outcome.worker or None,
        ]
        for col, value in enumerate(values):
            _put(sheet, row, col, value, styles, status_style if col == 2 else None)
    sheet.autofilter(first, 0, first + len(company.outcomes), len(MANIFEST_HEADERS) - 1)
    sheet.freeze_panes(first + 1, 2)


def _departments(book: Any, styles: _Styles, company: Company) -> None:
    """部门汇总: one row per submission, shares against the caps, findings by family, credit."""
    sheet = book.add_worksheet(DEPARTMENTS)
    frame = company.departments
    families = sorted(
        {key for row in frame.iter_rows(named=True) for key in (row.get("by_family") or {})}
        if not frame.is_empty()
        else set(),
        key=lambda k: (list(FAMILIES).index(k[0]) if k[0] in FAMILIES else 99, k),
    )
    vip_cap = frame["vip_cap"][0] if not frame.is_empty() else None
    preferred_cap = frame["preferred_cap"][0] if not frame.is_empty() else None
    columns: list[tuple[str, Callable[[dict[str, Any]], Any], Any, float]] = [
        ("部门", lambda r: r["department"], None, 14),
        ("部门依据", lambda r: DEPARTMENT_SOURCES[r["department_source"]].zh, None, 10),
        ("文件", lambda r: r["file"], None, 36),
        ("基准日期", lambda r: r["as_of"], styles.date, 11),
        ("客户数", lambda r: r["customers"], styles.integer, 8),
        ("已准入", lambda r: r["admitted"], styles.integer, 8),
        ("VIP客户(申报)", lambda r: r["vip"], styles.integer, 9),
        (f"VIP占比(上限{_pct(vip_cap)})", lambda r: r["vip_share"], styles.percent, 10),
        ("优选类客户(申报)", lambda r: r["preferred"], styles.integer, 10),
        (f"优选占比(上限{_pct(preferred_cap)})", lambda r: r["preferred_share"], styles.percent, 10),
        ("VIP客户(系统)", lambda r: r["vip_computed"], styles.integer, 9),
        ("优选类客户(系统)", lambda r: r["preferred_computed"], styles.integer, 10),
        ("错误", lambda r: r["errors"], styles.integer, 7),
        ("警告", lambda r: r["warnings"], styles.integer, 7),
    ]
    for key in families:
        family, severity = key.split("_")
        label = f"{family} {FAMILIES.get(family, '')}{SEVERITY_ZH[severity]}"
        columns.append((label, _family_count(key), styles.integer, 9))
    columns += [
        ("信用评定行数", lambda r: r["credit_rows"], styles.integer, 9),
        ("信用额度合计(元)", lambda r: r["limit_total"], styles.money, 16),
        ("当前占用额合计(元)", lambda r: r["exposure_total"], styles.money, 16),
        ("使用率", lambda r: r["utilisation"], styles.percent, 8),
    ]
    _header(sheet, styles, [c[0] for c in columns], [c[3] for c in columns])
    rows = list(frame.iter_rows(named=True)) if not frame.is_empty() else []
    for r, row in enumerate(rows, start=1):
        for col, (_, get, fmt, _) in enumerate(columns):
            _put(sheet, r, col, get(row), styles, fmt)
    total = len(rows) + 1
    if rows:
        sheet.write_string(total, 0, "合计", styles.bold)
        for col, (_, get, fmt, _) in enumerate(columns):
            if fmt in (styles.integer, styles.money) and col >= 4:
                _put(sheet, total, col, sum(get(r) or 0 for r in rows), styles, fmt)
        shares = [c for c, (label, *_) in enumerate(columns) if "占比" in label]
        for col, cap in zip(shares, (vip_cap, preferred_cap), strict=True):
            sheet.conditional_format(
                1, col, len(rows), col, {"type": "cell", "criteria": ">", "value": cap, "format": styles.red}
            )
    sheet.autofilter(0, 0, max(len(rows), 1), len(columns) - 1)


def _family_count(key: str) -> Callable[[dict[str, Any]], Any]:
    return lambda row: (row.get("by_family") or {}).get(key, 0)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _finding_row(finding: Finding) -> list[Any]:
    d = finding.diagnostic
    return [
        finding.department,
        d.file,
        d.sheet,
        d.cell,
        d.code,
        SEVERITY_ZH[d.severity],
        d.customer_code,
        d.message("zh"),
        "是" if d.waived else None,
        ORIGIN_ZH[finding.origin],
    ]


def _links(findings: Sequence[Finding], folder: Path) -> dict[str, tuple[str, bool] | None]:
    """Each file's path from the workbook's folder (and whether relative), where it is there to open."""
    paths: dict[str, tuple[str, bool] | None] = {}
    for finding in findings:
        file = finding.diagnostic.file
        if file is None or file in paths:
            continue
        target = Path(file)
        if not target.is_file():
            paths[file] = None
            continue
        try:
            paths[file] = (os.path.relpath(target.resolve(), folder.resolve()), True)
        except ValueError:  # another drive (Windows): an absolute link
            paths[file] = (str(target.resolve()), False)
    return paths


def _findings(
    book: Any, styles: _Styles, findings: list[Finding], folder: Path, row_limit: int
) -> dict[int, _Bulk]:
    """问题明细: every finding of every department, filterable, cells linked where reachable.

    XlsxWriter writes each sheet's header, widths, filter and the red for 错误; the rows and the
    links are made in bulk (a month has tens of thousands of findings).
    """
    paths = _links(findings, folder)
    frame = pl.DataFrame(
        [_finding_row(f) for f in findings], schema=dict.fromkeys(FINDING_HEADERS, pl.Utf8), orient="row"
    )
    widths = (12, 30, 10, 7, 6, 5, 10, 90, 6, 9)
    bulk: dict[int, _Bulk] = {}
    for index, (start, stop) in enumerate(_chunks(len(findings), row_limit - 1)):
        sheet = book.add_worksheet(FINDINGS if index == 0 else f"{FINDINGS}({index + 1})")
        _header(sheet, styles, FINDING_HEADERS, widths)
        sheet.write_blank(0, len(FINDING_HEADERS), None, styles.link)  # gives the link style its index
        sheet.autofilter(0, 0, max(stop - start, 1), len(FINDING_HEADERS) - 1)
        sheet.conditional_format(
            1,
            5,
            max(stop - start, 1),
            5,
            {"type": "cell", "criteria": "==", "value": '"错误"', "format": styles.red},
        )
        links: list[tuple[str, str, str]] = []
        linked: list[bool] = []
        for row, finding in enumerate(findings[start:stop], start=2):
            d = finding.diagnostic
            where = paths.get(d.file or "")
            if where is None or not d.sheet or not d.cell or len(links) >= MAX_LINKS:
                linked.append(False)
                continue
            cell = d.cell if d.cell[-1].isdigit() else f"{d.cell}1"
            sheet_name = d.sheet.replace("'", "''")
            links.append((f"D{row}", sheetxml.external_target(where[0], where[1]), f"'{sheet_name}'!{cell}"))
            linked.append(True)
        part = frame.slice(start, stop - start).with_columns(pl.Series("__link", linked, dtype=pl.Boolean))
        bulk[len(book.worksheets()) - 1] = _Bulk(
            part, ["text"] * (len(FINDING_HEADERS) + 1), {"单元格": "__link"}, links
        )
    return bulk


def _cross(book: Any, styles: _Styles, company: Company) -> None:
    """跨部门: the D1xx findings and the company-blacklist hits; major losses for 营销事业部; the list."""
    sheet = book.add_worksheet(CROSS)
    _page(sheet)
    for col, width in enumerate((12, 30, 10, 8, 8, 14, 12, 70, 10, 12)):  # fits all three tables
        sheet.set_column(col, col, width)
    row = 0
    cross = [f for f in company.findings if f.origin != "check"]
    sheet.write_string(row, 0, f"跨部门问题与公司黑名单命中（{len(cross)} 条）", styles.title)
    row += 1
    for col, text in enumerate(FINDING_HEADERS):
        sheet.write_string(row, col, text, styles.header)
    for finding in cross:
        row += 1
        for col, value in enumerate(_finding_row(finding)):
            _put(sheet, row, col, value, styles, styles.wrap if col == 7 else None)
    losses = company.major_losses
    row += 2
    sheet.write_string(
        row,
        0,
        f"造成重大损失但未列入公司黑名单的客户（报营销事业部，000 §3.3；{losses.height} 位）",
        styles.title,
    )
    row += 1
    for col, text in enumerate(LOSS_HEADERS):
        sheet.write_string(row, col, text, styles.header)
    for values in losses.iter_rows():
        row += 1
        for col, value in enumerate(values):
            _put(sheet, row, col, value, styles)
    entries = company.tables["blacklist"].filter(pl.col("scope") == "公司")
    row += 2
    sheet.write_string(
        row,
        0,
        f"各部门上报的公司黑名单（范围 = 公司，{entries.height} 条，已用于每个部门）",
        styles.title,
    )
    row += 1
    for col, text in enumerate(BLACKLIST_HEADERS):
        sheet.write_string(row, col, text, styles.header)
    for values in entries.select(
        DEPT, FILE, SHEET, ROW, "customer_code", "name", "uscc", "listed_on", "reason", "approved_by"
    ).iter_rows():
        row += 1
        for col, value in enumerate(values):
            _put(sheet, row, col, value, styles)


def mask_contacts(frame: pl.DataFrame) -> pl.DataFrame:
    """Mobile numbers as 138****5678 and e-mail local parts as w***@… (POLICY §7)."""
    phone = pl.col("phone")
    mobile = phone.str.contains(r"^1\d{10}$").fill_null(False)
    email = pl.col("email")
    return frame.with_columns(
        pl.when(mobile)
        .then(pl.concat_str(phone.str.slice(0, 3), pl.lit("****"), phone.str.slice(7, 4)))
        .otherwise(phone)
        .alias("phone"),
        pl.when(email.str.contains("@"))
        .then(pl.concat_str(email.str.slice(0, 1), pl.lit("***@"), email.str.split("@").list.last()))
        .otherwise(email)
        .alias("email"),
    )


def _customer_table(company: Company, unmasked: bool) -> pl.DataFrame:
    """公司客户: the merged archive with its department, file, place and computed facts, by header."""
    archive = company.tables["archive"]
    if not unmasked:
        archive = mask_contacts(archive)
    declared = [(c.key, c.zh) for c in forms()["archive"].columns]
    columns = [*CUSTOMER_LEAD, *declared, *CUSTOMER_TAIL]
    exprs = []
    for key, header in columns:
        expr = pl.col(key)
        dtype = archive.schema[key]
        if dtype == pl.Boolean:
            expr = pl.when(expr).then(pl.lit("是")).when(~expr).then(pl.lit("否"))
        elif isinstance(dtype, pl.List):
            expr = expr.list.join("、")
            expr = pl.when(expr != "").then(expr)
        exprs.append(expr.alias(header))
    return archive.select(exprs)


def _kinds(frame: pl.DataFrame) -> list[sheetxml.Kind]:
    kinds: list[sheetxml.Kind] = []
    for dtype in frame.dtypes:
        if dtype == pl.Date:
            kinds.append("date")
        elif dtype.is_numeric():
            kinds.append("number")
        else:
            kinds.append("text")
    return kinds


def _widths(frame: pl.DataFrame) -> list[float]:
    widths = []
    for name, dtype in frame.schema.items():
        if dtype == pl.Date:
            widths.append(11.0)
        elif dtype.is_numeric():
            widths.append(max(8.0, len(name) * 1.8))
        else:
            widths.append(max(8.0, min(36.0, len(name) * 2.0 + 2)))
    return widths
