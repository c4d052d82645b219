"""Time `xlcrm check` as a whole process, side by side with `frictionless validate`.

For each size, a 客户档案 workbook of N rows × 20 columns with ~1% bad cells is generated
(cached in benchmarks/data/), then both tools validate the same file: xlcrm with its own
rules, frictionless with an equivalent Table Schema (types, required, enum, pattern, minimum,
unique — derived from the same declarations) and its error limit raised so that it reports
every error, as xlcrm does. Wall time is the median of --repeat runs; peak memory is the
child's maximum resident set size.

Run:  make bench            (all sizes, 3 repeats)
      .venv/bin/python benchmarks/bench_check.py --rows 10000 100000 --repeat 1
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from generate import DATA, KEYS, generate

from xlcrm.forms import formats, forms

VENV_BIN = Path(sys.executable).parent


@dataclass
class Run:
    wall: float
    peak_mb: float
    output: str


def run(command: list[str], cwd: Path | None = None) -> Run:
    """Run ``command``, returning wall time, the child's peak RSS and its stdout."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.DEVNULL, cwd=cwd)
        _, _, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        out.seek(0)
        return Run(wall, usage.ru_maxrss / 1024, out.read().decode("utf-8", "replace"))


def table_schema() -> dict[str, Any]:
    """A Frictionless Table Schema equivalent to xlcrm's checks of the benchmark columns."""
    columns = {c.key: c for c in forms()["archive"].columns}
    fields = []
    for key in KEYS:
        column = columns[key]
        field: dict[str, Any] = {"name": column.zh, "type": "string"}
        constraints: dict[str, Any] = {}
        if column.type == "integer":
            field["type"] = "integer"
        elif column.type == "number":
            field["type"] = "number"
        elif column.type == "date":
            field["type"] = "date"
        elif column.type == "bool":
            field.update(type="boolean", trueValues=["是"], falseValues=["否"])
        if column.required == "yes" or column.required in ("admitted", "unless_exempt"):
            constraints["required"] = True
        if column.allowed:
            constraints["enum"] = list(column.allowed)
        if column.format:
            constraints["pattern"] = formats()[column.format].pattern.pattern.strip("^$")
        if column.min is not None:
            constraints["minimum"] = column.min
        if key in ("customer_code", "name"):
            constraints["unique"] = True
        if constraints:
            field["constraints"] = constraints
        fields.append(field)
    return {"fields": fields}


def xlcrm_findings(output: str) -> int:
    data = json.loads(output)
    return int(data["summary"]["errors"]) + int(data["summary"]["warnings"])


def frictionless_errors(output: str) -> int:
    data = json.loads(output[output.index("{") :])
    return sum(int(task["stats"]["errors"]) for task in data["tasks"])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000, 500_000])
    parser.add_argument("--repeat", type=int, default=3, help="runs per tool and size (median)")
    parser.add_argument("--frictionless-repeat", type=int, default=1)
    parser.add_argument("--no-frictionless", action="store_true")
    args = parser.parse_args()

    # frictionless accepts only relative paths ("path is not safe"): it runs inside DATA.
    schema_path = DATA / "archive_schema.json"
    DATA.mkdir(parents=True, exist_ok=True)
    schema_path.write_text(json.dumps(table_schema(), ensure_ascii=False), encoding="utf-8")
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; medians of {args.repeat} xlcrm runs")
    header = f"{'rows':>8} | {'xlcrm s':>8} | {'xlcrm MB':>8} | {'findings':>8} | {'frictionless s':>14} | {'fl MB':>6} | {'fl errors':>9} | {'speed-up':>8}"
    print(header)
    print("-" * len(header))
    for rows in args.rows:
        path = generate(rows)
        # the generated dates are consistent with this as-of date (see generate.py)
        command = [str(VENV_BIN / "xlcrm"), "check", str(path), "--format", "json", "--as-of", "2025-12-31"]
        runs = [run(command) for _ in range(args.repeat)]
        wall = statistics.median(r.wall for r in runs)
        peak = max(r.peak_mb for r in runs)
        findings = xlcrm_findings(runs[0].output)
        line = f"{rows:>8} | {wall:>8.2f} | {peak:>8.0f} | {findings:>8}"
        if not args.no_frictionless:
            command = [
                str(VENV_BIN / "frictionless"), "validate", path.name, "--schema", schema_path.name,
                "--sheet", "客户档案", "--limit-errors", "100000000", "--json",
            ]  # fmt: skip
            fl_runs = [run(command, cwd=DATA) for _ in range(args.frictionless_repeat)]
            fl_wall = statistics.median(r.wall for r in fl_runs)
            fl_peak = max(r.peak_mb for r in fl_runs)
            errors = frictionless_errors(fl_runs[0].output)
            line += f" | {fl_wall:>14.2f} | {fl_peak:>6.0f} | {errors:>9} | {fl_wall / wall:>7.1f}×"
        print(line, flush=True)


if __name__ == "__main__":
    main()
