"""Ctrl-C and SIGTERM held back for a few statements that must happen together.

A temporary file or folder is made, then remembered by the block that removes it: a signal
between the two would leave it behind. Inside ``held()`` a SIGINT or SIGTERM is only noted;
when the block ends the handlers are put back and the first signal noted is raised again,
so it reaches whichever handler was set (xlcrm's own in the CLI, Python's default otherwise).
Only the main thread receives signals: elsewhere ``held()`` does nothing.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class Late(BaseException):
    """A signal that came while a run put its outputs in place: those in ``placed`` are there, complete.

    ``stop`` is what the signal raised (KeyboardInterrupt, or the CLI's own exception for SIGTERM);
    ``placed`` the paths now in place, ``complete`` whether they are all the run's outputs (a
    rename can fail half-way). The caller says so instead of "nothing was written".
    """

    def __init__(self, stop: BaseException, placed: tuple[str, ...], complete: bool) -> None:
        super().__init__(stop, placed, complete)
        self.stop, self.placed, self.complete = stop, placed, complete

    @property
    def code(self) -> int:
        """The exit status: the CLI's own exception for a signal carries it; KeyboardInterrupt is 130."""
        code = getattr(self.stop, "code", None)
        return code if isinstance(code, int) else 128 + signal.SIGINT

    def message(self, lang: str) -> str:
        """One line for the user: what is in place."""
        listed = "、".join(self.placed) if lang == "zh" else ", ".join(self.placed)
        if self.complete:
            return (
                f"已中断，但本次运行在中断前已完成，输出已全部写好：{listed}"
                if lang == "zh"
                else f"Interrupted after the run had finished; its outputs are complete: {listed}"
            )
        return (
            f"已中断：只写出了 {listed}，其余输出未写出。"
            if lang == "zh"
            else f"Interrupted: only {listed} written, the other outputs not."
        )


@contextmanager
def held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM back for the block; raise the first one that came afterwards.

    It is raised also when the block itself fails (the user's Ctrl-C wins over, and is chained
    to, that error), and the handlers are put back even if a signal came while they were set.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous: dict[int, Any] = {}
    try:
        for number in SIGNALS:
            previous[number] = signal.signal(number, lambda got, _frame: caught.append(got))
        yield
    finally:
        for held_number, handler in previous.items():  # None: set outside Python; the default then
            signal.signal(held_number, signal.SIG_DFL if handler is None else handler)
        if caught:
            signal.raise_signal(caught[0])
