"""The other forms' figures of a month (issue 13's ``xlcrm.stats``), per department and company-wide.

The workers compute each submission's ``Statistics`` with the same pure functions the
department 汇总 uses and ship them (a few numbers, and the answered complaints' response
hours); here they become columns of 部门汇总, the complaint breakdowns, and company totals.
A figure whose form a department did not submit is blank (None), never 0.
"""

from __future__ import annotations

import statistics as pystats
from collections.abc import Iterable
from typing import Any

import polars as pl

from xlcrm.batch.worker import Outcome
from xlcrm.stats import Statistics, share

# Column, its header in 部门汇总 and the HTML report, and its kind (count, share, hours, money).
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("complaints", "投诉(件)", "count"),
    ("in_time_share", "及时响应率", "share"),
    ("median_hours", "首次响应中位数(小时)", "hours"),
    ("satisfaction_rate", "满意率", "share"),
    ("claims", "费用报销(笔)", "count"),
    ("refused", "E601不予报销(笔)", "count"),
    ("refused_amount", "E601不予报销(元)", "money"),
    ("key_accounts", "重点客户(家)", "count"),
    ("visited", "期内已回访(家)", "count"),
    ("visited_share", "回访率", "share"),
    ("discounts", "大客户优惠(项)", "count"),
    ("discounts_above", "超标准优惠(项)", "count"),
    ("contract_value", "收益计划合同额(万元)", "money"),
    ("expected_revenue", "收益计划实际收入(万元)", "money"),
    ("profit", "收益计划利润额(万元)", "money"),
)
# Which form each column needs (the column is shown when any department submitted that form).
FORM_OF = {
    "complaints": "complaints", "in_time_share": "complaints", "median_hours": "complaints",
    "satisfaction_rate": "complaints", "claims": "expenses", "refused": "expenses",
    "refused_amount": "expenses", "key_accounts": "visits", "visited": "visits",
    "visited_share": "visits", "discounts": "discounts", "discounts_above": "discounts",
    "contract_value": "revenue", "expected_revenue": "revenue", "profit": "revenue",
}  # fmt: skip
# The counts behind the shares (summed for the company, then divided).
PARTS = ("complaints_due", "complaints_in_time", "surveyed", "satisfied", "refused", "claims_amount")
DIMENSIONS = (("by_type", "投诉类型"), ("by_channel", "投诉渠道"), ("by_handler", "责任人"))


def row_of(stats: Statistics | None) -> dict[str, Any]:
    """One department's figures as flat values (None where its form is absent)."""
    row: dict[str, Any] = dict.fromkeys([c for c, _, _ in COLUMNS] + list(PARTS))
    if stats is None:
        return row
    if (c := stats.complaints) is not None:
        row.update(
            complaints=c.total, complaints_due=c.due, complaints_in_time=c.in_time,
            in_time_share=c.in_time_share, median_hours=c.median_hours, surveyed=c.surveyed,
            satisfied=c.satisfied, satisfaction_rate=c.satisfaction_rate,
        )  # fmt: skip
    if (e := stats.expenses) is not None:
        row.update(
            claims=e.claims, claims_amount=e.amount, refused=e.refused, refused_amount=e.refused_amount
        )
    if (v := stats.visits) is not None:
        row.update(
            key_accounts=v.key_accounts, visited=v.visited, visited_share=share(v.visited, v.key_accounts)
        )
    if (d := stats.discounts) is not None:
        row.update(discounts=d.discounts, discounts_above=d.above_standard)
    if (r := stats.revenue) is not None:
        row.update(contract_value=r.contract_value, expected_revenue=r.expected_revenue, profit=r.profit)
    return row


def present(outcomes: Iterable[Outcome]) -> list[str]:
    """The figure columns to show: those of the forms at least one department submitted."""
    forms: set[str] = set()
    for outcome in outcomes:
        stats = outcome.stats
        if stats is None:
            continue
        forms.update(
            name
            for name in ("complaints", "expenses", "visits", "discounts", "revenue")
            if getattr(stats, name) is not None
        )
    return [c for c, _, _ in COLUMNS if FORM_OF[c] in forms]


def totals(outcomes: list[Outcome]) -> dict[str, Any]:
    """The company's figures: sums of the departments', shares of the sums, the median of all responses."""
    rows = [row_of(o.stats) for o in outcomes]

    def total(key: str) -> Any:
        values = [r[key] for r in rows if r[key] is not None]
        return sum(values) if values else None

    result = {key: total(key) for key in (*[c for c, _, _ in COLUMNS], *PARTS)}
    hours = [h for o in outcomes for h in o.response_hours]
    result.update(
        in_time_share=_share(result["complaints_in_time"], result["complaints_due"]),
        satisfaction_rate=_share(result["satisfied"], result["surveyed"]),
        visited_share=_share(result["visited"], result["key_accounts"]),
        median_hours=pystats.median(hours) if hours else None,
    )
    return result


def _share(part: Any, whole: Any) -> float | None:
    return None if part is None or not whole else float(part) / float(whole)


def breakdown(outcomes: list[Outcome]) -> pl.DataFrame:
    """Complaints by type, channel and handler, per department: (部门, 维度, 取值, 件数)."""
    rows = [
        (o.department, label, value, n)
        for o in outcomes
        if o.stats is not None and o.stats.complaints is not None
        for key, label in DIMENSIONS
        for value, n in getattr(o.stats.complaints, key)
    ]
    return pl.DataFrame(
        rows,
        schema={"department": pl.Utf8, "dimension": pl.Utf8, "value": pl.Utf8, "n": pl.Int64},
        orient="row",
    )
