"""Build test workbooks from a few stated cells over a valid base row per form.

Rule cases state only the cells that matter; every other cell of a row comes from ``BASE``,
a row that passes every check. Strings are always written as text, never as formulas; a
cell given as ``{error: "#N/A"}`` is an Excel error value and ``{formula: "=1/0"}`` a formula
saved without a computed value (as tools that do not calculate save them).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from xlcrm.forms import forms
from xlcrm.sample import credit_code

D = dt.date
T = dt.datetime
# A valid row per form, by Chinese header. 客户编码, 客户名称 and 统一社会信用代码 are derived
# from the row's position unless a case states them (so several rows stay unique).
BASE: dict[str, dict[str, Any]] = {
    "客户档案": {
        "所属部门": "销售一部",
        "客户类型": "经销商",
        "客户类别": "一般客户",
        "企业性质": "民营",
        "地址": "北京市海淀区",
        "联系人": "王磊",
        "联系电话": "13800138000",
        "电子邮箱": "a@example.com",
        "经营品种": "假肢",
        "年业务量(万元)": 50,
        "证照齐全": "是",
        "经营资质齐全": "是",
        "已签购销合同": "是",
        "有违法记录": "否",
        "首次接触日期": D(2025, 3, 3),
        "备案日期": D(2025, 3, 5),
        "客户等级": "合格类客户",
        "最近评审日期": D(2025, 7, 1),
        "档案更新日期": D(2025, 10, 1),
        "负责人": "张伟",
    },
    "客户评价": {
        "评价期间": "2025H1",
        "评价日期": D(2025, 7, 1),
        "业务合作量得分": 15,
        "应收款情况得分": 15,
        "经营信誉得分": 15,
        "忠诚度得分": 15,
        "总分": 60,  # below every tier's minimum: computed 合格类客户, as declared in BASE
        "滞期付款次数": 0,
        "逾期未提货次数": 0,
        "有长期合作意愿": "是",
        "本期问题": "无",
        "造成重大损失": "否",
        "当前等级": "合格类客户",
    },
    "信用评定": {
        "调查日期": D(2025, 10, 1),
        "合作起始日期": D(2022, 1, 1),
        "近两年有不良记录": "否",
        "守法经营信守承诺": "是",
        "近两年经营状况": "一般",
        "资金实力": "一般",
        "年度回款发货达标": "是",
        "风险情形": "无",
        "关键资料齐全": "是",
        "信用等级": "B",
        "授信类型": "无",
        "有历史赊销预付": "否",
        "当前占用额(元)": 0,
        "上月占用额(元)": 0,
    },
    "黑名单": {
        "客户名称": "承德诚信医疗器械有限公司",
        "范围": "公司",
        "列入日期": D(2024, 12, 1),
        "原因": "长期拖欠货款",
        "批准人": "李总",
    },
    "豁免": {"理由": "特殊情况，经批准", "批准人": "王总", "批准日期": D(2025, 10, 1)},
    # The other forms (POLICY §1.7). Their 客户编码 is C001, C002 … by position, like 客户评价's.
    "投诉记录": {
        "投诉时间": T(2025, 11, 3, 9, 0),
        "投诉渠道": "电话",
        "投诉类型": "产品质量",
        "投诉内容": "到货的矫形器尺寸不符",
        "责任人": "张伟",
        "首次响应时间": T(2025, 11, 3, 15, 30),
        "处理方式": "补偿方案",
        "结案时间": T(2025, 11, 5, 17, 0),
        "满意度": "满意",
    },
    "费用报销": {
        "费用日期": D(2025, 11, 10),
        "报销人": "张伟",
        "费用类型": "招待",
        "金额(元)": 680,
    },
    "回访记录": {
        "回访日期": D(2025, 12, 1),
        "回访方式": "上门",
        "回访人": "李娜",
        "回访目的": "了解使用情况",
        "报告日期": D(2025, 12, 2),
        "主管审核": "是",
    },
    "收益计划": {
        "合同额(万元)": 100,
        "获取率": "30%",
        "实际收入(万元)": 30,
        "利润率": 0.2,
        "利润额(万元)": 6,
    },
    "大客户优惠": {
        "优惠比率": "8%",
        "优惠方式": "折扣",
        "开始日期": D(2025, 1, 1),
        "结束日期": D(2025, 12, 31),
        "大客户部审批": "是",
        "总经理备案": "是",
        "总经理审批": "否",
    },
}
FORM_SHEETS = ("客户档案", "客户评价", "信用评定", "黑名单")
# Optional columns, written only when a case states them (their presence changes the rules).
OPTIONAL_COLUMNS = {"信用评定": ("董事长审批",)}
# Written only when a case states rows for them (an empty list: the sheet with its header only),
# so the cases of the first forms keep the workbooks they always had.
OPTIONAL_SHEETS = ("投诉记录", "费用报销", "回访记录", "收益计划", "大客户优惠", "豁免")
BY_POSITION = ("客户评价", "信用评定", "投诉记录", "回访记录", "大客户优惠")  # 客户编码 C001, C002 …
AS_OF = D(2025, 12, 31)  # the as-of date of every case unless it states one
_CODE = re.compile(r"^[A-Za-z0-9-]{1,32}$")


def _form(sheet: str) -> Any:
    return next(f for f in forms().values() if f.zh == sheet)


def full_row(sheet: str, given: Mapping[str, Any], index: int) -> dict[str, Any]:
    """The base row of ``sheet`` with the stated cells on top."""
    row = dict(BASE.get(sheet, {}))
    if sheet == "客户档案":
        row.update(
            {
                "客户编码": f"C{index + 1:03d}",
                "客户名称": f"测试客户{index + 1}有限公司",
                "统一社会信用代码": credit_code(900 + index),
            }
        )
    elif sheet in BY_POSITION:
        row["客户编码"] = f"C{index + 1:03d}"
    if sheet == "投诉记录":
        row["投诉编号"] = f"TS-{index + 1:03d}"
    elif sheet == "费用报销":
        row.update(
            {
                "报销单号": f"BX-{index + 1:03d}",
                "客户编码": f"C{index + 1:03d}",
                "客户名称": f"测试客户{index + 1}有限公司",
            }
        )
    elif sheet == "收益计划":
        row["项目名称"] = f"项目{index + 1}"
    row.update(given)
    return row


def write_case(
    path: Path,
    rows: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    omit_sheets: Sequence[str] = (),
    drop_columns: Mapping[str, Sequence[str]] | None = None,
    title_rows: int = 0,
    extra_sheets: Mapping[str, Sequence[Sequence[Any]]] | None = None,
    parameters: Mapping[str, Any] | None = None,
    auto_evaluations: bool = True,
    auto_credit: bool = True,
    layout: Mapping[str, Mapping[str, Any]] | None = None,
) -> Path:
    """A workbook with every form sheet (unless omitted), its header and the case's rows.

    With ``auto_evaluations`` (``auto_credit``), every admitted archive customer the case does
    not evaluate (rate) gets a valid 客户评价 (信用评定) row after the case's own rows, so T209
    (C315) does not fire where a case is about something else. An optional column
    (``OPTIONAL_COLUMNS``) is written only when one of the case's rows states it. A row given
    as None is a blank row.

    ``layout`` makes a sheet look as staff make it, per sheet: ``name`` (the sheet's own
    name), ``headers`` (canonical header -> the header written instead), ``extra_columns``
    (header -> the value of every row, appended at the right), ``merges`` (ranges such as
    ``C2:C4``, merged after the rows are written, as staff merge them), ``hidden_rows``,
    ``hidden_columns`` and ``groups`` (a two-row header: group heading -> the headers it
    groups, see ``_header``).
    """
    rows = dict(rows)
    auto = "客户档案" not in omit_sheets  # only for customers filed in this workbook
    if auto and auto_evaluations and "客户评价" not in omit_sheets:
        rows["客户评价"] = [*rows.get("客户评价", ()), *_missing_rows(rows, "客户评价")]
    if auto and auto_credit and "信用评定" not in omit_sheets:
        rows["信用评定"] = [*rows.get("信用评定", ()), *_missing_rows(rows, "信用评定")]
    book = Workbook()
    book.remove(book.active)
    drop_columns = drop_columns or {}
    specials: list[tuple[Any, str, dict[str, str]]] = []
    for sheet in FORM_SHEETS + OPTIONAL_SHEETS:
        if sheet in omit_sheets or (sheet in OPTIONAL_SHEETS and sheet not in rows):
            continue
        look = (layout or {}).get(sheet, {})
        ws = book.create_sheet(look.get("name", sheet))
        for n in range(title_rows):
            ws.append([f"{sheet} 标题行 {n + 1}"])
        stated = {key for given in rows.get(sheet, ()) if given for key in given}
        optional = set(OPTIONAL_COLUMNS.get(sheet, ())) - stated
        headers = [
            c.zh
            for c in _form(sheet).columns
            if c.zh not in drop_columns.get(sheet, ()) and c.zh not in optional
        ]
        renamed = look.get("headers", {})
        extra = look.get("extra_columns", {})
        _header(ws, [renamed.get(h, h) for h in headers] + list(extra), look.get("groups", {}))
        for index, given in enumerate(rows.get(sheet, ())):
            if given is None:
                ws.append([])
                continue
            unknown = set(given) - {c.zh for c in _form(sheet).columns}
            if unknown:
                raise ValueError(f"{sheet}: unknown columns {unknown}")
            row = full_row(sheet, given, index)
            _append(ws, [row.get(h) for h in headers] + list(extra.values()), specials)
        _shape(ws, look)
    if parameters is not None:
        ws = book.create_sheet("参数")
        for name, value in parameters.items():
            ws.append([name, value])
    for name, sheet_rows in (extra_sheets or {}).items():
        ws = book.create_sheet(name)
        for sheet_row in sheet_rows:
            _append(ws, list(sheet_row), specials)
    for ws in book.worksheets:
        for line in ws.iter_rows():
            for cell in line:
                if isinstance(cell.value, str):
                    cell.data_type = "s"  # text stays text, even "=..."
    for ws, ref, special in specials:  # {error: "#N/A"} or {formula: "=1/0"} (no cached value)
        ws[ref].value = special.get("error") or special.get("formula")
        ws[ref].data_type = "e" if "error" in special else "f"
    book.save(path)
    return path


def write_departments(folder: Path, departments: Sequence[Mapping[str, Any]]) -> list[Path]:
    """One workbook per department of a consolidation case, in ``folder``.

    Each entry states ``file`` (default ``<部门>.xlsx``), ``parameters`` (default {部门: the
    file's stem}; null for no 参数 sheet), ``rows`` and ``omit_sheets`` as a rule case does. An
    archive row that does not state 所属部门 belongs to its workbook's department.
    """
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for entry in departments:
        file = entry.get("file") or f"{entry['department']}.xlsx"
        department = entry.get("department") or Path(file).stem
        parameters = entry.get("parameters", {"部门": department})
        rows = {sheet: [dict(r) for r in sheet_rows] for sheet, sheet_rows in entry.get("rows", {}).items()}
        for row in rows.get("客户档案", []):
            row.setdefault("所属部门", department)
        written.append(
            write_case(
                folder / file,
                rows,
                omit_sheets=entry.get("omit_sheets", ()),
                parameters=parameters,
            )
        )
    return written


def _header(ws: Any, headers: list[str], groups: Mapping[str, Sequence[str]]) -> None:
    """The header row; with ``groups``, a two-row header as staff draw one.

    Each group heading is merged across its columns on the upper row, their headers on the
    lower row; every other header is merged down over both rows (the lower cell blank).
    """
    if not groups:
        ws.append(headers)
        return
    top = ws._current_row + 1
    under = {h for grouped in groups.values() for h in grouped}
    upper: list[Any] = [None if h in under else h for h in headers]
    for heading, grouped in groups.items():
        upper[headers.index(grouped[0])] = heading
    ws.append(upper)
    ws.append([h if h in under else None for h in headers])
    for col, h in enumerate(headers, start=1):
        if h not in under:
            ws.merge_cells(start_row=top, start_column=col, end_row=top + 1, end_column=col)
    for grouped in groups.values():
        cols = [headers.index(h) + 1 for h in grouped]
        ws.merge_cells(start_row=top, start_column=min(cols), end_row=top, end_column=max(cols))


def _shape(ws: Any, look: Mapping[str, Any]) -> None:
    """Merges and hidden rows/columns, as staff make them."""
    for cells in look.get("merges", ()):
        ws.merge_cells(cells)
    for row in look.get("hidden_rows", ()):
        ws.row_dimensions[row].hidden = True
    for letters in look.get("hidden_columns", ()):
        ws.column_dimensions[letters].hidden = True


def _append(ws: Any, values: list[Any], specials: list[tuple[Any, str, dict[str, str]]]) -> None:
    """Append a row; error values and formulas are set afterwards (append cannot write them)."""
    row = ws._current_row + 1  # where openpyxl's append writes
    for col, value in enumerate(values, start=1):
        if isinstance(value, dict):
            specials.append((ws, f"{get_column_letter(col)}{row}", value))
    ws.append([None if isinstance(v, dict) else v for v in values])


def _missing_rows(rows: Mapping[str, Sequence[Mapping[str, Any]]], sheet: str) -> list[dict[str, Any]]:
    """A base row of ``sheet`` for each admitted archive customer the case gives none."""
    evaluated = {r.get("客户编码", f"C{i + 1:03d}") for i, r in enumerate(rows.get(sheet, ())) if r}
    added: list[dict[str, Any]] = []
    for index, given in enumerate(rows.get("客户档案", ())):
        if given is None:
            continue
        row = full_row("客户档案", given, index)
        code = row.get("客户编码")
        admitted = row.get("客户类别") in ("重点客户", "一般客户") and row.get("客户类型") not in (
            "零售客户",
            "内部关联",
        )
        if admitted and isinstance(code, str) and _CODE.match(code) and code not in evaluated:
            evaluated.add(code)
            added.append({"客户编码": code})
    return added


def write_rich(path: Path) -> Path:
    """A realistic workbook: the sample's forms plus formulas, styles, validations, merged
    cells, a user's comment, defined names, a hidden sheet and an extra sheet."""
    from openpyxl import load_workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill
    from openpyxl.workbook.defined_name import DefinedName
    from openpyxl.worksheet.datavalidation import DataValidation

    from xlcrm.sample import write_sample

    write_sample(path)
    book = load_workbook(path)
    evaluation = book["客户评价"]
    for row in range(2, evaluation.max_row + 1):
        evaluation[f"H{row}"] = f"=SUM(D{row}:G{row})"  # 总分 as a formula
    archive = book["客户档案"]
    archive["K4"].font = Font(bold=True, color="FF0000FF")
    archive["B4"].fill = PatternFill("solid", fgColor="FFFFF2CC")
    archive["J5"].comment = Comment("用户自己的批注：联系人已换", "内勤")
    rule = DataValidation(type="list", formula1='"经销商,医疗机构,企业,零售客户,内部关联"', allow_blank=True)
    archive.add_data_validation(rule)
    rule.add("D4:D200")
    archive.freeze_panes = "C4"
    notes = book["备注"]
    notes["A3"] = "合计"
    notes["B3"] = "=COUNTA(客户档案!A4:A100)"
    notes.merge_cells("A5:C5")
    notes["A5"] = "合并单元格的说明"
    hidden = book.create_sheet("内部")
    hidden["A1"] = "隐藏表"
    hidden["B2"] = 42
    hidden.sheet_state = "hidden"
    book.defined_names["客户数"] = DefinedName("客户数", attr_text="备注!$B$3")
    book.save(path)
    return path


def tiny_png() -> bytes:
    """A 1×1 PNG (an image to insert), made with zlib, no imaging library needed."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


def write_kitchen_sink(path: Path) -> Path:
    """The sample's forms written by XlsxWriter with every feature a round trip must keep.

    A chart, an image, data validation, conditional formatting, a user's comment, defined
    names, a hidden and a protected sheet, merged cells, formulas with cached values and
    frozen panes — and a VBA project when ``path`` ends in .xlsm.
    """
    import python_calamine
    import xlsxwriter

    from xlcrm.sample import write_sample

    source = write_sample(path.with_name(f"{path.stem}.src.xlsx"))
    calamine = python_calamine.CalamineWorkbook.from_path(str(source))
    book = xlsxwriter.Workbook(str(path))
    for name in calamine.sheet_names:
        sheet = book.add_worksheet(name)
        for r, row in enumerate(calamine.get_sheet_by_name(name).to_python()):
            for c, value in enumerate(row):
                if value == "":
                    continue
                if isinstance(value, dt.datetime) and value.time() != dt.time():
                    value = value.strftime("%Y-%m-%d %H:%M")  # a date-time as staff type it
                elif hasattr(value, "isoformat"):
                    value = value.isoformat()[:10]
                sheet.write_string(r, c, value) if isinstance(value, str) else sheet.write(r, c, value)
    archive = book.get_worksheet_by_name("客户档案")
    archive.freeze_panes(3, 2)
    archive.data_validation("D4:D200", {"validate": "list", "source": ["经销商", "医疗机构", "企业"]})
    archive.conditional_format(
        "P4:P200", {"type": "cell", "criteria": ">", "value": 500, "format": book.add_format({"bold": True})}
    )
    archive.write_comment("J5", "用户自己的批注：联系人已换", {"author": "内勤"})
    notes = book.get_worksheet_by_name("备注")
    notes.merge_range("A5:C5", "合并单元格的说明")
    notes.write_formula("B3", "=1+2", None, 3)  # a formula with its cached value
    notes.insert_image("E2", "tiny.png", {"image_data": __import__("io").BytesIO(tiny_png())})
    chart = book.add_chart({"type": "column"})
    chart.add_series({"values": "='客户评价'!$D$2:$D$9"})
    notes.insert_chart("E8", chart)
    book.define_name("客户编码列", "='客户档案'!$A$4:$A$200")
    hidden = book.add_worksheet("内部")
    hidden.write("A1", "隐藏表")
    hidden.hide()
    locked = book.add_worksheet("锁定")
    locked.write("A1", "受保护的表")
    locked.protect("xlcrm")
    if path.suffix == ".xlsm":
        vba = path.with_name("vbaProject.bin")
        vba.write_bytes(b"\xd0\xcf\x11\xe0 opaque VBA bytes xlcrm must copy as they are")
        book.add_vba_project(str(vba))
    book.close()
    return path
