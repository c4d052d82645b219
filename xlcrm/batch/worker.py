"""One file of a month's batch: ``xlcrm.engine.check`` on it, returned as a small picklable record.

A worker runs in a process of a pool, on a Dask worker, or in the calling process. It opens
the file at the path the client found (a shared path on a cluster), verifies its SHA-256
against the client's, runs exactly the pipeline ``xlcrm check`` runs, and returns an
``Outcome``: status and reason, the department and how it was determined, the findings (the
same ``Diagnostic`` records ``check`` reports), counts, and the normalised forms as Parquet
bytes with a sketch of their tables, so that the client can place findings on cells without
the raw cells, plus the figures of the other forms (``xlcrm.stats``: complaints, expenses,
visits, discounts, revenue plan), computed here by the same pure functions the department 汇总
uses, so the other forms themselves never travel. It never raises: whatever goes wrong
becomes the file's reason.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from xlcrm.batch.discover import CHECKED, COMPANY_SHEETS, SKIPPED, UNUSABLE, Reason, sha256_of
from xlcrm.compute import Phrase
from xlcrm.diagnostics import Diagnostic, column_letter, counted
from xlcrm.engine import Options, Result, check
from xlcrm.errors import InputError
from xlcrm.forms import forms
from xlcrm.normalize import to_text
from xlcrm.policy import default_policy
from xlcrm.preflight import Limits, open_source
from xlcrm.reader import Table
from xlcrm.rules.complaints import DELAY, complaint_times
from xlcrm.stats import Statistics, statistics
from xlcrm.submission import POSITION, TABLE, FormData, Submission

# The forms the client needs: the company tables, the blacklists, the department parameter.
SHIPPED = ("archive", "evaluation", "credit", "blacklist", "parameters")
SHEET, ROW = "__sheet", "__row"
# How a submission's department was determined (POLICY §6), in the order tried.
DEPARTMENT_SOURCES = {
    "parameters": Phrase("参数!部门", "参数!部门"),
    "archive": Phrase("所属部门", "the 所属部门 column"),
    "file_name": Phrase("文件名", "the file name"),
}
_PROBLEMS_WITHOUT_FORMS = ("no_form", "empty_workbook", "no_header")


@dataclass(frozen=True, slots=True)
class Task:
    """What a worker needs: where the file is, what its bytes were, the options of ``check``."""

    position: int
    file: str  # the path as found: what the findings name
    path: str  # absolute: what the worker opens (the same path on every machine)
    sha256: str | None
    options: Options


# The format of an Outcome as it crosses to the client; a Dask client refuses workers of another
# (2: diagnostics pickled as their values with their messages rendered; 3: T202–T205's
# candidates are xlcrm.phrase.Candidate objects, which a client of format 2 cannot unpickle).
WIRE = 3


@dataclass(frozen=True, slots=True)
class TableSketch:
    """A table without its values: enough to place a finding on its cell."""

    sheet: str
    header_row: int
    columns: dict[str, int]
    rows: list[int]
    cells: dict[str, int]
    width: int

    @classmethod
    def of(cls, table: Table) -> TableSketch:
        """The sketch of a read table."""
        return cls(table.sheet, table.header_row, table.columns, table.rows, table.cells, table.width)

    def table(self, form_key: str, file: str) -> Table:
        """A ``Table`` with this layout and no values."""
        return Table(
            forms()[form_key], file, self.sheet, self.header_row, self.columns, self.rows, {}, self.cells
        )


@dataclass(slots=True)
class ShippedForm:
    """One normalised form of a submission: its frame as Parquet and its tables' layout."""

    parquet: bytes
    tables: list[TableSketch]
    codes: list[list[str | None]]
    height: int  # rows of the frame

    def frame(self) -> pl.DataFrame:
        """The frame, with ``__sheet``/``__row`` and the computed columns."""
        return pl.read_parquet(io.BytesIO(self.parquet))

    def form_data(self, form_key: str, file: str, frame: pl.DataFrame | None = None) -> FormData:
        """The ``FormData`` rules and ``FormData.diagnostic`` work on (without raw values)."""
        tables = [t.table(form_key, file) for t in self.tables]
        return FormData(forms()[form_key], tables, self.frame() if frame is None else frame, self.codes)


