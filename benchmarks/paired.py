"""Time two versions of xlcrm side by side: the same commands, runs interleaved before/after.

On a shared machine one version measured after the other also measures the load changing in
between. Here each case runs ``--repeat`` pairs, alternately in the order before→after and
after→before, the baseline tree first on ``PYTHONPATH`` for "before" and this tree for
"after" (the same ``.venv``, so the same libraries). Reported per case and side: the median
wall time, the median CPU time (user + system, the steadier figure under load), the largest
peak resident set size, and the median of the per-pair wall ratios. With ``--frictionless``
the archive's `frictionless validate` (all errors, as bench_check.py runs it) joins each
pair, so the speed-up against it is taken in the same minutes. The load average is printed
before and after.

Cases: ``check`` (archive_<rows>.xlsx, JSON), ``process`` (submission_<rows>.xlsx),
``version`` (``xlcrm --version``), ``rules`` (``xlcrm rules``), ``consolidate`` (the month
folder, ``--jobs 2``).

Run:  .venv/bin/python benchmarks/paired.py --baseline /tmp/base --repeat 5 check version rules
      .venv/bin/python benchmarks/paired.py --baseline /tmp/base --rows 1000000 --repeat 1 check
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_check import table_schema
from generate import DATA

HERE = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
AS_OF = "2025-12-31"


@dataclass
class Run:
    wall: float
    cpu: float
    peak_mb: float
    code: int


def run(command: list[str], env: dict[str, str], cwd: Path | None = None) -> Run:
    """Run ``command`` to its end: wall, CPU (its own and its waited-for children's) and peak RSS."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.DEVNULL, cwd=cwd, env=env)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
    return Run(
        wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)
    )


def xlcrm(*args: str) -> list[str]:
    """The CLI as the console script runs it, under whichever tree is first on PYTHONPATH.

    ``-P``: without it ``-c`` puts the working directory first on sys.path, and run from a
    checkout both sides would import that checkout's xlcrm.
    """
    return [
        PYTHON,
        "-P",
        "-c",
        "import sys; from xlcrm.cli import main; sys.argv[0] = 'xlcrm'; main()",
        *args,
    ]


def commands(case: str, rows: int, scratch: Path) -> list[str]:
    if case == "check":
        return xlcrm("check", str(DATA / f"archive_{rows}.xlsx"), "--format", "json", "--as-of", AS_OF)
    if case == "process":
        out = scratch / "out.xlsx"
        return xlcrm(
            "process", str(DATA / f"submission_{rows}.xlsx"), "-o", str(out), "--force", "--as-of", AS_OF
        )
    if case == "version":
        return xlcrm("--version")
    if case == "rules":
        return xlcrm("rules")
    if case == "consolidate":
        out = scratch / "company"
        shutil.rmtree(out, ignore_errors=True)
        month = DATA / "month_200x2000"
        return xlcrm("consolidate", str(month), "--month", "2025-12", "--as-of", AS_OF, "-o", str(out / "汇总.xlsx"),
                     "-q", "--jobs", "2", "--history", str(out / "h.duckdb"))  # fmt: skip
    raise SystemExit(f"unknown case {case}")


def frictionless(rows: int) -> tuple[list[str], Path]:
    schema = DATA / "archive_schema.json"
    schema.write_text(json.dumps(table_schema(), ensure_ascii=False), encoding="utf-8")
    command = [
        str(Path(PYTHON).parent / "frictionless"), "validate", f"archive_{rows}.xlsx", "--schema", schema.name,
        "--sheet", "客户档案", "--limit-errors", "100000000", "--json",
    ]  # fmt: skip
    return command, DATA


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("cases", nargs="+", choices=["check", "process", "version", "rules", "consolidate"])
    parser.add_argument("--baseline", type=Path, required=True, help="the baseline source tree")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5, help="pairs per case")
    parser.add_argument("--frictionless", action="store_true", help="add frictionless to each check pair")
    args = parser.parse_args()
    sides = {
        "before": dict(os.environ, PYTHONPATH=str(args.baseline.resolve())),
        "after": dict(os.environ, PYTHONPATH=str(HERE)),
    }
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load {os.getloadavg()}", flush=True)
    for case in args.cases:
        runs: dict[str, list[Run]] = {"before": [], "after": [], "frictionless": []}
        with tempfile.TemporaryDirectory() as tmp:
            for pair in range(args.repeat):
                order = ("before", "after") if pair % 2 == 0 else ("after", "before")
                for side in order:
                    runs[side].append(run(commands(case, args.rows, Path(tmp)), sides[side]))
                if args.frictionless and case == "check":
                    command, cwd = frictionless(args.rows)
                    runs["frictionless"].append(run(command, dict(os.environ), cwd))
                print(
                    f"  {case} pair {pair + 1}: "
                    + ", ".join(f"{s} {runs[s][-1].wall:.2f} s" for s in runs if runs[s]),
                    flush=True,
                )
        for side in ("before", "after", "frictionless"):
            done = runs[side]
            if not done:
                continue
            codes = sorted({r.code for r in done})
            print(
                f"{case:<12} {side:<12} wall {statistics.median(r.wall for r in done):7.2f} s  "
                f"cpu {statistics.median(r.cpu for r in done):7.2f} s  "
                f"peak {max(r.peak_mb for r in done):7.0f} MB  exit {codes}"
            )
        ratios = [a.wall / b.wall for a, b in zip(runs["after"], runs["before"], strict=True)]
        print(f"{case:<12} after/before per pair (median) {statistics.median(ratios):.3f}", flush=True)
        if runs["frictionless"]:
            fl = [f.wall / a.wall for f, a in zip(runs["frictionless"], runs["after"], strict=True)]
            print(f"{case:<12} frictionless/after per pair (median) {statistics.median(fl):.1f}×", flush=True)
    print(f"load {os.getloadavg()}")


if __name__ == "__main__":
    main()
