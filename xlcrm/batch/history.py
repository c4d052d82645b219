"""The consolidation history: every consolidated month in one embedded DuckDB file.

Each run stores its month — the run record, the manifest, the submissions, the customers
with their computed tier and grade, the credit rows, evaluations, blacklist entries and
findings — in one transaction: a month run again replaces the stored one, and a run that
fails (or is interrupted) leaves the file as it was. D106 and the month-over-month views read
the latest earlier month from it. The tables' columns for the forms come from the form
declarations (validators/forms.toml), so the schema analysts query is documented once, in the
README, and checked against ``TABLES`` by a test.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from xlcrm.batch.cross import DEPT, FILE, SUB, involves
from xlcrm.batch.discover import CHECKED, SKIPPED, UNUSABLE
from xlcrm.batch.worker import ROW, SHEET
from xlcrm.errors import InputError
from xlcrm.forms import forms
from xlcrm.interrupts import held
from xlcrm.phrase import Phrase
from xlcrm.registry import rules
from xlcrm.rules.blacklist import described

if TYPE_CHECKING:
    from xlcrm.batch.company import Company
    from xlcrm.batch.workbook import RunInfo

SCHEMA_VERSION = 1
DEFAULT_NAME = "xlcrm-history.duckdb"
SQL_TYPES = {
    "text": "VARCHAR",
    "enum": "VARCHAR",
    "period": "VARCHAR",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "date": "DATE",
    "bool": "BOOLEAN",
    "list": "VARCHAR[]",
    "datetime": "TIMESTAMP",
    "rate": "DOUBLE",
}
# Where each row of a form table came from (every form table starts with these).
PLACE = (
    ("month", "VARCHAR"),
    ("position", "INTEGER"),
    ("department", "VARCHAR"),
    ("file", "VARCHAR"),
    ("sheet", "VARCHAR"),
    ("excel_row", "BIGINT"),
)
# A form key that would clash with the submitting department is stored under another name.
RENAMED = {"archive": {"department": "declared_department"}, "blacklist": {"department": "listed_department"}}
IDENTITY = (("identity", "VARCHAR"), ("matched_by", "VARCHAR"))


def _form(key: str, extra: tuple[tuple[str, str], ...] = ()) -> tuple[tuple[str, str], ...]:
    renamed = RENAMED.get(key, {})
    return PLACE + tuple((renamed.get(c.key, c.key), SQL_TYPES[c.type]) for c in forms()[key].columns) + extra


def _tables() -> dict[str, tuple[tuple[str, str], ...]]:
    return {
        "runs": (
            ("month", "VARCHAR"), ("run_id", "VARCHAR"), ("started_at", "TIMESTAMP"),
            ("finished_at", "TIMESTAMP"), ("user", "VARCHAR"), ("host", "VARCHAR"),
            ("xlcrm_version", "VARCHAR"), ("as_of", "DATE"), ("options", "VARCHAR"),
            ("inputs", "VARCHAR[]"), ("executor", "VARCHAR"), ("output", "VARCHAR"),
            ("output_sha256", "VARCHAR"), ("previous_month", "VARCHAR"), ("files_found", "INTEGER"),
            ("checked", "INTEGER"), ("unusable", "INTEGER"), ("skipped", "INTEGER"),
            ("departments", "INTEGER"), ("customers", "BIGINT"), ("errors", "BIGINT"),
            ("warnings", "BIGINT"), ("exit_code", "INTEGER"),
        ),
        "manifest": (
            ("month", "VARCHAR"), ("position", "INTEGER"), ("file", "VARCHAR"), ("status", "VARCHAR"),
            ("reason_code", "VARCHAR"), ("reason", "VARCHAR"), ("department", "VARCHAR"),
            ("department_source", "VARCHAR"), ("sha256", "VARCHAR"), ("size", "BIGINT"),
            ("sheets", "VARCHAR[]"), ("rows_archive", "BIGINT"), ("rows_evaluation", "BIGINT"),
            ("rows_credit", "BIGINT"), ("rows_blacklist", "BIGINT"), ("errors", "INTEGER"),
            ("warnings", "INTEGER"), ("worker", "VARCHAR"), ("seconds", "DOUBLE"),
        ),
        "submissions": (
            ("month", "VARCHAR"), ("position", "INTEGER"), ("department", "VARCHAR"),
            ("department_source", "VARCHAR"), ("file", "VARCHAR"), ("as_of", "DATE"),
            ("customers", "BIGINT"), ("admitted", "BIGINT"), ("vip", "BIGINT"), ("preferred", "BIGINT"),
            ("vip_share", "DOUBLE"), ("preferred_share", "DOUBLE"), ("vip_cap", "DOUBLE"),
            ("preferred_cap", "DOUBLE"), ("vip_computed", "BIGINT"), ("preferred_computed", "BIGINT"),
            ("credit_rows", "BIGINT"), ("limit_total", "DOUBLE"), ("exposure_total", "DOUBLE"),
            ("utilisation", "DOUBLE"), ("errors", "BIGINT"), ("warnings", "BIGINT"),
        ),
        "customers": _form(
            "archive",
            (
                *IDENTITY, ("computed_tier", "VARCHAR"), ("tier_basis", "VARCHAR"),
                ("computed_grade", "VARCHAR"), ("credit_type", "VARCHAR"), ("credit_limit", "DOUBLE"),
                ("credit_exposure", "DOUBLE"),
            ),
        ),
        "credit": _form(
            "credit",
            (*IDENTITY, ("computed_grade", "VARCHAR"), ("max_limit", "DOUBLE"), ("max_term", "DOUBLE")),
        ),
        "evaluations": _form("evaluation"),
        "blacklist": _form("blacklist"),
        "findings": (
            ("month", "VARCHAR"), ("position", "INTEGER"), ("department", "VARCHAR"), ("file", "VARCHAR"),
            ("origin", "VARCHAR"), ("code", "VARCHAR"), ("severity", "VARCHAR"), ("sheet", "VARCHAR"),
            ("cell", "VARCHAR"), ("excel_row", "BIGINT"), ("column_header", "VARCHAR"),
            ("customer_code", "VARCHAR"), ("message", "VARCHAR"), ("message_en", "VARCHAR"),
            ("waived", "BOOLEAN"),
        ),
        "outputs": (
            ("month", "VARCHAR"), ("run_id", "VARCHAR"), ("kind", "VARCHAR"), ("path", "VARCHAR"),
            ("department", "VARCHAR"), ("sha256", "VARCHAR"), ("size", "BIGINT"), ("protected", "BOOLEAN"),
            ("masked", "BOOLEAN"),
        ),
        "withheld": (
            ("month", "VARCHAR"), ("position", "INTEGER"), ("department", "VARCHAR"), ("file", "VARCHAR"),
        ),
    }  # fmt: skip


TABLES = _tables()


class _Stream:
    """A polars frame as an Arrow C stream: DuckDB reads it without pyarrow."""

    def __init__(self, frame: pl.DataFrame) -> None:
        self.frame = frame

    def __arrow_c_stream__(self, requested_schema: object = None) -> object:
        return self.frame.__arrow_c_stream__(requested_schema)


def default_path(output: Path) -> Path:
    """The history beside the company workbook."""
    return output.parent / DEFAULT_NAME


def _connect(path: Path, *, read_only: bool) -> Any:
    import duckdb

    if path.exists() and not path.is_file():  # DuckDB would wait on a pipe for a writer
        raise InputError("history", str(path), detail=Phrase("不是文件", "not a file"))
    try:
        con = duckdb.connect(str(path), read_only=read_only)
        con.execute("SET enable_progress_bar = false")  # DuckDB would draw one on stdout
        return con
    except duckdb.Error as exc:
        raise InputError("history", str(path), detail=_first_line(exc)) from None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def _create(con: Any, path: Path) -> None:
    """The tables (on a new file), or a clear error when the file has another schema version."""
    con.execute("CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)")
    found = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if found is None:
        con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
    elif found[0] != str(SCHEMA_VERSION):
        raise InputError("history", str(path), detail=f"schema {found[0]} ≠ {SCHEMA_VERSION}")
    for name, columns in TABLES.items():
        body = ", ".join(f'"{column}" {kind}' for column, kind in columns)
        con.execute(f'CREATE TABLE IF NOT EXISTS "{name}" ({body})')


class Storing:
    """A month being stored: its tables go in on a thread while the caller writes its outputs.

    The thread opens the transaction, replaces the month's rows and inserts ``frames()``
    (DuckDB and polars work without the GIL, beside the workbook being written). ``commit``
    (on the calling thread) waits for it, inserts the last tables (those that name the written
    files), commits and runs ``finish`` with Ctrl-C held back (the caller renames its outputs
    into place there); ``abandon`` stops the thread's statement and rolls everything back,
    leaving the history as it was. ``after_insert`` is called after each table is filled (tests
    make a run fail half-way through with it).
    """

    def __init__(
        self,
        path: Path,
        month: str,
        frames: Callable[[], dict[str, pl.DataFrame]],
        after_insert: Callable[[str], None] | None = None,
    ) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.path, self.month, self.after_insert = path, month, after_insert
        self._created = not path.exists()  # a history this run makes: gone again if the month is not stored
        self._con: Any = None
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="xlcrm-history")
        self._inserted = self._pool.submit(self._begin, frames)

    def _begin(self, frames: Callable[[], dict[str, pl.DataFrame]]) -> None:
        import duckdb

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._con = con = _connect(self.path, read_only=False)
            _has_runs(con, self.path)  # another database is refused before anything is written
            con.execute("BEGIN TRANSACTION")
            _create(con, self.path)
            for name in TABLES:
                con.execute(f'DELETE FROM "{name}" WHERE month = ?', [self.month])
            self._insert(frames())
        except duckdb.Error as exc:
            raise InputError("history", str(self.path), detail=_first_line(exc)) from None

    def _insert(self, frames: dict[str, pl.DataFrame]) -> None:
        for name, frame in frames.items():
            columns = ", ".join(f'"{c}"' for c in frame.columns)
            self._con.register("incoming", _Stream(frame))
            self._con.execute(f'INSERT INTO "{name}" ({columns}) SELECT {columns} FROM incoming')
            self._con.unregister("incoming")
            if self.after_insert is not None:
                self.after_insert(name)

    def commit(
        self,
        frames: dict[str, pl.DataFrame],
        finish: Callable[[], None] | None = None,
        ready: Callable[[], None] | None = None,
    ) -> None:
        """Insert the last ``frames``, run ``ready`` (it may refuse), commit, then ``finish``.

        On any failure before the commit, roll back and raise.
        """
        import duckdb

        try:
            self._inserted.result()
            self._insert(frames)
            with held():
                if ready is not None:
                    ready()
                self._con.execute("COMMIT")
                self._created = False  # the month is stored: the file stays, whatever follows
                if finish is not None:
                    finish()
        except duckdb.Error as exc:
            self._close(rollback=True)
            raise InputError("history", str(self.path), detail=_first_line(exc)) from None
        except BaseException:
            self._close(rollback=True)
            raise
        self._close(rollback=False)

    def abandon(self) -> None:
        """Stop, roll back and close (the outputs failed or Ctrl-C came): the history as it was."""
        if self._con is not None:
            self._con.interrupt()  # the thread's statement ends at once with an error
        self._close(rollback=True)

    def _close(self, *, rollback: bool) -> None:
        try:
            self._inserted.exception()  # wait for the thread, whatever it raised
        finally:
            self._pool.shutdown(wait=True)
            if self._con is not None:
                if rollback:
                    _rollback(self._con)
                self._con.close()
            if rollback and self._created and _holds_no_month(self.path):  # no empty history left
                for made in (self.path, self.path.with_name(self.path.name + ".wal")):
                    made.unlink(missing_ok=True)


def _holds_no_month(path: Path) -> bool:
    """Whether the history file holds no stored month (another run may have stored one meanwhile).

    False when it cannot be opened to tell (another run holds it): it is then left alone.
    """
    import duckdb

    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return False
    try:
        tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
        return "runs" not in tables or con.execute("SELECT count(*) FROM runs").fetchone() == (0,)
    except duckdb.Error:
        return False
    finally:
        con.close()


def _rollback(con: Any) -> None:
    try:
        con.execute("ROLLBACK")
    except Exception:  # no transaction left to roll back (it failed to begin)
        return


def previous_month(path: Path, month: str) -> tuple[str, list[str]] | None:
    """The latest stored month before ``month`` and its departments (None without one)."""
    if not path.exists():
        return None
    with reading(path) as con:
        if con is None:
            return None
        found = con.execute("SELECT max(month) FROM runs WHERE month < ?", [month]).fetchone()
        if found is None or found[0] is None:
            return None
        departments = con.execute(
            "SELECT DISTINCT department FROM submissions WHERE month = ? AND department IS NOT NULL ORDER BY 1",
            [found[0]],
        ).fetchall()
        return str(found[0]), [str(d[0]) for d in departments]


def _has_runs(con: Any, path: Path) -> bool:
    """Whether the file holds stored months; InputError when it is another database.

    An empty database holds none. Any other file must be an xlcrm history of this schema
    version (its ``meta`` table says so) with its ``runs``; anything else in it that a query
    trips on is reported by ``reading`` as one line too.
    """
    tables = {r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
    if not tables:
        return False
    version = None
    if "meta" in tables:
        try:
            found = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            version = found[0] if found else None
        except Exception:  # a meta table of another shape: not ours
            version = None
    if version is None or "runs" not in tables:
        raise InputError("history", str(path), detail=Phrase("不是 xlcrm 的历史库", "not an xlcrm history"))
    if version != str(SCHEMA_VERSION):
        raise InputError("history", str(path), detail=f"schema {version} ≠ {SCHEMA_VERSION}")
    return True


@contextmanager
def reading(path: Path) -> Iterator[Any]:
    """A read-only connection to a stored history (None when it holds no month yet).

    InputError, naming the file, for a file that is not an xlcrm history or cannot be read.
    """
    import duckdb

    con = _connect(path, read_only=True)
    try:
        yield con if _has_runs(con, path) else None
    except duckdb.Error as exc:
        raise InputError("history", str(path), detail=_first_line(exc)) from None
    finally:
        con.close()


def months(path: Path) -> list[dict[str, Any]]:
    """Every stored month with its run and counts, oldest first."""
    if not path.exists():
        raise InputError("not_found", str(path))
    with reading(path) as con:
        if con is None:
            return []
        cursor = con.execute(
            """
            SELECT r.month, r.finished_at, r."user", r.host, r.files_found, r.checked, r.unusable,
                   r.skipped, r.departments, r.customers, r.errors, r.warnings, r.exit_code, r.output,
                   (SELECT count(*) FROM credit c WHERE c.month = r.month) AS credit_rows,
                   (SELECT count(*) FROM findings f WHERE f.month = r.month) AS findings
            FROM runs r ORDER BY r.month
            """
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


WITHHELD_MESSAGE = (
    "（涉及受密码保护的提交，内容未存入历史库）",
    "(involves a password-protected submission: its content is not stored)",
)


def frames_of(company: Company, withheld: frozenset[int] = frozenset()) -> dict[str, pl.DataFrame]:
    """The rows a month stores, table by table (columns as in ``TABLES``), but for ``run_frames``.

    ``withheld``: the submissions (positions) whose rows are not stored — password-protected
    ones without --allow-unprotected (POLICY §7): their manifest and 部门汇总 rows are kept,
    their customers, credit, evaluation, blacklist and findings rows are not. Another
    department's finding that quotes their rows (D101–D103, a B401 from their company
    entries) keeps its place but not its text.
    """
    month = company.month
    found = {f.position: f for f in company.found}
    frames: dict[str, pl.DataFrame] = {}
    frames["manifest"] = _typed(
        "manifest",
        [
            {
                "month": month, "position": o.position, "file": o.file, "status": o.status,
                "reason_code": o.reason.key if o.reason else None,
                "reason": o.reason.message("zh") if o.reason else None,
                "department": o.department, "department_source": o.department_source,
                "sha256": found[o.position].sha256, "size": found[o.position].size,
                "sheets": list(o.sheets),
                **{f"rows_{k}": o.rows.get(k) for k in ("archive", "evaluation", "credit", "blacklist")},
                **dict(zip(("errors", "warnings"), company.counts_of(o), strict=True)),
                "worker": o.worker or None, "seconds": o.seconds,
            }
            for o in company.outcomes
        ],
    )  # fmt: skip
    departments = company.departments
    frames["submissions"] = _typed(
        "submissions",
        departments.rename({SUB: "position"}).to_dicts() if not departments.is_empty() else [],
        month=month,
    )
    for table, key in (
        ("customers", "archive"),
        ("credit", "credit"),
        ("evaluations", "evaluation"),
        ("blacklist", "blacklist"),
    ):
        frame = company.tables[key].rename(RENAMED.get(key, {}))
        if withheld:
            frame = frame.filter(~pl.col(SUB).is_in(sorted(withheld)))
        frame = frame.rename(
            {SUB: "position", DEPT: "department", FILE: "file", SHEET: "sheet", ROW: "excel_row"}
        )
        frames[table] = frame.with_columns(pl.lit(month).alias("month")).select(
            [c for c, _ in TABLES[table] if c in frame.columns or c == "month"]
        )
    stored = [f for f in company.findings if f.position not in withheld]
    kept = [f.diagnostic for f in stored]
    messages = [(d.message("zh"), d.message("en")) for d in kept]
    if withheld:  # another department's finding that quotes a withheld one's rows: not its text
        names = {o.department for o in company.outcomes if o.position in withheld and o.department}
        listed = company.tables["blacklist"].filter(pl.col(SUB).is_in(sorted(withheld)))
        entries = {described(entry) for entry in listed.select("name", "reason").iter_rows(named=True)}
        messages = [
            WITHHELD_MESSAGE if involves(f, names, entries) else m
            for f, m in zip(stored, messages, strict=True)
        ]
    declared = rules()
    frames["findings"] = _typed_columns(
        "findings",
        {
            "position": [f.position for f in stored], "department": [f.department for f in stored],
            "file": [d.file for d in kept], "origin": [f.origin for f in stored],
            "code": [d.code for d in kept], "severity": [declared[d.code].severity for d in kept],
            "sheet": [d.sheet for d in kept], "cell": [d.cell for d in kept], "excel_row": [d.row for d in kept],
            "column_header": [d.column for d in kept], "customer_code": [d.customer_code for d in kept],
            "message": [m[0] for m in messages], "message_en": [m[1] for m in messages],
            "waived": [d.waived for d in kept],
        },
        month,
    )  # fmt: skip
    by_position = {o.position: o for o in company.outcomes}
    frames["withheld"] = _typed(
        "withheld",
        [
            {"position": p, "department": by_position[p].department, "file": by_position[p].file}
            for p in sorted(withheld)
        ],
        month=month,
    )
    return frames


def run_frames(
    company: Company, run: RunInfo, output_sha256: str | None, outputs: list[dict[str, Any]]
) -> dict[str, pl.DataFrame]:
    """The run record and the files it wrote (kind, path, department, sha256, size, protected, masked).

    Stored last: they name the outputs' SHA-256, known only once the outputs are written.
    """
    month = company.month
    counts = {s: company.count(s) for s in (CHECKED, UNUSABLE, SKIPPED)}
    frames: dict[str, pl.DataFrame] = {}
    frames["runs"] = _typed(
        "runs",
        [
            {
                "month": month, "run_id": run.run_id, "started_at": run.started_at,
                "finished_at": run.finished_at, "user": run.user, "host": run.host,
                "xlcrm_version": run.version, "as_of": run.as_of,
                "options": json.dumps(run.options, ensure_ascii=False, default=str),
                "inputs": list(run.inputs), "executor": run.executor, "output": str(run.output),
                "output_sha256": output_sha256,
                "previous_month": company.previous[0] if company.previous else None,
                "files_found": len(company.outcomes), **counts,
                "departments": len({o.department for o in company.checked}),
                "customers": company.tables["archive"].height, "errors": company.errors,
                "warnings": company.warnings, "exit_code": company.exit_code,
            }
        ],
    )  # fmt: skip
    frames["outputs"] = _typed("outputs", [{**o, "run_id": run.run_id} for o in outputs], month=month)
    return frames


_POLARS: dict[str, Any] = {
    "VARCHAR": pl.Utf8, "INTEGER": pl.Int64, "BIGINT": pl.Int64, "DOUBLE": pl.Float64,
    "DATE": pl.Date, "BOOLEAN": pl.Boolean, "TIMESTAMP": pl.Datetime("us"), "VARCHAR[]": pl.List(pl.Utf8),
}  # fmt: skip


def _typed(table: str, rows: list[dict[str, Any]], month: str | None = None) -> pl.DataFrame:
    """Rows as a frame with exactly the table's columns and types."""
    schema = {name: _POLARS[kind] for name, kind in TABLES[table]}
    if month is not None:
        rows = [{**row, "month": month} for row in rows]
    return pl.DataFrame([{k: row.get(k) for k in schema} for row in rows], schema=schema)


