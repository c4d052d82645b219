"""Results made ahead on threads, handed back in order: a pipeline's producer beside its consumer.

The company workbook makes its sheet XML (polars, without the GIL) while the previous chunk is
deflated; ``process`` patches its next sheets while the current one is deflated. Both hold at
most ``depth + 1`` results at once.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

_T = TypeVar("_T")
_R = TypeVar("_R")


def ahead(
    make: Callable[[_T], _R], items: Iterable[_T], depth: int = 2, workers: int | None = None
) -> Generator[_R, None, None]:
    """``make(item)`` for each item, in order, with up to ``depth`` made ahead.

    ``workers`` threads make them (``depth`` by default; one where ``make`` holds the GIL, so
    that only the consumer's GIL-free work overlaps it). Nothing is made before the first
    result is asked for.
    """
    with ThreadPoolExecutor(workers or depth, thread_name_prefix="xlcrm-ahead") as pool:
        pending: deque[Future[_R]] = deque()
        for item in items:
            pending.append(pool.submit(make, item))
            if len(pending) > depth:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
