"""The company workbook of a month: 总览, 清单, 部门汇总, the report sheets, 问题明细, 跨部门, 公司客户.

The report sheets (授信执行, 大客户分析, 变化, 趋势) are written by ``sheets``, 部门汇总 and its
charts by ``dashboard``, from the month's ``Report``.

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
import shutil
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import polars as pl
import xlsxwriter

from xlcrm.batch import dashboard, sheets, sheetxml
from xlcrm.batch.company import Company
from xlcrm.batch.cross import DEPT, FILE, Finding
from xlcrm.batch.discover import CHECKED, COMPANY_SHEETS, SKIPPED, UNUSABLE
from xlcrm.batch.mask import mask_columns, mask_text
from xlcrm.batch.past import Past
from xlcrm.batch.report import Report, build
from xlcrm.batch.worker import DEPARTMENT_SOURCES, ROW, SHEET, SHIPPED
from xlcrm.batch.xlsx import Bulk, Styles, header, kinds, page, put
from xlcrm.forms import forms
from xlcrm.interrupts import held
from xlcrm.registry import rules

EXCEL_ROWS = 1_048_576
MAX_LINKS = 65_530  # Excel's limit of hyperlinks per worksheet
Links = dict[str, tuple[str, bool] | None]  # a file → its link target (relative?), None: not there to open
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


def write(
    company: Company,
    target: Path | BinaryIO,
    run: RunInfo,
    *,
    unmasked: bool = False,
    row_limit: int = EXCEL_ROWS,
    report: Report | None = None,
    outputs: Sequence[tuple[str, str, bool]] = (),
    stage: Path | None = None,
    paths: Links | None = None,
) -> None:
    """Write the company workbook to ``target`` (a temporary path the caller renames, or memory).

    ``report``: the month's report sections (built here without a history when not given);
    ``outputs``: what the run writes, (kind, path, protected), for 清单; ``stage``: where
    XlsxWriter writes the package before the bulk rows go in (beside ``target`` by default;
    required when ``target`` is in memory — a workbook to encrypt never lies whole on disk);
    ``paths``: ``links()`` of the month's files from ``run.output``'s folder (found here if not given).
    """
    if report is None:
        report = _report(company, masked=not unmasked)
    if stage is None:
        assert isinstance(target, Path), "a stage path is needed for a workbook written to memory"
        stage = target.with_name(f".{target.name}.stage")
    # XlsxWriter's own temporary files (each sheet's rows, then each part) go to a private
    # folder beside the stage, removed whatever happens: never left in the system's temp folder.
    scratch = ""
    try:
        with held():  # made and remembered together: the finally below removes it
            scratch = tempfile.mkdtemp(prefix=".xlcrm-", dir=stage.parent)
        book = xlsxwriter.Workbook(
            str(stage),
            {
                "constant_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "tmpdir": scratch,
            },
        )
        styles = Styles(book)
        customers = customer_table(company, unmasked)
        pieces = _chunks(customers.height, row_limit - 1)
        names = [CUSTOMERS if i == 0 else f"{CUSTOMERS}({i + 1})" for i in range(len(pieces))]
        data = dashboard.ChartData()
        sheets.overview(book, styles, report)
        _manifest(book, styles, company, run, names, outputs, masked=not unmasked)
        dashboard.write(book, styles, report, data)
        index, execution_rows = sheets.credit_execution(book, styles, report)
        sheets.key_accounts(book, styles, report)
        sheets.changes(book, styles, report)
        sheets.trends(book, styles, report)
        bulk = _findings(
            book, styles, company.findings, run.output.parent, row_limit, masked=not unmasked, paths=paths
        )
        bulk[index] = execution_rows
        _cross(book, styles, company, masked=not unmasked)
        for name, (start, stop) in zip(names, pieces, strict=True):
            sheet = book.add_worksheet(name)
            frame = customers.slice(start, stop - start)
            header(sheet, styles, [str(c) for c in frame.columns], _widths(frame))
            sheet.autofilter(0, 0, max(frame.height, 1), frame.width - 1)
            # its decimals are amounts (年业务量, 信用额度, 当前占用额): with thousands separators
            amounts = {c: styles.money for c, dtype in frame.schema.items() if dtype == pl.Float64}
            bulk[len(book.worksheets()) - 1] = Bulk(frame, kinds(frame), numbers=amounts)
        data.write(book, styles)
        book.close()
        date_style = styles.date_left.xf_index  # used by 清单's 生成日期, so it has an index
        link_style = styles.link.xf_index  # used in 问题明细's header row
        with (
            zipfile.ZipFile(stage) as source,
            zipfile.ZipFile(target, "w", compresslevel=1, allowZip64=True) as out,
        ):
            replaced: dict[str, Iterable[bytes]] = {}
            added: dict[str, bytes] = {}
            strings = sheetxml.SharedStrings()
            for index, part in bulk.items():
                name = f"xl/worksheets/sheet{index + 1}.xml"
                frame, part_kinds = strings.share(
                    part.frame, part.kinds, keep=[*part.styles, *part.styles.values()]
                )
                if part.styles:
                    frame = frame.with_columns(
                        pl.col(c).replace_strict({True: link_style}, default=None)
                        for c in part.styles.values()
                    )
                numbers = {column: fmt.xf_index for column, fmt in part.numbers.items()}
                rows = sheetxml.rows_xml(
                    frame, part_kinds, 2, date_style, styles=part.styles, number_styles=numbers
                )
                width = frame.width - len(part.styles)
                links = b""
                if part.links is not None:
                    links, relationships = sheetxml.hyperlinks(part.links)
                    if relationships:
                        added[f"xl/worksheets/_rels/sheet{index + 1}.xml.rels"] = relationships
                replaced[name] = sheetxml.splice(source.read(name), rows, frame.height + 1, width - 1, links)
            if strings.index:  # XlsxWriter writes inline strings (constant_memory): the table is ours alone
                added[strings.PART] = strings.xml()
                types, rels = "[Content_Types].xml", "xl/_rels/workbook.xml.rels"
                registered = strings.register(source.read(types), source.read(rels))
                replaced[types], replaced[rels] = [registered[0]], [registered[1]]
            sheetxml.copy_with(source, out, replaced, added)
    finally:
        with held():  # a Ctrl-C while they are removed comes after: never a scratch folder left
            stage.unlink(missing_ok=True)
            if scratch:
                shutil.rmtree(scratch, ignore_errors=True)


def _report(company: Company, *, masked: bool) -> Report:
    """The report sections without a history (a workbook written on its own)."""
    policy = company.departments
    caps = (
        (float(policy["vip_cap"][0]), float(policy["preferred_cap"][0]))
        if not policy.is_empty()
        else (0.15, 0.30)
    )
    return build(company, Past(), vip_cap=caps[0], preferred_cap=caps[1], masked=masked)


def _chunks(rows: int, per_sheet: int) -> list[tuple[int, int]]:
    """(start, stop) of each sheet's rows; one (empty) sheet when there are none."""
    return [(start, min(start + per_sheet, rows)) for start in range(0, rows, per_sheet)] or [(0, 0)]


