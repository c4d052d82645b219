"""Time `xlcrm consolidate` on a month of department workbooks, against the naive shell loop.

The month (generate.py --departments: N workbooks × M customers, all four forms, ~1% findings,
some customers shared by two departments) is generated once into benchmarks/data/. Each run
is a whole `xlcrm consolidate` process writing its company workbook and history into a fresh
folder; the ways compared:

- ``--jobs 1`` and ``--jobs 2`` (a spawn process pool), run in alternating pairs; the speed-up
  is the median of the pairs' ratios (this machine's speed drifts by 20% within minutes);
- ``--scheduler`` on a 2-worker Dask LocalCluster (processes, 1 thread each) started here;
- the naive way: a shell loop of `xlcrm check FILE --format json` per file, nothing merged;
- with ``--reports TREE``: what the month's reports (issue 12) add. Runs with ``--jobs 2``,
  paired and alternating: the code in TREE (a checkout without the reports, e.g.
  ``git archive bf7e7ed | tar -x -C /tmp/before``, first on PYTHONPATH) writing its company
  workbook, and this checkout writing the workbook with its report sheets plus ``--html``;
  both on a copy of the same history that already holds the previous month (so 变化 and
  趋势 have work to do).

Wall time is the median of --repeat runs; CPU is the user + system seconds of the run's
processes (the machine's other load slows the wall time, hardly the CPU). Memory is the peak of the summed resident set
sizes of the client process and every process under it (the pool's workers), sampled every
50 ms, plus the Dask workers for the cluster runs; for the shell loop, the largest single
`xlcrm check`. Summed RSS counts shared library pages once per process: an upper bound.

Run:  .venv/bin/python benchmarks/bench_consolidate.py --departments 200 --rows 2000 --repeat 3
      .venv/bin/python benchmarks/bench_consolidate.py --reports /tmp/before --after /tmp/after --repeat 3
"""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_check import VENV_BIN
from generate import generate_month

XLCRM = str(VENV_BIN / "xlcrm")


@dataclass
class Measured:
    wall: float
    peak_mb: float
    code: int
    cpu: float = 0.0  # user + system seconds of the run and all its processes


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _cpu(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            continue
    return total


def _tree_rss(root: psutil.Process, extra: list[psutil.Process]) -> int:
    total = 0
    try:
        processes = [root, *root.children(recursive=True), *extra]
    except psutil.NoSuchProcess:
        processes = extra
    for process in processes:
        try:
            total += process.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


def measure(
    command: list[str], extra: list[int] | None = None, env: dict[str, str] | None = None
) -> Measured:
    """Run ``command``; wall time and the peak summed RSS of it, its children and ``extra``."""
    others = [psutil.Process(pid) for pid in extra or []]
    cpu_before = _children_cpu() + _cpu(others)
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    root = psutil.Process(process.pid)
    peak = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss(root, others))
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    code = process.wait()
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    return Measured(wall, peak / 2**20, code, _children_cpu() + _cpu(others) - cpu_before)


OUT = Path(tempfile.mkdtemp(prefix="bench-consolidate-"))


def consolidate(folder: Path, *options: str) -> list[str]:
    """The command for one run; its outputs replace the previous run's in OUT."""
    shutil.rmtree(OUT, ignore_errors=True)
    return [XLCRM, "consolidate", str(folder), "--month", "2025-12", "--as-of", "2025-12-31",
            "-o", str(OUT / "公司汇总.xlsx"), "-q", *options]  # fmt: skip


