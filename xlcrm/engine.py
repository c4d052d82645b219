"""The pipeline: read → normalise → validate → rules → selected, ordered diagnostics.

``check`` is the one function every front end calls (CLI, demo, later the Excel buttons and
consolidation). It never prints and never exits; an unusable file becomes an ``InputError``
in the result and the rest of the batch goes on.
"""

from __future__ import annotations

import datetime as dt
import gc
import importlib
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from xlcrm import reader
from xlcrm.diagnostics import Diagnostic, counted
from xlcrm.errors import InputError
from xlcrm.forms import table_forms
from xlcrm.policy import AS_OF_RANGE, Policy, default_policy
from xlcrm.preflight import Limits, Skipped, Source
from xlcrm.reader import Table, WorkbookScan, form_by_name, scan_workbook
from xlcrm.registry import rule_functions, rules
from xlcrm.selection import is_selected

if TYPE_CHECKING:
    from xlcrm.context import Context
    from xlcrm.submission import Submission

EXIT_OK, EXIT_ERRORS, EXIT_UNUSABLE = 0, 1, 2
# What validating and the rules need (polars, pandera, every rule module): about 0.4 s of
# imports, made while the first workbook is read (python-calamine parses without the GIL).
# pandera imports its polars checks on the first validation, and with them hypothesis when it is
# installed (~60 ms, a development install's): imported here, the first validation only
# registers them.
_VALIDATION_MODULES = (
    "xlcrm.submission",
    "xlcrm.schema",
    "xlcrm.context",
    "xlcrm.waivers",
    "xlcrm.rules",
    "pandera.backends.polars.builtin_checks",
)


@dataclass(frozen=True, slots=True)
class Options:
    """What the user asked for."""

    as_of: dt.date | None = None
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    blacklist: Path | None = None
    policy: Policy | None = None
    password: str | None = None  # for password-protected workbooks (decrypted in memory)


@dataclass(slots=True)
class Result:
    """Diagnostics of one submission and the inputs that could not be used."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    problems: list[InputError] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    submission: Submission | None = None
    context: Context | None = None
    notes: list[tuple[str, dict[str, str]]] = field(default_factory=list)  # (phrase key, values)
    sources: dict[str, Source] = field(default_factory=dict)  # label -> checked input (for process)

    @property
    def errors(self) -> int:
        """How many error diagnostics count (waived ones do not)."""
        return counted(self.diagnostics)["error"]

    @property
    def warnings(self) -> int:
        """How many warning diagnostics count (waived ones do not)."""
        return counted(self.diagnostics)["warning"]

    @property
    def waived(self) -> int:
        """How many diagnostics a valid waiver covers."""
        return sum(1 for d in self.diagnostics if d.waived)

    @property
    def rows(self) -> dict[str, int]:
        """Data rows read per form found (by form key), blank rows not counted."""
        if self.submission is None:
            return {}
        return {key: data.frame.height for key, data in self.submission.forms.items()}

    @property
    def exit_code(self) -> int:
        """2 if any input was unusable, else 1 if any error, else 0 (POLICY §3)."""
        if self.problems or self.submission is None:
            return EXIT_UNUSABLE
        return EXIT_ERRORS if self.errors else EXIT_OK


@contextmanager
def without_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of cell values are alive.

    The check allocates little cyclic garbage, but each automatic collection walks every live
    cell object (about 0.5 s per 100,000 rows × 20 columns). Collection resumes afterwards.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def check(paths: Sequence[Path | str], options: Options | None = None) -> Result:
    """Check the files of one submission and return every selected diagnostic."""
    warm_up = _import_ahead()
    try:
        with without_cyclic_gc():
            return _check(paths, options or Options())
    finally:
        if warm_up is not None:
            reader.PARSING.set()  # nothing was parsed (every input refused, or interrupted): go on
            warm_up.join()


def _import_ahead() -> threading.Thread | None:
    """Import the validation modules in a thread while python-calamine parses (None: all loaded).

    The thread waits for the first parse (``reader.PARSING``), which runs without the GIL,
    rather than contending with the pre-flight's scan, which holds it. The reading path
    imports none of these modules, so the two threads never wait on each other's import locks
    until the first sheet is typed, by which time the imports are mostly done.
    """
    if all(name in sys.modules for name in _VALIDATION_MODULES):
        return None

    def load() -> None:
        reader.PARSING.wait()
        for name in _VALIDATION_MODULES:
            importlib.import_module(name)

    thread = threading.Thread(target=load, name="xlcrm-imports", daemon=True)
    thread.start()
    return thread


def prepare_table(table: Table) -> None:
    """Type a table's values as soon as its sheet is parsed (``xlcrm.submission.prepare_table``)."""
    from xlcrm.submission import prepare_table as prepare

    prepare(table)


