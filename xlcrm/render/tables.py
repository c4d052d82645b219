"""The HTML report's tables, section by section, from the month's ``Report``.

Each cell carries its text, the value it sorts by and whether it is a number; long lists
stop at ``LIMIT`` rows and say where the rest is (the company workbook).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

from xlcrm.batch import execution, figures
from xlcrm.batch.cross import DEPT
from xlcrm.batch.report import FAMILY_NAMES, Report
from xlcrm.batch.trends import MIN_MONTHS, families_of
from xlcrm.registry import Lang
from xlcrm.rules.common import percent

LIMIT = 200  # rows of a long list shown in the page


@dataclass(frozen=True)
class Cell:
    """A table cell: its text, the value it sorts by, and whether it is a number (right-aligned)."""

    text: str
    sort: Any = None
    number: bool = False
    css: str = ""


@dataclass
class Table:
    """A table of the page."""

    title: str
    headers: list[str]
    rows: list[list[Cell]]
    note: str = ""
    total: list[Cell] | None = None
    numbers: list[bool] = field(default_factory=list)


def _num(value: Any, digits: int = 0) -> Cell:
    if value is None or (isinstance(value, float) and value != value):
        return Cell("—", None, True)
    return Cell(f"{value:,.{digits}f}", float(value), True)


def _pct(value: Any) -> Cell:
    if value is None or (isinstance(value, float) and value != value):
        return Cell("—", None, True)
    return Cell(f"{value:.1%}", float(value), True)


def _text(value: Any) -> Cell:
    return Cell("" if value is None else str(value), None if value is None else str(value))


def _flag(value: Any) -> Cell:
    return Cell("●" if value else "", 1 if value else 0, False, "flag" if value else "")


class Words:
    """Chinese first; English with ``--lang en``."""

    def __init__(self, lang: Lang) -> None:
        self.lang = lang

    def __call__(self, zh: str, en: str) -> str:
        """The text in the report's language."""
        return zh if self.lang == "zh" else en


def overview(report: Report, w: Words) -> list[Table]:
    """总览: the month's facts, findings by family, the top departments, the other forms."""
    o = report.overview
    files = o.files
    facts = Table(
        w("本月概况", "The month"),
        [w("项目", "Item"), w("内容", "Value")],
        [
            [_text(w("月份", "Month")), _text(o.month)],
            [
                _text(w("对比月份", "Compared with")),
                _text(o.previous or w("无（历史库中没有更早的月份）", "none (no earlier month stored)")),
            ],
            [_text(w("部门（已检查）", "Departments checked")), _text(len(o.departments))],
            [_text(w("新报部门", "New departments")), _text("、".join(o.new_departments) or w("无", "none"))],
            [
                _text(w("缺报部门（D106）", "Missing departments (D106)")),
                _text("、".join(o.missing_departments) or w("无", "none")),
            ],
            [
                _text(w("文件", "Files")),
                _text(
                    w(
                        f"找到 {files['found']} 个 = 已检查 {files['checked']} + 无法使用 {files['unusable']} + 已跳过 {files['skipped']}",
                        f"{files['found']} found = {files['checked']} checked + {files['unusable']} unusable + {files['skipped']} skipped",
                    )
                ),
            ],
            [_text(w("客户", "Customers")), _num(o.customers)],
            [
                _text(w("问题（不含已豁免）", "Findings (not waived)")),
                _text(w(f"错误 {o.errors}，警告 {o.warnings}", f"{o.errors} errors, {o.warnings} warnings")),
            ],
        ],
    )
    families = Table(
        w("问题按类别", "Findings by family"),
        [w("类别", "Family"), w("错误", "Errors"), w("警告", "Warnings")],
        [[_text(f"{f} {name}"), _num(e), _num(wn)] for f, name, e, wn in o.families],
        total=[_text(w("合计", "Total")), _num(o.errors), _num(o.warnings)],
    )
    top = Table(
        w(f"错误最多的 {len(o.top)} 个部门", f"The {len(o.top)} departments with most errors"),
        [w("部门", "Department"), w("错误", "Errors"), w("警告", "Warnings")],
        [[_text(d), _num(e), _num(wn)] for d, e, wn in o.top],
    )
    tables = [facts, families, top]
    totals = report.figure_totals
    if report.figure_columns:
        labels = {c: (label, kind) for c, label, kind in figures.COLUMNS}
        tables.append(
            Table(
                w("其他表单（全公司）", "The other forms (company)"),
                [w("项目", "Item"), w("数值", "Value")],
                [[_text(labels[c][0]), _figure(totals.get(c), labels[c][1])] for c in report.figure_columns],
            )
        )
    return tables