def _manifest(
    book: Any,
    styles: Styles,
    company: Company,
    run: RunInfo,
    customer_sheets: list[str],
    outputs: Sequence[tuple[str, str, bool]],
    *,
    masked: bool = True,
) -> None:
    """清单: who ran it, when, with which options, what it wrote; the reconciliation; every file found."""
    sheet = book.add_worksheet(MANIFEST)
    page(sheet, width=300)  # 17 columns: across two pages, readable
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
        *(
            (f"输出：{kind}", f"{path}（{'设有打开密码' if protected else '未加密'}）")
            for kind, path, protected in outputs
        ),
        ("历史库", str(run.history) if run.history else "未使用（--no-history）"),
        ("对比月份（D106）", company.previous[0] if company.previous else "无（历史库中没有更早的月份）"),
        ("文件核对", reconcile),
    ]
    rows = company.rows_read()
    tables = {key: company.tables[key].height for key in rows}
    for key in ("archive", "evaluation", "credit", "blacklist"):
        target = CUSTOMERS if key == "archive" else "汇总"
        facts.append((f"{FORM_ZH[key]}行数核对", f"读入 {rows[key]} 行 = {target} {tables[key]} 行"))
    if checked_only := company.rows_checked_only():
        facts.append(
            (
                "只检查的表单",
                "、".join(f"{forms()[k].zh} {n} 行" for k, n in checked_only.items())
                + "（问题见问题明细，不进公司表）",
            )
        )
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
        put(sheet, offset, 1, value, styles, fmt)  # 生成日期 gives date_left (the bulk rows' style) its index
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
            outcome.reason.message("zh", masked=masked) if outcome.reason else None,
            outcome.department,
            DEPARTMENT_SOURCES[outcome.department_source].zh if outcome.department_source else None,
            where.sha256,
            where.size,
            "、".join(outcome.sheets) or None,
            *(
                outcome.rows.get(k) if outcome.status == CHECKED else None
                for k in ("archive", "evaluation", "credit", "blacklist")
            ),
            *company.counts_of(outcome),
            outcome.seconds or None,
            outcome.worker or None,
        ]
        for col, value in enumerate(values):
            put(sheet, row, col, value, styles, status_style if col == 2 else None)
    sheet.autofilter(first, 0, first + len(company.outcomes), len(MANIFEST_HEADERS) - 1)
    sheet.freeze_panes(first + 1, 2)


