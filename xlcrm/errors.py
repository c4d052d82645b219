"""Errors that make an input unusable (exit 2): one clear line naming the file, never a traceback."""

from __future__ import annotations

from typing import Any

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
    "output": (
        "{file}：无法写入（{detail}）。",
        "{file}: cannot be written ({detail}).",
    ),
}


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
        return (zh if lang == "zh" else en).format(file=self.file, **self.values)