def _typed_columns(table: str, columns: dict[str, list[Any]], month: str) -> pl.DataFrame:
    """Like ``_typed``, from lists by column (no dict per row): the findings run to 100,000s."""
    schema = {name: _POLARS[kind] for name, kind in TABLES[table]}
    height = len(next(iter(columns.values()))) if columns else 0
    return pl.DataFrame(
        {k: columns[k] if k in columns else [month if k == "month" else None] * height for k in schema},
        schema=schema,
    )


DESCRIPTIONS = {
    "runs": "one row per stored month: who ran it, when, on which host, with which options and executor, what it wrote (output and its SHA-256), the counts and exit status",
    "manifest": "every file found that month: status (checked / unusable / skipped), reason, department and how it was determined, SHA-256, size, sheets, rows read per form, errors and warnings, worker and seconds",
    "submissions": "one row per checked submission (部门汇总): customers, admitted, declared and computed VIP/优选 counts and shares against the caps, credit rows, limit and exposure totals, utilisation, errors, warnings",
    "customers": "every 客户档案 row with its department (the submission's; 所属部门 is declared_department), file, sheet, Excel row, company-wide identity, computed tier and basis, and from 信用评定 the computed grade, grant type, limit and exposure",
    "credit": "every 信用评定 row with identity, computed grade, maximum limit and term",
    "evaluations": "every 客户评价 row",
    "blacklist": "every 黑名单 row of every submission (its own 部门 column is listed_department)",
    "findings": "every finding of the month: check's, the company blacklist's (origin company_blacklist) and D101–D106 (origin consolidation), with the message in Chinese and English",
    "outputs": "every file the run wrote: kind (workbook, department_workbook, html, csv), path, department (of a split workbook), SHA-256, size, whether it is password-protected and whether contacts are masked",
    "withheld": "the submissions whose rows the month did not store (password-protected, without --allow-unprotected): their customers, credit, evaluation, blacklist and findings rows are absent, their manifest and submissions rows present",
}


def schema_markdown() -> str:
    """The README's table of the history's tables and columns (``make docs``)."""
    lines = ["| table | columns | what a row is |", "|---|---|---|"]
    for name, columns in TABLES.items():
        listed = ", ".join(f"`{c}` {kind.lower()}" for c, kind in columns)
        lines.append(f"| `{name}` | {listed} | {DESCRIPTIONS[name]} |")
    return "\n".join(lines)
