"""Tiers, quotas and stage evaluations: T201–T209 (000 §2, §3).

Rules use the computed tier; quotas count declared tiers (POLICY §3).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

import polars as pl

from xlcrm.compute import NO_PROBLEM, PREFERRED, TIERS, VIP, Phrase, score_total
from xlcrm.context import EVALUATION_ORDER, INDEX, Context, Row
from xlcrm.diagnostics import Diagnostic
from xlcrm.forms import IS_ADMITTED, is_admitted
from xlcrm.phrase import Candidate
from xlcrm.registry import rule
from xlcrm.rules.blacklist import blacklist_match
from xlcrm.rules.common import names_customers, percent
from xlcrm.submission import FormData


def evaluations_by_customer(ctx: Context) -> dict[str, list[Row]]:
    """Each customer's evaluation rows, oldest period first (computed once per check)."""
    if "evaluations" in ctx.cache:
        return ctx.cache["evaluations"]  # type: ignore[no-any-return]
    by_code: dict[str, list[Row]] = {}
    rows = ctx.rows("evaluation")
    if (found := ctx.indexed("evaluation")) is not None:
        ordered = found[1].filter(pl.col("customer_code").is_not_null()).sort(EVALUATION_ORDER)
        for index in ordered[INDEX].to_list():
            by_code.setdefault(rows[index]["customer_code"], []).append(rows[index])
    ctx.cache["evaluations"] = by_code
    return by_code


def latest_scores(ctx: Context) -> dict[str, float | None]:
    """Each customer's latest total (sum of the four scores), None where unknown (cached)."""
    if "scores" not in ctx.cache:
        ctx.cache["scores"] = {
            code: score_total(rows[-1]) for code, rows in evaluations_by_customer(ctx).items()
        }
    return ctx.cache["scores"]  # type: ignore[no-any-return]


@rule("T201")
def declared_tier(ctx: Context) -> Iterator[Diagnostic]:
    """T201: an admitted customer's declared tier differs from the computed one."""
    archive = ctx.form("archive")
    if archive is None:
        return
    latest = {code: rows[-1] for code, rows in evaluations_by_customer(ctx).items()}
    if not latest:
        return  # nothing evaluated: T209 says so
    for row in ctx.rows("archive"):
        declared, evaluation = row.get("tier"), latest.get(row.get("customer_code"))  # type: ignore[arg-type]
        if not is_admitted(row) or declared not in TIERS or evaluation is None:
            continue  # no evaluation: T209 says so
        if ctx.tier_of(row) in (None, declared):
            continue
        result = ctx.tier(row, evaluation)
        assert result is not None
        if TIERS.index(declared) < TIERS.index(result.tier):  # declared higher: what it lacks
            why = result.failed(declared)
        else:  # declared lower: the higher tier's conditions all hold
            why = (
                Phrase(f"满足{result.tier}全部条件", f"meets every condition of {result.tier}"),
                *result.met(result.tier),
            )
        yield archive.at("T201", row[INDEX], "tier", declared=declared, computed=result.tier, why=why)


def _over_quota(
    archive: FormData, base: int, holders: list[int], cap: float, scores: dict[str, float | None]
) -> tuple[int, list[Candidate]] | None:
    """(allowed, over-quota candidates) when ``holders`` (frame rows) exceed ``cap`` of ``base``.

    The candidates are the lowest-scoring holders beyond the quota (no latest total counts as
    lowest), each named by its 客户编码 (else its name, else its sheet and row) with that total.
    """
    allowed = math.floor(Fraction(str(cap)) * base)
    if len(holders) <= allowed:
        return None
    codes = archive.frame["customer_code"].gather(holders).to_list()
    everyone = [
        Candidate(customer, sheet, row, scores.get(code) if code is not None else None)
        for code, (customer, sheet, row) in zip(codes, archive.named(holders), strict=True)
    ]
    # equal totals in the order of their names (C1 before C10), not of their rendered texts
    everyone.sort(key=lambda c: (-1.0 if c.score is None else c.score, c.name("zh")))
    return allowed, everyone[: len(holders) - allowed]


def _quota_args(
    count: int, base: int, cap: float, allowed: int, candidates: list[Candidate]
) -> dict[str, Any]:
    return {
        "count": count,
        "base": base,
        "share": f"{count / base:.1%}",
        "cap": percent(cap),
        "allowed": allowed,
        "candidates": tuple(candidates),
    }


def _department_quota(ctx: Context, code: str, tier: str, cap_key: str) -> Iterator[Diagnostic]:
    if (found := ctx.indexed("archive")) is None:
        return
    archive, frame = found
    base = frame.filter(IS_ADMITTED)
    holders = base.filter(pl.col("tier") == tier)[INDEX].to_list()
    cap = float(ctx.policy[cap_key])
    over = _over_quota(archive, base.height, holders, cap, latest_scores(ctx))
    if over is not None:
        allowed, candidates = over
        yield archive.whole(code, **_quota_args(len(holders), base.height, cap, allowed, candidates))


@rule("T202")
def vip_quota(ctx: Context) -> Iterator[Diagnostic]:
    """T202: the department's VIP share is above the cap (declared tiers, admitted base)."""
    yield from _department_quota(ctx, "T202", VIP, "quotas.vip_share")


