"""The normalised submission: each form's rows as one typed polars frame, traceable to cells.

Raw tables from the reader are normalised column by column (POLICY §5); a value that still
cannot be read becomes null in the frame and an S003 finding (S004 for 是/否 columns, whose
values form an allowed list). Blank rows are dropped. Every frame row keeps ``__t`` (which
table it came from) and ``__pos`` (its position in that table), so any finding about it can
name its file, sheet, cell and customer.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import polars as pl

from xlcrm.diagnostics import Diagnostic, column_letter
from xlcrm.forms import Column, Form
from xlcrm.normalize import (
    INVALID,
    text_series,
    to_bool,
    to_code,
    to_date,
    to_datetime,
    to_enum,
    to_integer,
    to_list,
    to_number,
    to_period,
    to_rate,
    to_text,
)
from xlcrm.reader import Table

DTYPES: dict[str, Any] = {
    "text": pl.Utf8,
    "enum": pl.Utf8,
    "period": pl.Utf8,
    "integer": pl.Int64,
    "number": pl.Float64,
    "date": pl.Date,
    "datetime": pl.Datetime("us"),
    "rate": pl.Float64,
    "bool": pl.Boolean,
    "list": pl.List(pl.Utf8),
}
TABLE, POSITION = "__t", "__pos"
# Cell value classes that are already the normalised value of a column type.
_ALREADY_TYPED: dict[str, type] = {
    "number": float,
    "date": dt.date,
    "integer": int,
    "datetime": dt.datetime,
    "rate": float,
}


def converter(column: Column) -> Callable[[object], Any]:
    """The normalising function for one declared column."""
    if column.type == "text":
        return to_code if column.format in ("phone", "uscc") else to_text
    if column.type == "enum":
        return partial(to_enum, allowed=column.choices)
    return {
        "integer": to_integer,
        "number": to_number,
        "date": to_date,
        "datetime": to_datetime,
        "rate": to_rate,
        "bool": to_bool,
        "list": to_list,
        "period": to_period,
    }[column.type]


# 1904-01-01 is serial 0 in the 1904 date system and 1462 in the 1900 one.
DAYS_1904 = 1462


def normalise_column(
    column: Column, raw: Sequence[Any], *, date1904: bool = False
) -> tuple[pl.Series, list[int]]:
    """Typed values (null where blank or unreadable) and the positions that were unreadable.

    A text column whose cells are all strings is normalised vectorised. Otherwise text cells
    are converted once per distinct text (a column repeats its enum values, 是/否,
    departments); the memo's keys are only strings, so ``True``, ``1`` and ``1.0`` never
    collide. Numbers and dates already typed by Excel pass straight through. In a workbook
    of the 1904 date system (``date1904``) a plain number in a date or date-time column is a 1904 serial;
    date cells arrive as dates (python-calamine applies the system itself).
    """
    dtype = DTYPES[column.type]
    kinds = set(map(type, raw))  # each pass below is skipped when no cell needs it
    if column.type == "text" and kinds <= {str}:
        codes = column.format in ("phone", "uscc")
        return text_series(pl.Series(column.key, raw, dtype=pl.Utf8), compact_upper=codes), []
    convert = converter(column)
    if date1904 and column.type in ("date", "datetime"):  # a 1904 serial as the 1900 one
        raw = [v + DAYS_1904 if v.__class__ in (int, float) and v >= 0 else v for v in raw]
        kinds = set(map(type, raw))
    if column.type == "date" and dt.datetime in kinds:  # date cells may arrive as datetime
        raw = [v.date() if v.__class__ is dt.datetime else v for v in raw]
    elif column.type == "integer" and float in kinds:  # whole numbers typed in Excel arrive as floats
        raw = [int(v) if v.__class__ is float and v.is_integer() and abs(v) < 2**53 else v for v in raw]
    memo: dict[str, Any] = {}
    passthrough = _ALREADY_TYPED.get(column.type)
    values = [
        v
        if v.__class__ is passthrough
        else (memo[v] if v in memo else memo.setdefault(v, convert(v)))
        if v.__class__ is str
        else convert(v)
        for v in raw
    ]
    # Only a converted cell can be unreadable: a text (its memo says) or a cell of another kind.
    maybe_bad = any(v is INVALID for v in memo.values()) or bool(kinds - {str, passthrough})
    bad = (
        []
        if column.type in ("text", "enum", "list", "period") or not maybe_bad
        else [i for i, v in enumerate(values) if v is INVALID]
    )
    for i in bad:
        values[i] = None
    if column.type == "list":  # nested values convert slowly: build the distinct ones, gather
        distinct: dict[Any, int] = {}
        positions = [distinct.setdefault(v, len(distinct)) for v in values]
        lists = pl.Series(column.key, list(distinct), dtype=dtype)
        return lists.gather(pl.Series(positions, dtype=pl.UInt32)), bad
    series = pl.Series(column.key, values, dtype=dtype)
    if dtype == pl.Float64 and not all_finite(series):
        # an infinite or NaN number cell (a hand-made <v>1e999</v>) passed through as typed: unreadable
        odd = series.is_finite().not_().fill_null(False).arg_true().to_list()
        bad = sorted({*bad, *odd})
        series = series.scatter(odd, None)
    return series, bad


def all_finite(series: pl.Series) -> bool:
    """Whether no value of a float series is NaN or infinite (nulls are fine).

    A sum of floats is finite only if every term is (NaN and ±∞ never cancel out), and a
    native sum costs microseconds where the element-wise test costs a polars query; only a
    sum that is not finite (a NaN, an infinity, or finite values whose sum overflows) needs
    the element-wise test.
    """
    total = series.sum()
    return math.isfinite(total) or bool(series.is_finite().fill_null(True).all())


def hidden_part(table: Table, row: int | None, col: int | None) -> str | None:
    """What hides a cell from view, if anything: its sheet, row and/or column."""
    if not table.visible:
        return "sheet"
    row_hidden = row is not None and row in table.hidden_rows
    col_hidden = col is not None and col in table.hidden_cols
    if row_hidden and col_hidden:
        return "row_column"
    return "row" if row_hidden else "column" if col_hidden else None


@dataclass(slots=True)
class FormData:
    """All rows of one form in a submission (possibly from several sheets or files)."""

    form: Form
    tables: list[Table]
    frame: pl.DataFrame
    codes: list[list[str | None]]  # per table: the normalised 客户编码 of each position
    unusable: list[tuple[int, int, str]] = field(default_factory=list)  # (table, position, key)
    unreadable: set[tuple[int, int, str]] = field(default_factory=set)  # S003/S010 cells, read as blank
    # The frame's table and position columns as lists, for ``at`` (built once per frame, not per finding).
    _places: tuple[pl.DataFrame, list[int], list[int]] | None = field(default=None, repr=False, compare=False)

    def blank_unusable(self) -> None:
        """Set the cells that failed validation to null, so rules treat them as unknown."""
        by_key: dict[str, list[tuple[int, int]]] = {}
        for table, position, key in self.unusable:
            by_key.setdefault(key, []).append((table, position))
        for key, cells in by_key.items():
            mask = _at_cells(cells)
            self.frame = self.frame.with_columns(pl.when(mask).then(None).otherwise(pl.col(key)).alias(key))

    def invalid(self, key: str) -> pl.Expr:
        """Whether a row's ``key`` cell held a value the rules cannot use (S003–S006, S010).

        Such a cell reads blank in the frame, like a cell left blank; a rule for which blank has
        a meaning of its own (a blank 床位数 meets no scale condition) tells them apart with this.
        """
        cells = sorted({(t, p) for t, p, k in (*self.unusable, *self.unreadable) if k == key})
        return _at_cells(cells) if cells else pl.lit(False)

    def present(self, table: int) -> set[str]:
        """The declared columns the given table has."""
        return set(self.tables[table].columns)

    def diagnostic(self, code: str, table: int, position: int, key: str | None, /, **args: Any) -> Diagnostic:
        """A finding about one cell (or a whole row when ``key`` is None)."""
        source = self.tables[table]
        col: int | None = None  # 1-based column of the cell shown
        if source.cells:  # key/value layout: each value has its own row, always column B
            row = source.cells.get(key or "", None)
            shown_row, col = row, 2 if row else None
        else:
            row = source.rows[position]
            index = source.columns.get(key) if key else None
            if key and index is None:  # the sheet lacks the column (optional): the row's code cell
                index = source.columns.get("customer_code", min(source.columns.values(), default=None))
            shown_row, col = (row, index + 1) if index is not None else (row, None)
            if col is not None:  # a merged range shows its value in its first cell
                shown_row, col = source.anchors.get((row, col), (row, col))
        return Diagnostic(
            code=code,
            file=source.file,
            sheet=source.sheet,
            cell=f"{column_letter(col - 1)}{shown_row}" if col is not None else None,
            row=row,
            column=self.form.column(key).zh if key else None,
            customer_code=self.codes[table][position] if self.codes[table] else None,
            args=args,
            hidden=hidden_part(source, shown_row, col),
        )

    def whole(self, code: str, /, **args: Any) -> Diagnostic:
        """A finding about the form as a whole (a department-level count), on its real sheet.

        It names the sheet the form was found in (e.g. 华东客户档案2025) and its file, where all
        of the form's tables share them.
        """
        files = {t.file for t in self.tables}
        sheets = {t.sheet for t in self.tables}
        return Diagnostic(
            code,
            file=files.pop() if len(files) == 1 else None,
            sheet=sheets.pop() if len(sheets) == 1 else self.form.zh,
            args=args,
        )

    def named(self, indices: list[int]) -> list[tuple[str | None, str, int]]:
        """How findings name frame rows: each one's 客户编码, else its name (else None), sheet and row."""
        rows = self.frame.select("customer_code", "name", TABLE, POSITION)[indices]
        return [
            (
                str(code) if code is not None else str(name) if name is not None else None,
                self.tables[table].sheet,
                self.tables[table].rows[position],
            )
            for code, name, table, position in rows.iter_rows()
        ]

    def at(self, code: str, index: int, key: str | None, /, **args: Any) -> Diagnostic:
        """A finding about frame row ``index``."""
        places = self._places
        if places is None or places[0] is not self.frame:  # the frame may have been replaced since
            places = self._places = (self.frame, self.frame[TABLE].to_list(), self.frame[POSITION].to_list())
        return self.diagnostic(code, places[1][index], places[2][index], key, **args)