def shell_loop(folder: Path, limit: int | None = None) -> Measured:
    """`for f in …; do xlcrm check "$f" --format json > /dev/null; done`, the largest check's memory.

    With ``limit``, on the first ``limit`` files only, and the time and CPU scaled to all of them
    (each file costs the loop the same: a process, its imports, one check).
    """
    every = sorted(folder.glob("*.xlsx"))
    files = every[:limit] if limit else every
    cpu_before = _children_cpu()
    script = f'for f in {" ".join(shlex.quote(str(f)) for f in files)}; do {XLCRM} check "$f" --as-of 2025-12-31 --format json > /dev/null; done'
    start = time.perf_counter()
    process = subprocess.Popen(["bash", "-c", script], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    root = psutil.Process(process.pid)
    peak = 0
    while process.poll() is None:
        peak = max(peak, _tree_rss(root, []) - _rss(root))
        time.sleep(0.05)
    scale = len(every) / len(files)
    wall = (time.perf_counter() - start) * scale
    return Measured(wall, peak / 2**20, process.returncode, (_children_cpu() - cpu_before) * scale)


def _rss(process: psutil.Process) -> int:
    try:
        return int(process.memory_info().rss)
    except psutil.NoSuchProcess:
        return 0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--departments", type=int, default=200)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip", nargs="*", default=[], help="ways to leave out: jobs1 jobs2 dask loop")
    parser.add_argument(
        "--loop-files", type=int, help="time the shell loop on this many files, scaled to all"
    )
    parser.add_argument(
        "--reports", type=Path, metavar="TREE", help="pair runs without (TREE) and with the reports"
    )
    parser.add_argument(
        "--after",
        type=Path,
        metavar="TREE",
        help="with --reports: the code with the reports (default: this checkout)",
    )
    args = parser.parse_args()
    folder = generate_month(args.departments, args.rows)
    if args.reports:
        compare_reports(folder, args.reports, args.repeat, args.after)
        return
    results: dict[str, list[Measured]] = {}
    ways = [(name, ("--jobs", name[-1])) for name in ("jobs1", "jobs2") if name not in args.skip]
    for n in range(args.repeat):  # alternating (1 2 2 1 1 2 …): a drift of the machine's speed hits both
        for name, options in ways if n % 2 == 0 else ways[::-1]:
            results.setdefault(name, []).append(measure(consolidate(folder, *options)))
            _report(name, results[name][-1:])
    for name, _ in ways:
        _report(name, results[name])
    if "dask" not in args.skip:
        import distributed

        os.environ["POLARS_MAX_THREADS"] = "1"  # as the process pool sets it for its workers
        with (
            distributed.LocalCluster(
                n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
            ) as cluster,
            distributed.Client(cluster) as client,
        ):
            workers = list(client.run(os.getpid).values())
            address = cluster.scheduler_address
            results["dask"] = [
                measure(consolidate(folder, "--scheduler", address), extra=workers)
                for _ in range(args.repeat)
            ]
            _report("dask", results["dask"])
    if "loop" not in args.skip:
        results["loop"] = [shell_loop(folder, args.loop_files) for _ in range(args.repeat)]
        _report("loop", results["loop"])
    medians = {name: statistics.median(m.wall for m in runs) for name, runs in results.items()}
    shutil.rmtree(OUT, ignore_errors=True)
    if "jobs1" in medians and "jobs2" in medians:
        pairs = [one.wall / two.wall for one, two in zip(results["jobs1"], results["jobs2"], strict=True)]
        print(
            f"speed-up 1 → 2 jobs: {statistics.median(pairs):.2f}× (median of the pairs: "
            f"{', '.join(f'{r:.2f}' for r in pairs)}); of the medians {medians['jobs1'] / medians['jobs2']:.2f}×"
        )
    if "loop" in medians and "jobs2" in medians:
        print(f"2 jobs vs the shell loop: {medians['loop'] / medians['jobs2']:.2f}× faster")


def compare_reports(folder: Path, before: Path, repeat: int, after: Path | None = None) -> None:
    """Paired --jobs 2 runs: TREE's code (no reports) against the reports' (``after``, else this checkout) with --html.

    Both trees are put first on PYTHONPATH (exported trees, e.g. by ``git archive``, so that
    editing this checkout during the runs changes neither).
    """
    seed = Path(tempfile.mkdtemp(prefix="bench-reports-seed-"))
    history = seed / "xlcrm-history.duckdb"
    command = [XLCRM, "consolidate", str(folder), "--month", "2025-11", "--as-of", "2025-12-31", "--jobs", "2",
               "-o", str(seed / "11.xlsx"), "--history", str(history), "-q"]  # fmt: skip
    env_before = {**os.environ, "PYTHONPATH": str(before.resolve())}
    env_after = {**os.environ, "PYTHONPATH": str(after.resolve())} if after else None
    print(f"seeding the history with 2025-11: {measure(command, env=env_after).wall:.1f} s", flush=True)
    runs: dict[str, list[Measured]] = {"before": [], "after": []}
    for n in range(repeat):
        order = ("before", "after") if n % 2 == 0 else ("after", "before")
        for way in order:
            command = consolidate(folder, "--jobs", "2", "--history", str(OUT / "h.duckdb"))
            OUT.mkdir(parents=True)
            shutil.copy(history, OUT / "h.duckdb")
            if way == "after":
                command += ["--html", str(OUT / "报告.html")]
            runs[way].append(measure(command, env=env_before if way == "before" else env_after))
            _report(way, runs[way][-1:])
    for way, measured in runs.items():
        _report(way, measured)
    ratios = [a.wall / b.wall for a, b in zip(runs["after"], runs["before"], strict=True)]
    cpu = [a.cpu / b.cpu for a, b in zip(runs["after"], runs["before"], strict=True)]
    print(
        f"after / before, per pair: wall {', '.join(f'{r:.3f}' for r in ratios)}; cpu {', '.join(f'{r:.3f}' for r in cpu)}"
    )
    print(
        f"median of the pairs: wall +{(statistics.median(ratios) - 1):.1%}, cpu +{(statistics.median(cpu) - 1):.1%}"
    )
    shutil.rmtree(seed, ignore_errors=True)
    shutil.rmtree(OUT, ignore_errors=True)


def _report(name: str, runs: list[Measured]) -> None:
    walls = ", ".join(f"{m.wall:.1f}" for m in runs)
    print(
        f"{name:>6}: median {statistics.median(m.wall for m in runs):6.1f} s  (runs {walls})  "
        f"peak {max(m.peak_mb for m in runs):6.0f} MB  cpu {statistics.median(m.cpu for m in runs):6.1f} s  "
        f"load {os.getloadavg()[0]:.1f}  exit {sorted({m.code for m in runs})}",
        flush=True,
    )


if __name__ == "__main__":
    main()
