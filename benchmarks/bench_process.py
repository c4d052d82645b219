"""Time `xlcrm process` as a whole process on a submission with all four forms filled.

The workbook (submission_<rows>.xlsx: 客户档案, 客户评价 and 信用评定 with N rows each, a
100-row 黑名单, ~1% findings) is generated once into benchmarks/data/. Wall time is the median
of --repeat runs; memory is the child's peak resident set size.

Run:  .venv/bin/python benchmarks/bench_process.py --rows 100000 --repeat 3
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_check import VENV_BIN, run
from generate import generate_submission


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"{'rows':>8} | {'process s':>9} | {'peak MB':>8} | {'output MB':>9}")
    print("-" * 45)
    for rows in args.rows:
        source = generate_submission(rows)
        out = Path(tempfile.mkdtemp()) / "out.xlsx"
        command = [
            str(VENV_BIN / "xlcrm"),
            "process",
            str(source),
            "-o",
            str(out),
            "--force",
            "--as-of",
            "2025-12-31",
        ]
        runs = [run(command) for _ in range(args.repeat)]
        wall = statistics.median(r.wall for r in runs)
        peak = max(r.peak_mb for r in runs)
        print(f"{rows:>8} | {wall:>9.2f} | {peak:>8.0f} | {out.stat().st_size / 1e6:>9.1f}", flush=True)


if __name__ == "__main__":
    main()