def _at_cells(cells: Sequence[tuple[int, int]]) -> pl.Expr:
    """Whether a frame row is one of ``cells`` (table, position)."""
    bad = pl.DataFrame(
        {TABLE: [t for t, _ in cells], POSITION: [p for _, p in cells]},
        schema={TABLE: pl.Int32, POSITION: pl.Int32},
    )
    return pl.struct(TABLE, POSITION).is_in(bad.select(pl.struct(TABLE, POSITION)).to_series().implode())


@dataclass(slots=True)
class Submission:
    """One department's submission: its forms, and what reading it already found."""

    files: list[str]
    forms: dict[str, FormData] = field(default_factory=dict)
    findings: list[Diagnostic] = field(default_factory=list)

    @property
    def file(self) -> str | None:
        """The file submission-level findings name: the only file, or none."""
        return self.files[0] if len(self.files) == 1 else None


def prepare_table(table: Table) -> None:
    """Type a table's columns (once) and free its raw cells (millions of objects).

    The engine calls this as each sheet arrives from the reader, so typing one sheet overlaps
    parsing the next. Each column becomes its typed series and the unreadable (position, raw
    value) pairs.
    """
    if table.typed is not None:
        return
    typed = {}
    for key, raw in table.values.items():
        errors = table.errors.get(key, [])
        if errors:  # an error value or uncomputed formula is not data: unknown, never blank
            raw = list(raw)
            for position, _ in errors:
                raw[position] = None
        values, bad = normalise_column(table.form.column(key), raw, date1904=table.date1904)
        typed[key] = (values, [(i, raw[i]) for i in bad])
    table.typed, table.values = typed, {}


