"""``xlcrm consolidate``: find the files, check each in a worker, reduce, write the workbook, store the month.

Nothing is written until every file has an outcome: the company workbook is written to a
temporary file beside its target, the month is stored in the history in one transaction, and
only then is the workbook renamed into place (Ctrl-C held back for those two steps). An
interrupted or failed run leaves no partial workbook and no partial month.
"""

from __future__ import annotations

import datetime as dt
import getpass
import os
import socket
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from xlcrm import __version__
from xlcrm.batch import history, runner, workbook
from xlcrm.batch.company import Company, reduce
from xlcrm.batch.discover import SKIPPED, discover, sha256_of
from xlcrm.batch.worker import Outcome, Task, check_file
from xlcrm.engine import Options, check
from xlcrm.errors import InputError
from xlcrm.policy import default_policy

DEFAULT_TIMEOUT = 600.0  # seconds per file: a 500,000-row workbook takes ~15 s to check


def default_output(month: str) -> Path:
    """``公司汇总_2026-11.xlsx`` in the current folder."""
    return Path(f"公司汇总_{month}.xlsx")


@dataclass(frozen=True)
class Settings:
    """What the user asked for."""

    inputs: tuple[Path, ...]
    month: str
    output: Path
    options: Options = field(default_factory=Options)
    force: bool = False
    history: Path | None = None  # None: --no-history
    jobs: int = 0  # 0: in this process
    scheduler: str | None = None
    timeout: float | None = DEFAULT_TIMEOUT
    unmasked: bool = False
    recorded: dict[str, Any] = field(default_factory=dict)  # the options as the user gave them


@dataclass
class Consolidation:
    """What a run did."""

    company: Company
    run: workbook.RunInfo
    output: Path
    history: Path | None
    executor: str


def backend_for(settings: Settings) -> runner.Backend:
    """The executor the settings ask for: a Dask cluster, a process pool, or this process."""
    if settings.scheduler:
        return runner.DaskBackend(settings.scheduler)
    if settings.jobs > 0:
        return runner.ProcessBackend(settings.jobs)
    return runner.Backend()


def consolidate(
    settings: Settings,
    *,
    backend: runner.Backend | None = None,
    work: runner.Work = check_file,
    on_start: Callable[[int], None] | None = None,
    on_done: Callable[[Outcome], None] | None = None,
    after_insert: Callable[[str], None] | None = None,
) -> Consolidation:
    """Run the month's consolidation; InputError (exit 2) when it cannot run at all."""
    started = dt.datetime.now().replace(microsecond=0)
    output = settings.output
    if output.exists() and not settings.force:
        raise InputError("exists", str(output))
    company_blacklist = _company_blacklist(settings.options)
    discovery = discover(settings.inputs, output)
    if not discovery.found:
        raise InputError("no_files", "、".join(str(p) for p in settings.inputs))
    tasks = [
        Task(f.position, f.file, str(f.path), f.sha256, _worker_options(settings.options))
        for f in discovery.to_check
    ]
    backend = backend or backend_for(settings)
    executor = backend.describe()
    if on_start is not None:
        on_start(len(tasks))
    checked = {
        o.position: o
        for o in runner.run(tasks, backend, timeout=settings.timeout, work=work, on_done=on_done)
    }
    outcomes = [
        checked.get(f.position) or Outcome(f.position, f.file, SKIPPED, f.skipped) for f in discovery.found
    ]
    previous = history.previous_month(settings.history, settings.month) if settings.history else None
    company = reduce(
        discovery.found,
        outcomes,
        month=settings.month,
        policy=settings.options.policy or default_policy(),
        company_blacklist=company_blacklist,
        previous=previous,
    )
    run = workbook.RunInfo(
        run_id=uuid.uuid4().hex,
        user=_user(),
        host=socket.gethostname(),
        started_at=started,
        finished_at=dt.datetime.now().replace(microsecond=0),
        version=__version__,
        as_of=settings.options.as_of,
        options=settings.recorded,
        executor=executor,
        output=output,
        history=settings.history,
        inputs=tuple(str(p) for p in settings.inputs),
    )
    _write(company, run, settings, after_insert)
    return Consolidation(company, run, output, settings.history, executor)


def _worker_options(options: Options) -> Options:
    """Paths the workers open are absolute (a worker's folder may be another)."""
    blacklist = Path(os.path.abspath(options.blacklist)) if options.blacklist else None
    return Options(options.as_of, options.select, options.ignore, blacklist, options.policy, options.password)


def _company_blacklist(options: Options) -> pl.DataFrame | None:
    """The ``--blacklist`` file's rows, read once here; InputError when it cannot be used."""
    if options.blacklist is None:
        return None
    result = check([], Options(policy=options.policy, blacklist=options.blacklist))
    if result.problems:
        raise result.problems[0]
    assert result.submission is not None
    return result.submission.forms["blacklist"].frame


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (containers)
        return str(os.getuid()) if hasattr(os, "getuid") else "?"


def _write(
    company: Company, run: workbook.RunInfo, settings: Settings, after_insert: Callable[[str], None] | None
) -> None:
    """The workbook to a temporary file, the month into the history, then the rename."""
    output = settings.output
    folder = output.parent if str(output.parent) else Path()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{output.stem}.", suffix=".xlsx.tmp", dir=folder)
        os.close(handle)
    except OSError as exc:
        raise InputError("output", str(output), detail=exc.strerror or str(exc)) from None
    temporary = Path(name)

    def place() -> None:
        if output.exists() and not settings.force:  # written meanwhile by someone else
            raise InputError("exists", str(output))
        os.chmod(temporary, 0o644)
        os.replace(temporary, output)

    try:
        try:
            workbook.write(company, temporary, run, unmasked=settings.unmasked)
        except OSError as exc:
            raise InputError("output", str(output), detail=exc.strerror or str(exc)) from None
        if settings.history is not None:
            frames = history.frames_of(company, run, sha256_of(temporary))
            history.store(settings.history, company.month, frames, finish=place, after_insert=after_insert)
        else:
            with history.held_interrupt():
                place()
    finally:
        temporary.unlink(missing_ok=True)
