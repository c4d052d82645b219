"""Excel buttons (issue 5): the same checks on the workbook open in Excel, through xlwings.

``check`` marks the findings in the open workbook (a fill by severity and an xlcrm note on each
finding cell, a fresh 问题清单 sheet with links); ``process`` also writes the computed columns;
``clear`` removes every xlcrm mark and nothing else. They read the live workbook — unsaved edits
included — through xlwings' Book/Range API and feed the same pipeline as ``xlcrm check``
(``reader.scan_sheets`` → ``engine.evaluate``), so the findings are the same.

What xlcrm changes is recorded in a hidden sheet (``xlcrm状态``): each cell's fill and note as
they were, the sheets and columns it added. ``clear`` puts every one of them back, so a check
followed by clear leaves values, fills and notes exactly as before. Only API calls that work
in Excel on Windows and macOS are used (values, colours, notes, sheets, hyperlinks); where a
client has no notes, the 问题清单 sheet still lists every finding.

The button workbook (``workbook_templates/客户管理台账.xlsm``) carries xlwings' standalone VBA
module unchanged; its one macro ``SampleCall`` runs ``import <workbook name>; <workbook
name>.main()``, so the template ships ``客户管理台账.py`` beside it, which calls :func:`main`.
``main`` runs the action of the button clicked (Excel on Windows names it as
``Application.Caller``); where the client cannot say which button it was (macOS), the action
chosen in the 操作 sheet's cell ``B3`` runs. A renamed workbook cannot find its module: xlwings
shows the import error, never a silent no-op (the README says to rename the .py too).

This is the only module that imports xlwings.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import xlwings as xw

from xlcrm.annotate.parts import FILLS as PART_FILLS
from xlcrm.annotate.writer import ISSUE_HEADERS, ISSUES, OWN_SUFFIX, issue_row, note_text
from xlcrm.computed import computed_columns, computed_place
from xlcrm.diagnostics import Diagnostic, column_letter
from xlcrm.engine import Options, Result, evaluate, without_cyclic_gc
from xlcrm.errors import InputError
from xlcrm.policy import load_policy
from xlcrm.reader import Sheet, scan_sheets
from xlcrm.render.csv import as_text
from xlcrm.submission import prepare_table
from xlcrm.templates import ACTION_CELL, BUTTONS, CONTROL

STATE = "xlcrm状态"
# The annotated copy's fill colours (ARGB) as the RGB tuples xlwings takes.
FILLS: dict[str, tuple[int, int, int]] = {
    k: (int(fill[2:4], 16), int(fill[4:6], 16), int(fill[6:8], 16)) for k, (fill, _) in PART_FILLS.items()
}
EXCEL_ERRORS = frozenset(
    {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA", "#SPILL!", "#CALC!"}
)


def main() -> None:
    """The buttons' entry: run the clicked button's action on the workbook that called."""
    book = xw.Book.caller()
    action = _clicked(book) or book.sheets[CONTROL][ACTION_CELL].value
    actions = {BUTTONS[0]: check, BUTTONS[1]: process, BUTTONS[2]: clear}
    if action not in actions:
        raise ValueError(f"未知操作“{action}”：请在“{CONTROL}”表 {ACTION_CELL} 选择 {' / '.join(BUTTONS)}")
    actions[action](book)


def _clicked(book: xw.Book) -> str | None:
    """The clicked button's action where Excel says which button it was (Windows), else None."""
    try:
        caller = book.app.api.Caller  # "Button 1" … in insertion order
    except Exception:  # macOS, or no Excel object model at all
        return None
    if isinstance(caller, str) and caller.startswith("Button "):
        number = caller.removeprefix("Button ")
        if number.isdigit() and 1 <= int(number) <= len(BUTTONS):
            return BUTTONS[int(number) - 1]
    return None


def check(book: xw.Book | None = None) -> Result:
    """Mark the findings in the open workbook (after clearing xlcrm's earlier marks)."""
    book = book or xw.Book.caller()
    clear(book)
    result = _evaluate(book)
    state = _State()
    _mark(book, result, state)
    _issues(book, result, state)
    state.save(book)
    return result


def process(book: xw.Book | None = None) -> Result:
    """Check, and also write the computed columns (系统等级 … 最长回款期限) at the right."""
    book = book or xw.Book.caller()
    result = check(book)
    state = _State.load(book)
    _computed(book, result, state)
    state.save(book)
    return result