@dataclass(slots=True)
class Outcome:
    """What one file gave: everything the manifest, the company view and the history need."""

    position: int
    file: str
    status: str
    reason: Reason | None = None
    department: str | None = None
    department_source: str | None = None  # a key of DEPARTMENT_SOURCES
    department_cell: tuple[str, str, int] | None = None  # sheet, cell, row of the value used
    sheets: tuple[str, ...] = ()
    rows: dict[str, int] = field(default_factory=dict)  # form key -> rows read
    diagnostics: list[Diagnostic] = field(default_factory=list)
    notes: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    as_of: Any = None  # the as-of date the check used
    forms: dict[str, ShippedForm] = field(default_factory=dict)
    stats: Statistics | None = None  # the other forms' figures (xlcrm.stats)
    response_hours: tuple[float, ...] = ()  # each answered complaint's first response, for the company median
    protected: bool = False  # the file has an open password (POLICY §7)
    worker: str = ""
    seconds: float = 0.0

    @property
    def errors(self) -> int:
        """Counted error findings (waived ones do not count)."""
        return counted(self.diagnostics)["error"]

    @property
    def warnings(self) -> int:
        """Counted warning findings."""
        return counted(self.diagnostics)["warning"]

    def submission(self) -> Submission:
        """The submission rebuilt from the shipped forms (no raw values), for rules run later."""
        submission = Submission(files=[self.file])
        for key, shipped in self.forms.items():
            submission.forms[key] = shipped.form_data(key, self.file)
        return submission


def check_file(task: Task) -> Outcome:
    """Check one file; never raises."""
    started = time.perf_counter()
    try:
        outcome = _check_file(task)
    except Exception as exc:  # a bug must cost one file, not the batch
        detail = f"{type(exc).__name__}: {exc}"[:200]
        outcome = Outcome(
            task.position, task.file, UNUSABLE, Reason("internal", task.file, (("detail", detail),))
        )
    outcome.worker = f"{socket.gethostname()}:{os.getpid()}"
    outcome.seconds = round(time.perf_counter() - started, 3)
    return outcome


def _check_file(task: Task) -> Outcome:
    if task.sha256 is not None and _digest(task.path) != task.sha256:
        return Outcome(task.position, task.file, UNUSABLE, Reason("changed", task.file))
    # The path as found when this process sees it there (findings then name it as check does),
    # else the absolute path, relabelled afterwards.
    given = task.file if _same_file(task.file, task.path) else task.path
    result = check([given], task.options)
    if task.sha256 is not None and _digest(task.path) != task.sha256:
        return Outcome(task.position, task.file, UNUSABLE, Reason("changed", task.file))
    own = _xlcrm_output(result, given, task.file, task.options)
    if own is not None:
        return Outcome(task.position, task.file, SKIPPED, own)
    if result.problems or result.submission is None or result.context is None:
        problem = result.problems[0] if result.problems else InputError("no_form", given)
        reason = Reason.of(problem)
        if reason.file == given:
            reason = dataclasses.replace(reason, file=task.file)
        return Outcome(task.position, task.file, UNUSABLE, reason)
    outcome = Outcome(task.position, task.file, CHECKED)
    source = result.sources.get(given)
    outcome.sheets = tuple(source.sheet_parts) if source is not None else ()
    outcome.diagnostics = (  # relabelled only where the label differs (most often it does not)
        list(result.diagnostics)
        if given == task.file
        else [d if d.file != given else dataclasses.replace(d, file=task.file) for d in result.diagnostics]
    )
    for diagnostic in outcome.diagnostics:  # rendered here, in parallel: the client shows and stores both
        diagnostic.message("zh")
        diagnostic.message("en")
    outcome.notes = result.notes
    outcome.as_of = result.context.as_of
    submission = result.submission
    outcome.rows = {key: data.frame.height for key, data in submission.forms.items()}
    outcome.department, outcome.department_source, outcome.department_cell = department_of(
        submission, task.file
    )
    outcome.forms = _ship(result)
    outcome.stats = statistics(result.context)
    outcome.response_hours = _response_hours(result)
    outcome.protected = source is not None and source.password is not None
    return outcome


def _response_hours(result: Result) -> tuple[float, ...]:
    """Hours to first response of the answered complaints (as xlcrm.stats counts them)."""
    assert result.context is not None
    found = complaint_times(result.context)
    if found is None:
        return ()
    delays = found[1][DELAY].drop_nulls()
    hours = delays.filter(delays >= dt.timedelta(0)).dt.total_seconds() / 3600
    return tuple(float(h) for h in hours.to_list())


def _digest(path: str) -> str | None:
    try:
        return sha256_of(Path(path))
    except OSError:
        return None


