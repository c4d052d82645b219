"""Time the client's part of `xlcrm consolidate` alone: the workers' outcomes recorded once, replayed.

The workers' part of a consolidation scales with the cores; what the client does after them
(the company view, the report, the company workbook, the history) does not, and it decides
how far a second core helps. To time that part without the workers' noise, ``record`` runs
the month once (``--jobs 2``) and pickles the outcomes the workers returned; ``replay`` then
runs the same command ``--repeat`` times with those outcomes instead of a pool and prints the
median of each step and of the whole.

Run:  .venv/bin/python benchmarks/bench_client.py record
      .venv/bin/python benchmarks/bench_client.py replay --repeat 5 [--no-history]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gc
import pickle
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from generate import DATA

RECORDED = DATA / "month_200x2000.outcomes.pickle"
STEPS = {"reduce": "company view (reduce)", "_make": "outputs (workbook)", "_write": "outputs + history"}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("mode", choices=["record", "replay"])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-history", action="store_true")
    args = parser.parse_args()
    gc.disable()  # as the CLI runs
    from xlcrm.batch import consolidate, report
    from xlcrm.cli import cli

    times: dict[str, list[float]] = {}

    def timed(owner: Any, name: str, label: str) -> None:
        function = getattr(owner, name)

        @functools.wraps(function)
        def wrapper(*a: Any, **k: Any) -> Any:
            start = time.perf_counter()
            try:
                return function(*a, **k)
            finally:
                times.setdefault(label, []).append(time.perf_counter() - start)

        setattr(owner, name, wrapper)

    run = consolidate.runner.run
    if args.mode == "record":

        def recording(*a: Any, **k: Any) -> list[Any]:
            outcomes = list(run(*a, **k))
            RECORDED.write_bytes(pickle.dumps(outcomes))
            return outcomes

        consolidate.runner.run = recording  # type: ignore[assignment]
    else:
        data = RECORDED.read_bytes()
        consolidate.runner.run = lambda *a, **k: pickle.loads(data)  # type: ignore[assignment]
    for name, label in STEPS.items():
        timed(consolidate, name, label)
    timed(report, "build", "report sections")
    whole = []
    with tempfile.TemporaryDirectory() as scratch:
        for _ in range(1 if args.mode == "record" else args.repeat):
            out = Path(scratch) / "out"
            shutil.rmtree(out, ignore_errors=True)
            start = time.perf_counter()
            with contextlib.suppress(SystemExit):  # the exit status of a month with findings
                cli(
                    args=["consolidate", str(DATA / "month_200x2000"), "--month", "2025-12", "--as-of", "2025-12-31",
                          "-o", str(out / "c.xlsx"), "--jobs", "2", "-q", *(["--no-history"] if args.no_history else [])],
                    standalone_mode=False,
                )  # fmt: skip
            whole.append(time.perf_counter() - start)
    for label, values in times.items():
        print(f"{statistics.median(values):7.2f} s  {label}  {[round(v, 2) for v in values]}")
    print(
        f"{statistics.median(whole):7.2f} s  whole run{' (workers included)' if args.mode == 'record' else ''}"
    )


if __name__ == "__main__":
    main()
