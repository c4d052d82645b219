"""Generate benchmark workbooks: 客户档案 of N rows × 20 columns, about 1% bad cells; submissions; months.

Dates are consistent with the as-of date 2025-12-31 the benchmarks pass, so the policy's
date rules find nothing beyond the planted bad cells.

Run: python benchmarks/generate.py 100000 [--out benchmarks/data]
     python benchmarks/generate.py 2000 --departments 200   (a month, for bench_consolidate.py)
Files are cached by name (archive_<rows>.xlsx) and never committed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
from pathlib import Path

import xlsxwriter

from xlcrm.forms import forms
from xlcrm.sample import credit_code

KEYS = (
    "customer_code", "name", "department", "customer_type", "category", "nature", "uscc",
    "contact", "phone", "email", "beds", "annual_business", "licensed", "qualified",
    "contract_signed", "illegal_record", "first_contact", "filed_on", "tier", "last_review",
)  # fmt: skip
BAD_RATE = 0.01
DATA = Path(__file__).parent / "data"


def good(key: str, i: int, rng: random.Random) -> object:
    """A valid value for row ``i``."""
    day = dt.date(2020, 1, 1) + dt.timedelta(days=i % 1800)
    return {
        "customer_code": f"K{i:07d}",
        "name": f"客户{i:07d}医疗器械有限公司",
        "department": "销售一部",
        "customer_type": rng.choice(("经销商", "医疗机构", "企业")),
        "category": rng.choice(("重点客户", "一般客户")),
        "nature": rng.choice(("国有", "民营", "外资")),
        "uscc": credit_code(i % 9_999_999),
        "contact": "王磊",
        "phone": f"138{i % 100_000_000:08d}",
        "email": f"c{i}@example.com",
        "beds": rng.randrange(0, 1000),
        "annual_business": round(rng.uniform(0, 500), 2),
        "licensed": "是",
        "qualified": "是",
        "contract_signed": "是",
        "illegal_record": "否",
        "first_contact": day,
        "filed_on": day + dt.timedelta(days=2),
        "tier": rng.choice(("VIP客户", "优选类客户", "合格类客户")),
        "last_review": dt.date(2025, 7, 1) + dt.timedelta(days=i % 150),  # recent, as of 2025-12-31
    }[key]


def bad(key: str, i: int, rng: random.Random) -> object:
    """An invalid value of the kind staff really type."""
    return {
        "customer_code": f"K{max(i - 1, 0):07d}",  # duplicate
        "name": None,
        "department": None,
        "customer_type": "代理商",
        "category": "老客户",
        "nature": "私营",
        "uscc": credit_code(i % 9_999_999)[:-1] + "Y",
        "contact": None,
        "phone": f"138{i:06d}",
        "email": "wrong@",
        "beds": "十张",
        "annual_business": -5,
        "licensed": "也许",
        "qualified": None,
        "contract_signed": "未知",
        "illegal_record": None,
        "first_contact": "2025-02-30",
        "filed_on": "下周",
        "tier": "金牌客户",
        "last_review": "2025/13/01",
    }[key]


def generate(rows: int, out: Path = DATA, seed: int = 7) -> Path:
    """Write (or reuse) archive_<rows>.xlsx and return its path."""
    path = out / f"archive_{rows}.xlsx"
    if path.exists():
        return path
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    columns = {c.key: c for c in forms()["archive"].columns}
    book = xlsxwriter.Workbook(str(path.with_suffix(".tmp")), {"constant_memory": True})
    sheet = book.add_worksheet("客户档案")
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, [columns[k].zh for k in KEYS])
    for i in range(rows):
        for j, key in enumerate(KEYS):
            value = bad(key, i, rng) if rng.random() < BAD_RATE else good(key, i, rng)
            if value is None:
                continue
            if isinstance(value, dt.date):
                sheet.write_datetime(i + 1, j, value, date_format)
            elif isinstance(value, str):
                sheet.write_string(i + 1, j, value)
            else:
                sheet.write_number(i + 1, j, value)
    book.close()
    path.with_suffix(".tmp").rename(path)
    return path


def _row(form: str, values: dict[str, object]) -> list[object]:
    """A row in the form's column order from values by column key (a key the form lacks is an error)."""
    columns = [c.key for c in forms()[form].columns]
    unknown = set(values) - set(columns)
    if unknown:
        raise KeyError(f"{form} has no column {sorted(unknown)}")
    return [values.get(key) for key in columns]


