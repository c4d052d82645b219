"""The computed columns ``process`` appends to the form sheets (issue: annotated workbook).

客户档案 gets 系统等级 and 等级依据; 信用评定 gets 系统信用等级, 最高可授信额度(元) and
最长回款期限(天). A value that cannot be computed (a blank or invalid input) is left blank.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from xlcrm.compute import PREFERRED, QUALIFIED, max_grant
from xlcrm.context import Context
from xlcrm.forms import is_admitted
from xlcrm.reader import Table
from xlcrm.rules.tiers import evaluations_by_customer
from xlcrm.submission import POSITION, TABLE

COLUMNS: dict[str, tuple[str, ...]] = {
    "archive": ("系统等级", "等级依据"),
    "credit": ("系统信用等级", "最高可授信额度(元)", "最长回款期限(天)"),
}
ALL_HEADERS = frozenset(h for headers in COLUMNS.values() for h in headers)


@dataclass(frozen=True, slots=True)
class ComputedColumns:
    """Per form: the headers, and each row's values keyed by (table, position)."""

    headers: tuple[str, ...]
    values: dict[tuple[int, int], tuple[Any, ...]]


def computed_place(table: Table) -> tuple[int, list[int]]:
    """Where a table's computed columns go (0-based first column) and any earlier run's columns.

    Over an annotated copy's computed columns if it has them, else right of the last header.
    """
    old = sorted(col for col, text in table.headers.items() if text in ALL_HEADERS)
    return (old[0] if old else table.width), old


def computed_columns(ctx: Context) -> dict[str, ComputedColumns]:
    """The computed values of every row of 客户档案 and 信用评定."""
    result: dict[str, ComputedColumns] = {}
    archive = ctx.form("archive")
    if archive is not None:
        latest = {code: rows[-1] for code, rows in evaluations_by_customer(ctx).items()}
        values: dict[tuple[int, int], tuple[Any, ...]] = {}
        for row in ctx.rows("archive"):
            evaluation = latest.get(row.get("customer_code"))  # type: ignore[arg-type]
            tier = ctx.tier(row, evaluation) if evaluation and is_admitted(row) else None
            basis = ""
            if tier is not None:  # 合格类客户: what the next tier lacks; else what it meets
                reasons = tier.failed(PREFERRED) if tier.tier == QUALIFIED else tier.met(tier.tier)
                basis = "；".join(p.zh for p in reasons)
            key = (row[TABLE], row[POSITION])
            values[key] = (tier.tier if tier else None, basis or None)
        result["archive"] = ComputedColumns(COLUMNS["archive"], values)
    credit = ctx.form("credit")
    if credit is not None:
        values = {}
        for row in ctx.rows("credit"):
            grade = ctx.grade_of(row)
            grant = max_grant(row, grade, ctx.policy) if grade else None
            key = (row[TABLE], row[POSITION])
            values[key] = (
                grade,
                grant.limit if grant else None,
                grant.term if grant else None,
            )
        result["credit"] = ComputedColumns(COLUMNS["credit"], values)
    return result
