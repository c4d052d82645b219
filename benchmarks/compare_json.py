"""Compare `check --format json` of two versions of xlcrm on the same workbooks: identical findings?

A performance change must not change a single finding. This runs the JSON renderer of the
code under test (this tree) and of a baseline tree (another checkout, e.g. a `git worktree`
of main) on each workbook — one interpreter per side, the files checked one after another in
it, exactly as `xlcrm check FILE --format json --as-of DATE` would — and compares the
diagnostics lists (every field, messages and values included) and the summaries.

Run:  .venv/bin/python benchmarks/compare_json.py --baseline /tmp/base benchmarks/data/archive_100000.xlsx
      .venv/bin/python benchmarks/compare_json.py --baseline /tmp/base benchmarks/data/month_200x2000
A folder stands for the workbooks in it. Exit status 0 when every file agrees, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent

# Run inside each side's interpreter: one JSON document per line, per input file.
_SIDE = """
import datetime as dt, json, sys
from xlcrm.engine import Options, check
from xlcrm.render.json import render
as_of = dt.date.fromisoformat(sys.argv[1])
with open(sys.argv[2], "w", encoding="utf-8") as out:
    for path in sys.argv[3:]:
        text = render(check([path], Options(as_of=as_of)), "zh")
        assert "\\n" not in text
        out.write(text + "\\n")
"""


def workbooks(inputs: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in inputs:
        found.extend(sorted(path.glob("*.xlsx")) if path.is_dir() else [path])
    return found


def run_side(tree: Path, files: list[Path], as_of: str, out: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(tree))
    command = [sys.executable, "-c", _SIDE, as_of, str(out), *map(str, files)]
    subprocess.run(command, env=env, check=True, cwd=tree)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("inputs", nargs="+", type=Path, help="workbooks, or folders of workbooks")
    parser.add_argument("--baseline", type=Path, required=True, help="the baseline source tree")
    parser.add_argument("--as-of", default="2025-12-31")
    args = parser.parse_args()
    files = [f.resolve() for f in workbooks(args.inputs)]
    with tempfile.TemporaryDirectory() as tmp:
        before, after = Path(tmp) / "before.jsonl", Path(tmp) / "after.jsonl"
        run_side(args.baseline.resolve(), files, args.as_of, before)
        run_side(HERE, files, args.as_of, after)
        lines = zip(
            before.read_text("utf-8").splitlines(), after.read_text("utf-8").splitlines(), strict=True
        )
        differing = 0
        findings = 0
        for path, (old_text, new_text) in zip(files, lines, strict=True):
            old, new = json.loads(old_text), json.loads(new_text)
            findings += len(new["diagnostics"])
            same = old["diagnostics"] == new["diagnostics"] and old["summary"] == new["summary"]
            if not same:
                differing += 1
                first = next(
                    (
                        i
                        for i, (a, b) in enumerate(zip(old["diagnostics"], new["diagnostics"], strict=False))
                        if a != b
                    ),
                    min(len(old["diagnostics"]), len(new["diagnostics"])),
                )
                print(
                    f"DIFFERENT {path.name}: {len(old['diagnostics'])} → {len(new['diagnostics'])} findings"
                )
                print("  before:", json.dumps(old["diagnostics"][first : first + 1], ensure_ascii=False))
                print("  after: ", json.dumps(new["diagnostics"][first : first + 1], ensure_ascii=False))
    print(
        f"{len(files)} files, {findings} findings: {'identical' if not differing else f'{differing} differ'}"
    )
    sys.exit(1 if differing else 0)


if __name__ == "__main__":
    main()