def _finding_frame(findings: list[Finding], masked: bool = True) -> pl.DataFrame:
    """问题明细's rows, made column by column (a month has tens of thousands of findings).

    Messages are masked once each: a month repeats a few thousand messages.
    """
    diagnostics = [f.diagnostic for f in findings]
    messages = [d.message("zh") for d in diagnostics]
    if masked:
        memo: dict[str, str] = {}
        messages = [memo[m] if m in memo else memo.setdefault(m, mask_text(m)) for m in messages]
    declared = rules()
    columns = [
        [f.department for f in findings],
        [d.file for d in diagnostics],
        [d.sheet for d in diagnostics],
        [d.cell for d in diagnostics],
        [d.code for d in diagnostics],
        [SEVERITY_ZH[declared[d.code].severity] for d in diagnostics],
        [d.customer_code for d in diagnostics],
        messages,
        ["是" if d.waived else None for d in diagnostics],
        [ORIGIN_ZH[f.origin] for f in findings],
    ]
    return pl.DataFrame(  # a value that is not text (none known) shown as text, as cells are
        dict(zip(FINDING_HEADERS, columns, strict=True)),
        schema=dict.fromkeys(FINDING_HEADERS, pl.Utf8),
        strict=False,
    )


def links(files: Iterable[str], folder: Path) -> Links:
    """Each file's path from the workbook's folder (and whether relative), where it is there to open.

    A consolidation finds these before the history's thread starts: the file-system calls here
    would each wait for that thread's turn with the GIL (0.35 s instead of 0.01 s for 200 files).
    """
    paths: Links = {}
    base = folder.resolve()
    for file in files:
        target = Path(file)
        if not target.is_file():
            paths[file] = None
            continue
        resolved = target.resolve()
        try:
            paths[file] = (os.path.relpath(resolved, base), True)
        except ValueError:  # another drive (Windows): an absolute link
            paths[file] = (str(resolved), False)
    return paths


def _findings(
    book: Any,
    styles: Styles,
    findings: list[Finding],
    folder: Path,
    row_limit: int,
    *,
    masked: bool,
    paths: Links | None = None,
) -> dict[int, Bulk]:
    """问题明细: every finding of every department, filterable, cells linked where reachable.

    ``paths``: ``links()`` of the findings' files, when the caller found them already.

    XlsxWriter writes each sheet's header, widths, filter and the red for 错误; the rows and the
    links are made in bulk (a month has tens of thousands of findings).
    """
    frame = _finding_frame(findings, masked)
    if paths is None:
        paths = links(frame["文件"].drop_nulls().unique().to_list(), folder)
    targets = {file: sheetxml.external_target(*where) for file, where in paths.items() if where is not None}
    # a finding is linked where its file is there to open and it names a sheet and a cell,
    # up to Excel's limit of links per sheet (counted per sheet: `linked` is made per chunk)
    target = (
        pl.col("文件").replace_strict(targets, default=None, return_dtype=pl.Utf8)
        if targets
        else pl.lit(None, dtype=pl.Utf8)
    )
    linkable = (target.is_not_null() & (pl.col("工作表") != "") & (pl.col("单元格") != "")).fill_null(False)
    linked = linkable & (linkable.cast(pl.Int64).cum_sum() <= MAX_LINKS)
    cell = pl.col("单元格")
    location = pl.concat_str(
        pl.lit("'"),
        pl.col("工作表").str.replace_all("'", "''", literal=True),
        pl.lit("'!"),
        pl.when(cell.str.contains("[0-9]$")).then(cell).otherwise(pl.concat_str(cell, pl.lit("1"))),
    )
    widths = (12, max(30.0, *_widths(frame.select("文件"))), 10, 7, 6, 5, 10, 90, 6, 9)  # 文件: its paths
    bulk: dict[int, Bulk] = {}
    for index, (start, stop) in enumerate(_chunks(len(findings), row_limit - 1)):
        sheet = book.add_worksheet(FINDINGS if index == 0 else f"{FINDINGS}({index + 1})")
        header(sheet, styles, FINDING_HEADERS, widths)
        sheet.write_blank(0, len(FINDING_HEADERS), None, styles.link)  # gives the link style its index
        sheet.autofilter(0, 0, max(stop - start, 1), len(FINDING_HEADERS) - 1)
        sheet.conditional_format(
            1,
            5,
            max(stop - start, 1),
            5,
            {"type": "cell", "criteria": "==", "value": '"错误"', "format": styles.red},
        )
        part = frame.slice(start, stop - start).with_columns(linked.alias("__link"))
        cells = (
            part.with_row_index("__row", offset=2)
            .filter("__link")
            .select(
                pl.concat_str(pl.lit("D"), pl.col("__row")).alias("cell"),
                target.alias("target"),
                location.alias("location"),
            )
        )
        bulk[len(book.worksheets()) - 1] = Bulk(
            part, ["text"] * (len(FINDING_HEADERS) + 1), {"单元格": "__link"}, cells
        )
    return bulk