def _evaluation_row(i: int, rng: random.Random) -> dict[str, object]:
    """A consistent evaluation: below 70 points, so the computed tier is the declared 合格类客户."""
    scores = [rng.randrange(5, 16) for _ in range(4)]
    return {
        "customer_code": f"K{i:07d}", "period": "2025H1", "evaluated_on": dt.date(2025, 7, 1),
        "volume_score": scores[0], "receivable_score": scores[1], "reputation_score": scores[2],
        "loyalty_score": scores[3], "total_score": sum(scores), "late_payments": 0, "overdue_pickups": 0,
        "long_term_intent": "是", "problems": "无", "major_loss": "否", "current_tier": "合格类客户",
    }  # fmt: skip


def _credit_row(i: int, rng: random.Random) -> dict[str, object]:
    """A consistent B-grade row: 一般 operations and capital, no grant, no exposure."""
    return {
        "customer_code": f"K{i:07d}", "surveyed_on": dt.date(2025, 10, 1), "coop_start": dt.date(2020, 1, 1),
        "default_2y": "否", "lawful": "是", "operations_2y": "一般", "capital": "一般", "collection_met": "是",
        "red_flags": "无", "data_complete": "是", "declared_grade": "B", "credit_type": "无", "prior_credit": "否",
        "avg_monthly_shipment": 150_000, "avg_monthly_collection": 120_000, "exposure": 0, "prev_exposure": 0,
        "prior_debt_cleared": "是", "contract_end": dt.date(2026, 6, 30),
    }  # fmt: skip


def generate_submission(rows: int, out: Path = DATA, seed: int = 11) -> Path:
    """Write (or reuse) submission_<rows>.xlsx: all four forms filled, ~1% findings.

    客户档案 has ~1% bad cells of every kind; 客户评价 and 信用评定 are consistent with it, so
    most rows pass and the findings stay near 1% of the cells, as in a real submission.
    """
    path = out / f"submission_{rows}.xlsx"
    if path.exists():
        return path
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    book = xlsxwriter.Workbook(str(path.with_suffix(".tmp")), {"constant_memory": True})
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    archive_columns = forms()["archive"].columns

    def put(sheet: object, r: int, c: int, value: object) -> None:
        if value is None:
            return
        if isinstance(value, dt.date):
            sheet.write_datetime(r, c, value, date_format)  # type: ignore[attr-defined]
        elif isinstance(value, str):
            sheet.write_string(r, c, value)  # type: ignore[attr-defined]
        else:
            sheet.write_number(r, c, value)  # type: ignore[attr-defined]

    archive = book.add_worksheet("客户档案")
    archive.write_row(0, 0, [c.zh for c in archive_columns])
    for i in range(rows):
        for j, column in enumerate(archive_columns):
            key = column.key
            if key == "tier":
                value = bad(key, i, rng) if rng.random() < BAD_RATE else "合格类客户"
            elif key in KEYS:
                value = bad(key, i, rng) if rng.random() < BAD_RATE else good(key, i, rng)
            else:
                value = {"products": "假肢", "address": "北京市", "updated_on": dt.date(2025, 11, 1)}.get(key)
            put(archive, i + 1, j, value)
    for name, make in (("客户评价", _evaluation_row), ("信用评定", _credit_row)):
        sheet = book.add_worksheet(name)
        key = "evaluation" if name == "客户评价" else "credit"
        sheet.write_row(0, 0, [c.zh for c in forms()[key].columns])
        for i in range(rows):
            for j, value in enumerate(_row(key, make(i, rng))):
                put(sheet, i + 1, j, value)
    blacklist = book.add_worksheet("黑名单")
    blacklist.write_row(0, 0, [c.zh for c in forms()["blacklist"].columns])
    for i in range(100):
        for j, value in enumerate(
            [f"K{i * 997:07d}", f"黑名单公司{i}", None, "公司", None, dt.date(2025, 1, 1), "拖欠货款", "李总"]
        ):
            put(blacklist, i + 1, j, value)
    book.close()
    path.with_suffix(".tmp").rename(path)
    return path


SHARED = 10  # customers each pair of departments has in common (the same credit code and name)


def department_name(index: int) -> str:
    """The name of department ``index`` (0-based): 销售001部 …"""
    return f"销售{index + 1:03d}部"


