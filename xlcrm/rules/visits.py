"""Visits and return visits: V101–V103 (002 篇三 §5, 004 §20).

The 《客户回访报告表》 is due on the day after the visit ("结束回访的第二天"): a report dated
later is V101, and so is a blank report date (as the policy's table says, whatever the as-of date). A
重点客户 needs a visit within the last 90 days *(cfg)* — checked only in a submission that has
a 回访记录 sheet.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import polars as pl

from xlcrm.compute import Phrase
from xlcrm.context import INDEX, Context
from xlcrm.diagnostics import Diagnostic
from xlcrm.registry import rule
from xlcrm.rules.common import cell_key, names_customers
from xlcrm.submission import FormData

KEY_ACCOUNT = "重点客户"
LAST, VISITED = "__last_visit", "__visited"
# The day after the visit; a visit on 9999-12-31 (the last date Python has) is due that day.
_DUE = pl.min_horizontal(pl.col("visited_on") + pl.duration(days=1), pl.lit(dt.date.max)).alias("__due")


def key_accounts(ctx: Context) -> tuple[FormData, pl.DataFrame, dt.date] | None:
    """The 客户档案 rows of 重点客户 with their latest visit (also for the statistics).

    Adds ``__last_visit`` (the latest visit up to the as-of date) and ``__visited`` (within the
    window); also returns the window's first day. None where the submission has no 回访记录
    or no 客户档案.
    """
    visits = ctx.form("visits")
    if visits is None or (found := ctx.indexed("archive")) is None:
        return None
    archive, frame = found
    since = ctx.as_of - dt.timedelta(days=int(ctx.policy["visits.key_account_days"]))
    latest = (
        visits.frame.filter(pl.col("customer_code").is_not_null() & (pl.col("visited_on") <= ctx.as_of))
        .group_by("customer_code")
        .agg(pl.col("visited_on").max().alias(LAST))
    )
    accounts = (
        frame.filter((pl.col("category") == KEY_ACCOUNT) & pl.col("customer_code").is_not_null())
        .join(latest, on="customer_code", how="left")
        .with_columns((pl.col(LAST) >= since).fill_null(False).alias(VISITED))
        .sort(INDEX)
    )
    return archive, accounts, since


@rule("V101")
def report_late(ctx: Context) -> Iterator[Diagnostic]:
    """V101: 报告日期 blank, or later than the day after 回访日期 (POLICY's letter: blank is late)."""
    if (found := ctx.indexed("visits")) is None:
        return
    form, frame = found
    reported = pl.col("reported_on")
    late = frame.with_columns(_DUE).filter(reported.is_null() | (reported > pl.col("__due")))
    for index, visited, report, due in late.select(INDEX, "visited_on", "reported_on", "__due").iter_rows():
        if report is None:
            why = Phrase("未填写报告日期", "No report date")
        else:
            why = Phrase(
                f"报告日期 {report} 晚于回访日期 {visited} 的第二天",
                f"Reported on {report}, after the day after the visit on {visited}",
            )
        yield form.at("V101", index, cell_key(form, index, "reported_on", "visited_on"), why=why, due=due)


@rule("V102")
def report_not_reviewed(ctx: Context) -> Iterator[Diagnostic]:
    """V102: 主管审核 = 否."""
    if (found := ctx.indexed("visits")) is None:
        return
    form, frame = found
    for index in frame.filter(pl.col("reviewed").eq(False))[INDEX]:
        yield form.at("V102", index, "reviewed")


@rule("V103")
def key_account_not_visited(ctx: Context) -> Iterator[Diagnostic]:
    """V103: a 重点客户 without a visit in the last N days (where there is a 回访记录 sheet)."""
    visits = ctx.form("visits")
    if visits is None or not names_customers(visits) or (found := key_accounts(ctx)) is None:
        return  # without its 客户编码 column (S001) no visit names its customer
    archive, accounts, since = found
    days = int(ctx.policy["visits.key_account_days"])
    for index, last in accounts.filter(~pl.col(VISITED)).select(INDEX, LAST).iter_rows():
        if last is None:
            seen = Phrase("回访记录中没有该客户", "no visit on record")
        else:
            seen = Phrase(f"最近一次回访 {last}", f"last visited {last}")
        yield archive.at("V103", index, "customer_code", days=days, since=since, as_of=ctx.as_of, last=seen)
