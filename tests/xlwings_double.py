"""A test double for Excel's *storage* only: an xlwings engine backed by openpyxl.

Registered through xlwings' own engine hook (``xw.engines.add(xw.Engine(impl=Engine()))``),
so the real xlwings Book / Sheet / Range / converter code runs on top of it, exactly as on a
PC; only where the cells live differs (an openpyxl workbook instead of Excel's memory). It
implements the part of xlwings' engine interface the xlcrm macros use: sheets, used range,
values, fills, notes, hyperlinks, clearing and deleting. It is not Excel: what only a click in
real Excel can prove is listed in the README.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
from openpyxl.comments import Comment
from openpyxl.styles import PatternFill
from openpyxl.utils import get_column_letter, range_boundaries


class Engine:
    """The engine: one app holding the books opened in a test."""

    name = "openpyxl-double"
    type = "reader"

    def __init__(self) -> None:
        self.apps = Apps(self)

    @staticmethod
    def clean_value_data(
        data: Any, datetime_builder: Any, empty_as: Any, number_builder: Any, err_to_str: Any
    ) -> Any:
        """Values as xlwings' converters expect them (blank cells as ``empty_as``)."""
        return [
            [
                empty_as
                if v is None
                else number_builder(v)
                if number_builder is not None and isinstance(v, float)
                else v
                for v in row
            ]
            for row in data
        ]

    @staticmethod
    def prepare_xl_data_element(x: Any, options: Any) -> Any:
        """A value on its way to a cell (openpyxl takes Python values as they are)."""
        return x


class Apps:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._apps = [App(self)]

    def __iter__(self) -> Any:
        return iter(self._apps)

    def __len__(self) -> int:
        return len(self._apps)

    def keys(self) -> list[int]:
        return [app.pid for app in self._apps]

    def add(self, **_: Any) -> App:
        self._apps.insert(0, App(self))
        return self._apps[0]


class App:
    pid = 1
    version = "double"
    visible = False
    screen_updating = True
    display_alerts = False

    def __init__(self, apps: Apps) -> None:
        self.engine = apps.engine
        self.books = Books(self)


class Books:
    def __init__(self, app: App) -> None:
        self.app = app
        self._books: list[Book] = []

    def open(self, filename: str, **_: Any) -> Book:
        book = Book(self.app, Path(filename))
        self._books.insert(0, book)
        return book

    @property
    def active(self) -> Book:
        return self._books[0]

    def __call__(self, name_or_index: Any) -> Book:
        if isinstance(name_or_index, int):
            return self._books[name_or_index - 1]
        for book in self._books:
            if book.name == name_or_index:
                return book
        raise KeyError(name_or_index)

    def __len__(self) -> int:
        return len(self._books)

    def __iter__(self) -> Any:
        return iter(self._books)


class Book:
    def __init__(self, app: App, path: Path) -> None:
        self.app = app
        self.fullname = str(path)
        self.name = path.name
        self.workbook = openpyxl.load_workbook(path, keep_vba=path.suffix == ".xlsm")
        self.sheets = Sheets(self)

    def save(self, path: str | None = None, password: str | None = None) -> None:
        self.workbook.save(path or self.fullname)


class Sheets:
    def __init__(self, book: Book) -> None:
        self.book = book

    def _all(self) -> list[Sheet]:
        return [Sheet(self.book, ws) for ws in self.book.workbook.worksheets]

    def __call__(self, name_or_index: Any) -> Sheet:
        if isinstance(name_or_index, int):
            return self._all()[name_or_index - 1]
        return Sheet(self.book, self.book.workbook[name_or_index])

    def __len__(self) -> int:
        return len(self.book.workbook.worksheets)

    def __iter__(self) -> Any:
        return iter(self._all())

    @property
    def active(self) -> Sheet:
        return Sheet(self.book, self.book.workbook.active)

    def add(self, before: Sheet | None = None, after: Sheet | None = None, name: str | None = None) -> Sheet:
        workbook = self.book.workbook
        index = len(workbook.worksheets)
        if before is not None:
            index = workbook.worksheets.index(before.ws)
        elif after is not None:
            index = workbook.worksheets.index(after.ws) + 1
        return Sheet(self.book, workbook.create_sheet(name, index))


