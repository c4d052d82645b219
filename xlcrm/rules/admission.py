"""Admission and archive upkeep: A101, A103, A104, A105 (000 §1.2, 篇三 §1.4, §3.1–3.2).

These run over every archive row, so they are polars expressions over the typed frame; only
the rows that fail become Python objects.
"""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl

from xlcrm.compute import Phrase
from xlcrm.context import INDEX, Context
from xlcrm.diagnostics import Diagnostic
from xlcrm.forms import IS_ADMITTED
from xlcrm.registry import rule
from xlcrm.rules.common import older_than
from xlcrm.workdays import months_later

# (column, the value that fails admission, explanation)
_CONDITIONS = (
    ("licensed", False, Phrase("证照不齐全", "licences incomplete")),
    ("qualified", False, Phrase("经营资质不齐全", "qualifications incomplete")),
    ("contract_signed", False, Phrase("未签购销合同", "no signed contract")),
    ("illegal_record", True, Phrase("有违法记录", "has an illegal record")),
)


@rule("A101")
def admission_conditions(ctx: Context) -> Iterator[Diagnostic]:
    """A101: an admitted customer with a failed admission condition, at that condition's cell."""
    if (found := ctx.indexed("archive")) is None:
        return
    archive, frame = found
    admitted = frame.filter(IS_ADMITTED)
    for key, failing, phrase in _CONDITIONS:
        for index in admitted.filter(pl.col(key) == failing)[INDEX]:
            yield archive.at("A101", index, key, condition=phrase)


@rule("A103")
def filed_late(ctx: Context) -> Iterator[Diagnostic]:
    """A103: 备案日期 after the N-th working day following 首次接触日期."""
    if (found := ctx.indexed("archive")) is None:
        return
    archive, frame = found
    days = int(ctx.policy["deadlines.filing_working_days"])
    dated = frame.filter(pl.col("filed_on") > pl.col("first_contact")).select(
        INDEX, "first_contact", "filed_on"
    )
    starts = dated["first_contact"].unique().to_list()
    deadlines = pl.DataFrame(
        {"first_contact": starts, "__deadline": [ctx.calendar.deadline(d, days) for d in starts]},
        schema={"first_contact": pl.Date, "__deadline": pl.Date},
    )
    late = dated.join(deadlines, on="first_contact").filter(pl.col("filed_on") > pl.col("__deadline"))
    for index, first, filed, deadline in late.select(
        INDEX, "first_contact", "filed_on", "__deadline"
    ).iter_rows():
        yield archive.at("A103", index, "filed_on", filed=filed, first=first, days=days, deadline=deadline)


@rule("A104")
def review_overdue(ctx: Context) -> Iterator[Diagnostic]:
    """A104: an admitted customer whose last review (档案 or latest 评价日期) is too old."""
    if (found := ctx.indexed("archive")) is None:
        return
    archive, frame = found
    months = int(ctx.policy["deadlines.review_months"])
    evaluation = ctx.form("evaluation")
    if evaluation is not None:
        latest = (
            evaluation.frame.filter(pl.col("customer_code").is_not_null())
            .group_by("customer_code")
            .agg(pl.col("evaluated_on").max().alias("__evaluated"))
        )
        frame = frame.join(latest, on="customer_code", how="left")
    else:
        frame = frame.with_columns(pl.lit(None, dtype=pl.Date).alias("__evaluated"))
    # never reviewed: T209 reports the missing evaluation
    stale = (
        frame.filter(IS_ADMITTED)
        .with_columns(pl.max_horizontal("last_review", "__evaluated").alias("__last"))
        .filter(pl.col("__last").is_not_null() & (months_later("__last", months) < ctx.as_of))
    )
    for index, last in stale.select(INDEX, "__last").iter_rows():
        yield archive.at("A104", index, "last_review", last=last, as_of=ctx.as_of, months=months)


@rule("A105")
def archive_stale(ctx: Context) -> Iterator[Diagnostic]:
    """A105: 档案更新日期 older than the policy's months."""
    yield from older_than(ctx, "A105", "archive", "updated_on", "deadlines.archive_update_months", "updated")
