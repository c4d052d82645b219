"""汇总 of an annotated copy: a small dashboard of the submission, with native charts.

At the top: department, as-of date, file and the count of findings; then four charts (findings
by family and severity, declared tiers against their caps, credit by computed grade, the
complaints by type where the submission has them), drawn by XlsxWriter from the tables below
them (``xlcrm.annotate.charts``), their data cached; then the tables: findings by family and
severity, tiers against the caps with the customers over quota, credit by grade, the other
forms' figures (``xlcrm.stats``), findings by code, and the notes. The same figures as the
company workbook's 部门汇总, for one department.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xlcrm.annotate.parts import BOLD, HEADER, HEADER_RIGHT, INTEGER, MONEY, NOTE, PERCENT, TITLE, WRAP, Grid
from xlcrm.compute import PREFERRED, TIERS, VIP
from xlcrm.diagnostics import Diagnostic
from xlcrm.engine import Result
from xlcrm.registry import phrases, rules
from xlcrm.rules.common import percent
from xlcrm.stats import Statistics, share, statistics

TITLE_TEXT = "xlcrm 汇总"  # A1: what identifies xlcrm's 汇总 when a copy is processed again
SEVERITY_ZH = {"error": "错误", "warning": "警告"}
WIDTHS = (18, 28, 11, 11, 17, 17, 13, 46)
CHART_TOP = 6  # the charts' first row (0-based); the tables start below them


@dataclass(frozen=True)
class Figures:
    """The submission's figures every annotated file of it shows (computed once)."""

    department: str
    department_source: str  # 参数!部门, 所属部门 or 文件名
    as_of: dt.date
    admitted: int  # the quotas' base
    tiers: list[tuple[str, int, float | None]]  # declared tier, customers, cap (None: none)
    over: dict[str, tuple[int, list[str]]]  # tier -> (allowed, the customers over quota, as shown)
    credit: list[tuple[str, int, float, float]]  # computed grade, rows, 信用额度, 当前占用额
    stats: Statistics
    notes: list[str]


def figures(result: Result, label: str) -> Figures | None:
    """The figures of ``result`` (None when nothing was checked)."""
    ctx = result.context
    if ctx is None or result.submission is None:
        return None
    from xlcrm.batch.worker import DEPARTMENT_SOURCES, department_of
    from xlcrm.forms import is_admitted

    department, source, _ = department_of(result.submission, label)
    base = [r for r in ctx.rows("archive") if is_admitted(r)]
    caps = {
        VIP: float(ctx.policy["quotas.vip_share"]),
        PREFERRED: float(ctx.policy["quotas.preferred_share"]),
    }
    tiers = [(tier, sum(1 for r in base if r.get("tier") == tier), caps.get(tier)) for tier in TIERS]
    over = {}
    for d in result.diagnostics:
        if d.code in ("T202", "T203") and not d.waived:
            over[VIP if d.code == "T202" else PREFERRED] = (
                int(d.args["allowed"]),
                [c.text("zh") for c in d.args["candidates"]],
            )
    totals: dict[str, list[float]] = {}
    for row in ctx.rows("credit"):
        bucket = totals.setdefault(ctx.grade_of(row) or "未定", [0, 0.0, 0.0])
        bucket[0] += 1
        bucket[1] += row.get("limit") or 0.0
        bucket[2] += row.get("exposure") or 0.0
    credit = [(grade, int(n), limit, exposure) for grade, (n, limit, exposure) in sorted(totals.items())]
    notes = [phrases()[key]["zh"].format(**values) for key, values in result.notes]
    return Figures(
        department,
        DEPARTMENT_SOURCES[source].zh,
        ctx.as_of,
        len(base),
        tiers,
        over,
        credit,
        statistics(ctx),
        notes,
    )


@dataclass
class Chart:
    """One chart: its kind and title, the table rows it reads (categories in column A)."""

    title: str
    first: int  # 0-based rows of the data
    last: int
    series: list[tuple[str, int, list[Any]]]  # name, column, values
    categories: list[str]
    stacked: bool = False
    percent: bool = False
    caps: tuple[str, int, list[Any]] | None = None  # a dashed line (the caps) over the columns
    category_col: int = 0
    counts: bool = False  # the values are counts: whole steps on the value axis


