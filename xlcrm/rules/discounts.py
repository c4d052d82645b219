"""Key-account discounts: K801–K803 (004 §2, §11–12).

Within the standard (10% *(cfg)*, the standard itself included) a discount is approved by the
大客户部 and filed with the 总经理; above it the 总经理 approves it. POLICY §3 says "without
总经理审批 = 是": an approval left blank is no approval (S002 also reports the blank cell), while
one that cannot be read is S003 alone. Discounts go to key accounts: 客户类别 重点客户.
"""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl

from xlcrm.context import INDEX, Context
from xlcrm.diagnostics import Diagnostic
from xlcrm.registry import rule
from xlcrm.rules.common import percent
from xlcrm.rules.visits import KEY_ACCOUNT
from xlcrm.submission import POSITION, TABLE

_NOISE = 1e-12  # a rate computed in Excel (=1/10) may differ from 0.1 in its last bit


def above_standard(ctx: Context) -> pl.Expr:
    """Whether a discount is above the policy's standard (the standard itself is within)."""
    return pl.col("discount_rate") > float(ctx.policy["discounts.standard_rate"]) + _NOISE


def _not_yes(key: str) -> pl.Expr:
    """Whether a 是/否 cell is not 是: 否, or blank."""
    return pl.col(key).eq_missing(True).not_()


@rule("K801")
def above_standard_without_gm(ctx: Context) -> Iterator[Diagnostic]:
    """K801: 优惠比率 above the standard and 总经理审批 not 是 (否 or blank)."""
    if (found := ctx.indexed("discounts")) is None:
        return
    form, frame = found
    standard = percent(float(ctx.policy["discounts.standard_rate"]))
    unapproved = frame.filter(above_standard(ctx) & _not_yes("approved_gm"))
    for index, rate in unapproved.select(INDEX, "discount_rate").iter_rows():
        yield form.at("K801", index, "approved_gm", rate=percent(rate), standard=standard)


@rule("K802")
def within_standard_unfiled(ctx: Context) -> Iterator[Diagnostic]:
    """K802: 优惠比率 within the standard and 大客户部审批 or 总经理备案 not 是 (on the first such cell)."""
    if (found := ctx.indexed("discounts")) is None:
        return
    form, frame = found
    standard = percent(float(ctx.policy["discounts.standard_rate"]))
    within = frame.filter(
        pl.col("discount_rate").is_not_null()
        & ~above_standard(ctx)
        & (_not_yes("approved_ka") | _not_yes("filed_gm"))
    )
    for index, rate, approved, filed, table, position in within.select(
        INDEX, "discount_rate", "approved_ka", "filed_gm", TABLE, POSITION
    ).iter_rows():
        missing = [  # 否 or blank; a cell that could not be read is S003's alone
            key
            for key, value in (("approved_ka", approved), ("filed_gm", filed))
            if value is not True and (table, position, key) not in form.unreadable
        ]
        if not missing:
            continue
        names = tuple(form.form.column(key).zh for key in missing)
        yield form.at("K802", index, missing[0], rate=percent(rate), standard=standard, missing=names)


@rule("K803")
def not_a_key_account(ctx: Context) -> Iterator[Diagnostic]:
    """K803: a discount for a customer whose 客户类别 is not 重点客户."""
    found, archive = ctx.indexed("discounts"), ctx.form("archive")
    if found is None or archive is None:
        return
    form, frame = found
    categories = (
        archive.frame.filter(pl.col("customer_code").is_not_null())
        .group_by("customer_code", maintain_order=True)
        .first()
        .select("customer_code", pl.col("category").alias("__category"))
    )
    others = frame.join(categories, on="customer_code").filter(pl.col("__category") != KEY_ACCOUNT)
    for index, category in others.sort(INDEX).select(INDEX, "__category").iter_rows():
        yield form.at("K803", index, "customer_code", category=category)
