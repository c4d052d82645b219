"""Admission and archive upkeep: A101, A103, A104, A105 (000 §1.2, 篇三 §1.4, §3.1–3.2)."""

from __future__ import annotations

from collections.abc import Iterator

from xlcrm.compute import Phrase
from xlcrm.context import INDEX, Context
from xlcrm.diagnostics import Diagnostic
from xlcrm.forms import ADMITTED_CATEGORIES, EXEMPT_TYPES
from xlcrm.registry import rule
from xlcrm.workdays import add_months

# (column, the value that fails admission, explanation)
_CONDITIONS = (
    ("licensed", False, Phrase("证照不齐全", "licences incomplete")),
    ("qualified", False, Phrase("经营资质不齐全", "qualifications incomplete")),
    ("contract_signed", False, Phrase("未签购销合同", "no signed contract")),
    ("illegal_record", True, Phrase("有违法记录", "has an illegal record")),
)


def is_admitted(row: dict[str, object]) -> bool:
    """客户类别 重点/一般客户 and 客户类型 not 零售客户/内部关联 (POLICY §1.1)."""
    return row.get("category") in ADMITTED_CATEGORIES and row.get("customer_type") not in EXEMPT_TYPES


@rule("A101")
def admission_conditions(ctx: Context) -> Iterator[Diagnostic]:
    """A101: an admitted customer with a failed admission condition, at that condition's cell."""
    archive = ctx.form("archive")
    if archive is None:
        return
    for row in ctx.rows("archive"):
        if not is_admitted(row):
            continue
        for key, failing, phrase in _CONDITIONS:
            if row.get(key) is failing:
                yield archive.at("A101", row[INDEX], key, condition=phrase)


@rule("A103")
def filed_late(ctx: Context) -> Iterator[Diagnostic]:
    """A103: 备案日期 after the N-th working day following 首次接触日期."""
    archive = ctx.form("archive")
    if archive is None:
        return
    days = int(ctx.policy["deadlines.filing_working_days"])
    for row in ctx.rows("archive"):
        first, filed = row.get("first_contact"), row.get("filed_on")
        if first is None or filed is None or filed <= first:
            continue
        deadline = ctx.calendar.deadline(first, days)
        if filed > deadline:
            yield archive.at(
                "A103", row[INDEX], "filed_on", filed=filed, first=first, days=days, deadline=deadline
            )


@rule("A104")
def review_overdue(ctx: Context) -> Iterator[Diagnostic]:
    """A104: an admitted customer whose last review (档案 or latest 评价日期) is too old."""
    archive = ctx.form("archive")
    if archive is None:
        return
    months = int(ctx.policy["deadlines.review_months"])
    latest: dict[str, object] = {}
    for row in ctx.rows("evaluation"):
        code, day = row.get("customer_code"), row.get("evaluated_on")
        if code is not None and day is not None and (code not in latest or day > latest[code]):  # type: ignore[operator]
            latest[code] = day
    for row in ctx.rows("archive"):
        if not is_admitted(row):
            continue
        dates = [d for d in (row.get("last_review"), latest.get(row.get("customer_code"))) if d is not None]  # type: ignore[arg-type]
        if not dates:
            continue  # never reviewed: T209 reports the missing evaluation
        last = max(dates)  # type: ignore[type-var]
        if add_months(last, months) < ctx.as_of:  # type: ignore[arg-type]
            yield archive.at("A104", row[INDEX], "last_review", last=last, as_of=ctx.as_of, months=months)


@rule("A105")
def archive_stale(ctx: Context) -> Iterator[Diagnostic]:
    """A105: 档案更新日期 older than the policy's months."""
    archive = ctx.form("archive")
    if archive is None:
        return
    months = int(ctx.policy["deadlines.archive_update_months"])
    for row in ctx.rows("archive"):
        updated = row.get("updated_on")
        if updated is not None and add_months(updated, months) < ctx.as_of:
            yield archive.at(
                "A105", row[INDEX], "updated_on", updated=updated, as_of=ctx.as_of, months=months
            )
