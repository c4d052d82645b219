"""A small three-month history for the report tests: 2025-10, 2025-11 and 2025-12.

Every customer states its code, name and credit code, so a customer is the same from one month
to the next. What changes in December, and what each section must show for it:

- 销售一部: A1 (重点客户) is now over its limit (C307: 超额, 120,000 of 100,000; 50,000 last
  month); A2 is no longer a 重点客户 (a lost key account); A3 is gone; A4 is new, without a
  grant, and owes 5,000 where it owed 0 (C308: 无授信增长). It alone has the other forms:
  two complaints (6 h and 30 h to respond; 满意 and 不满意), two expense claims (one for a
  customer not filed: E601, 300 元), a visit to A1, a 15% discount for A1 (above 10%), and
  two revenue-plan projects (合同额 100 + 200, 实际收入 30 + 100, 利润额 6 + 10 万元).
- 销售二部: B1 is its VIP (1 of its 2 admitted customers: 50%, above the 15% cap, T202 every
  month); B1's limit is raised from 50,000 to 80,000; B2's contract ends on 2026-01-15 with
  20,000 outstanding (C312: 合同到期) and its survey is from 2025-08-01 (C313: 调查过期); B2 is
  on 销售二部's own blacklist since December (B402, a new hit).
- 销售三部 submitted in November only (missing in December: D106); 销售四部 is new in December.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from tests.workbooks import write_departments
from xlcrm.sample import credit_code

D, T = dt.date, dt.datetime
MOBILE, EMAIL = "13912345678", "wangfang@kangda.cn"
ADDRESS_MOBILE = "13712345678"  # a mobile typed into 地址


def customer(code: str, name: str, serial: int, **cells: Any) -> dict[str, Any]:
    """A 客户档案 row with its own code, name and credit code."""
    return {"客户编码": code, "客户名称": name, "统一社会信用代码": credit_code(serial), **cells}


KEY = {"客户类别": "重点客户"}


def credit(code: str, **cells: Any) -> dict[str, Any]:
    """A 信用评定 row for ``code``."""
    return {"客户编码": code, **cells}


def grant(limit: float, exposure: float, previous: float, kind: str = "长期", **cells: Any) -> dict[str, Any]:
    """The cells of a grant: type, limit, exposure now and last month, approvals."""
    return {
        "授信类型": kind, "信用额度(元)": limit, "当前占用额(元)": exposure, "上月占用额(元)": previous,
        "有历史赊销预付": "是", "营销副总审批": "是", "财务总监审批": "是", "总经理审批": "是",
        "月均发货额(元)": 200_000, "月均回款额(元)": 150_000, "抵押担保额(元)": 500_000,
        "回款期限(天)": 30 if kind == "长期" else 15, "上次欠款已结清": "是", "合同到期日": D(2026, 6, 30),
        **cells,
    }  # fmt: skip


def first(month: str) -> dict[str, Any]:
    """销售一部 in ``month``."""
    a1 = customer(
        "A1", "北京康达医疗器械有限公司", 101, **KEY, **{"年业务量(万元)": 200, "经营品种": "假肢、矫形器",
        "联系电话": MOBILE, "电子邮箱": EMAIL, "地址": f"北京市朝阳区 联系人手机 {ADDRESS_MOBILE}"},
    )  # fmt: skip
    december = month == "2025-12"
    a2 = customer("A2", "天津华康医疗器械有限公司", 102, **({} if december else KEY),
                  **{"年业务量(万元)": 100, "经营品种": "假肢"})  # fmt: skip
    a3 = customer("A3", "河北恒远贸易有限公司", 103, **{"年业务量(万元)": 50})
    a4 = customer("A4", "保定安康医疗用品有限公司", 104, **{"年业务量(万元)": 30})
    rows: dict[str, list[dict[str, Any]]] = {
        "客户档案": [a1, a2, a4] if december else [a1, a2, a3],
        "信用评定": [
            credit("A1", **grant(100_000, 120_000 if december else 50_000, 50_000)),
            credit("A2", **grant(30_000, 10_000, 10_000, "临时")),
            credit("A4", **{"当前占用额(元)": 5_000, "上月占用额(元)": 0})
            if december
            else credit("A3", **{"当前占用额(元)": 0}),
        ],
    }
    if december:
        rows.update(
            {
                "投诉记录": [
                    {"客户编码": "A1", "投诉时间": T(2025, 12, 1, 9), "首次响应时间": T(2025, 12, 1, 15),
                     "结案时间": T(2025, 12, 2, 9), "满意度": "满意"},
                    {"客户编码": "A2", "投诉时间": T(2025, 12, 2, 9), "首次响应时间": T(2025, 12, 3, 15),
                     "结案时间": T(2025, 12, 4, 9), "满意度": "不满意", "投诉渠道": "邮件", "责任人": "刘洋"},
                ],
                "费用报销": [
                    {"客户编码": "A1", "客户名称": "北京康达医疗器械有限公司", "费用日期": D(2025, 12, 5), "金额(元)": 500},
                    {"客户编码": None, "客户名称": "无名贸易公司", "费用日期": D(2025, 12, 6), "金额(元)": 300},
                ],
                "回访记录": [{"客户编码": "A1", "回访日期": D(2025, 12, 10), "报告日期": D(2025, 12, 11)}],
                "大客户优惠": [{"客户编码": "A1", "优惠比率": "15%", "总经理审批": "是"}],
                "收益计划": [
                    {"客户编码": "A1", "合同额(万元)": 100, "获取率": "30%", "实际收入(万元)": 30, "利润率": 0.2, "利润额(万元)": 6},
                    {"客户编码": "A2", "合同额(万元)": 200, "获取率": "50%", "实际收入(万元)": 100, "利润率": 0.1, "利润额(万元)": 10},
                ],
            }
        )  # fmt: skip
    return {"department": "销售一部", "rows": rows}


def second(month: str) -> dict[str, Any]:
    """销售二部 in ``month``."""
    december = month == "2025-12"
    ending = {"合同到期日": D(2026, 1, 15), "调查日期": D(2025, 8, 1)} if december else {}
    b2_credit = credit("B2", **grant(40_000, 20_000, 20_000, "临时", **ending))
    rows: dict[str, list[dict[str, Any]]] = {
        "客户档案": [
            customer("B1", "首都骨科医院", 201, **KEY, **{"客户类型": "医疗机构", "医院等级": "三级甲等",
                     "年业务量(万元)": 300, "经营品种": "矫形器", "客户等级": "VIP客户"}),
            customer("B2", "津南区康复中心", 202, **{"年业务量(万元)": 100}),
        ],
        "客户评价": [{"客户编码": "B1", "业务合作量得分": 28, "应收款情况得分": 27, "经营信誉得分": 18,
                      "忠诚度得分": 17, "总分": 90, "当前等级": "VIP客户"}],
        "信用评定": [credit("B1", **grant(80_000 if december else 50_000, 30_000, 30_000)), b2_credit],
        "黑名单": [{"客户编码": "B2", "客户名称": "津南区康复中心", "范围": "部门", "部门": "销售二部"}]
        if december
        else [],
    }  # fmt: skip
    return {"department": "销售二部", "rows": rows}


def third() -> dict[str, Any]:
    """销售三部 (November only)."""
    return {"department": "销售三部", "rows": {"客户档案": [customer("S1", "唐山博爱医院", 301)]}}


def fourth() -> dict[str, Any]:
    """销售四部 (December only)."""
    return {"department": "销售四部", "rows": {"客户档案": [customer("F1", "沧州惠民医疗器械有限公司", 401)]}}


MONTHS = ("2025-10", "2025-11", "2025-12")


def write_month(folder: Path, month: str) -> Path:
    """The month's submissions in ``folder / month``."""
    departments = [first(month), second(month)]
    if month == "2025-11":
        departments.append(third())
    if month == "2025-12":
        departments.append(fourth())
    write_departments(folder / month, departments)
    return folder / month
