"""``xlcrm consolidate``: find the files, check each in a worker, reduce, write the outputs, store the month.

Nothing is written until every file has an outcome and the outputs are allowed (POLICY §7,
``outputs``): each output — the company workbook, the HTML report, the CSV, the department
workbooks — is written to a temporary file beside its target (encrypted there when it has a
password), the month is stored in the history in one transaction, and only then are the
outputs renamed into place (Ctrl-C held back for those two steps). An interrupted or failed
run leaves no partial output and no partial month.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import getpass
import io
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
from xlcrm.batch import history, outputs, past, report, runner, workbook
from xlcrm.batch.company import Company, reduce
from xlcrm.batch.discover import SKIPPED, UNUSABLE, Discovery, discover, sha256_of
from xlcrm.batch.worker import Outcome, Task, check_file
from xlcrm.engine import Options, check
from xlcrm.errors import InputError
from xlcrm.interrupts import Late, held
from xlcrm.phrase import Phrase
from xlcrm.policy import default_policy
from xlcrm.registry import Lang

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
    unmask: bool = False  # contacts in full in every output (POLICY §7)
    recorded: dict[str, Any] = field(default_factory=dict)  # the options as the user gave them
    html: Path | None = None  # the HTML report
    csv: Path | None = None  # 公司客户 as CSV
    split: bool = False  # one workbook per department
    passwords: Path | None = None  # 部门,密码 per line (outputs.read_passwords)
    encrypt: str | None = None  # the company workbook's password (the CLI's --password)
    allow_unprotected: bool = False
    lang: Lang = "zh"  # of the HTML report


@dataclass(frozen=True)
class Written:
    """One file the run wrote."""

    kind: str
    path: Path
    department: str | None
    sha256: str
    size: int
    protected: bool
    masked: bool


@dataclass
class Consolidation:
    """What a run did."""

    company: Company
    run: workbook.RunInfo
    output: Path
    history: Path | None
    executor: str
    written: list[Written] = field(default_factory=list)
    withheld: list[str] = field(default_factory=list)  # files whose rows the history did not store
    masked: bool = True


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
    asked = [p for p in (output, settings.html, settings.csv) if p is not None]
    for number, path in enumerate(asked):
        if any(_same_path(path, other) for other in asked[:number]):
            raise InputError(
                "output",
                str(path),
                detail=Phrase("与另一个输出是同一个文件", "the same file as another output"),
            )
        if settings.history is not None and _same_path(path, settings.history):
            raise InputError(
                "output", str(path), detail=Phrase("与历史库是同一个文件", "the same file as the history")
            )
        if outputs.exists(path) and path.is_dir():  # --force cannot make a folder a file
            raise InputError("output", str(path), detail=Phrase("是一个文件夹", "is a folder"))
        if outputs.exists(path) and not settings.force:
            raise InputError("exists", str(path))
    passwords = outputs.read_passwords(settings.passwords) if settings.passwords else {}
    company_blacklist = _company_blacklist(settings.options)
    named = {outputs.department_path(output, d).name.casefold(): pw for d, pw in passwords.items()}
    discovery = discover(settings.inputs, output, settings.options.password, named)
    if not discovery.found:
        raise InputError("no_files", "、".join(str(p) for p in settings.inputs))
    _refuse_inputs(
        [*asked, *([settings.history] if settings.history is not None else [])], discovery, settings
    )
    if output.suffix.lower() != ".xlsx":  # an .xlsx package named .xlsm or .xls: Excel will not open it
        raise InputError(
            "output",
            str(output),
            detail=Phrase("公司汇总须以 .xlsx 结尾", "the company workbook must end in .xlsx"),
        )
    tasks = [
        Task(f.position, f.file, str(f.path), f.sha256, _worker_options(settings.options))
        for f in discovery.to_check
    ]
    stored = past.load(settings.history, settings.month)  # a history that cannot be used stops the run now
    backend = backend or backend_for(settings)
    executor = backend.describe()
    if on_start is not None:
        on_start(len(tasks))
    checked = {
        o.position: o
        for o in runner.run(tasks, backend, timeout=settings.timeout, work=work, on_done=on_done)
    }
    outcomes = [
        checked.get(f.position)
        or (
            Outcome(f.position, f.file, UNUSABLE, f.unusable)
            if f.unusable is not None
            else Outcome(f.position, f.file, SKIPPED, f.skipped)
        )
        for f in discovery.found
    ]
    previous = (stored.previous, list(stored.departments)) if stored.previous else None
    policy = settings.options.policy or default_policy()
    company = reduce(
        discovery.found,
        outcomes,
        month=settings.month,
        policy=policy,
        company_blacklist=company_blacklist,
        previous=previous,
    )
    masked = not settings.unmask
    targets = outputs.plan(
        company,
        output,
        password=settings.encrypt,
        html=settings.html,
        csv_path=settings.csv,
        split=settings.split,
        passwords=passwords,
        masked=masked,
    )
    _refuse_inputs([t.path for t in targets], discovery, settings)  # the departments' workbooks too
    for target in targets:  # a department workbook at the history (-o, --html, --csv were checked above)
        if settings.history is not None and _same_path(target.path, settings.history):
            raise InputError(
                "output",
                str(target.path),
                detail=Phrase("与历史库是同一个文件", "the same file as the history"),
            )
    if not settings.force and (there := outputs.existing(targets)):
        raise InputError("exists", str(there[0].path))
    withheld = outputs.refuse_unprotected(
        targets, company, allow=settings.allow_unprotected, passwords_file=settings.passwords
    )
    caps = float(policy["quotas.vip_share"]), float(policy["quotas.preferred_share"])
    storing = _storing(company, withheld, settings, after_insert)  # the history fills beside the report
    try:
        sections = report.build(company, stored, vip_cap=caps[0], preferred_cap=caps[1], masked=masked)
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
        links = workbook.links([f.file for f in discovery.found], output.parent)
    except BaseException:
        if storing is not None:
            storing.abandon()
        raise
    written = _write(
        _Month(company, sections, stored, caps, run, targets, withheld, links), settings, storing
    )
    by_position = {o.position: o.file for o in company.outcomes}
    return Consolidation(
        company,
        run,
        output,
        settings.history,
        executor,
        written,
        [by_position[p] for p in sorted(withheld)],
        masked,
    )


def _refuse_inputs(paths: list[Path], discovery: Discovery, settings: Settings) -> None:
    """InputError (even with --force) for an output or history path at one of the run's inputs.

    The inputs: every file to check (and every copy of one, skipped as the same bytes), and the
    --blacklist, --policy and --passwords files.
    """
    given = [
        Path(p)
        for p in (settings.options.blacklist, settings.passwords, settings.recorded.get("policy"))
        if p
    ]
    for path in paths:
        submissions = (f for f in discovery.found if f.skipped is None or f.skipped.key == "duplicate")
        if any(_same_path(f.path, path) for f in submissions) or any(
            _same_path(other, path) for other in given
        ):
            raise InputError(
                "output",
                str(path),
                detail=Phrase("是本次要检查的输入文件之一", "is one of this run's input files"),
            )


def _same_path(one: Path, other: Path) -> bool:
    """Whether two paths name the same file (the same link target, or the same name if absent)."""
    return os.path.realpath(one) == os.path.realpath(other)


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


@dataclass(frozen=True)
class _Month:
    """What the outputs are made from."""

    company: Company
    report: report.Report
    past: past.Past
    caps: tuple[float, float]
    run: workbook.RunInfo
    targets: list[outputs.Target]
    withheld: frozenset[int]
    links: workbook.Links  # each file's link target from the workbook's folder


def _storing(
    company: Company, withheld: frozenset[int], settings: Settings, after_insert: Callable[[str], None] | None
) -> history.Storing | None:
    """The month going into the history on a thread (None without a history); see ``_write``."""
    if settings.history is None:
        return None
    return history.Storing(
        settings.history,
        company.month,
        lambda: history.frames_of(company, withheld=withheld),
        after_insert,
    )


def _write(month: _Month, settings: Settings, storing: history.Storing | None) -> list[Written]:
    """Every output to a temporary file while the month goes into the history, then the renames.

    The history's tables are inserted on a thread (``storing``, started before the report was
    built) while the outputs are written; the run
    record and the list of outputs (which name the outputs' SHA-256) go in last, then the
    renames and one commit together. A file an output replaces (``--force``) is set aside
    until the month is stored. Any failure or Ctrl-C rolls the history back, puts what was
    renamed back as it was and removes the temporaries: nothing is half-written. An output
    someone else wrote meanwhile is refused before the renames; a Ctrl-C held back through the
    renames and the commit comes after them as ``Late``, naming what is in place.
    """
    temporaries: dict[Path, Path] = {}
    try:
        for target in month.targets:
            with held():  # made and remembered together: the finally below removes it
                temporaries[target.path] = _temporary(target.path)
            try:
                _make(month, target, temporaries[target.path], settings)
            except OSError as exc:
                raise InputError("output", str(target.path), detail=exc.strerror or str(exc)) from None
        written = [
            Written(
                t.kind,
                t.path,
                t.department,
                sha256_of(temporaries[t.path]),
                temporaries[t.path].stat().st_size,
                t.protected,
                t.masked,
            )
            for t in month.targets
        ]

        placed: list[str] = []
        earlier: dict[Path, Path] = {}  # an output replaced (--force): its file, set aside until the end
        stored = False

        def free() -> None:  # before the history's commit: a refusal leaves the month unstored
            for target in month.targets:
                if target.path.exists() and not settings.force:  # written meanwhile by someone else
                    raise InputError("exists", str(target.path))

        def place() -> None:  # before the commit: a rename that fails leaves the month unstored
            free()
            for target in month.targets:
                path = target.path
                try:
                    if path.is_dir():
                        raise InputError("output", str(path), detail=Phrase("是一个文件夹", "is a folder"))
                    os.chmod(temporaries[path], 0o644)
                    if os.path.lexists(path):
                        earlier[path] = _set_aside(path)
                    os.replace(temporaries[path], path)
                except OSError as exc:
                    raise InputError("output", str(path), detail=exc.strerror or str(exc)) from None
                placed.append(str(path))

        def settle() -> None:  # the month is stored (or there is no history): the replaced files go
            nonlocal stored
            stored = True
            for aside in earlier.values():
                aside.unlink(missing_ok=True)

        try:
            if storing is not None:
                records = [
                    {
                        "kind": w.kind, "path": str(w.path), "department": w.department, "sha256": w.sha256,
                        "size": w.size, "protected": w.protected, "masked": w.masked,
                    }
                    for w in written
                ]  # fmt: skip
                pending, storing = storing, None  # commit rolls back itself if it fails
                pending.commit(
                    history.run_frames(month.company, month.run, written[0].sha256, records), settle, place
                )
            else:
                with held():
                    place()
                    settle()
        except BaseException as stop:  # a signal held through the commit and the renames comes now
            if not stored:  # the month could not be stored: the outputs as they were
                stranded = _put_back(month.targets, placed, earlier)
                placed.clear()
                if stranded and isinstance(stop, Exception):  # say where the earlier file is
                    path, aside = stranded[0]
                    raise InputError(
                        "output",
                        str(path),
                        detail=Phrase(f"原文件在 {aside}", f"the earlier file is at {aside}"),
                    ) from None
            if placed and not isinstance(stop, Exception):
                raise Late(stop, tuple(placed), len(placed) == len(month.targets)) from None
            raise
        return written
    except BaseException:
        if storing is not None:
            storing.abandon()
        raise
    finally:
        for temporary in temporaries.values():
            temporary.unlink(missing_ok=True)


def _set_aside(path: Path) -> Path:
    """Move the file at ``path`` to a hidden name beside it; that name."""
    aside = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.old")
    os.replace(path, aside)
    return aside


def _put_back(
    targets: list[outputs.Target], placed: list[str], earlier: dict[Path, Path]
) -> list[tuple[Path, Path]]:
    """Undo ``place``: each output written removed, each file set aside back at its name.

    Returns the files that could not be put back, with where they are.
    """
    stranded = []
    for target in reversed(targets):
        path = target.path
        with contextlib.suppress(OSError):
            if str(path) in placed:
                path.unlink()
        if path in earlier:
            aside = earlier.pop(path)
            try:
                os.replace(aside, path)
            except OSError:
                stranded.append((path, aside))
    return stranded


def _temporary(target: Path) -> Path:
    """An empty temporary file beside ``target``."""
    folder = target.parent if str(target.parent) else Path()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f"{target.suffix}.tmp", dir=folder)
        os.close(handle)
    except OSError as exc:
        raise InputError("output", str(target), detail=exc.strerror or str(exc)) from None
    return Path(name)


def _make(month: _Month, target: outputs.Target, temporary: Path, settings: Settings) -> None:
    """One output into ``temporary`` (encrypted when the target has a password)."""
    unmasked = not target.masked
    listed = [(outputs.KIND_ZH[t.kind], str(t.path), t.protected) for t in month.targets]
    if target.kind == outputs.HTML:
        from xlcrm.render.company import render

        files = [
            (o.file, workbook.STATUS_ZH[o.status], f.sha256 or "")
            for o, f in zip(month.company.outcomes, month.company.found, strict=True)
        ]
        temporary.write_text(render(month.report, month.run, settings.lang, files=files), encoding="utf-8")
        return
    if target.kind == outputs.CSV:
        outputs.write_csv(workbook.customer_table(month.company, unmasked), temporary)
        return
    company, sections = month.company, month.report
    if target.kind == outputs.DEPARTMENT and target.department is not None:
        company = month.company.only(target.department)
        sections = report.build(
            company,
            month.past.only([target.department]),
            vip_cap=month.caps[0],
            preferred_cap=month.caps[1],
            masked=target.masked,
        )
        listed = [(outputs.KIND_ZH[target.kind], str(target.path), target.protected)]
    if target.password is None:
        workbook.write(
            company,
            temporary,
            month.run,
            unmasked=unmasked,
            report=sections,
            outputs=listed,
            paths=month.links,
        )
        return
    plain = io.BytesIO()  # the unprotected package stays in memory
    stage = temporary.with_name(temporary.name + ".stage")
    workbook.write(
        company,
        plain,
        month.run,
        unmasked=unmasked,
        report=sections,
        outputs=listed,
        stage=stage,
        paths=month.links,
    )
    outputs.encrypt(plain, temporary, target.password)
