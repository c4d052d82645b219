"""The other forms' statistics (xlcrm.stats), computed on workbooks with stated rows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.workbooks import AS_OF, write_case
from xlcrm.engine import Options, check
from xlcrm.stats import Statistics, statistics


def stats_of(path: Path) -> Statistics:
    result = check([path], Options(as_of=AS_OF))
    assert result.context is not None
    return statistics(result.context)


def test_absent_forms_have_no_statistics(tmp_path: Path) -> None:
    assert stats_of(write_case(tmp_path / "c.xlsx", {"客户档案": [{}]})) == Statistics(
        None, None, None, None, None
    )


def test_complaint_figures(tmp_path: Path) -> None:
    open_ = {"结案时间": None, "满意度": None}
    path = write_case(
        tmp_path / "c.xlsx",
        {
            "客户档案": [{}, {}, {}, {}, {}, {}],
            "投诉记录": [
                {"投诉时间": "2025-12-01 09:00", "首次响应时间": "2025-12-01 11:00", "满意度": "满意"},
                {"投诉时间": "2025-12-01 09:00", "首次响应时间": "2025-12-02 09:00", "满意度": "不满意"},
                {"投诉时间": "2025-12-01 09:00", "首次响应时间": "2025-12-03 09:00", "投诉类型": "服务态度"},
                {"投诉时间": "2025-12-01 09:00", "首次响应时间": None, **open_, "责任人": "刘洋"},  # late
                {
                    "投诉时间": "2025-12-31 12:00",
                    "首次响应时间": None,
                    **open_,
                    "投诉渠道": "邮件",
                },  # not yet due
                {"投诉时间": "2025-12-01 09:00", "首次响应时间": "2025-12-01 08:00"},  # P503: not counted
            ],
        },
    )
    c = stats_of(path).complaints
    assert c is not None
    assert c.total == 6
    assert c.by_type == (("产品质量", 5), ("服务态度", 1))
    assert c.by_channel == (("电话", 5), ("邮件", 1))
    assert c.by_handler == (("张伟", 5), ("刘洋", 1))
    assert (c.due, c.in_time, c.in_time_share) == (4, 2, 0.5)  # 2 h and exactly 24 h are in time
    assert (c.answered, c.median_hours) == (3, 24.0)  # median of 2, 24 and 48 hours
    assert c.by_satisfaction == (("满意", 3), ("不满意", 1))  # the 3rd and 6th keep BASE's 满意
    assert (c.surveyed, c.satisfied, c.satisfaction_rate) == (4, 3, 0.75)


def test_expense_visit_discount_and_revenue_figures(tmp_path: Path) -> None:
    path = write_case(
        tmp_path / "c.xlsx",
        {
            "客户档案": [{"客户类别": "重点客户"}, {"客户类别": "重点客户"}, {"客户类别": "重点客户"}, {}],
            "费用报销": [
                {"金额(元)": 100},
                {"客户编码": "C099", "金额(元)": 250.5},  # E601: not filed
                {"费用日期": dt.date(2025, 3, 1), "金额(元)": 49.5},  # E601: before C003's 备案日期
            ],
            "回访记录": [{"客户编码": "C001"}, {"客户编码": "C002", "回访日期": dt.date(2025, 9, 1)}],
            "大客户优惠": [
                {"优惠比率": "10%"},
                {"优惠比率": "12%", "总经理审批": "是"},
                {"优惠比率": 0.2},
            ],
            "收益计划": [{}, {"合同额(万元)": 50, "实际收入(万元)": 15, "利润额(万元)": 3}],
        },
    )
    s = stats_of(path)
    assert (
        s.expenses is not None and s.visits is not None and s.discounts is not None and s.revenue is not None
    )
    assert (s.expenses.claims, s.expenses.amount, s.expenses.refused, s.expenses.refused_amount) == (
        3,
        400,
        2,
        300,
    )
    assert (s.visits.key_accounts, s.visits.visited, s.visits.since) == (3, 1, dt.date(2025, 10, 2))
    assert (s.discounts.discounts, s.discounts.above_standard, s.discounts.above_approved) == (3, 2, 1)
    assert (s.revenue.projects, s.revenue.contract_value, s.revenue.expected_revenue, s.revenue.profit) == (
        2,
        150,
        45,
        9,
    )
