"""A realistic sample department workbook with a handful of deliberate problems.

Used by ``xlcrm demo`` (a newcomer's first run) and by the tests. The sheets look like what
staff really send: a title row above the header, an English header here and there, full-width
digits, 是/否 written as Y or √, dates typed as text — all of which xlcrm reads without
complaint — plus the mistakes listed in ``PLANTED``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from stdnum.cn import uscc

from xlcrm.forms import forms


def credit_code(serial: int, region: str = "110108") -> str:
    """A valid 统一社会信用代码 (GB 32100-2015 check digit) for sample data."""
    body = f"91{region}MA{serial:07d}"
    return body + uscc.calc_check_digit(body)


def wrong_check_digit(code: str) -> str:
    """The same code with its check digit changed."""
    return code[:-1] + ("0" if code[-1] != "0" else "1")


D = dt.date
# fmt: off
ARCHIVE: list[list[Any]] = [
    # 客户编码, 客户名称, 所属部门, 客户类型, 客户类别, 企业性质, 主管单位, 统一社会信用代码, 地址, 联系人, 联系电话, 电子邮箱, 经营品种, 医院等级, 床位数, 年业务量(万元), 证照齐全, 经营资质齐全, 已签购销合同, 有违法记录, 首次接触日期, 备案日期, 客户等级, 最近评审日期, 档案更新日期, 负责人
    ["C001", "北京康达医疗器械有限公司", "销售一部", "经销商", "重点客户", "民营", "", credit_code(1), "北京市海淀区中关村大街1号", "王磊", "13800138001", "wanglei@kangda.cn", "假肢、矫形器", "", None, 350, "是", "是", "是", "否", D(2024, 3, 1), D(2024, 3, 5), "VIP客户", D(2025, 7, 10), D(2025, 12, 8), "张伟"],
    ["C002", "华康医疗器械有限公司", "销售一部", "经销商", "一般客户", "民营", "", credit_code(2), "天津市南开区复康路8号", "李娜", "022-23456789", "", "假肢", "", None, "１２０", "Y", "Y", "Y", "N", "2024年5月6日", "2024/5/9", "VIP客户", D(2025, 7, 12), D(2025, 12, 2), "张伟"],
    ["C003", "首都骨科医院", "销售一部", "医疗机构", "重点客户", "事业单位", "北京市卫健委", credit_code(3), "北京市朝阳区工体南路5号", "赵敏", "1380013800", "", "矫形器", "三级甲等", 800, 260, "√", "√", "√", "×", D(2023, 9, 1), D(2023, 9, 4), "VIP客户", D(2025, 6, 30), D(2025, 12, 1), "刘洋"],
    ["C004", "津南区康复中心", "销售一部", "医疗机构", "一般客户", "事业单位", "天津市津南区卫健委", credit_code(4, "120112"), "天津市津南区咸水沽镇", "孙强", "400-810-8888", "", "矫形器", "二级甲等", 220, 80, "是", "是", "是", "否", D(2024, 1, 15), D(2024, 1, 18), "优选类客户", D(2025, 7, 1), D(2025, 8, 20), "刘洋"],
    ["C005", "河北恒远贸易有限公司", "销售一部", "企业", "一般客户", "民营", "", wrong_check_digit(credit_code(5, "130102")), "石家庄市长安区中山东路20号", "周杰", "0311-87654321", "", "辅具", "", None, 60, "是", "是", "是", "否", D(2024, 6, 3), D(2024, 6, 6), "合格类客户", D(2025, 7, 3), D(2025, 12, 15), "张伟"],
    ["C006", "张先生", "销售一部", "零售客户", "一般客户", "", "", "", "", "张先生", "13912345678", "", "", "", None, 2, "", "", "", "", D(2025, 2, 1), D(2025, 2, 3), "", None, D(2025, 11, 3), "刘洋"],
    ["C007", "保定安康医疗用品有限公司", "销售一部", "经销商", "一般客户", "民营", "", credit_code(7, "130602"), "保定市竞秀区东风路3号", "吴芳", "13700137007", "", "假肢、辅具", "", None, 45, "是", "是", "是", "否", D(2024, 8, 1), D(2024, 8, 2), "合格类客户", D(2025, 7, 20), D(2025, 12, 1), "张伟"],
    ["C007", "廊坊福瑞康复器材有限公司", "销售一部", "经销商", "一般客户", "民营", "", credit_code(8, "131002"), "廊坊市广阳区新华路9号", "郑浩", "13600136008", "", "辅具", "", None, 30, "是", "是", "是", "否", D(2024, 9, 1), D(2024, 9, 3), "合格类客户", D(2025, 7, 21), D(2025, 12, 2), "刘洋"],
    ["C008", "唐山博爱医院", "销售一部", "医疗机构", "一般客户", "民营", "", credit_code(9, "130203"), "唐山市路北区建设路100号", "冯丽", "0315-2345678", "", "矫形器", "二级乙等", 150, 40, "", "是", "是", "否", D(2025, 3, 3), D(2025, 3, 6), "合格类客户", D(2025, 7, 5), D(2025, 12, 9), "刘洋"],
    ["C009", "秦皇岛海滨康复器械有限公司", "销售一部", "经销商", "一般客户", "民营", "", credit_code(10, "130302"), "秦皇岛市海港区海滨路12号", "陈晨", "13500135010", "", "假肢", "", None, 25, "是", "是", "是", "否", D(2025, 2, 20), "2025-02-30", "合格类客户", D(2025, 7, 6), D(2025, 12, 10), "张伟"],
    ["C010", "沧州惠民医疗器械有限公司", "销售一部", "代理商", "一般客户", "民营", "", credit_code(11, "130902"), "沧州市运河区解放路7号", "褚楠", "13400134011", "", "辅具", "", None, 20, "是", "是", "是", "否", D(2024, 11, 1), D(2024, 11, 4), "合格类客户", D(2025, 7, 8), D(2025, 12, 12), "刘洋"],
    ["C011", "华康医疗器械有限公司 ", "销售一部", "经销商", "潜在客户", "", "", credit_code(12), "", "卫东", "13300133012", "", "", "", None, None, "", "", "", "", D(2025, 10, 10), D(2025, 10, 13), "", None, None, "张伟"],
    ["C012", "雄安新区康复辅具中心", "销售一部", "企业", "目标客户", "国有", "", credit_code(13, "130629"), "雄安新区容城县", "蒋琪", "13200132013", "jiang@xa-kf", "", "", None, None, "", "", "", "", D(2025, 11, 1), D(2025, 11, 4), "", None, None, "刘洋"],
]
EVALUATION: list[list[Any]] = [
    # 客户编码, 评价期间, 评价日期, 业务合作量得分, 应收款情况得分, 经营信誉得分, 忠诚度得分, 总分, 滞期付款次数, 逾期未提货次数, 有长期合作意愿, 本期问题, 造成重大损失, 当前等级, 等级调整日期
    ["C001", "2025H1", D(2025, 7, 10), 28, 27, 18, 18, 91, 0, 0, "是", "无", "否", "VIP客户", None],
    ["C002", "2025H1", D(2025, 7, 12), 22, 20, 16, 15, 73, 0, 0, "是", "无", "否", "优选类客户", None],
    ["C003", "2025H1", D(2025, 6, 30), 27, 26, 17, 17, 87, 0, 0, "是", "无", "否", "VIP客户", None],
    ["C004", "2025H1", D(2025, 7, 1), 20, 22, 15, 14, 71, 0, 0, "是", "无", "否", "优选类客户", None],
    ["C005", "2025H1", D(2025, 7, 3), 15, 18, 12, 12, 57, 1, 0, "是", "付款不及时", "是", "合格类客户", None],
    ["C007", "2025H1", D(2025, 7, 20), 35, 15, 12, 10, 72, 0, 0, "否", "无", "否", "合格类客户", None],
    ["C008", "2025H1", D(2025, 7, 5), 12, 14, 10, 10, 46, 0, 1, "是", "合同执行差", "否", "合格类客户", None],
    ["C009", "2025年上半年", D(2025, 7, 6), 10, 12, 10, 10, 42, 0, 0, "是", "无", "否", "合格类客户", None],
    ["C099", "2025H1", D(2025, 7, 9), 10, 10, 10, 10, 40, 0, 0, "是", "无", "否", "合格类客户", None],
]
CREDIT: list[list[Any]] = [
    # 客户编码, 调查日期, 合作起始日期, 近两年有不良记录, 守法经营信守承诺, 近两年经营状况, 资金实力, 年度回款发货达标, 风险情形, 关键资料齐全, 信用等级, 授信类型, 有历史赊销预付, 信用额度(元), 原信用额度(元), 回款期限(天), 月均发货额(元), 月均回款额(元), 抵押担保额(元), 营销副总审批, 财务总监审批, 总经理审批, 董事长审批, 当前占用额(元), 上月占用额(元), 上次欠款已结清, 合同到期日
    ["C001", D(2025, 10, 8), D(2020, 5, 1), "否", "是", "良好", "雄厚", "是", "无", "是", "A", "长期", "是", 700000, None, 30, 800000, 600000, None, "是", "是", "是", "是", 320000, 300000, "是", D(2026, 4, 30)],
    ["C002", D(2025, 10, 9), D(2022, 3, 1), "否", "是", "良好", "一般", "是", "无", "是", "B", "临时", "否", 100000, None, 15, 150000, 120000, 200000, "是", "否", "是", "是", 80000, 60000, "是", D(2026, 3, 31)],
    ["C003", D(2025, 10, 15), D(2019, 1, 1), "否", "是", "良好", "雄厚", "是", "无", "是", "A", "无", "否", None, None, None, 500000, 450000, None, "", "", "", "", 0, 0, "是", D(2026, 6, 30)],
    ["C004", D(2025, 10, 10), D(2021, 4, 1), "否", "是", "一般", "一般", "是", "无", "是", "B", "无", "是", None, None, None, 90000, 85000, None, "", "", "", "", 0, 0, "是", None],
    ["C005", D(2025, 10, 1), D(2023, 6, 1), "是", "是", "一般", "一般", "否", "无", "是", "D", "临时", "否", 50000, None, 15, 60000, 40000, None, "是", "否", "否", "", 30000, 20000, "否", D(2026, 1, 15)],
    ["C007", D(2025, 10, 2), D(2024, 8, 1), "否", "是", "一般", "一般", "是", "无", "是", "A", "无", "否", None, None, None, 80000, 70000, None, "", "", "", "", 0, 0, "是", D(2026, 7, 31)],
    ["C008", D(2025, 10, 12), D(2024, 3, 1), "否", "是", "一般", "一般", "是", "无", "是", "B", "无", "否", None, None, None, 40000, 35000, None, "", "", "", "", 0, 0, "是", None],
    ["C009", D(2025, 10, 12), D(2025, 2, 20), "否", "是", "一般", "一般", "是", "无", "是", "B", "无", "否", None, None, None, 20000, 20000, None, "", "", "", "", 0, 0, "是", None],
]
BLACKLIST: list[list[Any]] = [
    # 客户编码, 客户名称, 统一社会信用代码, 范围, 部门, 列入日期, 原因, 批准人
    ["", "承德诚信医疗器械有限公司", credit_code(21, "130802"), "公司", "", D(2024, 12, 1), "长期拖欠货款，造成重大损失", "营销事业部 李总"],
    ["", "邯郸永昌贸易有限公司", "", "部门", "销售一部", D(2025, 4, 1), "合同执行差，多次逾期未提货", ""],
    ["", "唐山博爱医疗集团", credit_code(9, "130203"), "公司", "", D(2025, 6, 1), "套取货款，造成重大损失", "营销事业部 李总"],
]
T = dt.datetime
COMPLAINTS: list[list[Any]] = [
    # 投诉编号, 客户编码, 投诉时间, 投诉渠道, 投诉类型, 投诉内容, 责任人, 首次响应时间, 处理方式, 结案时间, 满意度
    ["TS-2025-001", "C001", T(2025, 11, 3, 9, 15), "电话", "产品质量", "假肢接受腔尺寸与订单不符", "张伟", T(2025, 11, 3, 14, 0), "补偿方案", T(2025, 11, 6, 17, 30), "满意"],
    ["TS-2025-002", "C002", "2025-11-20 16:40", "邮件", "交付物流", "到货比约定晚三天", "刘洋", "2025-11-22 10:05", "书面道歉", "2025/11/25 11:00", "基本满意"],
    ["TS-2025-003", "C004", T(2025, 12, 5, 10, 0), "在线", "服务态度", "客服回复不耐烦", "张伟", T(2025, 12, 5, 11, 20), "口头道歉和解释", T(2025, 12, 8, 9, 0), ""],
    ["TS-2025-004", "C007", T(2025, 12, 29, 8, 30), "面谈", "价格结算", "结算价格与合同约定不符", "刘洋", None, "", None, ""],
    ["TS-2025-005", "C003", "２０２５－１２－１０　０９：００", "电话", "产品质量", "矫形器配件缺失", "张伟", T(2025, 12, 10, 8, 0), "改进措施", T(2025, 12, 12, 16, 0), "满意"],
]
EXPENSES: list[list[Any]] = [
    # 报销单号, 费用日期, 报销人, 客户编码, 客户名称, 费用类型, 金额(元)
    ["BX-2025-101", D(2025, 11, 5), "张伟", "C001", "北京康达医疗器械有限公司", "招待", 1280],
    ["BX-2025-102", D(2025, 10, 12), "刘洋", "", "雄安新区康复辅具中心", "礼品", 600],
    ["BX-2025-103", D(2025, 12, 3), "刘洋", "", "石家庄新康医疗器械有限公司", "差旅", 950],
    ["BX-2025-104", D(2025, 12, 15), "刘洋", "C003", "首都骨科医院", "回访", "1,500"],
    ["BX-2025-105", "2025年12月18日", "张伟", "C004", "津南区康复中心", "招待", "３６０"],
]
VISITS: list[list[Any]] = [
    # 客户编码, 回访日期, 回访方式, 回访人, 回访目的, 报告日期, 主管审核
    ["C001", D(2025, 12, 1), "上门", "李娜", "了解假肢使用情况", D(2025, 12, 2), "是"],
    ["C002", D(2025, 11, 18), "电话", "李娜", "回访投诉处理结果", D(2025, 11, 21), "Y"],
    ["C004", D(2025, 12, 10), "视频", "王磊", "", None, "否"],
    ["C003", D(2025, 8, 20), "上门", "李娜", "年度回访", D(2025, 8, 21), "是"],
]
REVENUE_PLAN: list[list[Any]] = [
    # 项目名称, 客户编码, 合同额(万元), 获取率, 实际收入(万元), 利润率, 利润额(万元)
    ["康复中心假肢配置项目", "C004", 120, "30%", 36, "15%", 5.4],
    ["骨科医院矫形器集中采购", "C003", 300, "４５％", 135, 0.2, 27],
    ["经销网点扩建", "C001", 80, 0.5, 45, 0.1, 4.5],
    ["康复辅具租赁试点", "", 50, 30, 15, 0.2, 3.5],
]
DISCOUNTS: list[list[Any]] = [
    # 客户编码, 优惠比率, 优惠方式, 开始日期, 结束日期, 大客户部审批, 总经理备案, 总经理审批
    ["C001", "8%", "折扣", D(2025, 1, 1), D(2025, 12, 31), "是", "是", "否"],
    ["C003", "15%", "返利", D(2025, 7, 1), D(2026, 6, 30), "是", "是", "否"],
    ["C003", 0.05, "赠品", D(2025, 10, 1), D(2025, 12, 31), "否", "是", "否"],
    ["C002", 0.06, "折扣", D(2025, 9, 1), D(2026, 2, 28), "是", "是", "否"],
]
WAIVERS: list[list[Any]] = [
    # 规则代码, 客户编码, 理由, 批准人, 批准日期, 到期日期
    ["T204", "", "单品种客户数少，品种配额按部门统一控制", "营销事业部 王总", D(2025, 10, 1), D(2026, 6, 30)],
    ["C302", "C005", "老客户，临时周转", "张伟", D(2025, 11, 1), None],
]
# fmt: on

# The deliberate problems, as (code, sheet, cell) in report order: what `xlcrm demo` shows.
PLANTED = [
    ("T202", "客户档案", None),  # 3 VIP of 10 admitted > 15%: C002 and C003 over the quota
    ("T204", "客户档案", None),  # 假肢: VIP share above 15% (waived by the 豁免 sheet)
    ("T204", "客户档案", None),  # 矫形器: likewise (waived)
    ("T201", "客户档案", "W5"),  # C002 declared VIP; computed 优选 (总分 73 < 85; scale)
    ("V103", "客户档案", "A6"),  # C003, a 重点客户, last visited 2025-08-20: more than 90 days ago
    ("S005", "客户档案", "K6"),  # C003 联系电话 has 10 digits
    ("A104", "客户档案", "X6"),  # C003 last reviewed 2025-06-30, more than 6 months before
    ("A105", "客户档案", "Y7"),  # C004 archive not updated since 2025-08-20
    ("A102", "客户档案", "H8"),  # C005 统一社会信用代码 check digit
    ("S007", "客户档案", "A11"),  # C007 twice
    ("B401", "客户档案", "H12"),  # C008 on the company blacklist by its credit code
    ("S002", "客户档案", "Q12"),  # C008 证照齐全 blank (admitted customer)
    ("S003", "客户档案", "V13"),  # C009 备案日期 2025-02-30
    ("C315", "客户档案", "A14"),  # C010 admitted but never rated (no 信用评定 row)
    ("T209", "客户档案", "A14"),  # C010 admitted but never evaluated
    ("S004", "客户档案", "D14"),  # C010 客户类型 代理商
    ("S007", "客户档案", "B15"),  # C011 name equal to C002's after trimming
    ("S005", "客户档案", "L16"),  # C012 e-mail without a top-level domain
    ("T207", "客户评价", "M6"),  # C005 caused a major loss, not blacklisted
    ("S006", "客户评价", "D7"),  # C007 业务合作量得分 35 > 30
    ("S008", "客户评价", "A10"),  # C099 not in 客户档案
    ("C305", "信用评定", "N2"),  # C001 limit 700,000 > 600,000 (月均回款额)
    ("C304", "信用评定", "U3"),  # C002 B-grade grant without 财务总监 approval
    ("S004", "信用评定", "K6"),  # C005 信用等级 D
    ("C302", "信用评定", "L6"),  # C005 grade C (default in 2 years) with a 临时 grant
    ("C309", "信用评定", "X6"),  # C005 exposure grew, previous debt open
    ("C312", "信用评定", "AA6"),  # C005 contract ends in 15 days with exposure
    ("C301", "信用评定", "K7"),  # C007 declared A; computed B
    ("B403", "黑名单", "H3"),  # 批准人 missing
    ("P501", "投诉记录", "H3"),  # TS-2025-002 first answered 41 h 25 min after it came in
    ("P502", "投诉记录", "K4"),  # TS-2025-003 closed without a satisfaction survey
    ("P501", "投诉记录", "H5"),  # TS-2025-004 still unanswered at the end of 2025-12-31
    ("P503", "投诉记录", "H6"),  # TS-2025-005 "answered" an hour before it was received
    ("E601", "费用报销", "B3"),  # a gift on 2025-10-12 for C012, filed only on 2025-11-04
    ("E601", "费用报销", "E4"),  # travel for a customer that is not in 客户档案 at all
    ("V101", "回访记录", "F3"),  # C002's visit report filed three days after the visit
    ("V101", "回访记录", "F4"),  # C004's visit report never filed
    ("V102", "回访记录", "G4"),  # and not reviewed
    ("R701", "收益计划", "E4"),  # 实际收入 45 ≠ 80 × 50%
    ("S006", "收益计划", "D5"),  # 获取率 30: a bare 30 is not 30%
    ("R702", "收益计划", "G5"),  # 利润额 3.5 ≠ 15 × 20%
    ("K801", "大客户优惠", "H3"),  # 15% for C003, above the 10% standard, without the GM's approval
    ("K802", "大客户优惠", "F4"),  # 5% for C003 without the key-account department's approval
    ("K803", "大客户优惠", "A5"),  # a discount for C002, which is not a 重点客户
    ("X903", "豁免", "A3"),  # a waiver of C302, which cannot be waived
    ("S009", "备注", None),  # a sheet no form recognises
]
WAIVED = [("T204", "客户档案", None), ("T204", "客户档案", None)]


def _sheet(
    book: Workbook,
    form_key: str,
    rows: Sequence[Sequence[Any]],
    title: str | None = None,
    english: tuple[str, ...] = (),
) -> None:
    form = forms()[form_key]
    sheet = book.create_sheet(form.zh)
    if title:
        sheet.append([title])
        sheet["A1"].font = Font(bold=True, size=14)
        sheet.append([])
    sheet.append([c.en if c.key in english else c.zh for c in form.columns])
    header_row = sheet.max_row
    for cell, column in zip(sheet[header_row], form.columns, strict=True):
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
        sheet.column_dimensions[cell.column_letter].width = column.width + 2  # as staff widen them
    for row in rows:
        sheet.append(row)
    types = [c.type for c in form.columns]
    for cells in sheet.iter_rows(min_row=header_row + 1):
        for cell, kind in zip(cells, types, strict=False):
            if isinstance(cell.value, dt.datetime):
                cell.number_format = "yyyy-mm-dd hh:mm"
            elif isinstance(cell.value, dt.date):
                cell.number_format = "yyyy-mm-dd"
            elif isinstance(cell.value, float) and kind == "rate":
                cell.number_format = "0%"
            elif isinstance(cell.value, str):
                cell.data_type = "s"  # never a formula


def write_sample(path: Path) -> Path:
    """Write the sample department workbook to ``path``."""
    book = Workbook()
    book.remove(book.active)
    _sheet(book, "archive", ARCHIVE, title="销售一部 客户档案（2025年12月）")
    _sheet(book, "evaluation", EVALUATION, english=("period", "total_score"))
    _sheet(book, "credit", CREDIT)
    _sheet(book, "blacklist", BLACKLIST)
    _sheet(book, "complaints", COMPLAINTS, english=("satisfaction",))
    _sheet(book, "expenses", EXPENSES)
    _sheet(book, "visits", VISITS)
    _sheet(book, "revenue_plan", REVENUE_PLAN)
    _sheet(book, "discounts", DISCOUNTS)
    params = book.create_sheet("参数")
    for name, value in (
        ("部门", "销售一部"),
        ("基准日期", D(2025, 12, 31)),
        ("年初应收账款余额(元)", 1200000),
    ):
        params.append([name, value])
    params["B2"].number_format = "yyyy-mm-dd"
    _sheet(book, "waivers", WAIVERS)
    notes = book.create_sheet("备注")
    notes.append(["本表为内勤工作备注，不属于任何表单。"])
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path