def clear(book: xw.Book | None = None) -> None:
    """Remove every xlcrm mark: fills and notes as they were, added sheets and columns gone."""
    book = book or xw.Book.caller()
    state = _State.load(book)
    names = _names(book)
    for sheet, cell, color, note in state.cells:
        if sheet not in names:  # renamed or deleted since: nothing of ours left there
            continue
        rng = book.sheets[sheet][cell]
        rng.color = tuple(color) if color else None
        _set_note(rng, note)
    for sheet, address in state.columns:
        if sheet in names:
            book.sheets[sheet][address].clear_contents()
    for name in state.sheets:
        if name in _names(book):
            book.sheets[name].delete()
    if STATE in _names(book):
        book.sheets[STATE].delete()


def _names(book: xw.Book) -> list[str]:
    return [s.name for s in book.sheets]


def _evaluate(book: xw.Book) -> Result:
    """The pipeline of ``xlcrm check`` on the live values of every sheet.

    The company policy file applies as for the CLI (``XLCRM_POLICY``). A workbook xlcrm cannot
    use is one Chinese line in xlwings' error box, as on the command line.
    """
    label = book.name
    sheets = [(i, _read(ws)) for i, ws in enumerate(book.sheets) if ws.name not in (STATE, CONTROL)]
    try:
        policy = load_policy(Path(os.environ["XLCRM_POLICY"])) if os.environ.get("XLCRM_POLICY") else None
        with without_cyclic_gc():
            scan = scan_sheets(label, sheets, prepare_table)
            return evaluate([scan], Result(files=[label]), Options(policy=policy))
    except InputError as problem:
        raise ValueError(problem.message("zh")) from None


def _read(ws: xw.Sheet) -> Sheet:
    """A sheet's used area as the reader's Sheet; Excel error values become S010 cells.

    Also what the values alone do not say (POLICY §5): its merged ranges and hidden rows and
    columns, through calls every Excel client answers (MergeCells, MergeArea, heights, widths).
    """
    used = ws.used_range
    values = used.options(ndim=2, err_to_str=True).value or [[]]
    first_row, first_col = used.row - 1, used.column - 1
    errors: dict[tuple[int, int], str] = {}
    rows = []
    for r, line in enumerate(values):
        row = []
        for c, value in enumerate(line):
            if isinstance(value, str) and value in EXCEL_ERRORS:
                errors[(first_row + r + 1, first_col + c + 1)] = value
                value = None
            row.append("" if value is None else value)
        rows.append(row)
    last_row, last_col = first_row + len(rows), first_col + max((len(r) for r in rows), default=0)
    return Sheet(
        ws.name,
        rows,
        first_row,
        first_col,
        visible=bool(ws.visible),
        errors=errors,
        merges=_merges(ws, rows, first_row, first_col),
        hidden_rows=_hidden(
            ws, [(r, first_col + 1, r, max(last_col, 1)) for r in range(first_row + 1, last_row + 1)]
        ),
        hidden_cols=frozenset(
            _hidden(
                ws,
                [(first_row + 1, c, max(last_row, 1), c) for c in range(first_col + 1, last_col + 1)],
                column=True,
            )
        ),
    )


def _merges(
    ws: xw.Sheet, rows: list[list[Any]], first_row: int, first_col: int
) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """The merged ranges (0-based, inclusive, as python-calamine gives them) of the used area.

    One MergeCells call per column; only in a column that has merged cells are its blank
    cells (every merged range has one) asked for their MergeArea.
    """
    found: set[tuple[tuple[int, int], tuple[int, int]]] = set()
    width = max((len(r) for r in rows), default=0)
    for c in range(width):
        column = ws.range((first_row + 1, first_col + c + 1), (first_row + len(rows), first_col + c + 1))
        if column.merge_cells is False:
            continue
        for r, row in enumerate(rows):
            if c < len(row) and row[c] == "":
                area = ws.range((first_row + r + 1, first_col + c + 1)).merge_area
                rows_n, cols_n = area.shape
                if rows_n * cols_n > 1:
                    found.add(
                        ((area.row - 1, area.column - 1), (area.row + rows_n - 2, area.column + cols_n - 2))
                    )
    return sorted(found)


def _hidden(ws: xw.Sheet, lines: list[tuple[int, int, int, int]], *, column: bool = False) -> set[int]:
    """1-based rows (or columns) of ``lines`` that are hidden: Excel reports their size as 0."""
    if not lines:
        return set()

    def size(first_row: int, first_col: int, last_row: int, last_col: int) -> float | None:
        rng = ws.range((first_row, first_col), (last_row, last_col))
        return rng.column_width if column else rng.row_height  # type: ignore[no-any-return]

    whole = size(lines[0][0], lines[0][1], lines[-1][2], lines[-1][3])
    if whole:  # one common, non-zero size: nothing hidden
        return set()
    return {line[1] if column else line[0] for line in lines if size(*line) == 0}