def build(findings: list[Diagnostic], file: str, facts: Figures | None) -> tuple[Grid, list[Chart]]:
    """The 汇总 sheet of one file's copy and its charts."""
    grid = Grid(WIDTHS, freeze=1)
    grid.put(0, 0, TITLE_TEXT, TITLE)
    grid.heights[0] = 22
    counted = [d for d in findings if not d.waived]
    errors = sum(1 for d in counted if d.severity == "error")
    head = [
        ("部门", f"{facts.department}（依据：{facts.department_source}）" if facts else "—"),
        ("基准日期", facts.as_of.isoformat() if facts else "—"),
        ("文件", Path(file).name),
        ("问题", f"错误 {errors}，警告 {len(counted) - errors}，已豁免 {len(findings) - len(counted)}"),
    ]
    for r, (label, value) in enumerate(head, start=1):
        grid.put(r, 0, label, BOLD)
        grid.put(r, 1, value)
    charts: list[Chart] = []
    row = CHART_TOP + CHART_ROWS
    grid.breaks.append(row - 1)  # the charts on the first printed page, the tables from the next
    row = _families(grid, findings, row, charts)
    if facts is not None:
        row = _tiers(grid, facts, row, charts)
        row = _credit(grid, facts, row, charts)
        row = _statistics(grid, facts.stats, row, charts)
    row = _codes(grid, findings, row)
    for note in facts.notes if facts else []:
        grid.put(row, 0, "说明", BOLD)
        grid.put(row, 1, note, NOTE)
        row += 1
    return grid, charts


CHART_ROWS = 34  # two rows of charts, ~16 rows each


def _block(grid: Grid, row: int, title: str, headers: Sequence[str], numbers: int) -> int:
    """A table's title and header row (the last ``numbers`` columns right-aligned); its first data row."""
    grid.put(row, 0, title, BOLD)
    for col, text in enumerate(headers):
        grid.put(row + 1, col, text, HEADER_RIGHT if col >= len(headers) - numbers else HEADER)
    return row + 2


def family_of(code: str) -> str:
    """A code's family: its letter (S, A, T, C, B, X, P, E, V, R, K, D)."""
    return code[:1]


def _families(grid: Grid, findings: list[Diagnostic], row: int, charts: list[Chart]) -> int:
    from xlcrm.batch.report import FAMILY_NAMES

    first = _block(grid, row, "问题（按类别与级别）", ("类别", "名称", "错误", "警告", "已豁免", "合计"), 4)
    counts: Counter[tuple[str, str]] = Counter(
        (family_of(d.code), "waived" if d.waived else d.severity) for d in findings
    )
    families = [f for f in FAMILY_NAMES if any(k[0] == f for k in counts)]
    for r, family in enumerate(families, start=first):
        values = [counts[(family, "error")], counts[(family, "warning")], counts[(family, "waived")]]
        grid.put(r, 0, family)
        grid.put(r, 1, FAMILY_NAMES[family])
        for col, value in enumerate([*values, sum(values)], start=2):
            grid.cells.setdefault(r, []).append((col, value, INTEGER))
    if not families:
        grid.put(first, 0, "没有问题。", NOTE)
        return first + 2
    last = first + len(families) - 1
    labels = [f"{f} {FAMILY_NAMES[f]}" for f in families]
    charts.append(
        Chart(
            "问题按类别与级别", first, last,
            [("错误", 2, [counts[(f, "error")] for f in families]),
             ("警告", 3, [counts[(f, "warning")] for f in families])],
            labels, stacked=True, counts=True,
        )
    )  # fmt: skip
    return last + 2


def _tiers(grid: Grid, facts: Figures, row: int, charts: list[Chart]) -> int:
    headers = (
        "客户等级（申报）",
        "客户数",
        "占比",
        "上限",
        "上限内(户)",
        "超出(户)",
        "",
        "超出上限的客户（得分最低者）",
    )
    first = _block(grid, row, f"客户等级（申报）与上限（已准入客户 {facts.admitted} 户为基数）", headers, 0)
    for col in (1, 2, 3, 4, 5):
        grid.cells[first - 1] = [
            c if c[0] != col else (col, c[1], HEADER_RIGHT) for c in grid.cells[first - 1]
        ]
    shares = []
    for r, (tier, count, cap) in enumerate(facts.tiers, start=first):
        ratio = share(count, facts.admitted)
        shares.append(ratio)
        grid.put(r, 0, tier)
        grid.cells.setdefault(r, []).append((1, count, INTEGER))
        grid.put(r, 2, ratio, PERCENT)
        grid.put(r, 3, cap, PERCENT)
        if tier in facts.over:
            allowed, names = facts.over[tier]
            grid.cells[r] += [(4, allowed, INTEGER), (5, count - allowed, INTEGER)]
            grid.put(r, 7, "、".join(names), WRAP)
        elif cap is not None:
            grid.cells[r] += [(5, 0, INTEGER)]
    last = first + len(facts.tiers) - 1
    charts.append(
        Chart(
            "客户等级占比（申报，对比上限）", first, last, [("占比", 2, shares)], [t for t, _, _ in facts.tiers],
            percent=True, caps=("上限", 3, [cap for _, _, cap in facts.tiers]),
        )
    )  # fmt: skip
    return last + 2