def _same_file(found: str, absolute: str) -> bool:
    try:
        return os.path.samefile(found, absolute)
    except OSError:
        return False


def _xlcrm_output(result: Result, given: str, label: str, options: Options) -> Reason | None:
    """A company workbook or an annotated copy xlcrm wrote, recognised by its own sheets."""
    source = result.sources.get(given)
    if source is None:
        if not any(p.file == given and p.reason in _PROBLEMS_WITHOUT_FORMS for p in result.problems):
            return None
        try:  # it passed the pre-flight check already, so its sheet names can be read safely
            source = open_source(
                Path(given), given, Limits.of(options.policy or default_policy()), options.password
            )
        except InputError:
            return None
    names = list(source.sheet_parts)
    if all(name in names for name in COMPANY_SHEETS):
        return Reason("company_workbook", label)
    from xlcrm.annotate.writer import ISSUE_HEADERS, ISSUES, OWN_SUFFIX

    for name in (ISSUES, ISSUES + OWN_SUFFIX):
        if name in names:
            first = source.calamine().get_sheet_by_name(name).to_python(skip_empty_area=False, nrows=1)
            if first and tuple(str(v) for v in first[0][: len(ISSUE_HEADERS)]) == ISSUE_HEADERS:
                return Reason("annotated_copy", label, (("why", f"“{name}”"),))
    return None


def department_of(submission: Submission, file: str) -> tuple[str, str, tuple[str, str, int] | None]:
    """参数!部门, else the single value of 所属部门, else the file name (POLICY §6)."""
    parameters = submission.forms.get("parameters")
    if parameters is not None and not parameters.frame.is_empty():
        value = parameters.frame["department"][0]
        if value:
            table = parameters.tables[0]
            row = table.cells.get("department", 0)
            return str(value), "parameters", (table.sheet, f"B{row}", row)
    archive = submission.forms.get("archive")
    if archive is not None:
        values = archive.frame.filter(pl.col("department").is_not_null())
        if values["department"].n_unique() == 1:
            first = values.row(0, named=True)
            table = archive.tables[first[TABLE]]
            row = table.rows[first[POSITION]]
            cell = f"{column_letter(table.columns['department'])}{row}"
            return str(first["department"]), "archive", (table.sheet, cell, row)
    stem = Path(file).stem  # read as a cell's department is (width folded, spaces trimmed)
    return to_text(stem) or stem, "file_name", None


def _ship(result: Result) -> dict[str, ShippedForm]:
    """The forms the client needs, with each row's sheet and Excel row and the computed columns."""
    from xlcrm.computed import computed_columns

    assert result.submission is not None and result.context is not None
    computed = computed_columns(result.context)
    shipped: dict[str, ShippedForm] = {}
    for key in SHIPPED:
        data = result.submission.forms.get(key)
        if data is None:
            continue
        frame = data.frame
        tables = [TableSketch.of(t) for t in data.tables]
        places = [
            (tables[t].sheet, tables[t].rows[p] if tables[t].rows else 0)
            for t, p in frame.select(TABLE, POSITION).iter_rows()
        ]
        frame = frame.with_columns(
            pl.Series(SHEET, [s for s, _ in places], dtype=pl.Utf8),
            pl.Series(ROW, [r for _, r in places], dtype=pl.Int64),
        )
        if key in computed:
            frame = _with_computed(frame, key, computed[key].values)
        buffer = io.BytesIO()
        frame.write_parquet(buffer, compression="zstd", compression_level=1, statistics=False)
        shipped[key] = ShippedForm(buffer.getvalue(), tables, data.codes, frame.height)
    return shipped


# The computed columns process writes, as frame columns: (name, dtype) per form.
COMPUTED: dict[str, tuple[tuple[str, Any], ...]] = {
    "archive": (("computed_tier", pl.Utf8), ("tier_basis", pl.Utf8)),
    "credit": (("computed_grade", pl.Utf8), ("max_limit", pl.Float64), ("max_term", pl.Float64)),
}


def _with_computed(
    frame: pl.DataFrame, key: str, values: dict[tuple[int, int], tuple[Any, ...]]
) -> pl.DataFrame:
    names = COMPUTED[key]
    blank = (None,) * len(names)
    rows = [values.get(k, blank) for k in frame.select(TABLE, POSITION).iter_rows()]
    return frame.with_columns(
        pl.Series(name, [r[i] for r in rows], dtype=dtype, strict=False)
        for i, (name, dtype) in enumerate(names)
    )
