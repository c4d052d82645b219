"""The policy's computations (POLICY §2) as pure functions of one row and the policy.

Each result carries its reasons as bilingual phrases, so a finding can say why in words staff
understand ("总分 72 < 85；滞期付款 1 次") and a computed column can show its basis. A result
is None where a value it needs is blank or unreadable: rules that need it skip the row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import polars as pl

from xlcrm.forms import forms
from xlcrm.phrase import Phrase as Phrase  # re-exported: the rules import it from here
from xlcrm.policy import Policy
from xlcrm.workdays import months_later

VIP, PREFERRED, QUALIFIED = "VIP客户", "优选类客户", "合格类客户"
TIERS = (VIP, PREFERRED, QUALIFIED)  # highest first
MEDICAL = "医疗机构"
NO_PROBLEM = "无"
SCORE_KEYS = ("volume_score", "receivable_score", "reputation_score", "loyalty_score")


def _num(value: float | int | None) -> str:
    if value is None:
        return "—"
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


@lru_cache(maxsize=64)
def hospital_rank(level: str | None) -> int | None:
    """0 for 三级甲等 (highest) … in declaration order; None if blank or unknown."""
    levels = forms()["archive"].column("hospital_level").allowed
    return levels.index(level) if level in levels else None


def score_total(evaluation: dict[str, Any]) -> float | None:
    """The sum of the four dimension scores, or None if any is blank or unreadable."""
    try:  # called for every row: one sum, and a blank (None) makes it fail
        return float(sum(evaluation.get(k) for k in SCORE_KEYS))  # type: ignore[misc]
    except TypeError:
        return None


_TIER_PREFIX = {VIP: "vip", PREFERRED: "preferred"}


@dataclass(frozen=True, slots=True)
class TierResult:
    """The computed tier; per tier, which conditions hold (phrases are built on demand)."""

    tier: str
    total: float
    holds: dict[str, tuple[bool | None, ...]]  # None: unknown (a scale fact could not be read)
    archive: dict[str, Any] = field(repr=False)
    evaluation: dict[str, Any] = field(repr=False)
    policy: Policy = field(repr=False)

    def failed(self, tier: str) -> tuple[Phrase, ...]:
        """The conditions of ``tier`` that do not hold (not those unknown: an unreadable fact)."""
        return tuple(self._phrase(tier, i) for i, ok in enumerate(self.holds[tier]) if ok is False)

    def met(self, tier: str) -> tuple[Phrase, ...]:
        """The conditions of ``tier`` that hold."""
        return tuple(self._phrase(tier, i) for i, ok in enumerate(self.holds[tier]) if ok)

    def _phrase(self, tier: str, index: int) -> Phrase:
        """Condition ``index`` of ``tier`` (in compute_tier's order) in words, held or not."""
        prefix, evaluation = _TIER_PREFIX[tier], self.evaluation
        if index == 0:
            return _total_phrase(self.total, self.policy[f"tiers.{prefix}_min_total"])
        if index == 1:
            return _scale_phrase(self.archive, self.policy, prefix, self.holds[tier][1] is True)
        if index == 2:
            return _late_phrase(evaluation["late_payments"], evaluation["overdue_pickups"])
        if index == 3:
            return (
                Phrase("有长期合作意愿", "wants long-term cooperation")
                if evaluation["long_term_intent"]
                else Phrase("无长期合作意愿", "no long-term intent")
            )
        problems = evaluation["problems"]
        if tuple(problems) == (NO_PROBLEM,):
            return Phrase("本期无问题", "no problems this period")
        return Phrase(f"本期问题：{'、'.join(problems)}", f"problems: {', '.join(problems)}")


@lru_cache(maxsize=1024)  # a few distinct totals and minimums, 100,000 rows
def _total_phrase(total: float, minimum: float) -> Phrase:
    sign = "≥" if total >= minimum else "<"
    return Phrase(f"总分 {_num(total)} {sign} {_num(minimum)}", f"total {_num(total)} {sign} {_num(minimum)}")


@lru_cache(maxsize=1024)
def _late_phrase(late: int, overdue: int) -> Phrase:
    if late == 0 and overdue == 0:
        return Phrase("无滞期付款、逾期未提货", "no late payment or overdue pick-up")
    return Phrase(
        f"滞期付款 {late} 次、逾期未提货 {overdue} 次",
        f"{late} late payment(s), {overdue} overdue pick-up(s)",
    )


@lru_cache(maxsize=32)
def _scale_standard(policy: Policy, prefix: str) -> tuple[str, str]:
    """The scale condition of a tier in words (depends on the policy only)."""
    min_level = policy[f"tiers.{prefix}_min_hospital_level"]
    min_beds, min_business = policy[f"tiers.{prefix}_min_beds"], policy[f"tiers.{prefix}_min_business"]
    return (
        f"{min_level}以上或床位≥{_num(min_beds)}的医疗机构，或年业务量≥{_num(min_business)}万元",
        f"a 医疗机构 of {min_level} or better or ≥{_num(min_beds)} beds, or ≥{_num(min_business)} (10k CNY) business a year",
    )


def _scale_phrase(archive: dict[str, Any], policy: Policy, prefix: str, ok: bool) -> Phrase:
    standard_zh, standard_en = _scale_standard(policy, prefix)
    if ok:
        return Phrase(f"规模达标（{standard_zh}）", f"scale met ({standard_en})")
    level, beds, business = archive.get("hospital_level"), archive.get("beds"), archive.get("annual_business")
    facts_zh = f"医院等级 {level or '—'}、床位 {_num(beds)}、年业务量 {_num(business)} 万元"
    facts_en = f"hospital level {level or '—'}, {_num(beds)} beds, business {_num(business)}"
    return Phrase(
        f"规模不足：{facts_zh}（需{standard_zh}）", f"scale not met: {facts_en} (needs {standard_en})"
    )


EVALUATED = "__evaluated"  # set on a 客户档案 row joined with an evaluation (tier_exprs)
TIER_COLUMNS = ("tier", "total", *(f"vip_{i}" for i in range(5)), *(f"preferred_{i}" for i in range(5)))
# The 客户档案 facts of the scale condition. A blank one meets no condition; one whose cell
# could not be read (S003–S006, S010) is unknown, and so may be the condition (POLICY §5).
SCALE_FACTS = ("annual_business", "customer_type", "beds", "hospital_level")


def invalid_flag(key: str) -> str:
    """The column ``tier_exprs`` reads to know that a row's ``key`` cell could not be read."""
    return f"__invalid_{key}"


def tier_exprs(policy: Policy) -> list[pl.Expr]:
    """The computed tier and each condition's outcome (POLICY §2).

    Over 客户档案 rows joined with each customer's latest 客户评价 (``EVALUATED`` marks a row
    that has one; per ``SCALE_FACTS``, ``invalid_flag`` columns): the highest tier whose
    conditions all hold, else 合格类客户. A condition on a blank evaluation cell (a score: the
    total, the late counts, the intent, the problems) or on a scale fact that could not be read
    is unknown, and the tier is null only where it depends on one (Kleene logic: a condition
    that fails decides); null, too, without an evaluation.
    """
    levels = forms()["archive"].column("hospital_level").allowed
    rank = pl.col("hospital_level").replace_strict(list(levels), list(range(len(levels))), default=None)

    def fact(condition: pl.Expr, key: str) -> pl.Expr:
        """Blank fails the condition; a cell that could not be read leaves it unknown (null)."""
        return pl.when(pl.col(invalid_flag(key))).then(None).otherwise(condition.fill_null(False))

    def scale(prefix: str) -> pl.Expr:
        required = hospital_rank(policy[f"tiers.{prefix}_min_hospital_level"])
        by_rank = fact(rank <= required, "hospital_level") if required is not None else pl.lit(False)
        beds = fact(pl.col("beds") >= policy[f"tiers.{prefix}_min_beds"], "beds")
        medical = fact(pl.col("customer_type") == MEDICAL, "customer_type")
        business = fact(
            pl.col("annual_business") >= policy[f"tiers.{prefix}_min_business"], "annual_business"
        )
        ok: pl.Expr = business | (medical & (beds | by_rank))  # Kleene logic: null where unknown
        return ok

    scored = pl.all_horizontal([pl.col(k).is_not_null() for k in SCORE_KEYS])
    total = pl.when(scored).then(pl.sum_horizontal(SCORE_KEYS).cast(pl.Float64))  # null: a score blank
    clean = (pl.col("late_payments") == 0) & (pl.col("overdue_pickups") == 0)
    problems = pl.col("problems")
    no_problems = (problems.list.len() == 1) & (problems.list.first() == NO_PROBLEM)
    vip = [
        total >= policy["tiers.vip_min_total"],
        scale("vip"),
        clean,
        pl.col("long_term_intent"),
        no_problems,
    ]
    # 优选 also needs the intent and a period without problems (000 §2.3a "当前无风险", c).
    preferred = [
        total >= policy["tiers.preferred_min_total"],
        scale("preferred"),
        clean,
        pl.col("long_term_intent"),
        no_problems,
    ]
    evaluated = pl.col(EVALUATED).fill_null(False)
    is_vip, is_preferred = pl.all_horizontal(vip), pl.all_horizontal(preferred)  # null: unknown
    tier = (
        pl.when(~evaluated | is_vip.is_null())
        .then(pl.lit(None, dtype=pl.Utf8))
        .when(is_vip)
        .then(pl.lit(VIP))
        .when(is_preferred.is_null())
        .then(pl.lit(None, dtype=pl.Utf8))
        .when(is_preferred)
        .then(pl.lit(PREFERRED))
        .otherwise(pl.lit(QUALIFIED))
    )
    return [
        tier.alias("tier"),
        pl.when(evaluated).then(total).alias("total"),
        *(e.alias(f"vip_{i}") for i, e in enumerate(vip)),
        *(e.alias(f"preferred_{i}") for i, e in enumerate(preferred)),
    ]


def tier_result(
    outcome: tuple[Any, ...], archive: dict[str, Any], evaluation: dict[str, Any], policy: Policy
) -> TierResult | None:
    """A row's TierResult from its ``TIER_COLUMNS`` outcome (None where the tier is unknown)."""
    tier, total, *held = outcome
    if tier is None:
        return None
    holds = {VIP: tuple(held[:5]), PREFERRED: tuple(held[5:])}
    return TierResult(tier, total, holds, archive, evaluation, policy)


# The grade's conditions (002 §15–18), declared once as polars expressions over 信用评定 and
# computed for every row at once; the Python side only turns a row's outcomes into words.
# C (002 §16): a default, poor operations, weak capital, or any 风险情形. 守法经营信守承诺 = 否 is
# no C condition: 002 §15(3) makes it an A condition, so alone it gives B (serious unlawful
# conduct and broken promises reach C through their 风险情形).
C_CONDITIONS = ("default_2y", "operations_2y", "capital")
_C_BAD: dict[str, object] = {"default_2y": True, "operations_2y": "不良", "capital": "不足"}
_C_PHRASES = {
    "default_2y": Phrase("近两年有不良记录", "a default in the last two years"),
    "operations_2y": Phrase("近两年经营状况不良", "poor operations in two years"),
    "capital": Phrase("资金实力不足", "insufficient capital"),
}
A_CONDITIONS = 6  # cooperation, lawful, operations, capital, collection, key data (002 §15)
GRADE_COLUMNS = (
    "grade",
    *(f"c_{k}" for k in C_CONDITIONS),
    "c_flags",
    *(f"a_{i}" for i in range(A_CONDITIONS)),
)


def grade_exprs(policy: Policy, as_of: dt.date) -> list[pl.Expr]:
    """The computed grade and each condition's outcome, per 信用评定 row (POLICY §2).

    C if any C condition holds; else unknown (null) if a C condition is blank; else A if every
    A condition holds, B if one fails, unknown if none fails but one is blank.
    """
    months = int(12 * policy["credit.min_cooperation_years"])
    flags = pl.col("red_flags").list.eval(pl.element().filter(pl.element() != NO_PROBLEM)).list.len() > 0
    c = [(pl.col(k) == pl.lit(_C_BAD[k])).alias(f"c_{k}") for k in C_CONDITIONS] + [flags.alias("c_flags")]
    a = [
        (months_later("coop_start", months) <= pl.lit(as_of)).alias("a_0"),
        pl.col("lawful").alias("a_1"),
        (pl.col("operations_2y") == "良好").alias("a_2"),
        (pl.col("capital") == "雄厚").alias("a_3"),
        pl.col("collection_met").alias("a_4"),
        pl.col("data_complete").alias("a_5"),
    ]
    is_c = pl.any_horizontal([e.fill_null(False) for e in c])
    maybe_c = pl.any_horizontal([pl.col(k).is_null() for k in (*C_CONDITIONS, "red_flags")])
    is_a = pl.all_horizontal(a)  # Kleene: false once one fails, null if none fails but one is blank
    grade = (
        pl.when(is_c)
        .then(pl.lit("C"))
        .when(maybe_c | is_a.is_null())
        .then(pl.lit(None, dtype=pl.Utf8))
        .when(is_a)
        .then(pl.lit("A"))
        .otherwise(pl.lit("B"))
        .alias("grade")
    )
    return [grade, *c, *a]


@dataclass(frozen=True, slots=True)
class GradeResult:
    """The computed credit grade; its reasons are put into words on demand."""

    grade: str
    outcomes: tuple[bool | None, ...]  # c_* then a_*, as GRADE_COLUMNS[1:]
    credit: dict[str, Any] = field(repr=False)
    years: float = field(repr=False)

    @property
    def reasons(self) -> tuple[Phrase, ...]:
        """Why: the C conditions that hold, or the A conditions (all held, or those failed)."""
        c, a = self.outcomes[: len(C_CONDITIONS) + 1], self.outcomes[len(C_CONDITIONS) + 1 :]
        if self.grade == "C":
            reasons = [_C_PHRASES[k] for k, held in zip(C_CONDITIONS, c, strict=False) if held]
            if c[-1]:
                flags = [f for f in self.credit.get("red_flags") or () if f != NO_PROBLEM]
                reasons.append(Phrase(f"风险情形：{'、'.join(flags)}", f"red flags: {', '.join(flags)}"))
            return tuple(reasons)
        operations, capital = self.credit.get("operations_2y"), self.credit.get("capital")
        held = self.grade == "A"
        return tuple(
            _a_phrase(i, held, self.years, operations, capital)
            for i, ok in enumerate(a)
            if held or ok is False  # not one left blank (None): a B is decided by those that fail
        )


def _a_phrase(index: int, holds: bool, years: float, operations: object, capital: object) -> Phrase:
    """The explanation of A condition ``index`` (in grade_exprs' order), held or not."""
    if index == 0:
        if holds:
            return Phrase(f"合作满 {_num(years)} 年", f"{_num(years)}+ year(s) of cooperation")
        return Phrase(f"合作不满 {_num(years)} 年", f"less than {_num(years)} year(s) of cooperation")
    if index == 2:
        return (
            Phrase("经营状况良好", "good operations")
            if holds
            else Phrase(f"近两年经营状况{operations}", f"operations {operations}")
        )
    if index == 3:
        return (
            Phrase("资金实力雄厚", "strong capital")
            if holds
            else Phrase(f"资金实力{capital}", f"capital {capital}")
        )
    return _A_FIXED[index][0 if holds else 1]


_A_FIXED = {
    1: (
        Phrase("守法经营、信守承诺", "lawful and keeps its promises"),
        Phrase("未能守法经营、信守承诺", "not lawful or not keeping its promises"),
    ),
    4: (
        Phrase("回款发货达标", "collection target met"),
        Phrase("年度回款发货未达标", "collection target not met"),
    ),
    5: (Phrase("关键资料齐全", "key data complete"), Phrase("关键资料不全", "key data incomplete")),
}


@dataclass(frozen=True, slots=True)
class Grant:
    """The maximum grant for a row's grade and grant type, and what bounds it."""

    limit: float | None  # None: a bound it needs is blank, or none applies (A grade, type 无)
    term: int | None  # None: no term applies (grant type 无)
    bound: Phrase
    vp_and_cfo: bool  # 营销副总 and 财务总监 must approve too (002 §26–27)

    def approvals(self, chair_column: bool) -> tuple[str, ...]:
        """The approval columns this grant needs, in sheet order (POLICY §2, 002 §26–27, §30).

        Every grant: 总经理, and 董事长 where the sheet has that column; B grants, A 临时 grants
        without credit history and every 长期 grant: 营销副总 and 财务总监 as well.
        """
        keys = ("approved_vp", "approved_cfo") if self.vp_and_cfo else ()
        return (*keys, "approved_gm", *(("approved_chair",) if chair_column else ()))


_BOUNDS = {
    "avg_monthly_shipment": Phrase("月均发货额", "average monthly shipment"),
    "avg_monthly_collection": Phrase("月均回款额", "average monthly collection"),
    "collateral": Phrase("抵押担保额", "collateral"),
}


def max_grant(credit: dict[str, Any], grade: str, policy: Policy) -> Grant:
    """The maximum limit and term (POLICY §2, 002 §24–28)."""
    kind = credit.get("credit_type")
    history = bool(credit.get("prior_credit"))
    if grade == "C":
        return Grant(0.0, 0, Phrase("C 级不予授信", "no credit for grade C"), False)
    keys: tuple[str, ...]
    term: int | None
    if grade == "B":  # the limit's bound whatever the grant type; the term's by type
        keys = ("avg_monthly_shipment", "avg_monthly_collection", "collateral")
        terms = {"长期": "credit.max_term_days", "临时": "credit.b_temporary_max_term_days"}
        term = policy[terms[kind]] if kind in terms else None
        vp_and_cfo = True
    elif kind in ("临时", "长期"):
        keys = (
            ("avg_monthly_collection",)
            if kind == "临时"
            else ("avg_monthly_shipment", "avg_monthly_collection")
        )
        term = policy["credit.max_term_days"]
        vp_and_cfo = kind == "长期" or not history
    else:  # an A-grade limit above 0 with grant type 无: POLICY §2 bounds only 临时 and 长期
        return Grant(None, None, Phrase("", ""), False)
    values = {k: credit.get(k) for k in keys}
    if any(v is None for v in values.values()):
        return Grant(None, term, Phrase("", ""), vp_and_cfo)
    smallest = min(keys, key=lambda k: values[k])  # type: ignore[arg-type, return-value]
    return Grant(float(values[smallest]), term, _BOUNDS[smallest], vp_and_cfo)  # type: ignore[arg-type]
