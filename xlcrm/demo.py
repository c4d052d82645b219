"""``xlcrm demo``: write the sample department workbook, check it, show the result, annotate it.

Then a small month: the sample as three departments plus an unusable file and a lock file,
consolidated into a company workbook and a history beside it.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sys
from pathlib import Path

from rich.console import Console
from rich.text import Text

from xlcrm.annotate.writer import annotate_all
from xlcrm.engine import check
from xlcrm.registry import Lang
from xlcrm.render.text import render
from xlcrm.sample import write_sample
from xlcrm.templates import BUTTON_BOOK, COMBINED, write_templates

SAMPLE_NAME = "销售一部_客户管理台账.xlsx"

_TEXT = {
    "zh": {
        "intro": "示例：{path}（一个部门的台账，故意放了几处错误）",
        "command": "检查命令：{xlcrm} check {path}",
        "exit": "xlcrm check 的退出码为 {code}（0 无错误，1 有错误，2 文件无法使用）。",
        "templates": "空白模板（带下拉框与填写说明）：{path}",
        "buttons": "带按钮的台账（检查 / 计算等级与授信 / 清除标注，需 Excel 与 xlwings，见 README）：{path}",
        "annotated": "带标注的副本（填色、批注、问题清单、汇总、系统等级与授信列）：{path}",
        "next": "试试：{xlcrm} check {path} --format json --lang en；{xlcrm} process {path} -o 副本.xlsx；{xlcrm} rules T201",
        "month": "月度汇总：{folder}（三个部门、一个无法使用的文件、一个 Excel 锁文件）",
        "consolidated": "公司汇总工作簿（总览、部门汇总与图表、授信执行、大客户分析、变化、趋势、问题明细、公司客户…）：{path}",
        "report": "HTML 报告（离线可看、可打印）：{path}",
        "history": "历史库（DuckDB）：{path}；{xlcrm} history --history {path}",
        "again": "汇总命令：{xlcrm} consolidate {folder} --as-of 2025-12-31 -o {path} --force（退出码 {code}：有文件无法使用）",
    },
    "en": {
        "intro": "Sample: {path} (one department's workbook with a few deliberate mistakes)",
        "command": "Command: {xlcrm} check {path}",
        "exit": "xlcrm check exits with {code} (0 no errors, 1 errors, 2 unusable input).",
        "templates": "Blank templates (dropdowns, input hints, 填写说明): {path}",
        "buttons": "Workbook with buttons (检查 / 计算等级与授信 / 清除标注; needs Excel and xlwings, see README): {path}",
        "annotated": "Annotated copy (fills, notes, 问题清单, 汇总, computed tier and credit columns): {path}",
        "next": "Next: {xlcrm} check {path} --format json --lang en; {xlcrm} process {path} -o copy.xlsx; {xlcrm} rules T201",
        "month": "A month: {folder} (three departments, an unusable file, an Excel lock file)",
        "consolidated": "Company workbook (总览, 部门汇总 with charts, 授信执行, 大客户分析, 变化, 趋势, 问题明细, 公司客户…): {path}",
        "report": "HTML report (offline, printable): {path}",
        "history": "History (DuckDB): {path}; {xlcrm} history --history {path}",
        "again": "Command: {xlcrm} consolidate {folder} --as-of 2025-12-31 -o {path} --force (exit status {code}: a file was unusable)",
    },
}


def _program() -> str:
    """How the user invoked xlcrm (e.g. .venv/bin/xlcrm), for commands they can copy."""
    invoked = Path(sys.argv[0])
    if invoked.name == "xlcrm" and invoked.exists() and shutil.which("xlcrm") != str(invoked.resolve()):
        return os.path.relpath(invoked)
    return "xlcrm"


def run_demo(out: Path, lang: Lang, console: Console) -> int:
    """Write the sample and the templates under ``out``, check the sample, print the findings."""
    words = _TEXT[lang]
    sample = write_sample(out / SAMPLE_NAME)
    templates = out / "templates"
    write_templates(templates, force=True)  # the demo's own folder: written afresh each run
    console.print(Text(words["intro"].format(path=sample), style="bold"))
    console.print(Text(words["command"].format(path=sample, xlcrm=_program()), style="dim"))
    console.print()
    result = check([sample])
    render(result, console, lang)
    done = annotate_all(result, None, in_place=False, force=True)
    for problem in done.refused + done.warnings:
        console.print(Text(problem.message(lang), style="red"))
    console.print()
    console.print(Text(words["exit"].format(code=result.exit_code)))
    for path in done.copies:
        console.print(Text(words["annotated"].format(path=path), style="bold"))
    console.print(Text(words["templates"].format(path=templates / COMBINED)))
    console.print(Text(words["buttons"].format(path=templates / BUTTON_BOOK)))
    console.print(Text(words["next"].format(path=sample, xlcrm=_program()), style="dim"))
    console.print()
    _consolidation(out, lang, console)
    return 0 if result.submission is not None else 2


def _consolidation(out: Path, lang: Lang, console: Console) -> None:
    """Write the demo month and consolidate it (in this process: the month is small)."""
    words = _TEXT[lang]
    from xlcrm.batch.consolidate import Settings, consolidate
    from xlcrm.batch.demo import write_month
    from xlcrm.batch.history import default_path
    from xlcrm.engine import Options

    month = "2025-12"
    folder = out / "月度汇总" / month
    write_month(folder)
    target = out / f"公司汇总_{month}.xlsx"
    history = default_path(target)
    as_of = dt.date(2025, 12, 31)  # the sample's 参数!基准日期 (销售三部 has no 参数 sheet)
    report = out / f"公司汇总_{month}.html"
    settings = Settings(
        (folder,),
        month,
        target,
        Options(as_of=as_of),
        force=True,
        history=history,
        html=report,
        lang=lang,
    )
    done = consolidate(settings)
    console.print(Text(words["month"].format(folder=folder), style="bold"))
    console.print(Text(words["consolidated"].format(path=done.output), style="bold"))
    console.print(Text(words["report"].format(path=report), style="bold"))
    console.print(Text(words["history"].format(path=history, xlcrm=_program())))
    code = done.company.exit_code
    console.print(
        Text(
            words["again"].format(xlcrm=_program(), folder=folder, month=month, path=target, code=code),
            style="dim",
        )
    )
