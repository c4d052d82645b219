"""Statistics of the other forms for managers (POLICY §1.7; 003 §5.3): pure functions of a Context.

Complaints by type, channel and handler, the share answered within the response time, the
median time to first response and the satisfaction rate; expenses refused by E601; key
accounts visited within the window; discounts above the standard; the revenue plan's totals.
Each is None where its form is not in the submission. The department 汇总 sheet shows them
(xlcrm.annotate.writer); consolidation's 部门汇总 and the HTML report can reuse the same values.
They share their definitions with the rules (P501, E601, V103, K801), so a figure and the
findings behind it never disagree.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl

from xlcrm.context import Context
from xlcrm.forms import forms
from xlcrm.rules.complaints import DELAY, DUE, LATE, complaint_times
from xlcrm.rules.discounts import above_standard
from xlcrm.rules.expenses import refused_expenses
from xlcrm.rules.visits import VISITED, key_accounts

SATISFIED = ("满意", "基本满意")  # 满意率 = (满意 + 基本满意) / complaints surveyed


def share(part: int, whole: int) -> float | None:
    """``part / whole``, None when there is nothing to divide by."""
    return part / whole if whole else None


@dataclass(frozen=True, slots=True)
class ComplaintStats:
    """Complaints (投诉记录)."""

    total: int
    by_type: tuple[tuple[str, int], ...]  # in the declared order of 投诉类型
    by_channel: tuple[tuple[str, int], ...]  # in the declared order of 投诉渠道
    by_handler: tuple[tuple[str, int], ...]  # most complaints first
    by_satisfaction: tuple[tuple[str, int], ...]  # 满意 / 基本满意 / 不满意
    due: int  # answered, or unanswered past the response time at the end of the as-of date
    in_time: int  # of those, answered within the response time
    answered: int  # with a first response at or after 投诉时间
    median_hours: float | None  # median time to first response, in hours
    response_hours: float  # the policy's response time

    @property
    def in_time_share(self) -> float | None:
        """Answered within the response time, of the complaints whose response is due."""
        return share(self.in_time, self.due)

    @property
    def surveyed(self) -> int:
        """Complaints with a 满意度."""
        return sum(n for _, n in self.by_satisfaction)

    @property
    def satisfied(self) -> int:
        """满意 or 基本满意."""
        return sum(n for value, n in self.by_satisfaction if value in SATISFIED)

    @property
    def satisfaction_rate(self) -> float | None:
        """满意率: (满意 + 基本满意) / surveyed."""
        return share(self.satisfied, self.surveyed)


@dataclass(frozen=True, slots=True)
class ExpenseStats:
    """Expense claims (费用报销)."""

    claims: int
    amount: float
    refused: int  # E601: for customers not filed on the 费用日期
    refused_amount: float


@dataclass(frozen=True, slots=True)
class VisitStats:
    """Key accounts (重点客户) and their visits (回访记录)."""

    key_accounts: int
    visited: int  # visited within the window
    since: dt.date  # the window's first day
    days: int


@dataclass(frozen=True, slots=True)
class DiscountStats:
    """Key-account discounts (大客户优惠)."""

    discounts: int
    above_standard: int
    above_approved: int  # of those, with 总经理审批 = 是
    standard: float


@dataclass(frozen=True, slots=True)
class RevenueStats:
    """The revenue plan's totals (收益计划), in 万元."""

    projects: int
    contract_value: float
    expected_revenue: float
    profit: float


@dataclass(frozen=True, slots=True)
class Statistics:
    """Every statistic of the other forms (None where the form is absent)."""

    complaints: ComplaintStats | None
    expenses: ExpenseStats | None
    visits: VisitStats | None
    discounts: DiscountStats | None
    revenue: RevenueStats | None


def statistics(ctx: Context) -> Statistics:
    """All statistics of a checked submission."""
    return Statistics(
        complaint_stats(ctx), expense_stats(ctx), visit_stats(ctx), discount_stats(ctx), revenue_stats(ctx)
    )


def _counts(frame: pl.DataFrame, key: str, order: tuple[str, ...] = ()) -> tuple[tuple[str, int], ...]:
    """Non-blank values of ``key`` with their counts: declared values first, then most frequent."""
    counts = frame[key].drop_nulls().value_counts(sort=True, name="n")
    found = {str(value): int(n) for value, n in counts.iter_rows()}
    ordered = [(value, found.pop(value)) for value in order if value in found]
    return (*ordered, *sorted(found.items(), key=lambda item: (-item[1], item[0])))


def complaint_stats(ctx: Context) -> ComplaintStats | None:
    """Complaints by type, channel and handler; response in time; median response; satisfaction."""
    if (found := complaint_times(ctx)) is None:
        return None
    _, frame = found
    # a response before 投诉时间 (P503) is a wrong time, not a response: left out of the figures
    known = frame.filter(
        pl.col("received_at").is_not_null() & ~(pl.col(DELAY) < dt.timedelta(0)).fill_null(False)
    )
    due = known.filter(pl.col(DUE))
    answered = known.filter(pl.col(DELAY).is_not_null())
    median = answered[DELAY].dt.total_seconds().median() if answered.height else None
    allowed = {c.key: c.allowed for c in forms()["complaints"].columns}
    return ComplaintStats(
        total=frame.height,
        by_type=_counts(frame, "complaint_type", allowed["complaint_type"]),
        by_channel=_counts(frame, "channel", allowed["channel"]),
        by_handler=_counts(frame, "handler"),
        by_satisfaction=_counts(frame, "satisfaction", allowed["satisfaction"]),
        due=due.height,
        in_time=due.filter(~pl.col(LATE)).height,
        answered=answered.height,
        median_hours=None if median is None else float(median) / 3600,  # type: ignore[arg-type]
        response_hours=float(ctx.policy["complaints.response_hours"]),
    )


def expense_stats(ctx: Context) -> ExpenseStats | None:
    """Claims and their total; those E601 refuses and their total."""
    data = ctx.form("expenses")
    if data is None:
        return None
    refused = refused_expenses(ctx)
    blocked = refused[1] if refused is not None else data.frame.clear()
    return ExpenseStats(
        claims=data.frame.height,
        amount=float(data.frame["amount"].sum()),
        refused=blocked.height,
        refused_amount=float(blocked["amount"].sum()),
    )


def visit_stats(ctx: Context) -> VisitStats | None:
    """Key accounts (重点客户) and how many were visited within the window."""
    if (found := key_accounts(ctx)) is None:
        return None
    _, accounts, since = found
    days = int(ctx.policy["visits.key_account_days"])
    return VisitStats(accounts.height, int(accounts[VISITED].sum()), since, days)


def discount_stats(ctx: Context) -> DiscountStats | None:
    """Discounts, those above the standard, and of those the ones the 总经理 approved."""
    data = ctx.form("discounts")
    if data is None:
        return None
    above = data.frame.filter(above_standard(ctx))
    return DiscountStats(
        discounts=data.frame.height,
        above_standard=above.height,
        above_approved=above.filter(pl.col("approved_gm").eq(True)).height,
        standard=float(ctx.policy["discounts.standard_rate"]),
    )


def revenue_stats(ctx: Context) -> RevenueStats | None:
    """The revenue plan's totals: 合同额, 实际收入 and 利润额 (万元, as declared)."""
    data = ctx.form("revenue_plan")
    if data is None:
        return None
    frame = data.frame
    return RevenueStats(
        projects=frame.height,
        contract_value=float(frame["contract_value"].sum()),
        expected_revenue=float(frame["expected_revenue"].sum()),
        profit=float(frame["profit"].sum()),
    )