def _cross(book: Any, styles: Styles, company: Company, *, masked: bool) -> None:
    """跨部门: the D1xx findings and the company-blacklist hits; major losses for 营销事业部; the list."""
    sheet = book.add_worksheet(CROSS)
    page(sheet)
    for col, width in enumerate((12, 30, 10, 8, 8, 14, 12, 70, 10, 12)):  # fits all three tables
        sheet.set_column(col, col, width)
    row = -2

    def table(
        title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]], wrap: int | None = None
    ) -> None:
        """A titled table two rows below the previous one."""
        nonlocal row
        row += 2
        sheet.write_string(row, 0, title, styles.title)
        row += 1
        for col, text in enumerate(headers):
            sheet.write_string(row, col, text, styles.header)
        for values in rows:
            row += 1
            for col, value in enumerate(values):
                put(sheet, row, col, value, styles, styles.wrap if col == wrap else None)

    cross = [f for f in company.findings if f.origin != "check"]
    table(
        f"跨部门问题与公司黑名单命中（{len(cross)} 条）",
        FINDING_HEADERS,
        _finding_frame(cross, masked).iter_rows(),
        wrap=7,
    )
    losses = company.major_losses
    if masked:
        losses = mask_columns(losses, ["name"])
    table(
        f"造成重大损失但未列入公司黑名单的客户（报营销事业部，000 §3.3；{losses.height} 位）",
        LOSS_HEADERS,
        losses.iter_rows(),
    )
    entries = company.tables["blacklist"].filter(pl.col("scope") == "公司")
    listed = entries.select(
        DEPT, FILE, SHEET, ROW, "customer_code", "name", "uscc", "listed_on", "reason", "approved_by"
    )
    if masked:
        listed = mask_columns(listed, ["name", "reason", "approved_by"])
    table(
        f"各部门上报的公司黑名单（范围 = 公司，{entries.height} 条，已用于每个部门）",
        BLACKLIST_HEADERS,
        listed.iter_rows(),
    )


def customer_table(company: Company, unmasked: bool) -> pl.DataFrame:
    """公司客户: the merged archive with its department, file, place and computed facts, by header."""
    archive = company.tables["archive"]
    if not unmasked:
        archive = company.masked("archive")
    declared = [(c.key, c.zh) for c in forms()["archive"].columns]
    columns = [*CUSTOMER_LEAD, *declared, *CUSTOMER_TAIL]
    exprs = []
    for key, title in columns:
        expr = pl.col(key)
        dtype = archive.schema[key]
        if dtype == pl.Boolean:
            expr = pl.when(expr).then(pl.lit("是")).when(~expr).then(pl.lit("否"))
        elif isinstance(dtype, pl.List):
            expr = expr.list.join("、")
            expr = pl.when(expr != "").then(expr)
        exprs.append(expr.alias(title))
    return archive.select(exprs)


def _widths(frame: pl.DataFrame, sample: int = 5_000) -> list[float]:
    """Column widths from the header and the values (the widest of most of the first rows' values).

    A Chinese character takes two units, others one (at most 70 in all); an amount is shown with thousands separators.
    """
    head = frame.head(sample)
    widths = []
    for name, dtype in frame.schema.items():
        title = len(name) * 2.0 + 2
        if dtype == pl.Date:
            widths.append(11.0)
        elif dtype == pl.Float64:  # an amount: 1,234,567.89
            largest = head[name].abs().max()
            digits = len(f"{largest:,.2f}") if isinstance(largest, float) and largest == largest else 4
            widths.append(min(24.0, max(10.0, title * 0.9, digits + 3.0)))
        elif dtype.is_numeric():
            widths.append(max(8.0, len(name) * 1.8))
        else:
            text = head[name].cast(pl.Utf8).drop_nulls()
            # UTF-8: an ASCII character is one byte, a Chinese one three: one unit, or two
            shown = (text.str.len_chars() + (text.str.len_bytes() - text.str.len_chars()) // 2).quantile(0.9)
            widths.append(max(8.0, min(70.0, max(title, (shown or 0) + 2.0))))
    return widths