def _check(paths: Sequence[Path | str], options: Options) -> Result:
    unique: dict[Path, Path | str] = {}
    for given in paths:  # the same file twice is one file, not a duplicate of every row
        try:
            unique.setdefault(Path(given).resolve(), given)
        except (OSError, ValueError):  # a name no file can have (a NUL byte): the pre-flight says so
            unique.setdefault(Path(given), given)
    paths = list(unique.values())
    result = Result(files=[str(p) for p in paths])
    policy = options.policy or default_policy()
    limits = Limits.of(policy)
    scans: list[WorkbookScan] = []
    for path in paths:
        try:
            scan = scan_workbook(
                Path(path), str(path), prepare_table, limits=limits, password=options.password
            )
        except Skipped as skipped:  # Excel's lock file: a note, not a problem
            result.files.remove(str(path))
            result.notes.append(("lock_file", {"file": skipped.file}))
            continue
        except InputError as problem:
            result.problems.append(problem)
            continue
        scans.append(scan)
        if scan.source is not None:
            result.sources[scan.file] = scan.source
    return evaluate(scans, result, options)


def evaluate(scans: list[WorkbookScan], result: Result, options: Options) -> Result:
    """Run the pipeline on scanned forms (from files, or from a live workbook): the result."""
    from xlcrm.context import Context
    from xlcrm.schema import validate_form
    from xlcrm.waivers import apply_waivers

    policy = options.policy or default_policy()
    if options.blacklist is not None:
        try:
            scans.append(_blacklist_scan(options.blacklist, Limits.of(policy)))
        except InputError as problem:
            result.problems.append(problem)
    if not scans:
        return result
    submission = assemble(scans, result.files)
    try:
        as_of = options.as_of or _as_of_parameter(submission) or dt.date.today()
    except InputError as problem:  # 参数!基准日期 the rules cannot count from
        result.problems.append(problem)
        return result
    findings = list(submission.findings)
    for data in submission.forms.values():
        findings.extend(validate_form(data, policy))
        data.blank_unusable()
    context = Context(submission, policy, as_of)
    for function in dict.fromkeys(rule_functions().values()):  # a function may serve several codes
        findings.extend(function(context))
    findings = apply_waivers(context, _drop_shadowed(findings))
    if context.calendar.fallback_years:
        years = "、".join(str(y) for y in sorted(context.calendar.fallback_years))
        result.notes.append(("calendar_fallback", {"years": years}))
    result.submission, result.context = submission, context
    order = _sheet_order(scans)
    result.diagnostics = sorted(
        (d for d in findings if is_selected(d.code, options.select, options.ignore)),
        key=lambda d: (order.get((d.file, d.sheet), len(order)), d.sort_key()),
    )
    return result