def _figure(value: Any, kind: str) -> Cell:
    if kind == "share":
        return _pct(value)
    return _num(value, {"count": 0, "hours": 1, "money": 2}[kind])


def departments(report: Report, w: Words) -> list[Table]:
    """部门汇总: per department, the other forms' figures, the complaint breakdown."""
    frame = report.departments
    rows = list(frame.iter_rows(named=True)) if not frame.is_empty() else []
    flags = {r[DEPT]: r for r in report.execution_departments.iter_rows(named=True)}
    vip, preferred = report.vip_cap, report.preferred_cap
    body = []
    for r in rows:
        f = flags.get(r["department"], {})
        vip_cell, preferred_cell = _pct(r["vip_share"]), _pct(r["preferred_share"])
        body.append(
            [
                _text(r["department"]), _num(r["customers"]), _num(r["admitted"]),
                Cell(vip_cell.text, vip_cell.sort, True, "over" if (r["vip_share"] or 0) > vip else ""),
                Cell(preferred_cell.text, preferred_cell.sort, True, "over" if (r["preferred_share"] or 0) > preferred else ""),
                _num(r["errors"]), _num(r["warnings"]), _num(r["limit_total"]), _num(r["exposure_total"]),
                _pct(r["utilisation"]), *(_num(f.get(name, 0)) for name, _, _, _ in execution.FLAGS),
            ]
        )  # fmt: skip
    sums = {
        k: sum((r[k] or 0) for r in rows)
        for k in (
            "customers",
            "admitted",
            "vip",
            "preferred",
            "errors",
            "warnings",
            "limit_total",
            "exposure_total",
        )
    }
    total = [
        _text(w("合计", "Total")), _num(sums["customers"]), _num(sums["admitted"]),
        _pct(sums["vip"] / sums["admitted"] if sums["admitted"] else None),
        _pct(sums["preferred"] / sums["admitted"] if sums["admitted"] else None),
        _num(sums["errors"]), _num(sums["warnings"]), _num(sums["limit_total"]), _num(sums["exposure_total"]),
        _pct(sums["exposure_total"] / sums["limit_total"] if sums["limit_total"] else None),
        *(_num(sum(f.get(name, 0) for f in flags.values())) for name, _, _, _ in execution.FLAGS),
    ]  # fmt: skip
    tables = [
        Table(
            w("各部门", "Per department"),
            [
                w("部门", "Department"),
                w("客户", "Customers"),
                w("已准入", "Admitted"),
                w(f"VIP占比（上限{percent(vip)}）", f"VIP share (cap {percent(vip)})"),
                w(f"优选占比（上限{percent(preferred)}）", f"优选 share (cap {percent(preferred)})"),
                w("错误", "Errors"),
                w("警告", "Warnings"),
                w("信用额度(元)", "Limits"),
                w("占用额(元)", "Exposure"),
                w("使用率", "Utilisation"),
                *(w(f"{label}(户)", label) for _, _, label, _ in execution.FLAGS),
            ],
            body,
            w(
                "红色：超过上限（按申报等级、已准入客户计，000 §2.2d、§2.3e）。",
                "Red: above the cap (declared tiers of admitted customers).",
            ),
            total,
        )
    ]
    if report.figure_columns:
        labels = {c: (label, kind) for c, label, kind in figures.COLUMNS}
        tables.append(
            Table(
                w("其他表单统计", "The other forms' figures"),
                [w("部门", "Department"), *(labels[c][0] for c in report.figure_columns)],
                [
                    [
                        _text(r["department"]),
                        *(_figure(r.get(c), labels[c][1]) for c in report.figure_columns),
                    ]
                    for r in rows
                ],
                w(
                    "及时响应率：已到响应期限的投诉中按时首次响应的比例；满意率 =（满意＋基本满意）÷ 已调查（003 §5.3）；E601：未备案客户的费用一律不予报销。",
                    "In time: answered within the response time, of the complaints due; satisfaction = (满意 + 基本满意) / surveyed.",
                ),
                [
                    _text(w("公司", "Company")),
                    *(_figure(report.figure_totals.get(c), labels[c][1]) for c in report.figure_columns),
                ],
            )
        )
    if not report.complaints.is_empty():
        complaints = _complaints(report.complaints)
        listed = [[_text(k), _text(v), _num(n)] for k, v, n in complaints.head(LIMIT).iter_rows()]
        tables.append(
            Table(
                w(
                    "投诉分类（全公司：类型、渠道；各部门的责任人）",
                    "Complaints by type, channel and handler",
                ),
                [w("维度", "Dimension"), w("取值", "Value"), w("件数", "Count")],
                listed,
                _limited(listed, complaints.height, w, "部门汇总"),
            )
        )
    return tables


