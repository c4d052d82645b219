"""What the reports need from the history: the previous month's rows, a year ago, the last 12 months.

Read once per run, in a few DuckDB queries whose results arrive as polars frames (Arrow C
stream, no pyarrow). Every frame carries the submitting ``department``, so a department's own
workbook (``--split-by-department``) takes ``only(...)`` of the same data. Months stored with
a department's rows withheld (a password-protected submission, POLICY §7) are listed in
``withheld``: their customers are not compared, rather than counted as gone.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import polars as pl

TREND_MONTHS = 12  # the current month and up to 11 before it
KEY = "重点客户"  # 客户类别 of a key account (004; 000 篇三 §1.2)


def year_before(month: str) -> str:
    """``2026-11`` → ``2025-11``."""
    year, number = month.split("-")
    return f"{int(year) - 1:04d}-{number}"


def _frame(schema: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


CUSTOMERS = {
    "department": pl.Utf8, "identity": pl.Utf8, "customer_code": pl.Utf8, "name": pl.Utf8,
    "category": pl.Utf8, "computed_tier": pl.Utf8, "computed_grade": pl.Utf8,
    "annual_business": pl.Float64, "credit_limit": pl.Float64,
}  # fmt: skip
CREDIT = {
    "department": pl.Utf8, "identity": pl.Utf8, "customer_code": pl.Utf8, "limit": pl.Float64,
    "exposure": pl.Float64,
}  # fmt: skip
HITS = {"department": pl.Utf8, "customer_code": pl.Utf8}
KEYS = {"month": pl.Utf8, "department": pl.Utf8, "key_accounts": pl.Int64, "collections": pl.Float64}
MONTHS = {
    "month": pl.Utf8, "department": pl.Utf8, "customers": pl.Int64, "admitted": pl.Int64,
    "vip": pl.Int64, "preferred": pl.Int64, "limit_total": pl.Float64, "exposure_total": pl.Float64,
}  # fmt: skip
FAMILIES = {"month": pl.Utf8, "department": pl.Utf8, "family": pl.Utf8, "severity": pl.Utf8, "n": pl.Int64}
WITHHELD = {"month": pl.Utf8, "department": pl.Utf8}


@dataclass(frozen=True)
class Past:
    """The history as the month's reports see it (empty frames without a history)."""

    previous: str | None = None  # the latest stored month before this one
    year_ago: str | None = None  # the same month a year before, when stored
    customers: pl.DataFrame = field(default_factory=lambda: _frame(CUSTOMERS))  # previous month
    credit: pl.DataFrame = field(default_factory=lambda: _frame(CREDIT))  # previous month
    hits: pl.DataFrame = field(default_factory=lambda: _frame(HITS))  # previous month's B401/B402
    keys: pl.DataFrame = field(default_factory=lambda: _frame(KEYS))  # key accounts per month, department
    months: pl.DataFrame = field(
        default_factory=lambda: _frame(MONTHS)
    )  # 部门汇总 sums per month, department
    families: pl.DataFrame = field(default_factory=lambda: _frame(FAMILIES))  # findings per month
    withheld: pl.DataFrame = field(default_factory=lambda: _frame(WITHHELD))
    departments: tuple[str, ...] = ()  # the previous month's departments
    recent: tuple[str, ...] = ()  # the stored months the trends show (up to 11 before this one)

    def present(self, month: str | None) -> pl.Expr:
        """Whether a row's department (``__department``) submitted in ``month`` with its rows stored."""
        from xlcrm.batch.cross import DEPT

        there = self.months.filter(pl.col("month") == (month or ""))["department"]
        gone = self.withheld.filter(pl.col("month") == (month or ""))["department"]
        return pl.col(DEPT).is_in(there.implode()) & ~pl.col(DEPT).is_in(gone.implode())

    def only(self, departments: Collection[str]) -> Past:
        """The same history restricted to ``departments``' rows."""
        keep = sorted(departments)
        changed: dict[str, Any] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, pl.DataFrame):
                changed[item.name] = value.filter(pl.col("department").is_in(keep))
        changed["departments"] = tuple(d for d in self.departments if d in keep)
        return replace(self, **changed)