def _credit(grid: Grid, facts: Figures, row: int, charts: list[Chart]) -> int:
    headers = ("信用等级（系统评定）", "户数", "信用额度(元)", "当前占用额(元)", "使用率")
    first = _block(grid, row, "信用（按系统评定的等级）", headers, 4)
    if not facts.credit:
        grid.put(first, 0, "没有信用评定行。", NOTE)
        return first + 2
    for r, (grade, n, limit, exposure) in enumerate(facts.credit, start=first):
        grid.put(r, 0, f"{grade} 级" if grade != "未定" else grade)
        grid.cells.setdefault(r, []).extend([(1, n, INTEGER), (2, limit, MONEY), (3, exposure, MONEY)])
        grid.put(r, 4, exposure / limit if limit else None, PERCENT)
    last = first + len(facts.credit) - 1
    total = last + 1
    n = sum(c[1] for c in facts.credit)
    limit, exposure = sum(c[2] for c in facts.credit), sum(c[3] for c in facts.credit)
    grid.put(total, 0, "合计", BOLD)
    grid.cells.setdefault(total, []).extend([(1, n, INTEGER), (2, limit, MONEY), (3, exposure, MONEY)])
    grid.put(total, 4, exposure / limit if limit else None, PERCENT)
    charts.append(
        Chart(
            "信用额度与占用（按系统评定的等级）", first, last,
            [("信用额度(元)", 2, [c[2] for c in facts.credit]), ("当前占用额(元)", 3, [c[3] for c in facts.credit])],
            [f"{c[0]} 级" if c[0] != "未定" else c[0] for c in facts.credit],
        )
    )  # fmt: skip
    return total + 2


def _statistics(grid: Grid, stats: Statistics, row: int, charts: list[Chart]) -> int:
    rows = statistics_rows(stats)
    if not rows:
        return row
    first = _block(grid, row, "其他表单统计（投诉、费用报销、回访、大客户优惠、收益计划）",
                   ("项目", "类别", "数量", "占比", "金额", "", "", "说明"), 0)  # fmt: skip
    for col in (2, 3, 4):
        grid.cells[first - 1] = [
            c if c[0] != col else (col, c[1], HEADER_RIGHT) for c in grid.cells[first - 1]
        ]
    for r, (item, kind, count, ratio, money, note) in enumerate(rows, start=first):
        grid.put(r, 0, item)
        grid.put(r, 1, kind)
        grid.put(r, 2, count, INTEGER)
        grid.put(r, 3, ratio, PERCENT)
        grid.put(r, 4, money, MONEY)
        grid.put(r, 7, note, WRAP)
    c = stats.complaints
    types = [i for i, r in enumerate(rows) if r[0] == "投诉（类型）"]
    if c is not None and types:
        charts.append(
            Chart("投诉（按类型）", first + types[0], first + types[-1],
                  [("件数", 2, [n for _, n in c.by_type])], [t for t, _ in c.by_type], category_col=1, counts=True)
        )  # fmt: skip
    return first + len(rows) + 1


def _codes(grid: Grid, findings: list[Diagnostic], row: int) -> int:
    first = _block(grid, row, "问题（按代码）", ("代码", "规则", "级别", "数量", "已豁免"), 2)
    counts = Counter(d.code for d in findings)
    waived = Counter(d.code for d in findings if d.waived)
    for r, code in enumerate(sorted(counts), start=first):
        rule = rules()[code]
        grid.put(r, 0, code)
        grid.put(r, 1, rule.title_zh, WRAP)
        grid.put(r, 2, SEVERITY_ZH[rule.severity])
        grid.cells.setdefault(r, []).extend([(3, counts[code], INTEGER), (4, waived[code], INTEGER)])
    return first + len(counts) + 1


Row = tuple[str, str, int | None, float | None, float | None, str]


