"""The company workbook's report sheets: 总览, 授信执行, 大客户分析, 变化, 趋势.

Each is written from the month's ``Report`` (``xlcrm.batch.report``), the same data the HTML
page shows. 授信执行 may hold hundreds of thousands of rows: its rows are made in bulk
(``sheetxml``) like 公司客户's; the others are small tables written cell by cell.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from xlcrm.batch import execution
from xlcrm.batch.cross import DEPT
from xlcrm.batch.report import FAMILY_NAMES, Report
from xlcrm.batch.trends import MIN_MONTHS, families_of
from xlcrm.batch.xlsx import Bulk, Styles, chart, header, kinds, page, put, series, table

OVERVIEW, EXECUTION, ACCOUNTS, CHANGES, TRENDS = "总览", "授信执行", "大客户分析", "变化", "趋势"


def overview(book: Any, styles: Styles, report: Report) -> None:
    """总览: the month, departments in and out, files, findings by family, top five, the changes."""
    o = report.overview
    sheet = book.add_worksheet(OVERVIEW)
    page(sheet)
    sheet.set_column(0, 0, 22)
    sheet.set_column(1, 1, 16)
    sheet.set_column(2, 4, 12)
    sheet.set_column(5, 5, 60)
    sheet.write_string(0, 0, f"公司汇总总览 {o.month}", styles.title)
    files = o.files
    facts: list[tuple[str, Any]] = [
        ("月份", o.month),
        ("对比月份", o.previous or "无（历史库中没有更早的月份）"),
        ("部门（已检查）", f"{len(o.departments)} 个"),
        ("新报部门", "、".join(o.new_departments) or "无"),
        ("缺报部门（D106）", "、".join(o.missing_departments) or "无"),
        (
            "文件",
            f"找到 {files['found']} 个 = 已检查 {files['checked']} + 无法使用 {files['unusable']} + 已跳过 {files['skipped']}",
        ),
        ("客户", o.customers),
        ("问题", f"错误 {o.errors} 个，警告 {o.warnings} 个（不含已豁免）"),
    ]
    row = 2
    for label, value in facts:
        sheet.write_string(row, 0, label, styles.bold)
        put(sheet, row, 1, value, styles, styles.left)
        row += 1
    row += 1
    sheet.write_string(row, 0, "本月变化", styles.subtitle)
    sheet.merge_range(row + 1, 0, row + 4, 5, o.paragraph, styles.note)
    row += 6
    sheet.write_string(row, 0, "问题按类别", styles.subtitle)
    row = table(
        sheet, styles, row + 1,
        [("类别", lambda r: f"{r[0]} {r[1]}", None), ("错误", lambda r: r[2], styles.integer), ("警告", lambda r: r[3], styles.integer)],
        o.families,
        totals={1: (o.errors, styles.total_integer), 2: (o.warnings, styles.total_integer)},
    )  # fmt: skip
    row += 1
    sheet.write_string(row, 0, f"错误最多的 {len(o.top)} 个部门", styles.subtitle)
    row = table(
        sheet, styles, row + 1,
        [("部门", lambda r: r[0], None), ("错误", lambda r: r[1], styles.integer), ("警告", lambda r: r[2], styles.integer)],
        o.top,
    )  # fmt: skip
    totals = report.figure_totals
    if report.figure_columns:
        row += 1
        sheet.write_string(row, 0, "其他表单（全公司）", styles.subtitle)
        lines = _figure_lines(totals)
        for offset, (label, value) in enumerate(lines, start=row + 1):
            sheet.write_string(offset, 0, label, styles.bold)
            sheet.write_string(offset, 1, value, styles.left)


def _figure_lines(totals: dict[str, Any]) -> list[tuple[str, str]]:
    def pct(value: Any) -> str:
        return "—" if value is None else f"{value:.1%}"

    lines = []
    if totals.get("complaints") is not None:
        median = totals.get("median_hours")
        lines.append(
            (
                "投诉",
                f"{totals['complaints']} 件；及时响应率 {pct(totals.get('in_time_share'))}；首次响应中位数 "
                f"{'—' if median is None else f'{median:.1f} 小时'}；满意率 {pct(totals.get('satisfaction_rate'))}",
            )
        )
    if totals.get("claims") is not None:
        lines.append(
            (
                "费用报销",
                f"{totals['claims']} 笔；E601 不予报销 {totals['refused']} 笔，{totals['refused_amount']:,.2f} 元",
            )
        )
    if totals.get("key_accounts") is not None:
        lines.append(
            (
                "重点客户回访",
                f"{totals['visited']} / {totals['key_accounts']} 家期内已回访（{pct(totals.get('visited_share'))}）",
            )
        )
    if totals.get("discounts") is not None:
        lines.append(("大客户优惠", f"{totals['discounts']} 项，其中超过标准 {totals['discounts_above']} 项"))
    if totals.get("contract_value") is not None:
        lines.append(
            (
                "收益计划",
                f"合同额 {totals['contract_value']:,.2f} 万元；实际收入 {totals['expected_revenue']:,.2f} 万元；利润额 {totals['profit']:,.2f} 万元",
            )
        )
    return lines


EXECUTION_WIDTHS = {
    DEPT: 12, "customer_code": 11, "name": 28, "computed_grade": 7, "credit_type": 7, "limit": 14,
    "exposure": 14, "utilisation": 8, "last_exposure": 14, "change": 14, "change_source": 10, "waived": 7,
    "action": 24,
}  # fmt: skip


def credit_execution(book: Any, styles: Styles, report: Report) -> tuple[int, Bulk]:
    """授信执行: every row in business with its flags and actions; (sheet index, its bulk rows)."""
    frame = report.execution
    flags = [name for name, _, _, _ in execution.FLAGS]
    shown = frame.with_columns(
        *(pl.when(pl.col(name)).then(pl.lit("是")).alias(name) for name in [*flags, "waived"]),
    ).rename(dict(execution.COLUMNS))
    sheet = book.add_worksheet(EXECUTION)
    headers = list(shown.columns)
    widths = [EXECUTION_WIDTHS.get(key, 9 if key in flags else 12) for key, _ in execution.COLUMNS]
    header(sheet, styles, headers, widths)
    sheet.repeat_columns(0, 2)  # 部门, 客户编码, 客户名称 on every printed page
    keys = [key for key, _ in execution.COLUMNS]
    numbers = {}
    for key, fmt in (("limit", styles.money), ("exposure", styles.money), ("last_exposure", styles.money),
                     ("change", styles.money), ("utilisation", styles.percent)):  # fmt: skip
        col = keys.index(key)
        sheet.set_column(col, col, widths[col], fmt)  # gives the format its index for the bulk cells
        numbers[headers[col]] = fmt
    sheet.autofilter(0, 0, max(shown.height, 1), shown.width - 1)
    utilisation = keys.index("utilisation")
    sheet.conditional_format(
        1,
        utilisation,
        max(shown.height, 1),
        utilisation,
        {"type": "cell", "criteria": ">", "value": 1, "format": styles.red},
    )
    return len(book.worksheets()) - 1, Bulk(shown, kinds(shown), numbers=numbers)


def key_accounts(book: Any, styles: Styles, report: Report) -> None:
    """大客户分析: per department, product mix, key accounts lost, collections by month."""
    k = report.accounts
    o = report.overview
    sheet = book.add_worksheet(ACCOUNTS)
    page(sheet)
    for col, width in enumerate((14, 12, 22, 12, 14, 16, 16, 16, 40)):
        sheet.set_column(col, col, width)
    sheet.write_string(0, 0, f"大客户分析 {o.month}（重点客户 = 客户类别为重点客户，004 §8）", styles.title)
    previous, ago = o.previous or "上月", _ago(report)
    rows = list(k.departments.iter_rows(named=True))

    def sum_of(key: str) -> Any:
        return sum(r[key] or 0 for r in rows) if any(r[key] is not None for r in rows) else None

    row = table(
        sheet, styles, 2,
        [
            ("部门", lambda r: r[DEPT], None),
            ("重点客户(本月)", lambda r: r["now"], styles.integer),
            (f"上月({previous})", lambda r: r["last_month"], styles.integer),
            (f"去年同月({ago or '无'})", lambda r: r["year_ago"], styles.integer),
            ("年业务量占比", lambda r: r["business_share"], styles.percent),
            ("重点客户年业务量(万元)", lambda r: r["key_business"], styles.money),
            ("月均回款额(元)", lambda r: r["collections"], styles.money),
            ("上月月均回款额(元)", lambda r: r["collections_last"], styles.money),
        ],
        rows,
        totals={
            1: (sum_of("now"), styles.total_integer), 2: (sum_of("last_month"), styles.total_integer),
            3: (sum_of("year_ago"), styles.total_integer), 5: (sum_of("key_business"), styles.total_money),
            6: (sum_of("collections"), styles.total_money), 7: (sum_of("collections_last"), styles.total_money),
        },
    )  # fmt: skip
    row += 1
    sheet.write_string(row, 0, "重点客户的经营品种（一个客户经营几个品种就计入几个品种）", styles.subtitle)
    row = table(
        sheet, styles, row + 1,
        [("经营品种", lambda r: r["product"], None), ("重点客户(家)", lambda r: r["accounts"], styles.integer),
         ("年业务量(万元)", lambda r: r["business"], styles.money)],
        list(k.products.iter_rows(named=True)),
    )  # fmt: skip
    row += 1
    sheet.write_string(
        row,
        0,
        f"流失的重点客户（{o.previous or '无上月'} 为重点客户，本月不再是；{k.lost.height} 家）",
        styles.subtitle,
    )
    row = table(
        sheet, styles, row + 1,
        [("部门", lambda r: r[DEPT], None), ("客户编码", lambda r: r["customer_code"], None),
         ("客户名称", lambda r: r["name"], None), ("上月年业务量(万元)", lambda r: r["annual_business"], styles.money),
         ("原因", lambda r: r["reason"], None)],
        list(k.lost.iter_rows(named=True)),
    )  # fmt: skip
    months = sorted(k.collections["month"].unique().to_list())
    if months:
        row += 1
        sheet.write_string(row, 0, "重点客户月均回款额（元），按月", styles.subtitle)
        wide = k.collections.pivot("month", index=DEPT, values="collections").select(DEPT, *months)
        table(
            sheet, styles, row + 1,
            [("部门", lambda r: r[DEPT], None), *((m, _getter(m), styles.money) for m in months)],
            list(wide.iter_rows(named=True)),
            totals={i: (float(wide[m].fill_null(0).sum()), styles.total_money) for i, m in enumerate(months, start=1)},
        )  # fmt: skip


def _getter(key: str) -> Any:
    return lambda row: row.get(key)


def _ago(report: Report) -> str | None:
    from xlcrm.batch.past import year_before

    has = report.accounts.departments["year_ago"].is_not_null().any()
    return year_before(report.overview.month) if has else None


def changes(book: Any, styles: Styles, report: Report) -> None:
    """变化: per department, the transition matrices, limit changes, new blacklist hits."""
    c = report.changes
    sheet = book.add_worksheet(CHANGES)
    page(sheet)
    for col, width in enumerate((14, 12, 12, 12, 12, 12, 12, 12, 60)):
        sheet.set_column(col, col, width)
    sheet.write_string(0, 0, f"变化 {report.overview.month} 与 {c.previous or '—'}", styles.title)
    if c.previous is None:
        sheet.write_string(2, 0, "历史库中没有更早的月份，本月无法与上月比较。", styles.note)
        return
    row = 2
    for label, names in (("新报部门", c.new_departments), ("缺报部门（D106）", c.missing_departments),
                         ("未比较（上月明细未存入历史库）", c.not_compared)):  # fmt: skip
        sheet.write_string(row, 0, label, styles.bold)
        sheet.write_string(row, 1, "、".join(names) or "无", styles.left)
        row += 1
    row += 1
    sheet.write_string(row, 0, "各部门客户与额度变化（两个月都报送的部门）", styles.subtitle)
    rows = list(c.departments.iter_rows(named=True))
    keys = ("customers", "last_customers", "new", "removed", "raised", "cut", "new_hits")
    labels = ("本月客户", "上月客户", "新增客户", "减少客户", "额度上调", "额度下调", "新增黑名单命中")
    row = table(
        sheet, styles, row + 1,
        [("部门", lambda r: r[DEPT], None), *((label, _getter(key), styles.integer) for key, label in zip(keys, labels, strict=True))],
        rows,
        totals={i: (sum(r[key] for r in rows), styles.total_integer) for i, key in enumerate(keys, start=1)},
    )  # fmt: skip
    for title, matrix in (
        ("系统等级的变化（行：上月；列：本月）", c.tiers),
        ("系统信用等级的变化（行：上月；列：本月）", c.grades),
    ):
        row += 1
        sheet.write_string(row, 0, title, styles.subtitle)
        row = table(
            sheet, styles, row + 1,
            [(name, _getter(name), styles.integer if i else styles.bold) for i, name in enumerate(matrix.columns)],
            list(matrix.iter_rows(named=True)),
        )  # fmt: skip
    row += 1
    sheet.write_string(
        row,
        0,
        f"信用额度的调整（{c.limits.height} 户；002 §42：原则上调整后的额度应低于原额度）",
        styles.subtitle,
    )
    row = table(
        sheet, styles, row + 1,
        [("部门", lambda r: r[DEPT], None), ("客户编码", lambda r: r["customer_code"], None),
         ("客户名称", lambda r: r["name"], None), ("系统信用等级", lambda r: r["computed_grade"], None),
         ("上月额度(元)", lambda r: r["last_limit"], styles.money), ("本月额度(元)", lambda r: r["limit"], styles.money),
         ("变化(元)", lambda r: r["change"], styles.money)],
        list(c.limits.iter_rows(named=True)),
    )  # fmt: skip
    row += 1
    sheet.write_string(
        row, 0, f"新增黑名单命中（上月没有 B401/B402 的客户；{c.hits.height} 条）", styles.subtitle
    )
    table(
        sheet, styles, row + 1,
        [("部门", lambda r: r[DEPT], None), ("客户编码", lambda r: r["customer_code"], None),
         ("代码", lambda r: r["code"], None), ("说明", lambda r: r["message"], styles.wrap)],
        list(c.hits.iter_rows(named=True)),
    )  # fmt: skip


TREND_COLUMNS = (
    ("month", "月份"), ("customers", "客户数"), ("admitted", "已准入"), ("vip_share", "VIP占比"),
    ("preferred_share", "优选占比"), ("limit_total", "信用额度合计(元)"), ("exposure_total", "当前占用额合计(元)"),
)  # fmt: skip


def trends(book: Any, styles: Styles, report: Report) -> None:
    """趋势: the months' table and, from two months on, four line charts."""
    frame = report.trends
    sheet = book.add_worksheet(TRENDS)
    families = families_of(frame)
    columns = [*TREND_COLUMNS, *((f, f"{f} {FAMILY_NAMES[f]}") for f in families)]
    page(sheet)  # one page wide: the charts must not be cut at a column break
    sheet.write_string(0, 0, f"趋势（近 {frame.height} 个月，本月 {report.overview.month}）", styles.title)
    formats = {"vip_share": styles.percent, "preferred_share": styles.percent, "limit_total": styles.money,
               "exposure_total": styles.money}  # fmt: skip
    for col, (key, _) in enumerate(columns):
        sheet.set_column(col, col, 16 if key.endswith("total") else 9 if len(key) == 1 else 10)
    rows = list(frame.iter_rows(named=True))
    table(
        sheet,
        styles,
        2,
        [
            (label, _getter(key), formats.get(key, styles.integer if key != "month" else None))
            for key, label in columns
        ],
        rows,
    )
    if len(rows) < MIN_MONTHS:
        sheet.write_string(len(rows) + 4, 0, "历史库中不足两个月，趋势图从第二个月起绘制。", styles.note)
        return
    first, last = 3, 2 + len(rows)
    months = [r["month"] for r in rows]
    index = {key: col for col, (key, _) in enumerate(columns)}

    def line(title: str, keys: list[tuple[str, str]], *, percent: bool = False) -> Any:
        made = chart(book, "line", title, percent=percent)
        for key, name in keys:
            made.add_series(
                series(
                    TRENDS,
                    first,
                    last,
                    0,
                    index[key],
                    months,
                    frame[key].to_list(),
                    name=name,
                    marker={"type": "circle", "size": 5},
                )
            )
        return made

    charts = [
        line("客户数", [("customers", "客户数"), ("admitted", "已准入")]),
        line(
            "VIP与优选类客户占比", [("vip_share", "VIP占比"), ("preferred_share", "优选占比")], percent=True
        ),
        line("信用额度与占用额（元）", [("limit_total", "信用额度"), ("exposure_total", "当前占用额")]),
        *(
            [line("问题按类别（不含已豁免）", [(f, f"{f} {FAMILY_NAMES[f]}") for f in families])]
            if families
            else []
        ),
    ]
    top = last + 3
    for n, made in enumerate(charts):
        made.set_size({"width": 450, "height": 290})  # two side by side on an A4 landscape page
        sheet.insert_chart(
            top + (n // 2) * 16, 0, made, {"x_offset": (n % 2) * 462, "y_offset": 4, "object_position": 3}
        )
