"""Progress of a consolidation on stderr: a rich bar on a terminal, one line per file otherwise."""

from __future__ import annotations

import sys
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from xlcrm.batch.discover import CHECKED, SKIPPED, UNUSABLE
from xlcrm.batch.worker import Outcome
from xlcrm.registry import Lang

_WORDS = {
    "zh": {"label": "检查文件", "rate": "{rate:.1f} 个/秒", CHECKED: "已检查", UNUSABLE: "无法使用", SKIPPED: "已跳过", "counts": "错误 {e}，警告 {w}"},
    "en": {"label": "Checking files", "rate": "{rate:.1f} files/s", CHECKED: "checked", UNUSABLE: "unusable", SKIPPED: "skipped", "counts": "errors {e}, warnings {w}"},
}  # fmt: skip


class _Rate(ProgressColumn):
    def __init__(self, lang: Lang) -> None:
        super().__init__()
        self.template = _WORDS[lang]["rate"]

    def render(self, task: Task) -> Text:
        return Text(self.template.format(rate=task.speed or 0.0), style="dim")


class FileProgress:
    """Report each finished file; silent with ``quiet``. ``start`` gives the number of files."""

    def __init__(
        self, lang: Lang, *, quiet: bool = False, console: Console | None = None, masked: bool = True
    ) -> None:
        self.lang, self.quiet, self.total, self.done = lang, quiet, 0, 0
        self.masked = masked  # contacts in a reason (a reader's error quoting a cell) masked
        self.console = console or Console(stderr=True, highlight=False, soft_wrap=True)
        self.bar: Progress | None = None

    def start(self, total: int) -> None:
        """The files to check are known: show the bar (on a terminal)."""
        self.total = total
        if self.quiet or not self.console.is_terminal:
            return
        self.bar = Progress(
            TextColumn(_WORDS[self.lang]["label"]),
            BarColumn(),
            MofNCompleteColumn(),
            _Rate(self.lang),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
        )
        self.task = self.bar.add_task("files", total=total)
        self.bar.start()

    def __enter__(self) -> FileProgress:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.bar is not None:
            self.bar.stop()

    def __call__(self, outcome: Outcome) -> None:
        """One file has its outcome."""
        self.done += 1
        if self.quiet:
            return
        if self.bar is not None:
            self.bar.advance(self.task)
            return
        words = _WORDS[self.lang]
        if outcome.status == CHECKED:
            detail = f"{outcome.department}，" if self.lang == "zh" else f"{outcome.department}, "
            detail += words["counts"].format(e=outcome.errors, w=outcome.warnings)
            line = f"[{self.done}/{self.total}] {words[CHECKED]} {outcome.file} — {detail}"
        else:
            reason = outcome.reason.message(self.lang, masked=self.masked) if outcome.reason else ""
            line = f"[{self.done}/{self.total}] {words[outcome.status]} {reason}"
        sys.stderr.write(line + "\n")
        sys.stderr.flush()
