"""Credit grade, grants and exposure: C301–C315 (002 ch.2–6).

Rules use the computed grade. When C302, C303 or C314 fires for a row, C304–C306 are not
reported for it: the grant itself is not allowed, so its approvals, size and term are moot.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import polars as pl

from xlcrm.compute import Phrase, max_grant
from xlcrm.context import INDEX, Context, Row
from xlcrm.diagnostics import Diagnostic
from xlcrm.forms import IS_ADMITTED
from xlcrm.registry import rule
from xlcrm.rules.common import names_customers, older_than
from xlcrm.submission import TABLE, FormData

GRANTS = ("临时", "长期")
_APPROVALS = (
    ("approved_vp", Phrase("营销副总审批", "营销副总 (VP)")),
    ("approved_cfo", Phrase("财务总监审批", "财务总监 (CFO)")),
    ("approved_gm", Phrase("总经理审批", "总经理 (GM)")),
    ("approved_chair", Phrase("董事长审批", "董事长 (chair)")),
)


def _amount(value: Any) -> float:
    return float(value) if value is not None else 0.0


def has_grant(row: Row) -> bool:
    """A 临时/长期 grant type or a positive limit."""
    return row.get("credit_type") in GRANTS or _amount(row.get("limit")) > 0


def _forbidden_grant(ctx: Context, form: FormData, row: Row, grade: str) -> Diagnostic | None:
    """C302, C303 or C314 for a row, in that order of precedence; None if the grant may exist.

    C302 is a grant to a C-grade customer (a 临时/长期 type or a limit above 0); an exposure
    without a grant is not, as 002 §34 lets it run down (C308/C309 watch it). C314 is a 长期
    grant to an A-grade customer without credit history (002 §26.1); a B-grade grant follows
    002 §27 (collateral and approvals) whatever its history.
    """
    if grade == "C":
        result = ctx.grade(row)
        why = result.reasons if result is not None else ()
        if row.get("credit_type") in GRANTS:
            what = Phrase(f"授信类型为{row['credit_type']}", f"the grant type is {row['credit_type']}")
            return form.at("C302", row[INDEX], "credit_type", what=what, why=why)
        if _amount(row.get("limit")) > 0:
            what = Phrase(f"信用额度为 {row['limit']:g} 元", f"the limit is {row['limit']:g}")
            return form.at("C302", row[INDEX], "limit", what=what, why=why)
        return None
    if grade == "B" and has_grant(row) and _amount(row.get("collateral")) <= 0:
        return form.at("C303", row[INDEX], "collateral")
    if grade == "A" and row.get("credit_type") == "长期" and row.get("prior_credit") is False:
        return form.at("C314", row[INDEX], "credit_type")
    return None


@rule("C301")
def declared_grade(ctx: Context) -> Iterator[Diagnostic]:
    """C301: the declared grade differs from the computed one."""
    form = ctx.form("credit")
    if form is None:
        return
    for row in ctx.rows("credit"):
        declared, computed = row.get("declared_grade"), ctx.grade_of(row)
        if computed is not None and declared is not None and declared != computed:
            result = ctx.grade(row)
            assert result is not None
            yield form.at(
                "C301",
                row[INDEX],
                "declared_grade",
                declared=declared,
                computed=result.grade,
                why=result.reasons,
            )


@rule("C302", "C303", "C304", "C305", "C306", "C314")
def grants(ctx: Context) -> Iterator[Diagnostic]:
    """C302/C303/C314 (forbidden grants) and, for allowed grants, C304–C306."""
    form = ctx.form("credit")
    if form is None:
        return
    for row in ctx.rows("credit"):
        grade = ctx.grade_of(row)
        if grade is None:
            continue
        forbidden = _forbidden_grant(ctx, form, row, grade)
        if forbidden is not None:
            yield forbidden
            continue
        if not has_grant(row):
            continue
        grant = max_grant(row, grade, ctx.policy)
        needed = grant.approvals(chair_column="approved_chair" in form.tables[row[TABLE]].columns)
        missing = [(key, phrase) for key, phrase in _APPROVALS if key in needed and row.get(key) is not True]
        if missing:
            yield form.at("C304", row[INDEX], missing[0][0], missing=tuple(p for _, p in missing))
        limit = row.get("limit")
        if grant.limit is not None and limit is not None and limit > grant.limit:
            yield form.at("C305", row[INDEX], "limit", limit=limit, max=grant.limit, bound=grant.bound)
        term = row.get("term_days")
        if grant.term is not None and term is not None and term > grant.term:
            yield form.at("C306", row[INDEX], "term_days", term=term, max=grant.term)


_GREW = pl.col("exposure") > pl.col("prev_exposure")


@rule("C307")
def exposure_above_limit(ctx: Context) -> Iterator[Diagnostic]:
    """C307: exposure above the limit on a 临时/长期 grant."""
    if (found := ctx.indexed("credit")) is None:
        return
    form, frame = found
    over = frame.filter(pl.col("credit_type").is_in(GRANTS) & (pl.col("exposure") > pl.col("limit")))
    for index, exposure, limit in over.select(INDEX, "exposure", "limit").iter_rows():
        yield form.at("C307", index, "exposure", exposure=exposure, limit=limit)


def _exposure_grew(ctx: Context, code: str, condition: pl.Expr) -> Iterator[Diagnostic]:
    if (found := ctx.indexed("credit")) is None:
        return
    form, frame = found
    grew = frame.filter(condition & _GREW).select(INDEX, "exposure", "prev_exposure")
    for index, exposure, previous in grew.iter_rows():
        yield form.at(code, index, "exposure", exposure=exposure, previous=previous)


@rule("C308")
def exposure_grew_without_grant(ctx: Context) -> Iterator[Diagnostic]:
    """C308: exposure grew for a customer whose grant type is 无."""
    yield from _exposure_grew(ctx, "C308", pl.col("credit_type") == "无")


@rule("C309")
def exposure_grew_with_open_debt(ctx: Context) -> Iterator[Diagnostic]:
    """C309: exposure grew while 上次欠款已结清 = 否."""
    yield from _exposure_grew(ctx, "C309", pl.col("prior_debt_cleared").eq(False))


@rule("C310")
def limit_raised(ctx: Context) -> Iterator[Diagnostic]:
    """C310: an adjusted limit above 原信用额度."""
    if (found := ctx.indexed("credit")) is None:
        return
    form, frame = found
    raised = frame.filter(pl.col("limit") > pl.col("previous_limit"))
    for index, limit, previous in raised.select(INDEX, "limit", "previous_limit").iter_rows():
        yield form.at("C310", index, "limit", limit=limit, previous=previous)


@rule("C311")
def total_above_receivables(ctx: Context) -> Iterator[Diagnostic]:
    """C311: the department's total limit above 年初应收账款余额 (only when that is given)."""
    form = ctx.form("credit")
    opening = next((r.get("opening_receivables") for r in ctx.rows("parameters")), None)
    if form is None or opening is None:
        return
    total = sum(_amount(r.get("limit")) for r in ctx.rows("credit"))
    if total > opening:
        yield form.whole("C311", total=total, opening=opening)


