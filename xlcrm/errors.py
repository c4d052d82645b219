"""Errors that make an input unusable (exit 2): one clear line naming the file, never a traceback."""

from __future__ import annotations

import re
from typing import Any

from xlcrm.phrase import Phrase
from xlcrm.registry import Lang

# Each reason is declared once, in both languages; {file} is always available.
_MESSAGES: dict[str, tuple[str, str]] = {
    "not_found": ("文件不存在：{file}", "File not found: {file}"),
    "not_a_file": ("不是文件：{file}", "Not a file: {file}"),
    "unsupported": (
        "{file}：不支持的文件类型“{suffix}”；请另存为 Excel 工作簿（.xlsx 或 .xlsm）。",
        "{file}: unsupported file type “{suffix}”; save it as an Excel workbook (.xlsx or .xlsm).",
    ),
    "unreadable": (
        "{file}：无法作为 Excel 工作簿读取（{detail}）；请用 Excel 打开并另存为 .xlsx 后重试。",
        "{file}: cannot be read as an Excel workbook ({detail}); open it in Excel, save as "
        ".xlsx and try again.",
    ),
    "lock_file": (
        "{file}：这是 Excel 打开工作簿时留下的临时锁文件（~$…），已跳过。",
        "{file}: Excel's lock file (~$…) left while a workbook is open; skipped.",
    ),
    "empty_file": (
        "{file}：文件是空的（0 字节），可能没有复制完整；请重新复制或重新保存后再试。",
        "{file}: the file is empty (0 bytes), perhaps not fully copied; copy or save it again.",
    ),
    "legacy_xls": (
        "{file}：这是旧版 Excel 97-2003 工作簿（.xls）；请在 Excel 中“另存为” .xlsx 后再试。",
        "{file}: an old Excel 97-2003 workbook (.xls); use Save As .xlsx in Excel and try again.",
    ),
    "text_renamed": (
        "{file}：这是文本或 CSV 文件，只是改成了 Excel 的扩展名；请在 Excel 中打开并“另存为” .xlsx。",
        "{file}: a text or CSV file renamed to an Excel name; open it in Excel and save it as .xlsx.",
    ),
    "not_workbook": (
        "{file}：不是 Excel 工作簿（可能是其他文件改了扩展名）；请提交用 Excel 保存的 .xlsx。",
        "{file}: not an Excel workbook (another kind of file renamed?); submit an .xlsx saved by Excel.",
    ),
    "damaged": (
        "{file}：文件已损坏或不完整（{detail}），可能没有复制完整；请从原处重新复制或在 Excel 中另存。",
        "{file}: the file is damaged or incomplete ({detail}), perhaps not fully copied; copy it "
        "again or save it again in Excel.",
    ),
    "encrypted": (
        "{file}：工作簿设置了打开密码；请用 --password 或环境变量 XLCRM_PASSWORD 提供密码，或在 Excel 中取消密码。",
        "{file}: the workbook is password-protected; give the password with --password or "
        "XLCRM_PASSWORD, or remove it in Excel.",
    ),
    "wrong_password": (
        "{file}：密码不正确，无法打开这个加密工作簿。",
        "{file}: wrong password for this password-protected workbook.",
    ),
    "too_big": (
        "{file}：文件太大（{size}，上限 {limit}，见策略 limits.max_file_mb）。",
        "{file}: the file is too big ({size}, limit {limit}; policy limits.max_file_mb).",
    ),
    "zip_bomb": (
        "{file}：文件解压后异常巨大（{detail}），疑似“压缩炸弹”，已拒绝（见策略 limits.*）。",
        "{file}: refused — it would unpack to an absurd size ({detail}), like a zip bomb (policy limits.*).",
    ),
    "xml_entities": (
        "{file}：部件 {part} 含有 XML 实体声明（DTD），Excel 从不这样写，疑似“实体炸弹”，已拒绝。",
        "{file}: part {part} declares XML entities (a DTD), which Excel never writes — like an "
        "entity bomb; refused.",
    ),
    "too_many_cells": (
        "{file}：工作表“{sheet}”的使用范围异常（{rows} 行 × {cols} 列，超过 {limit} 个单元格）；"
        "请删除远处的空白格式或数据后另存。",
        "{file}: sheet “{sheet}” has an absurd used area ({rows} rows × {cols} columns, over "
        "{limit} cells); delete the far-away formatting or data and save again.",
    ),
    "too_many_cells_book": (
        "{file}：各工作表的使用范围合计 {cells} 个单元格，超过 {limit}（最大的是“{sheet}”：{rows} 行 × {cols} 列）；"
        "请删除远处的空白格式或数据，或把工作表分到几个文件后再试。",
        "{file}: the sheets' used areas add up to {cells} cells, over {limit} (the largest, “{sheet}”, "
        "is {rows} rows × {cols} columns); delete far-away formatting or data, or split the sheets "
        "into several files.",
    ),
    "outside_grid": (
        "{file}：工作表“{sheet}”有单元格在 Excel 的范围之外（第 {row} 行、第 {col} 列；Excel 最多 1048576 行、16384 列），"
        "文件已损坏；请在 Excel 中打开并另存。",
        "{file}: sheet “{sheet}” has a cell outside Excel's grid (row {row}, column {col}; Excel has "
        "1,048,576 rows and 16,384 columns): the file is damaged; open it in Excel and save it again.",
    ),
    "empty_workbook": (
        "{file}：工作簿里没有任何数据；请填写模板后再提交。",
        "{file}: the workbook holds no data; fill in the template and submit it again.",
    ),
    "no_form": (
        "{file}：没有找到任何表单（客户档案、客户评价、信用评定、黑名单、参数）；"
        "请使用 xlcrm templates 生成的模板，或让表头与模板一致。",
        "{file}: no form found (客户档案, 客户评价, 信用评定, 黑名单, 参数); use the templates "
        "from `xlcrm templates` or make the header row match them.",
    ),
    "no_blacklist": (
        "{file}：没有黑名单表（--blacklist 需要一个含“黑名单”工作表的工作簿）。",
        "{file}: no 黑名单 sheet (--blacklist needs a workbook with a blacklist sheet).",
    ),
    "no_header": (
        "{file}：工作表“{sheet}”找不到表头行（前 {scanned} 行中没有可识别的列名）；请在数据上方加上模板的表头。",
        "{file}: sheet “{sheet}” has no header row (no known column name in its first "
        "{scanned} rows); put the template's header row above the data.",
    ),
    "policy": (
        "{file}：策略文件有误（{detail}）；格式见 xlcrm policy 的输出。",
        "{file}: the policy file is wrong ({detail}); `xlcrm policy` shows its keys.",
    ),
    "exists": (
        "{file} 已存在；加 --force 覆盖，或用 -o 指定其他位置。",
        "{file} exists; add --force to overwrite it or choose another place with -o.",
    ),
    "lost": (
        "警告：{file} 的带标注副本比原文件少了这些内容：{items}；原文件未改动，请勿用副本替换原文件，并把此文件交给 IT。",
        "Warning: the annotated copy of {file} holds fewer of these than the input: {items}; the "
        "input is unchanged — do not replace it with the copy, and pass this file to IT.",
    ),
    "output": (
        "{file}：无法写入（{detail}）。",
        "{file}: cannot be written ({detail}).",
    ),
    "unprocessable": (
        "{file}：无法写出带标注的副本（{detail}），原文件未改动；请在 Excel 中打开并另存后重试。",
        "{file}: cannot write the annotated copy ({detail}); the input is unchanged. Open it in "
        "Excel, save it again and retry.",
    ),
    "no_room": (
        "{file}：工作表“{sheet}”右边已用到 Excel 的最后一列（XFD），放不下 {count} 个计算列；"
        "请删除右边远处的内容后再试（xlcrm check 不受影响）。",
        "{file}: sheet “{sheet}” already reaches Excel's last column (XFD): no room for the {count} "
        "computed columns; delete the far-right content and try again (xlcrm check is unaffected).",
    ),
    "output_type": (
        "{file}：输出文件 {target} 的扩展名与输入（{suffix}）不同，已拒绝（含宏的工作簿只能是 .xlsm）；"
        "请让 -o 的扩展名与输入一致。",
        "{file}: the output {target} has another extension than the input ({suffix}); refused "
        "(a workbook with macros must stay .xlsm). Give -o the input's extension.",
    ),
    "unreadable_file": (
        "{file}：无法读取这个文件（{detail}）；请检查权限或重新复制。",
        "{file}: the file cannot be read ({detail}); check its permissions or copy it again.",
    ),
    # Consolidation (POLICY §6): why a file found in a month's batch was skipped or unusable.
    "unreadable_folder": (
        "{file}：无法读取这个文件夹（{detail}），其中的文件都没有检查；请检查权限后重试。",
        "{file}: this folder cannot be read ({detail}); none of its files was checked. Check its permissions.",
    ),
    "other_file": (
        "{file}：不是 Excel 工作簿（扩展名“{suffix}”），已跳过。",
        "{file}: not an Excel workbook (suffix “{suffix}”); skipped.",
    ),
    "annotated_copy": (
        "{file}：这是 xlcrm 写出的带标注副本（{why}），不是部门提交的原件，已跳过。",
        "{file}: an annotated copy written by xlcrm ({why}), not a department's submission; skipped.",
    ),
    "company_workbook": (
        "{file}：这是 xlcrm 写出的公司汇总工作簿，不是部门提交的原件，已跳过。",
        "{file}: a company workbook written by xlcrm consolidate, not a department's submission; skipped.",
    ),
    "duplicate": (
        "{file}：与 {other} 的内容完全相同（SHA-256 相同），已跳过，只按 {other} 检查一次。",
        "{file}: the same bytes as {other} (same SHA-256); skipped, checked once as {other}.",
    ),
    "worker_lost": (
        "{file}：检查这个文件的工作进程意外终止（{detail}）；其余文件照常检查。请把这个文件交给 IT。",
        "{file}: the worker process checking this file died ({detail}); the other files were "
        "checked. Pass this file to IT.",
    ),
    "timeout": (
        "{file}：超过 {seconds} 秒仍未检查完，已放弃（见 --timeout）；其余文件照常检查。",
        "{file}: not checked within {seconds} s, given up (see --timeout); the other files were checked.",
    ),
    "changed": (
        "{file}：检查时读到的内容与开始时不同（SHA-256 不符：文件正在被保存，或工作节点看到的不是同一个文件）；"
        "请待文件保存完毕后重试。",
        "{file}: the bytes read while checking differ from those found at the start (SHA-256 "
        "mismatch: being saved, or the worker sees another file at that path); try again once it is saved.",
    ),
    "internal": (
        "{file}：检查时出现内部错误（{detail}）；其余文件照常检查。请把这个文件交给 IT。",
        "{file}: internal error while checking it ({detail}); the other files were checked. Pass "
        "this file to IT.",
    ),
    "scheduler": (
        "{file}：无法使用这个 Dask 集群（{detail}）。",
        "{file}: cannot use this Dask cluster ({detail}).",
    ),
    "no_files": (
        "{file}：没有找到任何文件。",
        "{file}: no files found.",
    ),
    "blacklist_protected": (
        "{file}：公司黑名单工作簿设置了打开密码；它的条目会出现在不加密的结果里，请提供未加密的黑名单文件。",
        "{file}: the company blacklist workbook is password-protected; its entries would appear in "
        "results that are not protected: give a copy without the password.",
    ),
    "as_of_range": (
        "{file}：{place} 的基准日期 {date} 超出可用范围（{low} 至 {high}）；请改正，或用 --as-of 指定。",
        "{file}: the as-of date {date} at {place} is outside {low} to {high}; correct it or give --as-of.",
    ),
    "history": (
        "{file}：历史库无法使用（{detail}）；本次结果未写入任何文件。可稍后重试，或加 --no-history。",
        "{file}: the history database cannot be used ({detail}); nothing was written. Try again "
        "later, or add --no-history.",
    ),
    # The same, for `xlcrm history`: it only reads, and has no --no-history.
    "history_listing": (
        "{file}：历史库无法使用（{detail}）；若另一个程序（如正在运行的汇总）正打开它，请稍后重试；"
        "否则请确认这是 xlcrm consolidate 写出的历史库（用 --history 指定）。",
        "{file}: the history database cannot be used ({detail}); if another program (a running "
        "consolidation) has it open, try again later; otherwise check that it is a history written "
        "by xlcrm consolidate (give it with --history).",
    ),
    # Confidentiality of consolidation's outputs (POLICY §7).
    "unprotected": (
        "已拒绝：{file} 设有打开密码，它的行不能写进未加密的文件（{outputs}）；请用 --password 加密公司汇总"
        "（HTML、CSV 无法加密，请不要同时要求），确需时加 --allow-unprotected。本次没有写出任何文件。",
        "Refused: {file} is password-protected and its rows cannot go into unprotected files "
        "({outputs}); encrypt the company workbook with --password (HTML and CSV cannot be "
        "encrypted: do not ask for them), or add --allow-unprotected if you must. Nothing was written.",
    ),
    "unprotected_report": (
        "已拒绝：{file} 设有打开密码，--format {format} 的输出无法加密，会把其中的客户与问题写成未加密的文本；"
        "确需时加 --allow-unprotected（或用 process 写出同样加密的标注副本）。",
        "Refused: {file} is password-protected and --format {format} cannot be encrypted: it would "
        "hold its customers and findings unprotected; add --allow-unprotected if you must (or use "
        "process, whose annotated copy keeps the password).",
    ),
    "no_department_password": (
        "已拒绝：{file} 没有这些部门的密码：{departments}；请在密码文件中为每个部门写一行“部门,密码”，"
        "或用 --password 给出共用的密码（确需不加密时加 --allow-unprotected）。本次没有写出任何文件。",
        "Refused: {file} has no password for these departments: {departments}; add a line "
        "“department,password” for each to the passwords file, or give a shared one with --password "
        "(or --allow-unprotected if they must be unprotected). Nothing was written.",
    ),
    "passwords": (
        "{file}：密码文件无法使用（{detail}）；格式为每行“部门,密码”（UTF-8 或 GBK 的 CSV）。",
        "{file}: the passwords file cannot be used ({detail}); write one “department,password” line "
        "per department (CSV in UTF-8 or GBK).",
    ),
}


# Characters that would let text change a terminal or break the one line: C0/C1 controls,
# DEL, and the Unicode controls that reorder or hide text (bidi overrides, isolates).
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def printable(text: str) -> str:
    r"""``text`` with control characters shown as escapes (``\x1b``, ``\n``): one harmless line."""
    return _CONTROL.sub(_escaped, text)


def has_control(text: str) -> bool:
    """Whether ``text`` holds a character ``printable`` would escape."""
    return _CONTROL.search(text) is not None


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    named = {9: "\\t", 10: "\\n", 13: "\\r"}
    return named.get(code) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


class InputError(Exception):
    """An input xlcrm cannot use at all; rendered as one line in the language asked for."""

    def __init__(self, reason: str, file: str = "", **values: Any) -> None:
        self.reason = reason
        self.file = file
        self.values = values
        super().__init__(self.message("en"))

    def message(self, lang: Lang = "zh") -> str:
        """The one-line explanation."""
        zh, en = _MESSAGES[self.reason]
        values = {k: v.text(lang) if isinstance(v, Phrase) else v for k, v in self.values.items()}
        values = {k: printable(v) if isinstance(v, str) else v for k, v in values.items()}
        return (zh if lang == "zh" else en).format(file=printable(self.file), **values)