def _complaints(frame: pl.DataFrame) -> pl.DataFrame:
    """Types and channels summed over the company; handlers named with their department."""
    handler = pl.col("dimension") == figures.DIMENSIONS[-1][1]
    named = pl.concat_str(pl.col("department"), pl.lit("："), pl.col("value"))
    order = {label: i for i, (_, label) in enumerate(figures.DIMENSIONS)}
    return (
        frame.with_columns(pl.when(handler).then(named).otherwise(pl.col("value")).alias("value"))
        .group_by("dimension", "value", maintain_order=True)
        .agg(pl.col("n").sum())
        .with_columns(pl.col("dimension").replace_strict(order, return_dtype=pl.Int32).alias("__order"))
        .sort("__order", "n", descending=[False, True], maintain_order=True)
        .select("dimension", "value", "n")
    )


def _limited(rows: list[list[Cell]], total: int, w: Words, sheet: str) -> str:
    if total <= LIMIT:
        return ""
    return w(
        f"共 {total} 行，此处列出前 {LIMIT} 行；全部见公司汇总工作簿「{sheet}」。",
        f"{total} rows; the first {LIMIT} shown, all in the workbook's 「{sheet}」.",
    )


def credit(report: Report, w: Words) -> list[Table]:
    """授信执行: per department, then the flagged customers (most flags first)."""
    by = report.execution_departments
    labels = [label for _, _, label, _ in execution.FLAGS]
    summary = Table(
        w("各部门授信执行", "Per department"),
        [w("部门", "Department"), w("授信客户(行)", "Rows"), w("信用额度(元)", "Limits"), w("占用额(元)", "Exposure"),
         w("使用率", "Utilisation"), w("较上月变化(元)", "Change"), *labels, w("有标记(行)", "Flagged")],
        [
            [_text(r[DEPT]), _num(r["rows"]), _num(r["limit"]), _num(r["exposure"]), _pct(r["utilisation"]), _num(r["change"]),
             *(_num(r[name]) for name, _, _, _ in execution.FLAGS), _num(r["flagged"])]
            for r in by.iter_rows(named=True)
        ],
        w(
            "标记与措施：超额（C307）→ 压缩至额度内（002 §33）；无授信增长（C308）→ 停止新增赊销（002 §34）；"
            "合同到期（C312）→ 续签/清收（002 §36）；调查过期（C313）→ 重新调查（002 §12）。",
            "Flags and actions: over limit (C307) → 压缩至额度内; grew without a grant (C308) → 停止新增赊销; "
            "contract ending (C312) → 续签/清收; survey stale (C313) → 重新调查.",
        ),
    )  # fmt: skip
    flagged = execution.flagged(report.execution)
    rows = [
        [_text(r[DEPT]), _text(r["customer_code"]), _text(r["name"]), _text(r["computed_grade"]), _text(r["credit_type"]),
         _num(r["limit"]), _num(r["exposure"]), _pct(r["utilisation"]), _num(r["change"]),
         *(_flag(r[name]) for name, _, _, _ in execution.FLAGS), _text(r["action"])]
        for r in flagged.head(LIMIT).iter_rows(named=True)
    ]  # fmt: skip
    detail = Table(
        w(f"有标记的客户（{flagged.height} 行）", f"Flagged customers ({flagged.height})"),
        [w("部门", "Department"), w("客户编码", "Code"), w("客户名称", "Name"), w("系统信用等级", "Grade"), w("授信类型", "Grant"),
         w("信用额度(元)", "Limit"), w("占用额(元)", "Exposure"), w("使用率", "Utilisation"), w("较上月变化(元)", "Change"),
         *labels, w("建议措施", "Action")],
        rows,
        _limited(rows, flagged.height, w, "授信执行"),
    )  # fmt: skip
    return [summary, detail]