@rule("C312")
def contract_ending(ctx: Context) -> Iterator[Diagnostic]:
    """C312: 合同到期日 within N days of the as-of date (or past) with exposure outstanding."""
    if (found := ctx.indexed("credit")) is None:
        return
    form, frame = found
    window = int(ctx.policy["deadlines.contract_end_days"])
    ending = frame.with_columns(
        (pl.col("contract_end") - pl.lit(ctx.as_of)).dt.total_days().alias("__days")
    ).filter((pl.col("exposure") > 0) & (pl.col("__days") <= window))
    for index, end, days, exposure in ending.select(INDEX, "contract_end", "__days", "exposure").iter_rows():
        yield form.at("C312", index, "contract_end", end=end, days=days, exposure=exposure)


@rule("C313")
def survey_stale(ctx: Context) -> Iterator[Diagnostic]:
    """C313: 调查日期 older than N months."""
    yield from older_than(ctx, "C313", "credit", "surveyed_on", "deadlines.survey_months", "surveyed")


@rule("C315")
def never_rated(ctx: Context) -> Iterator[Diagnostic]:
    """C315: an admitted customer without a 信用评定 row, when the submission has that sheet."""
    found, credit = ctx.indexed("archive"), ctx.form("credit")
    if found is None or credit is None or not names_customers(credit):
        return  # without the sheet (S009) or its 客户编码 column (S001), reported once
    archive, frame = found
    rated = credit.frame["customer_code"].drop_nulls().unique().implode()
    missing = frame.filter(
        IS_ADMITTED & pl.col("customer_code").is_not_null() & ~pl.col("customer_code").is_in(rated)
    )
    for index in missing[INDEX]:
        yield archive.at("C315", index, "customer_code")