class Sheet:
    def __init__(self, book: Book, ws: Any) -> None:
        self.book, self.ws = book, ws

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sheet) and other.ws is self.ws

    @property
    def name(self) -> str:
        return str(self.ws.title)

    @property
    def index(self) -> int:
        return int(self.book.workbook.worksheets.index(self.ws)) + 1

    @property
    def visible(self) -> bool:
        return bool(self.ws.sheet_state == "visible")

    @visible.setter
    def visible(self, value: bool) -> None:
        self.ws.sheet_state = "visible" if value else "hidden"

    def range(self, cell1: Any, cell2: Any = None) -> Range:
        if isinstance(cell1, Range):
            cell1 = (cell1.row, cell1.column)
        if isinstance(cell2, Range):
            cell2 = (cell2.row + cell2.shape[0] - 1, cell2.column + cell2.shape[1] - 1)
        if isinstance(cell1, tuple):
            end = cell2 if cell2 is not None else cell1
            return Range(self, cell1[0], cell1[1], end[0] - cell1[0] + 1, end[1] - cell1[1] + 1)
        if ":" not in cell1 and cell1[:1].isalpha() and not cell1[-1:].isdigit():
            raise NotImplementedError(cell1)
        min_col, min_row, max_col, max_row = range_boundaries(cell1.replace("$", ""))
        return Range(self, min_row, min_col, max_row - min_row + 1, max_col - min_col + 1)

    @property
    def used_range(self) -> Range:
        return Range(
            self,
            self.ws.min_row,
            self.ws.min_column,
            self.ws.max_row - self.ws.min_row + 1,
            self.ws.max_column - self.ws.min_column + 1,
        )

    def delete(self) -> None:
        self.book.workbook.remove(self.ws)


class Note:
    def __init__(self, cell: Any) -> None:
        self.cell = cell

    @property
    def text(self) -> str:
        return str(self.cell.comment.text)

    @text.setter
    def text(self, value: str) -> None:
        author = self.cell.comment.author
        self.cell.comment = Comment(value, author)

    def delete(self) -> None:
        self.cell.comment = None