class _State:
    """What xlcrm changed in the open workbook, kept in a hidden sheet so clear can undo it."""

    def __init__(self) -> None:
        self.cells: list[list[Any]] = []  # [sheet, cell, original colour or None, original note or None]
        self.columns: list[list[str]] = []  # [sheet, address] of computed columns written
        self.sheets: list[str] = []  # sheets xlcrm added

    @classmethod
    def load(cls, book: xw.Book) -> _State:
        """The record of an earlier run (empty if none): one row per change, as ``save`` wrote it."""
        state = cls()
        if STATE not in _names(book):
            return state
        for kind, sheet, place, color, note in book.sheets[STATE].used_range.options(ndim=2).value:
            if kind == "cell":
                state.cells.append([sheet, place, json.loads(color) if color else None, note])
            elif kind == "column":
                state.columns.append([sheet, place])
            elif kind == "sheet":
                state.sheets.append(sheet)
        return state

    def save(self, book: xw.Book) -> None:
        """One row per change (a cell holds at most 32,767 characters, so never one big record)."""
        sheet = book.sheets[STATE] if STATE in _names(book) else book.sheets.add(STATE, after=book.sheets[-1])
        rows: list[list[Any]] = [["kind", "sheet", "place", "color", "note"]]
        rows += [
            ["cell", s, c, json.dumps(color) if color else None, as_text(n) if n else None]
            for s, c, color, n in self.cells
        ]
        rows += [["column", s, address, None, None] for s, address in self.columns]
        rows += [["sheet", name, None, None, None] for name in self.sheets]
        sheet.used_range.clear_contents()
        sheet["A1"].value = rows
        sheet.visible = False


def _mark(book: xw.Book, result: Result, state: _State) -> None:
    """A fill and a note on each finding cell; each cell's fill and note recorded first."""
    by_cell: dict[tuple[str, str], list[Diagnostic]] = defaultdict(list)
    for d in result.diagnostics:
        if d.sheet and d.cell and d.row:
            by_cell[(d.sheet, d.cell)].append(d)
    for (sheet, cell), items in by_cell.items():
        rng = book.sheets[sheet][cell]
        note = rng.note.text if rng.note is not None else None
        state.cells.append([sheet, cell, list(rng.color) if rng.color else None, note])
        errors = any(d.severity == "error" and not d.waived for d in items)
        rng.color = FILLS["error" if errors else "warning"]
        ours = note_text(items)
        _set_note(rng, f"{note}\n{ours}" if note else ours)


def _set_note(rng: xw.Range, text: str | None) -> None:
    """Set, replace or remove a cell's note; a client without notes keeps the 问题清单 only."""
    try:
        if rng.note is not None:
            if text is None:
                rng.note.delete()
            else:
                rng.note.text = text
        elif text is not None:
            rng.add_note(text)
    except Exception:  # a client without notes: the 问题清单 sheet lists every finding anyway
        pass


def _issues(book: xw.Book, result: Result, state: _State) -> None:
    """A fresh 问题清单 sheet: one row per finding, linked to its cell."""
    name, names, number = ISSUES, _names(book), 1
    while name in names:  # a sheet this run did not add (the user's, or an annotated copy's) stays
        name, number = ISSUES + (OWN_SUFFIX if number == 1 else f"(xlcrm{number})"), number + 1
    sheet = book.sheets.add(name, after=book.sheets[-1])
    state.sheets.append(name)
    rows: list[list[Any]] = [list(ISSUE_HEADERS)]
    rows += [[as_text(v) if isinstance(v, str) else v for v in issue_row(d)] for d in result.diagnostics]
    sheet["A1"].value = rows
    for r, d in enumerate(result.diagnostics, start=2):
        if d.sheet and d.cell:
            sheet[f"A{r}"].add_hyperlink(f"#'{d.sheet}'!{d.cell}", f"{d.sheet}!{d.cell}")


def _computed(book: xw.Book, result: Result, state: _State) -> None:
    """The computed columns at the right of 客户档案 and 信用评定 (recorded for clear)."""
    if result.context is None or result.submission is None:
        return
    for key, columns in computed_columns(result.context).items():
        data = result.submission.forms[key]
        for t, table in enumerate(data.tables):
            if not table.rows or table.header_row == 0:
                continue
            start, _ = computed_place(table)
            block = [list(columns.headers)] + [
                [as_text(v) if isinstance(v, str) else v for v in columns.values.get((t, p), ())]
                or [None] * len(columns.headers)
                for p in range(len(table.rows))
            ]
            top = f"{column_letter(start)}{table.header_row}"
            bottom = f"{column_letter(start + len(columns.headers) - 1)}{table.rows[-1]}"
            book.sheets[table.sheet][top].value = block
            state.columns.append([table.sheet, f"{top}:{bottom}"])