def accounts(report: Report, w: Words) -> list[Table]:
    """大客户分析: per department, product mix, key accounts lost, collections by month."""
    k = report.accounts
    o = report.overview
    rows = list(k.departments.iter_rows(named=True))
    per = Table(
        w("各部门重点客户（客户类别 = 重点客户，004 §8）", "Key accounts per department (客户类别 = 重点客户)"),
        [w("部门", "Department"), w("本月", "Now"), w(f"上月（{o.previous or '无'}）", f"Last month ({o.previous or 'none'})"),
         w("去年同月", "A year ago"), w("年业务量占比", "Share of annual business"), w("月均回款额(元)", "Collections"),
         w("上月月均回款额(元)", "Collections last month")],
        [[_text(r[DEPT]), _num(r["now"]), _num(r["last_month"]), _num(r["year_ago"]), _pct(r["business_share"]),
          _num(r["collections"]), _num(r["collections_last"])] for r in rows],
        w("“—”：该部门那个月没有报送（或明细未存入历史库）。", "“—”: the department did not submit that month (or its rows were not stored)."),
    )  # fmt: skip
    products = Table(
        w("重点客户的经营品种", "Key accounts' product mix"),
        [w("经营品种", "Product"), w("重点客户(家)", "Accounts"), w("年业务量(万元)", "Annual business (万元)")],
        [[_text(r["product"]), _num(r["accounts"]), _num(r["business"], 1)] for r in k.products.head(LIMIT).iter_rows(named=True)],
    )  # fmt: skip
    lost_rows = [
        [
            _text(r[DEPT]),
            _text(r["customer_code"]),
            _text(r["name"]),
            _num(r["annual_business"], 1),
            _text(r["reason"]),
        ]
        for r in k.lost.head(LIMIT).iter_rows(named=True)
    ]
    lost = Table(
        w(f"流失的重点客户（{k.lost.height} 家）", f"Key accounts lost ({k.lost.height})"),
        [w("部门", "Department"), w("客户编码", "Code"), w("客户名称", "Name"), w("上月年业务量(万元)", "Annual business last month"), w("原因", "Why")],
        lost_rows,
        _limited(lost_rows, k.lost.height, w, "大客户分析") or (w("上月没有可比较的月份。", "No earlier month to compare with.") if o.previous is None else ""),
    )  # fmt: skip
    tables = [per, products, lost]
    months = sorted(k.collections["month"].unique().to_list())
    if len(months) >= MIN_MONTHS:
        totals = k.collections.group_by("month").agg(pl.col("collections").sum()).sort("month")
        tables.append(
            Table(
                w("重点客户月均回款额（全公司，按月）", "Key accounts' collections (company, by month)"),
                [w("月份", "Month"), w("月均回款额(元)", "Collections")],
                [[_text(m), _num(v)] for m, v in totals.iter_rows()],
            )
        )
    return tables


