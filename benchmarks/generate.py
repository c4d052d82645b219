"""Generate 客户档案 benchmark workbooks: N rows × 20 columns, about 1% bad cells.

Run: python benchmarks/generate.py 100000 [--out benchmarks/data]
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
        "last_review": day + dt.timedelta(days=100),
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


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("rows", type=int, nargs="+")
    parser.add_argument("--out", type=Path, default=DATA)
    arguments = parser.parse_args()
    for count in arguments.rows:
        print(generate(count, arguments.out))