class Range:
    max_cells_per_read = None  # no chunking: the double reads any range at once
    max_cells_per_write = None

    def __init__(self, sheet: Sheet, row: int, column: int, rows: int, columns: int) -> None:
        self.sheet = sheet
        self.row, self.column = row, column
        self.shape = (rows, columns)
        self.arg1_input = self.address
        self.options: dict[str, Any] = {}

    def _cells(self) -> list[list[Any]]:
        ws = self.sheet.ws
        return [
            [ws.cell(self.row + r, self.column + c) for c in range(self.shape[1])]
            for r in range(self.shape[0])
        ]

    @property
    def api(self) -> Any:
        """The native object (here the openpyxl worksheet)."""
        return self.sheet.ws

    @property
    def coords(self) -> tuple[str, int, int, int, int]:
        return (self.sheet.name, self.row, self.column, *self.shape)

    @property
    def address(self) -> str:
        first = f"${get_column_letter(self.column)}${self.row}"
        if self.shape == (1, 1):
            return first
        last = f"${get_column_letter(self.column + self.shape[1] - 1)}${self.row + self.shape[0] - 1}"
        return f"{first}:{last}"

    def get_address(self, row_absolute: bool, col_absolute: bool, external: bool) -> str:
        return self.address

    @property
    def raw_value(self) -> Any:
        values = [[_out(cell) for cell in line] for line in self._cells()]
        return values[0][0] if self.shape == (1, 1) else values

    @raw_value.setter
    def raw_value(self, data: Any) -> None:
        rows = (
            data
            if isinstance(data, (list, tuple)) and data and isinstance(data[0], (list, tuple))
            else [[data]]
        )
        for r, line in enumerate(rows):
            for c, value in enumerate(line):
                cell = self.sheet.ws.cell(self.row + r, self.column + c)
                text = isinstance(value, str)
                if text and value.startswith("'"):  # Excel's text prefix: shown without it
                    value = value[1:]
                elif text and value.startswith("="):
                    raise AssertionError(f"a formula was written: {value}")
                cell.value = value
                if text:
                    cell.data_type = "s"

    def clear_contents(self) -> None:
        for line in self._cells():
            for cell in line:
                cell.value = None

    @property
    def color(self) -> tuple[int, int, int] | None:
        fill = self._cells()[0][0].fill
        if fill is None or fill.fill_type != "solid":
            return None
        rgb = str(fill.fgColor.rgb)[-6:]
        return (int(rgb[0:2], 16), int(rgb[2:4], 16), int(rgb[4:6], 16))

    @color.setter
    def color(self, value: Any) -> None:
        for line in self._cells():
            for cell in line:
                if value is None:
                    cell.fill = PatternFill(fill_type=None)
                else:
                    rgb = "FF" + "".join(f"{v:02X}" for v in value)
                    cell.fill = PatternFill("solid", fgColor=rgb)

    @property
    def note(self) -> Note | None:
        cell = self._cells()[0][0]
        return Note(cell) if cell.comment is not None else None

    def add_note(self, text: str) -> Note:
        cell = self._cells()[0][0]
        cell.comment = Comment(text, "xlcrm")
        return Note(cell)

    def add_hyperlink(
        self, address: str, text_to_display: str | None = None, screen_tip: str | None = None
    ) -> None:
        cell = self._cells()[0][0]
        cell.hyperlink = address
        cell.value = text_to_display or address

    def _merged(self) -> list[Any]:
        """The sheet's merged ranges that overlap this range."""
        last_row, last_col = self.row + self.shape[0] - 1, self.column + self.shape[1] - 1
        return [
            m
            for m in self.sheet.ws.merged_cells.ranges
            if m.min_row <= last_row
            and m.max_row >= self.row
            and m.min_col <= last_col
            and m.max_col >= self.column
        ]

    @property
    def merge_area(self) -> Range:
        """The merged range holding this range's first cell (the cell itself if none), as Excel."""
        for m in self._merged():
            if m.min_row <= self.row <= m.max_row and m.min_col <= self.column <= m.max_col:
                return Range(
                    self.sheet, m.min_row, m.min_col, m.max_row - m.min_row + 1, m.max_col - m.min_col + 1
                )
        return Range(self.sheet, self.row, self.column, 1, 1)

    @property
    def merge_cells(self) -> bool | None:
        """Excel's Range.MergeCells: True if every cell is merged, False if none, None if mixed."""
        merged = {
            (r, c)
            for m in self._merged()
            for r in range(m.min_row, m.max_row + 1)
            for c in range(m.min_col, m.max_col + 1)
        }
        inside = sum(
            1
            for r in range(self.row, self.row + self.shape[0])
            for c in range(self.column, self.column + self.shape[1])
            if (r, c) in merged
        )
        return True if inside == len(self) else False if inside == 0 else None

    @property
    def row_height(self) -> float | None:
        """The rows' common height (0 for a hidden row), None if they differ, as Excel reports it."""
        dims = self.sheet.ws.row_dimensions
        heights = {
            0.0 if dims[r].hidden else float(dims[r].ht or 15)
            for r in range(self.row, self.row + self.shape[0])
        }
        return heights.pop() if len(heights) == 1 else None

    @property
    def column_width(self) -> float | None:
        """The columns' common width (0 for a hidden column), None if they differ."""
        dims = self.sheet.ws.column_dimensions
        widths = {
            0.0 if dims[get_column_letter(c)].hidden else float(dims[get_column_letter(c)].width or 8.43)
            for c in range(self.column, self.column + self.shape[1])
        }
        return widths.pop() if len(widths) == 1 else None

    def __len__(self) -> int:
        return self.shape[0] * self.shape[1]

    def __call__(self, row: int, column: int) -> Range:
        """The cell at (row, column) of this range, 1-based."""
        return Range(self.sheet, self.row + row - 1, self.column + column - 1, 1, 1)


_ERRORS = {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A"}


def _out(cell: Any) -> Any:
    """A cell's value as Excel hands it to xlwings (errors as their error text, like err_to_str)."""
    value = cell.value
    if cell.data_type == "e":
        return str(value)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return dt.datetime(value.year, value.month, value.day)
    return value
