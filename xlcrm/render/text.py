"""Terminal output: findings grouped by file and sheet, with counts, in Chinese or English.

User text is always shown as plain text (``rich.text.Text``), never interpreted as markup.
"""

from __future__ import annotations

from collections import Counter
from itertools import groupby

from rich.console import Console
from rich.text import Text

from xlcrm.diagnostics import Diagnostic
from xlcrm.engine import Result
from xlcrm.registry import Lang

_WORDS = {
    "zh": {
        "error": "错误",
        "warning": "警告",
        "submission": "（整个提交）",
        "sheet_count": "{n} 个问题",
        "summary": "共 {total} 个问题：{errors} 个错误，{warnings} 个警告；检查了 {files} 个文件。",
        "clean": "没有发现问题；检查了 {files} 个文件。",
        "unusable": "无法使用",
    },
    "en": {
        "error": "error",
        "warning": "warning",
        "submission": "(whole submission)",
        "sheet_count": "{n} problem(s)",
        "summary": "{total} problem(s): {errors} error(s), {warnings} warning(s) in {files} file(s).",
        "clean": "No problems found in {files} file(s).",
        "unusable": "unusable",
    },
}
_STYLE = {"error": "bold red", "warning": "yellow"}


def render(result: Result, console: Console, lang: Lang = "zh") -> None:
    """Print the result: unusable inputs to stderr, findings grouped by file and sheet."""
    words = _WORDS[lang]
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    for problem in result.problems:
        err.print(Text(f"{words['unusable']}: ", style="bold red") + Text(problem.message(lang)))
    for file, in_file in groupby(result.diagnostics, key=lambda d: d.file or ""):
        console.print(Text(file or words["submission"], style="bold underline"))
        for sheet, in_sheet in groupby(in_file, key=lambda d: d.sheet or ""):
            found = list(in_sheet)
            count = words["sheet_count"].format(n=len(found))
            console.print(Text(f"  {sheet}  ", style="bold") + Text(f"({count})", style="dim"))
            width = max(len(d.cell or "") for d in found)
            for diagnostic in found:
                console.print(_line(diagnostic, width, lang))
        console.print()
    usable = len(result.files) - sum(1 for p in result.problems if p.file in result.files)
    if result.diagnostics:
        console.print(
            Text(
                words["summary"].format(
                    total=len(result.diagnostics),
                    errors=result.errors,
                    warnings=result.warnings,
                    files=usable,
                ),
                style="bold",
            )
        )
        counts = Counter(d.code for d in result.diagnostics)
        console.print(Text("  " + "  ".join(f"{c}×{n}" for c, n in sorted(counts.items())), style="dim"))
    elif result.submission is not None:
        console.print(Text(words["clean"].format(files=usable), style="green"))


def _line(diagnostic: Diagnostic, width: int, lang: Lang) -> Text:
    severity = diagnostic.severity
    line = Text("    ")
    line.append((diagnostic.cell or "").ljust(width) + "  ")
    line.append(diagnostic.code, style=_STYLE[severity])
    line.append(f" {_WORDS[lang][severity]}  ", style=_STYLE[severity])
    if diagnostic.customer_code:
        line.append(f"[{diagnostic.customer_code}] ", style="cyan")
    line.append(diagnostic.message(lang))
    return line