def changes(report: Report, w: Words) -> list[Table]:
    """变化: per department, the transition matrices, limit changes, new blacklist hits."""
    c = report.changes
    if c.previous is None:
        return [
            Table(
                w("与上月比较", "Month over month"),
                [w("说明", "Note")],
                [
                    [
                        _text(
                            w(
                                "历史库中没有更早的月份，本月无法与上月比较。",
                                "No earlier month in the history to compare with.",
                            )
                        )
                    ]
                ],
            )
        ]
    rows = list(c.departments.iter_rows(named=True))
    keys = ("customers", "last_customers", "new", "removed", "raised", "cut", "new_hits")
    tables = [
        Table(
            w(f"各部门（与 {c.previous} 相比）", f"Per department (against {c.previous})"),
            [
                w("部门", "Department"),
                w("本月客户", "Now"),
                w("上月客户", "Last month"),
                w("新增", "New"),
                w("减少", "Removed"),
                w("额度上调", "Raised"),
                w("额度下调", "Cut"),
                w("新增黑名单命中", "New blacklist hits"),
            ],
            [[_text(r[DEPT]), *(_num(r[k]) for k in keys)] for r in rows],
            w(
                f"新报部门：{'、'.join(c.new_departments) or '无'}；缺报部门：{'、'.join(c.missing_departments) or '无'}"
                + (f"；未比较（上月明细未存入历史库）：{'、'.join(c.not_compared)}" if c.not_compared else "")
                + "。",
                f"New: {', '.join(c.new_departments) or 'none'}; missing: {', '.join(c.missing_departments) or 'none'}.",
            ),
            [_text(w("合计", "Total")), *(_num(sum(r[k] for r in rows)) for k in keys)],
        )
    ]
    for title, matrix in ((w("系统等级的变化（行：上月；列：本月）", "Computed tier: last month (rows) → now (columns)"), c.tiers),
                          (w("系统信用等级的变化（行：上月；列：本月）", "Computed grade: last month (rows) → now (columns)"), c.grades)):  # fmt: skip
        tables.append(
            Table(
                title,
                list(matrix.columns),
                [[_text(r[0]), *(_num(v) for v in r[1:])] for r in matrix.iter_rows()],
            )
        )
    limit_rows = [
        [_text(r[DEPT]), _text(r["customer_code"]), _text(r["name"]), _text(r["computed_grade"]), _num(r["last_limit"]), _num(r["limit"]), _num(r["change"])]
        for r in c.limits.head(LIMIT).iter_rows(named=True)
    ]  # fmt: skip
    tables.append(
        Table(
            w(f"信用额度的调整（{c.limits.height} 户）", f"Limit changes ({c.limits.height})"),
            [
                w("部门", "Department"),
                w("客户编码", "Code"),
                w("客户名称", "Name"),
                w("系统信用等级", "Grade"),
                w("上月额度(元)", "Last month"),
                w("本月额度(元)", "Now"),
                w("变化(元)", "Change"),
            ],
            limit_rows,
            _limited(limit_rows, c.limits.height, w, "变化")
            or w(
                "002 §42：原则上调整后的信用额度应低于原信用额度。",
                "002 §42: an adjusted limit should be lower in principle.",
            ),
        )
    )
    hit_rows = [
        [_text(r[DEPT]), _text(r["customer_code"]), _text(r["code"]), _text(r["message"])]
        for r in c.hits.head(LIMIT).iter_rows(named=True)
    ]
    tables.append(
        Table(
            w(f"新增黑名单命中（{c.hits.height} 条）", f"New blacklist hits ({c.hits.height})"),
            [w("部门", "Department"), w("客户编码", "Code"), w("代码", "Rule"), w("说明", "Message")],
            hit_rows,
            _limited(hit_rows, c.hits.height, w, "变化"),
        )
    )
    return tables


def trends(report: Report, w: Words) -> list[Table]:
    """趋势: the months' figures."""
    frame = report.trends
    families = families_of(frame)
    return [
        Table(
            w(f"近 {frame.height} 个月", f"The last {frame.height} months"),
            [
                w("月份", "Month"),
                w("客户", "Customers"),
                w("VIP占比", "VIP share"),
                w("优选占比", "优选 share"),
                w("信用额度(元)", "Limits"),
                w("占用额(元)", "Exposure"),
                *(f"{f} {FAMILY_NAMES[f]}" for f in families),
            ],
            [
                [
                    _text(r["month"]),
                    _num(r["customers"]),
                    _pct(r["vip_share"]),
                    _pct(r["preferred_share"]),
                    _num(r["limit_total"]),
                    _num(r["exposure_total"]),
                    *(_num(r[f]) for f in families),
                ]
                for r in frame.iter_rows(named=True)
            ],
            ""
            if frame.height >= MIN_MONTHS
            else w(
                "历史库中不足两个月，趋势图从第二个月起绘制。",
                "Fewer than two months stored: the charts start with the second month.",
            ),
        )
    ]