def _customer_id(department: int, i: int, rows: int) -> int:
    """A company-wide customer number: the first SHARED of each department are its pair's."""
    if i < SHARED:
        return 9_000_000 + (department // 2) * SHARED + i
    return department * rows + i


def generate_department(index: int, departments: int, rows: int, out: Path, seed: int = 13) -> Path:
    """One department's submission for a month: all four forms, ~1% findings, some shared customers.

    Customers 0–9 are the same companies as in the paired department (0↔1, 2↔3 …); in the odd
    one of a pair the first has 资金实力 不足 (another grade: D101) and the second an exposure in
    both (D102). Its 黑名单 lists, for the whole company, a customer of the next department
    (B401 there) and, for itself, one of the department after that (D103 there).
    """
    name = department_name(index)
    path = out / f"{name}_客户管理台账.xlsx"
    if path.exists():
        return path
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed * 100_003 + index)
    book = xlsxwriter.Workbook(str(path.with_suffix(".tmp")), {"constant_memory": True})
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})

    def put(sheet: object, r: int, c: int, value: object) -> None:
        if value is None:
            return
        if isinstance(value, dt.date):
            sheet.write_datetime(r, c, value, date_format)  # type: ignore[attr-defined]
        elif isinstance(value, str):
            sheet.write_string(r, c, value)  # type: ignore[attr-defined]
        else:
            sheet.write_number(r, c, value)  # type: ignore[attr-defined]

    ids = [_customer_id(index, i, rows) for i in range(rows)]
    archive = book.add_worksheet("客户档案")
    archive.write_row(0, 0, [c.zh for c in forms()["archive"].columns])
    for i, gid in enumerate(ids):
        for j, column in enumerate(forms()["archive"].columns):
            key = column.key
            if key == "tier":
                value = bad(key, gid, rng) if rng.random() < BAD_RATE else "合格类客户"
            elif key == "department":
                value = name
            elif key in KEYS:
                value = bad(key, gid, rng) if rng.random() < BAD_RATE else good(key, gid, rng)
            else:
                value = {"products": "假肢", "address": "北京市", "updated_on": dt.date(2025, 11, 1)}.get(key)
            put(archive, i + 1, j, value)
    evaluation = book.add_worksheet("客户评价")
    evaluation.write_row(0, 0, [c.zh for c in forms()["evaluation"].columns])
    for i, gid in enumerate(ids):
        for j, value in enumerate(_row("evaluation", _evaluation_row(gid, rng))):
            put(evaluation, i + 1, j, value)
    credit = book.add_worksheet("信用评定")
    credit.write_row(0, 0, [c.zh for c in forms()["credit"].columns])
    for i, gid in enumerate(ids):
        row = _credit_row(gid, rng)
        if index % 2 and i == 0:
            row["capital"] = "不足"  # 资金实力: grade C here, B in the pair's other department
        if i == 1:
            row["exposure"] = row["prev_exposure"] = (
                10_000  # 当前/上月占用额 without a grant in both departments
            )
        for j, value in enumerate(_row("credit", row)):
            put(credit, i + 1, j, value)
    blacklist = book.add_worksheet("黑名单")
    blacklist.write_row(0, 0, [c.zh for c in forms()["blacklist"].columns])
    listed = [
        (f"客户{_customer_id((index + 1) % departments, rows - 5, rows):07d}医疗器械有限公司", "公司", None),
        (f"客户{_customer_id((index + 2) % departments, rows - 6, rows):07d}医疗器械有限公司", "部门", name),
        (f"黑名单公司{index}", "公司", None),
    ]
    for r, (customer, scope, owner) in enumerate(listed, start=1):
        for j, value in enumerate(
            [None, customer, None, scope, owner, dt.date(2025, 1, 1), "拖欠货款", "李总"]
        ):
            put(blacklist, r, j, value)
    parameters = book.add_worksheet("参数")
    parameters.write_row(0, 0, ["部门", name])
    parameters.write_string(1, 0, "基准日期")
    parameters.write_datetime(1, 1, dt.date(2025, 12, 31), date_format)
    book.close()
    path.with_suffix(".tmp").rename(path)
    return path


def generate_month(departments: int, rows: int, out: Path = DATA) -> Path:
    """Write (or reuse) month_<departments>x<rows>/: one submission per department."""
    folder = out / f"month_{departments}x{rows}"
    for index in range(departments):
        generate_department(index, departments, rows, folder)
    return folder


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("rows", type=int, nargs="+")
    parser.add_argument("--out", type=Path, default=DATA)
    parser.add_argument("--submission", action="store_true", help="all four forms (for process)")
    parser.add_argument("--departments", type=int, help="a month of this many submissions of ROWS customers")
    arguments = parser.parse_args()
    if arguments.departments:
        print(generate_month(arguments.departments, arguments.rows[0], arguments.out))
        raise SystemExit
    for count in arguments.rows:
        print((generate_submission if arguments.submission else generate)(count, arguments.out))