def statistics_rows(stats: Statistics) -> list[Row]:
    """(项目, 类别, 数量, 占比, 金额, 说明) for each statistic of the other forms present."""
    rows: list[Row] = []
    if (c := stats.complaints) is not None:
        rows.append(("投诉", "合计", c.total, None, None, "投诉记录的行数"))
        for item, counts in (
            ("投诉（类型）", c.by_type),
            ("投诉（渠道）", c.by_channel),
            ("投诉（责任人）", c.by_handler),
        ):
            rows += [(item, value, n, share(n, c.total), None, "") for value, n in counts]
        hours = f"{c.response_hours:g}"
        rows.append(
            ("投诉（响应）", f"{hours}小时内首次响应", c.in_time, c.in_time_share, None,
             f"占已到响应期限的 {c.due} 件（已响应，或截至基准日日终已超过 {hours} 小时）")
        )  # fmt: skip
        median = "—" if c.median_hours is None else f"{c.median_hours:.1f} 小时"
        rows.append(
            (
                "投诉（响应）",
                "首次响应时间中位数",
                c.answered,
                None,
                None,
                f"中位数 {median}；已响应 {c.answered} 件",
            )
        )
        surveyed = "、".join(f"{value} {n}" for value, n in c.by_satisfaction) or "无"
        rows.append(
            ("投诉（满意度）", "满意率（满意＋基本满意）", c.satisfied, c.satisfaction_rate, None,
             f"已调查 {c.surveyed} 件：{surveyed}（003 §5.3）")
        )  # fmt: skip
    if (e := stats.expenses) is not None:
        rows.append(("费用报销", "合计(元)", e.claims, None, e.amount, ""))
        rows.append(
            ("费用报销", "E601 不予报销(元)", e.refused, share(e.refused, e.claims), e.refused_amount,
             "未备案客户的费用一律不予报销（000 篇三 §1.8.1）")
        )  # fmt: skip
    if (v := stats.visits) is not None:
        rows.append(
            ("回访", f"重点客户近{v.days}天已回访", v.visited, share(v.visited, v.key_accounts), None,
             f"重点客户 {v.key_accounts} 家；{v.since.isoformat()} 起")
        )  # fmt: skip
    if (d := stats.discounts) is not None:
        rows.append(
            ("大客户优惠", f"超过标准（{percent(d.standard)}）", d.above_standard, share(d.above_standard, d.discounts),
             None, f"共 {d.discounts} 项；其中总经理已审批 {d.above_approved} 项")
        )  # fmt: skip
    if (r := stats.revenue) is not None:
        for kind, total in (
            ("合同额(万元)", r.contract_value),
            ("实际收入(万元)", r.expected_revenue),
            ("利润额(万元)", r.profit),
        ):
            rows.append(("收益计划", kind, r.projects, None, total, "项目合计"))
    return rows


def _step(series: list[tuple[str, int, list[Any]]]) -> int:
    """A whole major unit giving at most about eight gridlines for the tallest column (stacked: the sum)."""
    tallest = max(
        (sum(v or 0 for v in column) for column in zip(*(values for _, _, values in series), strict=True)),
        default=0,
    )
    return max(1, -(-int(tallest) // 8))


def drawer(sheet_name: str, charts: list[Chart]) -> Any:
    """What draws ``charts`` on the scratch sheet (``xlcrm.annotate.charts.add_charts``)."""
    from xlcrm.batch.dashboard import CHART_HEIGHT, CHART_WIDTH
    from xlcrm.batch.xlsx import VALUE_AXIS, chart, series

    def draw(book: Any, sheet: Any) -> None:
        colors = ("#C00000", "#BF8F00", "#2E75B6", "#548235")
        for index, spec in enumerate(charts[:4]):
            made = chart(
                book, "column", spec.title, subtype="stacked" if spec.stacked else None, percent=spec.percent
            )
            for number, (name, col, values) in enumerate(spec.series):
                color = (
                    colors[(index + number) % len(colors)]
                    if spec.stacked or len(spec.series) > 1
                    else colors[2]
                )
                made.add_series(
                    series(sheet_name, spec.first, spec.last, spec.category_col, col, spec.categories, values,
                           name=name, fill={"color": color}, gap=80)
                )  # fmt: skip
            if spec.caps is not None:
                name, col, values = spec.caps
                capped = len(values) - next(
                    (i for i, v in enumerate(reversed(values)) if v is not None), len(values)
                )
                last = spec.first + capped - 1  # a tier without a cap (合格类) gets no mark, not one at 0%
                line = book.add_chart({"type": "line"})
                line.add_series(
                    {**series(sheet_name, spec.first, last, spec.category_col, col, spec.categories[:capped], values[:capped], name=name),
                     "line": {"none": True},
                     "marker": {"type": "dash", "size": 14, "fill": {"color": "#C00000"}, "border": {"color": "#C00000"}}}
                )  # fmt: skip
                made.combine(line)
                made.show_blanks_as("gap")
            if len(spec.series) == 1 and spec.caps is None:
                made.set_legend({"none": True})
            if spec.counts:  # whole steps on the value axis, never 0.5
                made.set_y_axis({**VALUE_AXIS, "num_format": "0", "min": 0, "major_unit": _step(spec.series)})
            made.set_size({"width": CHART_WIDTH, "height": CHART_HEIGHT})
            row = CHART_TOP + (index // 2) * 16
            x = 4 + (index % 2) * (CHART_WIDTH + 10)
            sheet.insert_chart(row, 0, made, {"x_offset": x, "y_offset": 4, "object_position": 3})

    return draw