@rule("T203")
def preferred_quota(ctx: Context) -> Iterator[Diagnostic]:
    """T203: the department's 优选 share is above the cap."""
    yield from _department_quota(ctx, "T203", PREFERRED, "quotas.preferred_share")


def _product_quota(ctx: Context, code: str, tier: str, cap_key: str) -> Iterator[Diagnostic]:
    if (found := ctx.indexed("archive")) is None:
        return
    archive, frame = found
    cap = float(ctx.policy[cap_key])
    lines = (
        frame.filter(IS_ADMITTED)
        .select(INDEX, "tier", pl.col("products").list.unique(maintain_order=True))
        .explode("products")
        .drop_nulls("products")
    )
    counts = lines.group_by("products", maintain_order=True).agg(
        pl.len().alias("__n"), (pl.col("tier") == tier).sum().alias("__holders")
    )
    scores = None
    for product, members, held in counts.iter_rows():
        if held <= math.floor(Fraction(str(cap)) * members):
            continue
        scores = scores if scores is not None else latest_scores(ctx)
        holders = lines.filter((pl.col("products") == product) & (pl.col("tier") == tier))[INDEX].to_list()
        over = _over_quota(archive, members, holders, cap, scores)
        if over is not None:
            allowed, candidates = over
            args = _quota_args(held, members, cap, allowed, candidates)
            yield archive.whole(code, product=product, **args)


@rule("T204")
def vip_product_quota(ctx: Context) -> Iterator[Diagnostic]:
    """T204: a product line's VIP share is above the cap (in principle: a warning)."""
    yield from _product_quota(ctx, "T204", VIP, "quotas.vip_share")


@rule("T205")
def preferred_product_quota(ctx: Context) -> Iterator[Diagnostic]:
    """T205: a product line's 优选 share is above the cap."""
    yield from _product_quota(ctx, "T205", PREFERRED, "quotas.preferred_share")


@rule("T206")
def vip_downgrade(ctx: Context) -> Iterator[Diagnostic]:
    """T206: problems but still VIP; or a VIP's tier change later than N days after evaluation."""
    evaluation = ctx.form("evaluation")
    if evaluation is None:
        return
    days = int(ctx.policy["deadlines.vip_downgrade_days"])
    for rows in evaluations_by_customer(ctx).values():
        for previous, row in zip([None, *rows[:-1]], rows, strict=True):
            problems = tuple(row.get("problems") or ())
            if problems and problems != (NO_PROBLEM,) and row.get("current_tier") == VIP:
                detail = Phrase(
                    f"本期问题“{'、'.join(problems)}”，当前等级仍为VIP客户",
                    f"problems “{', '.join(problems)}” but the tier is still VIP客户",
                )
                yield evaluation.at("T206", row[INDEX], "current_tier", detail=detail, days=days)
            changed, evaluated = row.get("tier_changed_on"), row.get("evaluated_on")
            if (
                previous is None
                or previous.get("current_tier") != VIP
                or changed is None
                or evaluated is None
            ):
                continue
            if (changed - evaluated).days > days:
                detail = Phrase(
                    f"上期为VIP客户，等级调整日期 {changed} 比评价日期 {evaluated} 晚 {(changed - evaluated).days} 天",
                    f"VIP last period; the tier changed on {changed}, {(changed - evaluated).days} days after the evaluation on {evaluated}",
                )
                yield evaluation.at("T206", row[INDEX], "tier_changed_on", detail=detail, days=days)


@rule("T207")
def major_loss_not_blacklisted(ctx: Context) -> Iterator[Diagnostic]:
    """T207: 造成重大损失 = 是 but the customer matches no blacklist entry."""
    evaluation = ctx.form("evaluation")
    if evaluation is None:
        return
    archive_rows = {r.get("customer_code"): r for r in ctx.rows("archive")}
    for row in ctx.rows("evaluation"):
        if row.get("major_loss") is not True:
            continue
        customer = archive_rows.get(row.get("customer_code")) or {"customer_code": row.get("customer_code")}
        if not blacklist_match(ctx, customer):
            yield evaluation.at("T207", row[INDEX], "major_loss")


@rule("T208")
def total_mismatch(ctx: Context) -> Iterator[Diagnostic]:
    """T208: 总分 filled and not the sum of the four scores."""
    evaluation = ctx.form("evaluation")
    if evaluation is None:
        return
    for row in ctx.rows("evaluation"):
        total, expected = row.get("total_score"), score_total(row)
        if total is not None and expected is not None and abs(total - expected) > 1e-6:
            yield evaluation.at("T208", row[INDEX], "total_score", total=total, sum=expected)


@rule("T209")
def never_evaluated(ctx: Context) -> Iterator[Diagnostic]:
    """T209: an admitted customer with no 客户评价 row."""
    found, evaluation = ctx.indexed("archive"), ctx.form("evaluation")
    if found is None or evaluation is None or not names_customers(evaluation):
        return  # without the sheet (S009) or its 客户编码 column (S001), reported once
    archive, frame = found
    evaluated = evaluation.frame["customer_code"].drop_nulls().unique().implode()
    months = int(ctx.policy["deadlines.review_months"])
    missing = frame.filter(
        IS_ADMITTED & pl.col("customer_code").is_not_null() & ~pl.col("customer_code").is_in(evaluated)
    )
    for index in missing[INDEX]:
        yield archive.at("T209", index, "customer_code", months=months)