def _blacklist_scan(path: Path, limits: Limits) -> WorkbookScan:
    """The company blacklist file: only its 黑名单 rows join the submission, each a 公司 entry.

    A password-protected file is refused: its entries would reach findings, reports and the
    history that are not protected, while its own protection says they must not (POLICY §7).

    The file *is* the company blacklist (POLICY §1.4, §6), so its 范围 column says nothing:
    every entry counts as 范围 = 公司, whatever the cell holds, and the column may be absent.
    """
    import polars as pl

    from xlcrm.rules.blacklist import COMPANY

    try:
        scan = scan_workbook(path, str(path), prepare_table, limits=limits)
    except InputError as problem:
        if problem.reason == "encrypted":
            raise InputError("blacklist_protected", str(path)) from None
        raise
    scan.tables = [t for t in scan.tables if t.form.key == "blacklist"]
    scan.unrecognised, scan.notes = [], []
    if not scan.tables:
        raise InputError("no_blacklist", str(path))
    for table in scan.tables:
        assert table.typed is not None  # prepare_table typed it as it was read
        table.typed["scope"] = (pl.Series("scope", [COMPANY] * len(table.rows), dtype=pl.Utf8), [])
        table.company_list = True
    return scan


def _sheet_order(scans: Sequence[WorkbookScan]) -> dict[tuple[str | None, str | None], int]:
    """Report files in the order given and sheets in workbook order."""
    order: dict[tuple[str | None, str | None], int] = {}
    for scan in scans:
        for sheet in scan.sheets:
            order.setdefault((scan.file, sheet), len(order))
    return order


def assemble(scans: Sequence[WorkbookScan], files: list[str]) -> Submission:
    """Group the found tables by form, normalise them, and note missing or unknown sheets."""
    from xlcrm.submission import Submission, build_form

    submission = Submission(files=files)
    by_form: dict[str, list[Table]] = {}
    for scan in scans:
        for table in scan.tables:
            by_form.setdefault(table.form.key, []).append(table)
        submission.findings.extend(
            Diagnostic("S009", file=scan.file, sheet=name, args={"problem": "unknown_sheet", "sheet": name})
            for name in scan.unrecognised
        )
        submission.findings.extend(  # an optional form's note (本月无投诉) is no finding: absent
            Diagnostic("S009", file=scan.file, sheet=name, args={"problem": "notes_sheet", "sheet": name})
            for name in scan.notes
            if (form := form_by_name(name)) is not None and not form.optional
        )
    noted = {form.key for scan in scans for name in scan.notes if (form := form_by_name(name)) is not None}
    for form in table_forms():
        if form.key not in by_form and not form.optional and form.key not in noted:
            submission.findings.append(
                Diagnostic(
                    "S009",
                    file=submission.file,
                    sheet=form.zh,
                    args={"problem": "missing_form", "sheet": form.zh},
                )
            )
    for key, tables in by_form.items():
        data, unreadable = build_form(tables[0].form, tables)
        submission.forms[key] = data
        submission.findings.extend(unreadable)
    return submission


def _as_of_parameter(submission: Submission) -> dt.date | None:
    """参数!基准日期, when given and readable; InputError when outside ``AS_OF_RANGE``."""
    parameters = submission.forms.get("parameters")
    if parameters is None or parameters.frame.is_empty():
        return None
    value = parameters.frame["as_of"][0]
    if not isinstance(value, dt.date):
        return None
    low, high = AS_OF_RANGE
    if not low <= value <= high:
        where = parameters.at("S003", 0, "as_of")
        raise InputError(
            "as_of_range", where.file or "", place=where.location, date=value, low=low, high=high
        )
    return value


def _drop_shadowed(findings: list[Diagnostic]) -> list[Diagnostic]:
    """Drop what only follows from an unreadable cell (S003/S004 from reading, S010).

    Such a cell reads as blank, so it is not also reported blank (S002) nor by another rule
    that fires on a blank cell (``on_blank`` in rules.toml).
    """
    unreadable = {(d.file, d.sheet, d.cell) for d in findings if d.code in ("S003", "S004", "S010")}
    if not unreadable:
        return findings
    blank = {code for code, rule in rules().items() if rule.on_blank}
    return [d for d in findings if d.code not in blank or (d.file, d.sheet, d.cell) not in unreadable]
