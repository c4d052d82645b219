"""Compare `xlcrm consolidate` of two versions on the same month: identical outputs?

A performance change must not change what a consolidation writes. This runs

    XLCRM consolidate INPUT --month M --as-of D --jobs 0 -q --format json -o X.xlsx --history H.duckdb

with each side's ``xlcrm`` executable, each in a fresh temporary folder (the inputs are only
read), and compares

- the JSON documents (stdout), except the run record's id and times and the written
  workbook's SHA-256 and size (they hold the run's time);
- every cell of every sheet of the two company workbooks (read with openpyxl), except the
  run record's cells: 清单's 开始时间, 完成时间 and 生成日期 rows and its manifest's 用时(秒)
  and 工作进程 columns (time taken, host:pid); the output paths are the same relative names.
  Floats that differ only in rounding (rel. 1e-12) are listed apart: polars sums a group's
  floats in an order that varies between runs of the same version (大客户分析's totals);
- every sheet's hyperlinks (the ``<hyperlinks>`` element and the sheet's relationships part);
- every table of the two DuckDB history files, every row (in stored order, then sorted),
  except the run's id and times and the outputs' SHA-256/size, and each file's seconds and worker.

Run:  .venv/bin/python benchmarks/compare_consolidation.py --baseline /work/main/.venv/bin/xlcrm \\
          --candidate .venv/bin/xlcrm /tmp/m20 --month 2026-11 --as-of 2026-11-30
Exit status 0 when everything agrees, 1 otherwise (the differences are listed).
With ``POLARS_MAX_THREADS=1`` in the environment both sides sum in the same order, unless the
change lays the merged frames out in other chunks (one decode for all of a form's parts, as on
2026-12-07): then the rounding differences are that, and nothing else.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

# Values of a run that differ between any two runs, by where they are.
JSON_IGNORED = {("summary", "run", "id"), ("summary", "run", "started_at"), ("summary", "run", "finished_at")}
JSON_IGNORED_OUTPUT_KEYS = {"sha256", "size"}  # of the written workbook itself
DB_IGNORED = {
    "runs": {"run_id", "started_at", "finished_at", "output_sha256"},
    "outputs": {"run_id", "sha256", "size"},
    "manifest": {"seconds", "worker"},
}
# Manifest (清单) headers whose column holds a run's timing and process, not a result.
SHEET_IGNORED_HEADERS = {"用时(秒)", "工作进程"}
# polars sums a group's floats in an order that varies from run to run (threads): 大客户分析's
# business totals can differ in the last digits between two runs of the same version. Such
# cells are listed, not counted as differences.
ROUNDING = 1e-12
# Labels (column A) of the run record's rows in the workbook.
SHEET_IGNORED_LABELS = {"开始时间", "完成时间", "生成日期"}


def run(xlcrm: str, folder: Path, inputs: str, month: str, as_of: str) -> dict[str, Any]:
    command = [xlcrm, "consolidate", inputs, "--month", month, "--as-of", as_of, "--jobs", "0", "-q"]
    command += ["--format", "json", "-o", "X.xlsx", "--history", "H.duckdb"]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=folder, capture_output=True, check=False)
    print(f"{xlcrm}: exit {done.returncode}, {time.perf_counter() - started:.1f} s", file=sys.stderr)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{xlcrm} failed: {done.stderr.decode()[-2000:]}")
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def compare_json(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    def strip(value: Any, path: tuple[str, ...]) -> Any:
        if isinstance(value, dict):
            return {
                k: strip(v, (*path, k))
                for k, v in value.items()
                if (*path, k) not in JSON_IGNORED
                and not (path == ("summary", "outputs") and k in JSON_IGNORED_OUTPUT_KEYS)
            }
        if isinstance(value, list):
            return [strip(v, path) for v in value]
        return value

    differences = []
    a, b = strip(before, ()), strip(after, ())
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key):
            if isinstance(a.get(key), dict) and isinstance(b.get(key), dict):
                for sub in sorted(set(a[key]) | set(b[key])):
                    if a[key].get(sub) != b[key].get(sub):
                        differences.append(f"JSON {key}.{sub} differs")
            else:
                differences.append(f"JSON {key} differs")
    print(f"JSON: {len(a.get('diagnostics', []))} diagnostics, {len(a.get('manifest', []))} files compared")
    return differences


def compare_workbooks(before: Path, after: Path) -> list[str]:
    from openpyxl import load_workbook

    a, b = load_workbook(before, read_only=True), load_workbook(after, read_only=True)
    differences = []
    if a.sheetnames != b.sheetnames:
        return [f"workbook sheets differ: {a.sheetnames} / {b.sheetnames}"]
    cells = ignored = rounded = 0
    for name in a.sheetnames:
        rows_a = list(a[name].iter_rows(values_only=True))
        rows_b = list(b[name].iter_rows(values_only=True))
        if len(rows_a) != len(rows_b):
            differences.append(f"sheet {name}: {len(rows_a)} rows / {len(rows_b)} rows")
        skipped_columns: set[int] = set()
        for number, (row_a, row_b) in enumerate(zip(rows_a, rows_b, strict=False), start=1):
            if any(isinstance(v, str) and v.strip() in SHEET_IGNORED_HEADERS for v in row_a):
                skipped_columns |= {
                    i
                    for i, v in enumerate(row_a)
                    if isinstance(v, str) and v.strip() in SHEET_IGNORED_HEADERS
                }
            label = row_a[0] if row_a else None
            for col, (x, y) in enumerate(zip(row_a, row_b, strict=False)):
                cells += 1
                if x == y:
                    continue
                if col in skipped_columns or (
                    isinstance(label, str) and label.strip() in SHEET_IGNORED_LABELS
                ):
                    ignored += 1
                    continue
                if isinstance(x, float) and isinstance(y, float) and math.isclose(x, y, rel_tol=ROUNDING):
                    rounded += 1
                    print(
                        f"  rounding only (a parallel float sum's order): {name} row {number} column {col + 1}: {x!r} / {y!r}"
                    )
                    continue
                differences.append(f"sheet {name} row {number} column {col + 1}: {x!r} / {y!r}")
            if len(row_a) != len(row_b):
                differences.append(f"sheet {name} row {number}: {len(row_a)} / {len(row_b)} cells")
    print(
        f"workbook: {len(a.sheetnames)} sheets, {cells} cells compared, {ignored} run-record cells ignored,"
        f" {rounded} differ in float rounding only"
    )
    return differences


def compare_links(before: Path, after: Path) -> list[str]:
    """Each sheet's ``<hyperlinks>`` element and relationships part, byte for byte (openpyxl's read-only mode skips them)."""
    import re
    import zipfile

    def links(path: Path) -> dict[str, bytes]:
        found = {}
        with zipfile.ZipFile(path) as package:
            for name in package.namelist():
                if name.startswith("xl/worksheets/_rels/"):
                    found[name] = package.read(name)
                elif name.startswith("xl/worksheets/sheet"):
                    match = re.search(rb"<hyperlinks>.*?</hyperlinks>", package.read(name), re.S)
                    found[name] = match.group(0) if match else b""
        return found

    a, b = links(before), links(after)
    count = sum(part.count(b"<hyperlink ") for part in a.values())
    print(f"hyperlinks: {count} links in {len(a)} parts compared")
    return [f"hyperlinks of {name} differ" for name in sorted(set(a) | set(b)) if a.get(name) != b.get(name)]


def compare_histories(before: Path, after: Path) -> list[str]:
    import duckdb

    a, b = duckdb.connect(str(before), read_only=True), duckdb.connect(str(after), read_only=True)
    tables = sorted(r[0] for r in a.execute("SELECT table_name FROM information_schema.tables").fetchall())
    other = sorted(r[0] for r in b.execute("SELECT table_name FROM information_schema.tables").fetchall())
    if tables != other:
        return [f"history tables differ: {tables} / {other}"]
    differences = []
    for table in tables:
        schema_a = a.execute(f'DESCRIBE "{table}"').fetchall()
        schema_b = b.execute(f'DESCRIBE "{table}"').fetchall()
        if schema_a != schema_b:
            differences.append(f"history {table}: schemas differ")
            continue
        kept = [r[0] for r in schema_a if r[0] not in DB_IGNORED.get(table, set())]
        select = f'SELECT {", ".join(f"{chr(34)}{c}{chr(34)}" for c in kept)} FROM "{table}"'
        rows_a, rows_b = a.execute(select).fetchall(), b.execute(select).fetchall()
        if list(map(repr, rows_a)) != list(map(repr, rows_b)):  # by repr: NaN (a share of none) equals NaN
            same_set = sorted(map(repr, rows_a)) == sorted(map(repr, rows_b))
            differences.append(f"history {table}: rows differ ({'order only' if same_set else 'values'})")
        print(f"history {table}: {len(rows_a)} rows × {len(kept)} columns compared")
    return differences


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("inputs", help="the month's folder of department workbooks")
    parser.add_argument("--baseline", required=True, help="the xlcrm executable before the change")
    parser.add_argument("--candidate", required=True, help="the xlcrm executable after the change")
    parser.add_argument("--month", required=True)
    parser.add_argument("--as-of", required=True)
    parser.add_argument(
        "--keep",
        metavar="FOLDER",
        type=Path,
        help="run in FOLDER/before and FOLDER/after and keep the outputs",
    )
    args = parser.parse_args()
    inputs = str(Path(args.inputs).resolve())
    # the executables run in other folders: a relative path is taken from here
    baseline, candidate = (
        str(Path(x).absolute()) if "/" in x else x for x in (args.baseline, args.candidate)
    )
    with tempfile.TemporaryDirectory() as one, tempfile.TemporaryDirectory() as two:
        before_dir, after_dir = Path(one), Path(two)
        if args.keep is not None:
            before_dir, after_dir = args.keep / "before", args.keep / "after"
            before_dir.mkdir(parents=True), after_dir.mkdir(parents=True)
        before = run(baseline, before_dir, inputs, args.month, args.as_of)
        after = run(candidate, after_dir, inputs, args.month, args.as_of)
        differences = compare_json(before, after)
        differences += compare_workbooks(before_dir / "X.xlsx", after_dir / "X.xlsx")
        differences += compare_links(before_dir / "X.xlsx", after_dir / "X.xlsx")
        differences += compare_histories(before_dir / "H.duckdb", after_dir / "H.duckdb")
    for line in differences:
        print("DIFFERENT:", line)
    print("every output agrees" if not differences else f"{len(differences)} differences")
    return 0 if not differences else 1


if __name__ == "__main__":
    sys.exit(main())
