"""A department workbook built the way staff really build one (issue 9).

Title rows above the header, the department's own sheet name (华东区客户档案2025), their own
header words (客户编号, 单位名称, 部门, 信用代码, 联系方式 …), 所属部门 and 客户类别 merged
down groups of rows (with a blank spacer row inside a merge), a hidden helper column, dates
typed as text in three layouts — and two real mistakes: a phone number one digit short and a
declared tier lower than the computed one (``PLANTED``). ``tests/data/make_fixtures.sh`` saves it with
LibreOffice as ``staff_libreoffice.xlsx``; ``tests/test_staff.py`` holds its exact findings.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from xlcrm.sample import credit_code

D = dt.date
ARCHIVE_SHEET = "华东区客户档案2025"
ARCHIVE_HEADERS = [
    "客户编号", "单位名称", "部门", "客户类型", "客户类别", "企业性质", "主管单位", "信用代码", "地址",
    "联系人", "联系方式", "邮箱", "经营品种", "医院等级", "床位数", "年业务量(万元)", "证照齐全",
    "经营资质齐全", "已签购销合同", "有违法记录", "首次接触日期", "建档日期", "客户等级", "最近评审日期",
    "档案更新日期", "业务员", "内部备注",
]  # fmt: skip
NAMES = [
    ("上海康复器材有限公司", "经销商"), ("杭州仁和医院", "医疗机构"), ("苏州安康医疗用品有限公司", "经销商"),
    ("南京福康贸易有限公司", "企业"), ("宁波海曙康复中心", "医疗机构"), ("无锡惠康器械有限公司", "经销商"),
    ("合肥安泰医疗器械有限公司", "经销商"), ("温州瑞安辅具有限公司", "企业"), ("常州康宁假肢有限公司", "经销商"),
    ("嘉兴博济医疗用品有限公司", "经销商"),
]  # fmt: skip
PLANTED = {
    "H004": "联系方式 1381234000: one digit short (S005)",
    "H005": "declared 合格类客户, but meets every 优选 condition (T201)",
}


def _customer(n: int) -> list[Any]:
    """Customer H00n: valid unless PLANTED says otherwise; H001 优选, H002 VIP, the rest 合格."""
    code = f"H{n:03d}"
    name, kind = NAMES[n - 1]
    hospital = kind == "医疗机构"
    tier = {1: "优选类客户", 2: "VIP客户"}.get(n, "合格类客户")
    phone = "1381234000" if code == "H004" else f"1381234{n:04d}"
    return [
        code, name, "华东销售部" if n == 1 else None, kind,
        {1: "重点客户", 4: "一般客户"}.get(n), "事业单位" if hospital else "民营", "", credit_code(30 + n, "310104"),
        f"华东某市某路{n}号", f"联系人{n}", phone, "", "假肢、矫形器",
        "三级甲等" if n == 2 else ("二级甲等" if hospital else ""), 600 if n == 2 else (220 if hospital else None),
        {1: 180, 2: 90, 5: 60}.get(n, 20 + n), "是", "是", "是", "否",
        f"2024年{n}月{n + 1}日", f"2024/{n}/{n + 3}", tier, f"2025.7.{n + 9}", f"2025年12月{n}日",
        "陈静", "老客户" if n % 3 == 0 else "",
    ]  # fmt: skip


# 部门 (C) merged over every customer, with a blank spacer row inside; 客户类别 (E) merged in
# two groups: written in each range's first cell only.
ARCHIVE: list[list[Any]] = (
    [_customer(n) for n in range(1, 4)] + [[None] * 27] + [_customer(n) for n in range(4, 11)]
)
ARCHIVE_MERGES = ("C4:C14", "E4:E6", "E8:E14")
HIDDEN_COLUMN = "AA"  # 内部备注: the department's own notes, hidden from view
EVALUATION_HEADERS = [
    "编号", "期间", "评价日期", "业务合作量得分", "应收款情况得分", "经营信誉得分", "忠诚度得分", "合计",
    "滞期付款次数", "逾期未提货次数", "有长期合作意愿", "本期问题", "造成重大损失", "评价后等级", "等级调整日期",
]  # fmt: skip
SCORES = {1: (22, 20, 15, 15), 2: (27, 26, 17, 17), 5: (21, 20, 15, 15)}
EVALUATION: list[list[Any]] = [
    [f"H{n:03d}", "2025年上半年", f"2025年7月{n + 9}日", *(scores := SCORES.get(n, (14, 14, 12, 12))),
     sum(scores), 0, 0, "是", "无", "否", {1: "优选类客户", 2: "VIP客户"}.get(n, "合格类客户"), None]
    for n in range(1, 11)
]  # fmt: skip
CREDIT_HEADERS = [
    "客户编号", "调查日期", "合作起始日期", "近两年有不良记录", "守法经营信守承诺", "近两年经营状况", "资金实力",
    "年度回款发货达标", "风险情形", "关键资料齐全", "信用等级", "授信类型", "有历史赊销预付", "授信额度(元)",
    "原信用额度(元)", "账期(天)", "月均发货额(元)", "月均回款额(元)", "抵押担保额(元)", "营销副总审批",
    "财务总监审批", "总经理审批", "占用额(元)", "上月占用额(元)", "上次欠款已结清", "合同截止日期",
]  # fmt: skip
CREDIT: list[list[Any]] = [
    ["H001", "2025年10月8日", "2020/5/1", "否", "是", "良好", "雄厚", "是", "无", "是", "A", "临时", "是", 50000,
     None, 30, 90000, 80000, None, "", "", "是", 20000, 20000, "是", "2026年6月30日"],
] + [
    [f"H{n:03d}", f"2025年10月{n + 8}日", "2023/3/1", "否", "是", "一般", "一般", "是", "无", "是", "B", "无",
     "否", None, None, None, 50000, 40000, None, "", "", "", 0, 0, "是", None]
    for n in range(2, 11)
]  # fmt: skip
BLACKLIST_HEADERS = ["单位名称", "信用代码", "范围", "部门", "列入日期", "列入原因", "审批人"]
BLACKLIST: list[list[Any]] = [
    ["宁波永昌贸易有限公司", "", "部门", "华东销售部", "2025年3月1日", "多次逾期未提货", "华东销售部 王经理"],
]


def write_staff(path: Path) -> Path:
    """Write the staff-made workbook (as openpyxl writes it; LibreOffice saves it again)."""
    book = Workbook()
    book.remove(book.active)
    archive = book.create_sheet(ARCHIVE_SHEET)
    archive.append(["华东区 客户档案（2025年12月）"])
    archive.append(["填表人：陈静    填表日期：2025年12月20日"])
    archive.merge_cells("A1:Z1")
    archive.merge_cells("A2:Z2")
    archive["A1"].font = Font(bold=True, size=14)
    archive["A1"].alignment = Alignment(horizontal="center")
    _table(archive, ARCHIVE_HEADERS, ARCHIVE)
    for cells in ARCHIVE_MERGES:
        archive.merge_cells(cells)
        archive[cells.split(":")[0]].alignment = Alignment(vertical="center")
    archive.column_dimensions[HIDDEN_COLUMN].hidden = True
    _table(book.create_sheet("客户评价"), EVALUATION_HEADERS, EVALUATION)
    _table(book.create_sheet("信用评定"), CREDIT_HEADERS, CREDIT)
    _table(book.create_sheet("黑名单"), BLACKLIST_HEADERS, BLACKLIST)
    params = book.create_sheet("参数")
    params.append(["部门", "华东销售部"])
    params.append(["基准日期", "2025年12月31日"])
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def _table(sheet: Any, headers: list[str], rows: list[list[Any]]) -> None:
    sheet.append(headers)
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(row)
    for line in sheet.iter_rows():
        for cell in line:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # text stays text
