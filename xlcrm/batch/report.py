"""The month's reports for managers, computed once for the company workbook and the HTML page.

总览 (the month at a glance), 部门汇总 (with the other forms' figures), 授信执行
(``execution``), 大客户分析 (``accounts``), 变化 (``changes``) and 趋势 (``trends``): each a
small frame or two, from the company view and the history (``past``). A department's own
workbook builds its report from the same pieces restricted to that department.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

import polars as pl

from xlcrm.batch import accounts, changes, execution, figures, trends
from xlcrm.batch.company import Company
from xlcrm.batch.discover import CHECKED, SKIPPED, UNUSABLE
from xlcrm.batch.mask import mask_columns
from xlcrm.batch.order import natural_key
from xlcrm.batch.past import Past
from xlcrm.registry import rules

TOP = 5  # departments with the most errors in 总览
FAMILIES = {  # a code's first letter: its family's name in Chinese and in English
    "S": ("格式", "Format"), "A": ("准入", "Admission"), "T": ("等级", "Tiers"),
    "C": ("信用", "Credit"), "B": ("黑名单", "Blacklist"), "X": ("豁免", "Waivers"),
    "P": ("投诉", "Complaints"), "E": ("费用", "Expenses"), "V": ("回访", "Visits"),
    "R": ("收益", "Revenue"), "K": ("优惠", "Discounts"), "D": ("跨部门", "Cross-department"),
}  # fmt: skip
FAMILY_NAMES = {family: zh for family, (zh, _) in FAMILIES.items()}  # the company reports are Chinese


@dataclass(frozen=True)
class Overview:
    """总览."""

    month: str
    previous: str | None
    files: dict[str, int]  # found, checked, unusable, skipped
    departments: list[str]
    new_departments: list[str]
    missing_departments: list[str]
    families: list[tuple[str, str, int, int]]  # family, name, errors, warnings (counted findings)
    top: list[tuple[str, int, int]]  # department, errors, warnings
    errors: int
    warnings: int
    customers: int
    paragraphs: dict[str, str]  # the month's changes in one paragraph of numbers, by language

    @property
    def paragraph(self) -> str:
        """The paragraph in Chinese (the workbook's)."""
        return self.paragraphs["zh"]


@dataclass(frozen=True)
class Report:
    """Every section's data."""

    overview: Overview
    departments: pl.DataFrame  # company.departments (部门汇总), with the figure columns
    figure_columns: list[str]  # the other forms' figures shown (figures.COLUMNS keys)
    figure_totals: dict[str, Any]
    complaints: pl.DataFrame  # the complaint breakdown
    execution: pl.DataFrame
    execution_departments: pl.DataFrame
    accounts: accounts.KeyAccounts
    changes: changes.Changes
    trends: pl.DataFrame
    vip_cap: float
    preferred_cap: float
    masked: bool


def build(
    company: Company, past: Past, *, vip_cap: float, preferred_cap: float, masked: bool = True
) -> Report:
    """The report of ``company``'s month (``past``: the history restricted to the same departments)."""
    archive, credit = company.tables["archive"], company.tables["credit"]
    if masked:  # POLICY §7: the names, products… each section lists are masked like 公司客户's
        archive = company.masked("archive")
        credit = mask_columns(credit, ["__name"])
        past = replace(past, customers=mask_columns(past.customers, ["name"]))
    table = execution.execution(credit, company.findings, past)
    submitted = {o.department for o in company.checked if o.department}  # D106 misses the others
    moved = changes.changes(archive, company.findings, past, submitted, masked=masked)
    keyed = accounts.key_accounts(archive, credit, past, company.month, submitted)
    checked = company.checked
    overview = _overview(company, moved, table, keyed)
    return Report(
        overview=overview,
        departments=company.departments,
        figure_columns=figures.present(checked),
        figure_totals=figures.totals(checked),
        complaints=figures.breakdown(checked),
        execution=table,
        execution_departments=execution.by_department(table),
        accounts=keyed,
        changes=moved,
        trends=trends.trends(company.departments, company.findings, past, company.month),
        vip_cap=vip_cap,
        preferred_cap=preferred_cap,
        masked=masked,
    )


def _overview(
    company: Company, moved: changes.Changes, table: pl.DataFrame, keyed: accounts.KeyAccounts
) -> Overview:
    counted = [f for f in company.findings if not f.diagnostic.waived]
    declared = rules()
    severity = {code: declared[code].severity for code in {f.diagnostic.code for f in counted}}
    by_family = Counter((f.diagnostic.code[0], severity[f.diagnostic.code]) for f in counted)
    families = [
        (family, name, by_family.get((family, "error"), 0), by_family.get((family, "warning"), 0))
        for family, name in FAMILY_NAMES.items()
        if by_family.get((family, "error")) or by_family.get((family, "warning"))
    ]
    per_department: Counter[str] = Counter()
    warned: Counter[str] = Counter()
    for f in counted:
        if f.department is None:
            continue
        (per_department if severity[f.diagnostic.code] == "error" else warned)[f.department] += 1
    departments = sorted({o.department for o in company.checked if o.department}, key=natural_key)
    top = sorted(((d, per_department[d], warned[d]) for d in departments), key=lambda t: (-t[1], -t[2]))
    return Overview(
        month=company.month,
        previous=moved.previous,
        files={"found": len(company.outcomes), **{s: company.count(s) for s in (CHECKED, UNUSABLE, SKIPPED)}},
        departments=departments,
        new_departments=moved.new_departments,
        missing_departments=moved.missing_departments,
        families=families,
        top=[t for t in top[:TOP] if t[1] or t[2]],
        errors=sum(n for (_, s), n in by_family.items() if s == "error"),
        warnings=sum(n for (_, s), n in by_family.items() if s == "warning"),
        customers=company.tables["archive"].height,
        paragraphs=_paragraph(company, moved, table, keyed),
    )


def _paragraph(
    company: Company, moved: changes.Changes, table: pl.DataFrame, keyed: accounts.KeyAccounts
) -> dict[str, str]:
    """The month's changes in one paragraph of numbers, in Chinese and in English."""
    flags = {name: int(table[name].sum()) for name, _, _, _ in execution.FLAGS}
    zh_flags = "，".join(f"{label} {flags[name]} 户" for name, _, label, _ in execution.FLAGS)
    en_flags = ", ".join(f"{name.replace('_', ' ')} {flags[name]}" for name in flags)
    customers, submissions = company.tables["archive"].height, len(company.checked)
    if moved.previous is None:
        return {
            "zh": f"本月 {submissions:,} 份提交、{customers:,} 位客户；历史库中没有更早的月份，无法比较变化。"
            f"授信执行：{zh_flags}。",
            "en": f"{submissions:,} submissions, {customers:,} customers; no earlier month stored to compare "
            f"with. Credit execution: {en_flags}.",
        }
    counts = moved.departments

    def total(column: str) -> int:
        return int(counts[column].sum()) if not counts.is_empty() else 0

    key_now = int(keyed.departments["now"].sum())
    key_last = int(keyed.departments["last_month"].drop_nulls().sum())
    new, removed, raised, cut, hits = (total(c) for c in ("new", "removed", "raised", "cut", "new_hits"))
    lost, came, went = keyed.lost.height, len(moved.new_departments), len(moved.missing_departments)
    zh = (
        f"与 {moved.previous} 相比：新增客户 {new:,} 位、减少 {removed:,} 位；信用额度上调 {raised:,} 户、"
        f"下调 {cut:,} 户；新增黑名单命中 {hits:,} 户；重点客户 {key_now:,} 家（上月可比部门 {key_last:,} 家），"
        f"流失 {lost:,} 家；新报部门 {came} 个、缺报部门 {went} 个"
    )
    en = (
        f"Against {moved.previous}: {new:,} new customers, {removed:,} removed; {raised:,} limits raised, "
        f"{cut:,} cut; {hits:,} new blacklist hits; {key_now:,} key accounts ({key_last:,} last month in "
        f"the same departments), {lost:,} lost; {came} new departments, {went} missing"
    )
    if moved.not_compared:
        zh += f"；未比较（上月明细未存入历史库）：{'、'.join(moved.not_compared)}"
        en += f"; not compared (rows not stored last month): {', '.join(moved.not_compared)}"
    return {"zh": f"{zh}。授信执行：{zh_flags}。", "en": f"{en}. Credit execution: {en_flags}."}


def counted(row: dict[str, Any]) -> dict[str, int]:
    """A 部门汇总 row's counted findings by ``family_severity`` (``S_error``…), none left blank."""
    return {key: int(n) for key, n in (row.get("by_family") or {}).items() if n}


def by_family(row: dict[str, Any]) -> dict[str, int]:
    """A 部门汇总 row's counted findings (errors and warnings) per family letter."""
    totals: Counter[str] = Counter()
    for key, n in counted(row).items():
        totals[key[0]] += n
    return dict(totals)
