"""Expense claims: E601, E602 (000 篇三 §1.8.1, 002 篇三 §7.2).

An expense names its customer by 客户编码 or, where that is blank, by 客户名称 (normalised as
everywhere: trimmed, full-width folded, spaces collapsed). It is refused (E601) when no
客户档案 row matches, or when every match was filed (备案日期) after the 费用日期. A match with
an unknown 备案日期 or an expense without a readable 费用日期 is skipped: the rule needs both.
"""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl

from xlcrm.compute import Phrase
from xlcrm.context import INDEX, Context
from xlcrm.diagnostics import Diagnostic
from xlcrm.registry import rule
from xlcrm.submission import FormData

FOUND, FILED, IN_TIME, UNKNOWN = "__found", "__filed", "__in_time", "__unknown"
VISIT = "回访"


def refused_expenses(ctx: Context) -> tuple[FormData, pl.DataFrame] | None:
    """The expenses E601 refuses (also for the statistics), with ``__found`` and ``__filed``.

    ``__found`` is false where no customer matched; otherwise ``__filed`` is the earliest
    备案日期 of the matching customers, later than the 费用日期.
    """
    found, archive = ctx.indexed("expenses"), ctx.form("archive")
    if found is None or archive is None:  # no archive: S009 says so; nothing to compare with
        return None
    form, frame = found
    filed = archive.frame.select("customer_code", "name", pl.col("filed_on").alias(FILED)).with_columns(
        pl.lit(True).alias(FOUND)
    )
    expenses = frame.select(INDEX, "customer_code", "customer_name", "incurred_on")
    by_code = expenses.filter(pl.col("customer_code").is_not_null()).join(
        filed.select("customer_code", FILED, FOUND), on="customer_code", how="left"
    )
    by_name = expenses.filter(pl.col("customer_code").is_null() & pl.col("customer_name").is_not_null()).join(
        filed.select(pl.col("name").alias("customer_name"), FILED, FOUND), on="customer_name", how="left"
    )
    matched = (
        pl.concat([by_code, by_name])
        .group_by(INDEX, maintain_order=True)
        .agg(
            pl.col(FOUND).any(),
            (pl.col(FILED) <= pl.col("incurred_on")).any().alias(IN_TIME),
            (pl.col(FOUND) & (pl.col(FILED).is_null() | pl.col("incurred_on").is_null()))
            .any()
            .alias(UNKNOWN),
            pl.col(FILED).min(),
        )
        .filter(~pl.col(FOUND) | ~(pl.col(IN_TIME) | pl.col(UNKNOWN)))
    )
    return form, frame.join(matched.select(INDEX, FOUND, FILED), on=INDEX).sort(INDEX)


@rule("E601")
def unfiled_customer(ctx: Context) -> Iterator[Diagnostic]:
    """E601: an expense for a customer not filed in 客户档案 on its 费用日期."""
    if (found := refused_expenses(ctx)) is None:
        return
    form, refused = found
    rows = refused.select(INDEX, "customer_code", "customer_name", "incurred_on", FOUND, FILED)
    for index, code, name, incurred, matched, filed in rows.iter_rows():
        if not matched and code is not None:
            why = Phrase(f"客户编码“{code}”不在客户档案中", f"Customer code “{code}” is not in 客户档案")
            yield form.at("E601", index, "customer_code", why=why)
        elif not matched:
            why = Phrase(
                f"客户“{name}”不在客户档案中（按客户名称匹配）",
                f"Customer “{name}” is not in 客户档案 (matched by name)",
            )
            yield form.at("E601", index, "customer_name", why=why)
        else:
            who = code or name
            why = Phrase(
                f"客户“{who}”的备案日期 {filed} 晚于费用日期 {incurred}",
                f"Customer “{who}” was filed on {filed}, after the expense on {incurred}",
            )
            yield form.at("E601", index, "incurred_on", why=why)


@rule("E602")
def visit_expense_above_cap(ctx: Context) -> Iterator[Diagnostic]:
    """E602: a 回访 expense above the cap per visit (only once the policy file sets the cap)."""
    cap = ctx.policy["expenses.visit_cap"]
    if cap is None or (found := ctx.indexed("expenses")) is None:
        return
    form, frame = found
    over = frame.filter((pl.col("expense_type") == VISIT) & (pl.col("amount") > cap))
    for index, value in over.select(INDEX, "amount").iter_rows():
        yield form.at("E602", index, "amount", amount=value, cap=cap)
