"""Terminal output: findings grouped by file and sheet, with counts, in Chinese or English.

User text is always shown as plain text (``rich.text.Text``), never interpreted as markup, and
with its control characters escaped (a cell holding ANSI escapes cannot redraw the terminal).
"""

from __future__ import annotations

from collections import Counter
from itertools import groupby

from rich.console import Console
from rich.text import Text

from xlcrm.diagnostics import Diagnostic
from xlcrm.engine import Result
from xlcrm.errors import has_control, printable
from xlcrm.registry import Lang, phrases

_WORDS = {
    "zh": {
        "error": "错误",
        "warning": "警告",
        "submission": "（整个提交）",
        "sheet_count": "{n} 个问题",
        "summary": "共 {total} 个问题：{errors} 个错误，{warnings} 个警告，{waived} 个已豁免；检查了 {files} 个文件。",
        "clean": "没有发现问题；检查了 {files} 个文件。",
        "empty": "表单中没有任何数据行（0 个客户）：检查了 {files} 个文件，但没有可检查的内容；请先填写表单。",
        "unusable": "无法使用",
    },
    "en": {
        "error": "error",
        "warning": "warning",
        "submission": "(whole submission)",
        "sheet_count": "{n} problem(s)",
        "summary": "{total} problem(s): {errors} error(s), {warnings} warning(s), {waived} waived, in {files} file(s).",
        "clean": "No problems found in {files} file(s).",
        "empty": "The forms hold no rows (0 customers): {files} file(s) read, nothing to check; fill in the forms first.",
        "unusable": "unusable",
    },
}
_STYLE = {"error": "bold red", "warning": "yellow"}


Line = list[tuple[str, str]]  # (text, rich style) segments


def render(result: Result, console: Console, lang: Lang = "zh") -> None:
    """Print the result: unusable inputs to stderr, findings grouped by file and sheet.

    Colour only on a terminal; piped output is plain text written in one go (rich styling
    costs about a second per 20,000 findings).
    """
    words = _WORDS[lang]
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    for problem in result.problems:
        _emit(err, [[(f"{words['unusable']}: ", "bold red"), (problem.message(lang), "")]])
    _emit(console, report_lines(result, lang))


def report_lines(result: Result, lang: Lang) -> list[Line]:
    """The report as styled lines."""
    words = _WORDS[lang]
    lines: list[Line] = []
    for file, in_file in groupby(result.diagnostics, key=lambda d: d.file or ""):
        lines.append([(file or words["submission"], "bold underline")])
        for sheet, in_sheet in groupby(in_file, key=lambda d: d.sheet or ""):
            found = list(in_sheet)
            count = words["sheet_count"].format(n=len(found))
            lines.append([(f"  {sheet}  ", "bold"), (f"({count})", "dim")])
            width = max(len(d.cell or "") for d in found)
            lines.extend(_line(diagnostic, width, lang) for diagnostic in found)
        lines.append([])
    usable = len(result.files) - sum(1 for p in result.problems if p.file in result.files)
    if result.diagnostics:
        totals = words["summary"].format(
            total=len(result.diagnostics),
            errors=result.errors,
            warnings=result.warnings,
            waived=result.waived,
            files=usable,
        )
        counts = Counter(d.code for d in result.diagnostics)
        lines.append([(totals, "bold")])
        lines.append([("  " + "  ".join(f"{c}×{n}" for c, n in sorted(counts.items())), "dim")])
    elif result.submission is not None and not any(result.rows.values()):
        lines.append([(words["empty"].format(files=usable), "yellow")])
    elif result.submission is not None:
        lines.append([(words["clean"].format(files=usable), "green")])
    lines.extend([("※ " + phrases()[key][lang].format(**values), "dim")] for key, values in result.notes)
    return lines


def _emit(console: Console, lines: list[Line]) -> None:
    if not lines:
        return
    if has_control("".join(text for line in lines for text, _ in line)):  # rare: escape each piece
        lines = [[(printable(text), style) for text, style in line] for line in lines]
    if console.is_terminal:
        console.print(Text("\n").join(Text.assemble(*line) for line in lines))
    else:
        console.file.write("\n".join("".join(text for text, _ in line) for line in lines) + "\n")


def _line(diagnostic: Diagnostic, width: int, lang: Lang) -> Line:
    severity = diagnostic.severity
    style = _STYLE[severity]
    line: Line = [
        ("    " + (diagnostic.cell or "").ljust(width) + "  ", ""),
        (diagnostic.code, style),
        (f" {_WORDS[lang][severity]}  ", style),
    ]
    if diagnostic.customer_code:
        line.append((f"[{diagnostic.customer_code}] ", "cyan"))
    line.append((diagnostic.message(lang), "dim" if diagnostic.waived else ""))
    if diagnostic.waived:
        word = phrases()["waived"][lang]
        line.append((f"（{word}）" if lang == "zh" else f" ({word})", "green"))
    return line