def load(path: Path | None, month: str) -> Past:
    """The history's view for ``month`` (an empty Past without a history or an earlier month)."""
    if path is None or not path.exists():
        return Past()
    from xlcrm.batch.history import reading

    with reading(path) as con:
        if con is None:
            return Past()
        stored = [
            r[0]
            for r in con.execute(
                "SELECT DISTINCT month FROM runs WHERE month < ? ORDER BY 1", [month]
            ).fetchall()
        ]
        if not stored:
            return Past()
        previous = stored[-1]
        year_ago = year_before(month) if year_before(month) in stored else None
        recent = stored[-(TREND_MONTHS - 1) :]
        wanted = sorted({*recent, *([year_ago] if year_ago else [])})
        return Past(
            previous=previous,
            year_ago=year_ago,
            customers=_query(
                con,
                CUSTOMERS,
                "SELECT department, identity, customer_code, name, category, computed_tier, computed_grade, "
                "annual_business, credit_limit FROM customers WHERE month = ?",
                [previous],
            ),
            credit=_query(
                con,
                CREDIT,
                'SELECT department, identity, customer_code, "limit", exposure FROM credit WHERE month = ?',
                [previous],
            ),
            hits=_query(
                con,
                HITS,
                "SELECT DISTINCT department, customer_code FROM findings WHERE month = ? "
                "AND code IN ('B401', 'B402') AND customer_code IS NOT NULL",
                [previous],
            ),
            keys=_query(
                con,
                KEYS,
                f"""
                SELECT c.month, c.department, count(*) AS key_accounts,
                       sum(k.collections) AS collections
                FROM customers c
                LEFT JOIN (
                    SELECT month, position, customer_code, sum(avg_monthly_collection) AS collections
                    FROM credit GROUP BY ALL
                ) k ON k.month = c.month AND k.position = c.position AND k.customer_code = c.customer_code
                WHERE c.category = '{KEY}' AND c.month IN (SELECT unnest(?))
                GROUP BY ALL
                """,
                [wanted],
            ),
            months=_query(
                con,
                MONTHS,
                "SELECT month, department, sum(customers), sum(admitted), sum(vip), sum(preferred), "
                "sum(limit_total), sum(exposure_total) FROM submissions WHERE month IN (SELECT unnest(?)) "
                "GROUP BY ALL",
                [wanted],
            ),
            families=_query(
                con,
                FAMILIES,
                "SELECT month, department, substr(code, 1, 1), severity, count(*) FROM findings "
                "WHERE month IN (SELECT unnest(?)) AND NOT coalesce(waived, false) GROUP BY ALL",
                [recent],
            ),
            withheld=_query(
                con,
                WITHHELD,
                "SELECT month, department FROM withheld WHERE month IN (SELECT unnest(?))",
                [wanted],
            )
            if _has_table(con, "withheld")
            else _frame(WITHHELD),
            departments=tuple(
                r[0]
                for r in con.execute(
                    "SELECT DISTINCT department FROM submissions WHERE month = ? AND department IS NOT NULL "
                    "ORDER BY 1",
                    [previous],
                ).fetchall()
            ),
            recent=tuple(recent),
        )


def _has_table(con: Any, name: str) -> bool:
    query = "SELECT count(*) FROM information_schema.tables WHERE table_name = ?"
    return bool(con.execute(query, [name]).fetchall()[0][0])


def _query(con: Any, schema: dict[str, Any], sql: str, parameters: list[Any]) -> pl.DataFrame:
    """A query's rows as a frame with ``schema``'s names and types."""
    frame = pl.DataFrame(con.sql(sql, params=parameters))
    frame.columns = list(schema)
    return frame.cast(schema)  # type: ignore[arg-type]