def _under_merged_errors(tables: list[Table]) -> set[tuple[int, int, str]]:
    """The cells of merged ranges whose shown cell is an error value (they read blank, not as it)."""
    found = set()
    for t, table in enumerate(tables):
        for key, index in table.columns.items():
            errors = {table.rows[i] for i, _ in table.errors.get(key, [])}
            if not errors or not table.anchors:
                continue
            for i, row in enumerate(table.rows):
                anchor = table.anchors.get((row, index + 1))
                if anchor is not None and anchor[1] == index + 1 and anchor[0] in errors:
                    found.add((t, i, key))
    return found


def build_form(form: Form, tables: list[Table]) -> tuple[FormData, list[Diagnostic]]:
    """Normalise every table of ``form`` into one frame; also the unreadable-value findings."""
    frames = []
    codes: list[list[str | None]] = []
    unreadable: list[tuple[int, int, Column, Any]] = []
    excel_errors: list[tuple[int, int, Column, str]] = []
    for t, table in enumerate(tables):
        series = []
        bad_rows: set[int] = set()
        table_codes: list[str | None] = []
        prepare_table(table)
        assert table.typed is not None
        for key, (values, bad) in table.typed.items():
            column = form.column(key)
            if key == "customer_code":
                table_codes = values.to_list()
            unreadable.extend((t, i, column, raw) for i, raw in bad)
            bad_rows.update(i for i, _ in bad)
            excel_errors.extend((t, i, column, text) for i, text in table.errors.get(key, []))
            bad_rows.update(i for i, _ in table.errors.get(key, []))
            series.append(values)
        codes.append(table_codes)
        height = len(table.rows)
        if series:
            frame = pl.DataFrame(series, height=height)
        else:  # no column of the form found in it (a 参数 sheet naming no known parameter)
            frame = pl.DataFrame({TABLE: pl.Series([], dtype=pl.Int32)}).clear(height).drop(TABLE)
        frame = frame.with_columns(
            pl.lit(t, dtype=pl.Int32).alias(TABLE),
            pl.int_range(height, dtype=pl.Int32).alias(POSITION),
        )
        filled = [pl.col(s.name).is_not_null() for s in series]
        if bad_rows:
            filled.append(pl.col(POSITION).is_in(sorted(bad_rows)))
        if filled:
            frame = frame.filter(pl.any_horizontal(filled))
        frames.append(frame)
    frame = pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()
    for column in form.columns:  # absent columns read as all blank, typed
        if column.key not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=DTYPES[column.type]).alias(column.key))
    data = FormData(form, tables, frame, codes)
    data.unreadable = {(t, i, c.key) for t, i, c, _ in unreadable} | {
        (t, i, c.key) for t, i, c, _ in excel_errors
    }
    data.unreadable |= _under_merged_errors(tables)
    findings = [
        data.diagnostic(
            "S003",  # POLICY §5: a value, 是/否 included, that cannot be read after normalisation
            t,
            i,
            column.key,
            column=column.zh,
            value=to_text(raw),
            type=column.type,
            allowed=column.choices,
        )
        for t, i, column, raw in unreadable
    ]
    findings.extend(
        data.diagnostic("S010", t, i, column.key, column=column.zh, value=text)
        for t, i, column, text in excel_errors
    )
    return data, findings
