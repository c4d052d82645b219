"""Complaints: P501–P503 (001 日常 §14.1, 003 §5.2.3).

A complaint is answered in time when its first response comes at most 24 hours *(cfg)* after
it was received; an unanswered one is late once more than that has passed by the end of the
as-of date. The times come from `datetime` columns (POLICY §1.7).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import polars as pl

from xlcrm.compute import Phrase
from xlcrm.context import INDEX, Context
from xlcrm.diagnostics import Diagnostic
from xlcrm.registry import rule
from xlcrm.rules.common import cell_key
from xlcrm.submission import FormData

DELAY, LATE, DUE = "__delay", "__late", "__due"
RECEIVED, FIRST, CLOSED = pl.col("received_at"), pl.col("first_response_at"), pl.col("closed_at")


def day_end(as_of: dt.date) -> dt.datetime:
    """The end of the as-of date (midnight that follows it)."""
    return dt.datetime.combine(as_of + dt.timedelta(days=1), dt.time())


def complaint_times(ctx: Context) -> tuple[FormData, pl.DataFrame] | None:
    """Each complaint with its response delay and whether it is late (also for the statistics).

    Adds ``__delay`` (first response − received; null if unanswered), ``__due`` (answered, or
    the response time has run out by the end of the as-of date) and ``__late`` (P501; null
    where 投诉时间 is unknown).
    """
    if (found := ctx.indexed("complaints")) is None:
        return None
    form, frame = found
    limit = dt.timedelta(hours=float(ctx.policy["complaints.response_hours"]))
    waited = pl.lit(day_end(ctx.as_of)) - RECEIVED
    frame = frame.with_columns(
        (FIRST - RECEIVED).alias(DELAY),
        (FIRST.is_not_null() | (waited > limit)).alias(DUE),
        pl.when(FIRST.is_not_null()).then(limit < FIRST - RECEIVED).otherwise(waited > limit).alias(LATE),
    )
    return form, frame


def elapsed(delay: dt.timedelta) -> Phrase:
    """A delay in hours and minutes (and seconds where there are any)."""
    minutes, seconds = divmod(int(delay.total_seconds()), 60)
    hours, minutes = divmod(minutes, 60)
    zh, en = f"{hours} 小时 {minutes} 分", f"{hours} h {minutes} min"
    if seconds:
        zh, en = f"{zh} {seconds} 秒", f"{en} {seconds} s"
    return Phrase(zh, en)


@rule("P501")
def late_response(ctx: Context) -> Iterator[Diagnostic]:
    """P501: answered more than N hours after 投诉时间, or still unanswered past that."""
    if (found := complaint_times(ctx)) is None:
        return
    form, frame = found
    hours = ctx.policy["complaints.response_hours"]
    late = frame.filter(pl.col(LATE)).select(INDEX, "received_at", "first_response_at", DELAY)
    for index, received, first, delay in late.iter_rows():
        if first is None:
            response = Phrase(
                f"截至 {ctx.as_of.isoformat()} 日终仍未响应", f"still unanswered at the end of {ctx.as_of}"
            )
        else:
            took = elapsed(delay)
            response = Phrase(
                f"首次响应时间 {first:%Y-%m-%d %H:%M}，相隔 {took.zh}",
                f"first answered {first:%Y-%m-%d %H:%M}, {took.en} later",
            )
        key = cell_key(form, index, "first_response_at", "received_at")
        yield form.at("P501", index, key, received=received, response=response, hours=hours)


@rule("P502")
def closed_without_survey(ctx: Context) -> Iterator[Diagnostic]:
    """P502: a closed complaint (结案时间 filled) without a 满意度."""
    if (found := ctx.indexed("complaints")) is None:
        return
    form, frame = found
    unsurveyed = frame.filter(CLOSED.is_not_null() & pl.col("satisfaction").is_null())
    for index, closed in unsurveyed.select(INDEX, "closed_at").iter_rows():
        yield form.at("P502", index, cell_key(form, index, "satisfaction", "closed_at"), closed=closed)


@rule("P503")
def before_received(ctx: Context) -> Iterator[Diagnostic]:
    """P503: 首次响应时间 or 结案时间 earlier than 投诉时间 (each on its own cell)."""
    if (found := ctx.indexed("complaints")) is None:
        return
    form, frame = found
    for key in ("first_response_at", "closed_at"):
        early = frame.filter(pl.col(key) < RECEIVED).select(INDEX, key, "received_at")
        for index, value, received in early.iter_rows():
            column = form.form.column(key).zh
            yield form.at("P503", index, key, column=column, value=value, received=received)
