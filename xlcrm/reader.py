"""Read workbooks and find the forms in them.

A form is found by its sheet name (Chinese, English or key) or, failing that, by its header
signature; the header row may sit below title rows, may take two rows (xlcrm.headers), and
headers match despite spaces, full-width characters or the English alias. Extra columns are
ignored. Every value keeps its sheet and Excel row and column, so every finding points at a cell.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from functools import cache
from itertools import islice
from pathlib import Path
from typing import Any

import python_calamine

from xlcrm.errors import InputError
from xlcrm.forms import Form, forms
from xlcrm.headers import HeaderMerges, HeaderRow
from xlcrm.normalize import header_key
from xlcrm.policy import default_policy
from xlcrm.preflight import Limits, Source, open_source
from xlcrm.repack import known_errors, repack, spooling
from xlcrm.sheetscan import SheetScan, measure_sheets

HEADER_SCAN_ROWS = 30
NOTES = "notes"  # a form's sheet that holds only text, no table (xlcrm.reader.scan_sheets)
# A sheet with an unknown name is taken as a form when this many of its header cells match.
MIN_SIGNATURE = 3
# Sheets xlcrm itself writes or that belong to the template; never reported as unrecognised.
AUXILIARY_SHEETS = frozenset(
    header_key(n) for n in ("填写说明", "问题清单", "汇总", "xlwings.conf", "操作", "xlcrm状态")
)
# The label of a totals row staff put under (or between) the data: 合计, 小计 … (as header_key folds it)
_LABEL_HINT = re.compile("[计lLｌＬ]")  # every label has one of these
TOTALS_LABELS = frozenset(
    ("合计", "总计", "小计", "共计", "总合计", "本页合计", "total", "subtotal", "grandtotal")
)


@dataclass(frozen=True, slots=True)
class Sheet:
    """A sheet's used area as python-calamine returns it."""

    name: str
    rows: list[list[Any]]
    first_row: int  # 0-based row index of rows[0] in the sheet
    first_col: int  # 0-based column index of rows[i][0]
    visible: bool = True
    errors: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, col) 1-based -> S010 text
    merges: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)  # 0-based, inclusive
    hidden_rows: set[int] = field(default_factory=set)  # 1-based Excel rows
    hidden_cols: frozenset[int] = frozenset()  # 1-based Excel columns
    date1904: bool = False  # the workbook's serial dates count from 1904


@dataclass(slots=True)
class Table:
    """The rows of one form found in one sheet, values still raw."""

    form: Form
    file: str
    sheet: str
    header_row: int  # 1-based Excel row of the header, the lower of two (0 for key/value sheets)
    columns: dict[str, int]  # key -> 0-based sheet column index
    rows: list[int]  # 1-based Excel row of each data row
    values: dict[str, list[Any]]  # key -> raw value per data row
    cells: dict[str, int] = field(default_factory=dict)  # key/value layout: key -> Excel row
    # 0-based column -> header text, every header cell (a blank one of two rows: the merge's from above)
    headers: dict[int, str] = field(default_factory=dict)
    width: int = 0  # columns the sheet uses (1-based index of the last used column)
    errors: dict[str, list[tuple[int, str]]] = field(default_factory=dict)  # key -> (position, S010 text)
    typed: dict[str, Any] | None = None  # key -> the typed column (set once values are normalised)
    # (row, col) 1-based of a cell inside a merged range -> its range's first cell, which shows it
    anchors: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict)
    hidden_rows: set[int] = field(default_factory=set)  # 1-based Excel rows
    hidden_cols: frozenset[int] = frozenset()  # 1-based Excel columns
    visible: bool = True  # the sheet itself
    date1904: bool = False  # plain numbers in date columns are 1904-based serials
    company_list: bool = False  # a 黑名单 of the --blacklist file: every entry is a 公司 entry


@dataclass(slots=True)
class WorkbookScan:
    """What one file contributed: the form tables and the sheets nobody recognised."""

    file: str
    tables: list[Table]
    unrecognised: list[str]
    sheets: list[str] = field(default_factory=list)  # every sheet name, in workbook order
    source: Source | None = None  # where the bytes are (decrypted, for a protected workbook)
    notes: list[str] = field(default_factory=list)  # form sheets holding a note, no table (本月无投诉)


def read_sheets(source: Source, limits: Limits) -> Generator[tuple[int, Sheet]]:
    """Every sheet of a checked input with its position, each as soon as it is parsed.

    Every sheet passes the pre-flight scan (its used area, its error cells; the workbook's
    areas together within the limit) before python-calamine parses any. Sheets come in the
    order they finish (the caller works on one while the others are still being parsed);
    InputError if one is unusable.
    """
    try:
        held = [source.calamine()]  # the open handle (closed once: a Ctrl-C may come anywhere)
        metas = [m for m in held[0].sheets_metadata if str(m.typ) == "SheetTypeEnum.WorkSheet"]
        names = [m.name for m in metas]
        with spooling(source, names):  # the sheets' bytes kept for the copy calamine reads (xlcrm.repack)
            try:
                scans = measure_sheets(source, limits, names)  # before calamine allocates a grid
                repack(source, limits)
                known_errors(source, limits, scans)
                if source.repacked is not None or source.readable is not None:
                    held.pop().close()
                    held.append(source.calamine())
                yield from _parsed(source, scans, held[0], metas)
            finally:
                for book in held:
                    book.close()
                source.readable = None  # the copy's memory goes when the reading ends
    except InputError:
        raise
    except BaseException as exc:
        if not _calamine_failed(exc):
            raise
        raise InputError("unreadable", source.label, detail=_short(exc)) from None


def _calamine_failed(exc: BaseException) -> bool:
    """Whether python-calamine could not read (it raises several types; a Rust panic is a BaseException)."""
    return isinstance(exc, Exception) or type(exc).__name__ == "PanicException"


def _parsed(
    source: Source, scans: dict[str, SheetScan], book: python_calamine.CalamineWorkbook, metas: list[Any]
) -> Iterator[tuple[int, Sheet]]:
    halves = source.halves
    if len(metas) < 2 and not halves:
        yield from enumerate(_checked_sheet(source, scans[meta.name], book, meta) for meta in metas)
        return
    # python-calamine parses without the GIL: two threads, each with its own handle; a sheet
    # split in two (xlcrm.repack) goes first, its halves parsed at once.
    order = sorted(range(len(metas)), key=lambda i: metas[i].name not in halves)
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures: dict[Future[Sheet], tuple[int, int]] = {}
        for i in order:
            meta = metas[i]
            split = meta.name in halves  # its first half on the open handle: no third shared-string table
            first_task = pool.submit(_checked_sheet, source, scans[meta.name], book if split else None, meta)
            futures[first_task] = (i, 1)
            if split:
                futures[pool.submit(_second_half, source, meta)] = (i, 2)
        waiting: dict[int, tuple[int, Sheet | None]] = {}
        failed: dict[int, BaseException] = {}
        for future in as_completed(futures):
            i, half = futures.pop(future)  # no result kept longer than needed (see _joined)
            result = _result(future)
            del future
            if metas[i].name not in halves:
                if isinstance(result, BaseException):
                    failed[i] = result  # the first sheet in the workbook's order decides, not the fastest
                else:
                    yield i, result
                continue
            part = None if isinstance(result, BaseException) else result  # the whole input decides
            del result
            if i not in waiting:
                waiting[i] = (half, part)
                continue
            other = waiting.pop(i)[1]
            first, second = (part, other) if half == 1 else (other, part)
            del part, other
            joined = _joined(first, second) if first is not None and second is not None else None
            del first, second  # the halves' grids go before the joined sheet is worked on
            if joined is None:  # the input parsed whole: its result, or its error
                joined = _checked_sheet(source, scans[metas[i].name], None, metas[i], original=True)
            yield i, joined
        if failed:
            raise failed[min(failed)]


def _result(future: Future[Sheet]) -> Sheet | BaseException:
    """A sheet's (or half's) grid, or what python-calamine raised when it could not parse it."""
    try:
        return future.result()
    except BaseException as exc:
        if _calamine_failed(exc):
            return exc
        raise


def _second_half(source: Source, meta: Any) -> Sheet:
    return _read_closing(
        python_calamine.CalamineWorkbook.from_path(str(source.halves[meta.name])), source, meta
    )


def _read_closing(book: python_calamine.CalamineWorkbook, source: Source, meta: Any) -> Sheet:
    """``meta``'s sheet from a handle opened for it alone, closed after."""
    try:
        return _read_sheet(book, meta, source.date1904)
    finally:
        book.close()


def _joined(first: Sheet, second: Sheet) -> Sheet | None:
    """One sheet from its two halves' grids (``first`` carries the pre-flight's findings).

    The whole grid spans both; rows between them that hold no cell are empty. None when the
    halves' rows overlap (cells out of row order): they cannot simply be stacked.
    """
    if not second.rows:
        return first
    if not first.rows:
        return replace(first, rows=second.rows, first_row=second.first_row, first_col=second.first_col)
    gap = second.first_row - (first.first_row + len(first.rows))
    if gap < 0:
        return None
    left = min(first.first_col, second.first_col)
    width = max(first.first_col + len(first.rows[0]), second.first_col + len(second.rows[0])) - left
    return replace(
        first,
        rows=_widened(first, left, width)
        + [[""] * width for _ in range(gap)]
        + _widened(second, left, width),
        first_col=left,
    )


def _widened(sheet: Sheet, left: int, width: int) -> list[list[Any]]:
    before = sheet.first_col - left
    after = width - before - len(sheet.rows[0])
    if not before and not after:
        return sheet.rows
    return [[""] * before + row + [""] * after for row in sheet.rows]


def _checked_sheet(
    source: Source,
    scan: SheetScan,
    book: python_calamine.CalamineWorkbook | None,
    meta: Any,
    *,
    original: bool = False,
) -> Sheet:
    if original:  # the input itself, not the copy (a split sheet whose halves cannot be joined)
        sheet = _read_closing(source.calamine(original=True), source, meta)
    else:
        sheet = _read_sheet(book or _open(source), meta, source.date1904)
    return replace(sheet, errors=scan.errors, hidden_rows=scan.hidden_rows, hidden_cols=scan.hidden_cols)


_LOCAL = threading.local()
# Set when python-calamine first parses a sheet in this process: the GIL is free for other
# threads from then on (the engine imports the validation modules meanwhile, xlcrm.engine).
PARSING = threading.Event()


def _open(source: Source) -> python_calamine.CalamineWorkbook:
    """One calamine handle per thread and input (the input itself is held, so never mistaken)."""
    held = _LOCAL.__dict__.get("held")
    if held is None or held[0] is not source:
        held = _LOCAL.held = (source, source.calamine())
    return held[1]  # type: ignore[no-any-return]


def _read_sheet(book: python_calamine.CalamineWorkbook, meta: Any, date1904: bool = False) -> Sheet:
    PARSING.set()
    sheet = book.get_sheet_by_name(meta.name)
    first_row, first_col = sheet.start or (0, 0)
    return Sheet(
        name=meta.name,
        rows=_values(sheet),
        first_row=first_row,
        first_col=first_col,
        visible=str(meta.visible) == "SheetVisibleEnum.Visible",
        merges=list(sheet.merged_cell_ranges or ()),
        date1904=date1904,
    )


# A sheet of at least this many cells keeps each repeated text once (see ``_values``).
SHARED_TEXT_CELLS = 500_000
SHARED_TEXT_SAMPLE = 1_024  # rows whose texts are the ones shared


def _values(sheet: python_calamine.CalamineSheet) -> list[list[Any]]:
    """The sheet's grid as Python values; in a large sheet each repeated text is one object.

    python-calamine makes a new ``str`` for every cell: a department's name, a 是/否 or a
    客户类别 repeated on a million rows is a million objects of ~75 bytes, most of a full
    sheet's memory. Converted row by row, each text that also stands in the first rows is
    replaced by that row's object (the copy is freed at once; the lookup is a C loop). Reading
    1,000,000 rows × 20 columns in two halves took 1.6–1.8 GB instead of 2.7 GB and ~8% longer;
    at 100,000 rows `check` took ~100 MB less in the same time. Only texts are looked up: a
    number, a date or a boolean never equals a text, so every value keeps its type (1, 1.0 and
    True would be one key).
    """
    start = sheet.start
    if start is None or not _worth_sharing(start, sheet.height, sheet.width):
        return sheet.to_python()  # type: ignore[no-any-return]
    with _CONVERTING:  # one sheet (or half) at a time: the other's grid waits, ~0.1–0.3 GB less
        # iter_rows starts at the sheet's first row, to_python at its first used one
        rows = islice(sheet.iter_rows(), start[0], None)
        first = list(islice(rows, SHARED_TEXT_SAMPLE))
        texts: dict[Any, Any] = {v: v for row in first for v in row if v.__class__ is str}
        shared = texts.get
        grid = [list(map(shared, row, row)) for row in first]
        grid.extend(list(map(shared, row, row)) for row in rows)
    if len(grid) != sheet.height or len(grid[0]) != sheet.width:  # not the grid to_python gives
        return sheet.to_python()  # type: ignore[no-any-return]
    return grid


_CONVERTING = threading.Lock()


def _worth_sharing(start: tuple[int, int] | None, height: int, width: int) -> bool:
    """Whether a sheet's grid is converted row by row with its texts shared (``_values``).

    Only a large grid gains. ``iter_rows`` also makes a row of ``width`` blanks for every
    empty row above the used area: a few rows at row 1,000,000 of a 16,384-column sheet would
    be 16 billion blanks (minutes) — a grid starting further down than twice its height is
    converted whole (the second half of a split sheet starts about one height down).
    """
    return start is not None and height * width >= SHARED_TEXT_CELLS and start[0] <= 2 * height


def scan_workbook(
    path: Path,
    label: str | None = None,
    prepare: Callable[[Table], None] | None = None,
    *,
    limits: Limits | None = None,
    password: str | None = None,
) -> WorkbookScan:
    """Check ``path`` (pre-flight), read it and find its forms; InputError when it holds none.

    ``prepare`` is called on each table as soon as its sheet is parsed (the engine types the
    values there, while the other sheets are still being parsed).
    """
    label = label or str(path)
    limits = limits or Limits.of(default_policy())
    source = open_source(path, label, limits, password)
    scan = scan_sheets(label, read_sheets(source, limits), prepare)
    scan.source = source
    return scan


def scan_sheets(
    label: str, sheets: Iterable[tuple[int, Sheet]], prepare: Callable[[Table], None] | None = None
) -> WorkbookScan:
    """Find the forms in sheets already read (from a file, or from a live workbook in Excel).

    ``sheets`` are (position, sheet) in any order; the scan lists them in position order. A
    sheet named as a form but without a header row makes the workbook unusable, unless another
    of its sheets holds that form: then it is a sheet of notes (客户档案填写说明), not recognised;
    or unless it holds no table at all, only a line or two of text (黑名单: 本部门暂无黑名单客户).
    """
    found, filled = {}, False
    for index, sheet in sheets:
        found[index] = _scan_sheet(sheet, label, prepare)
        filled = filled or any(v not in ("", None) for row in sheet.rows for v in row)
    scan = WorkbookScan(label, [], [])
    headless: list[tuple[str, InputError]] = []
    for index in sorted(found):  # workbook order, whatever order the sheets were parsed in
        name, result = found[index]
        scan.sheets.append(name)
        if isinstance(result, InputError):
            headless.append((name, result))
        elif result == NOTES:
            scan.notes.append(name)
        elif isinstance(result, Table):
            scan.tables.append(result)
        elif result:
            scan.unrecognised.append(name)
    held = {table.form.key for table in scan.tables}
    for name, problem in headless:
        form = form_by_name(name)
        if form is None or form.key not in held:
            raise problem
        scan.unrecognised.append(name)
    beside = [n for n in scan.notes if (form := form_by_name(n)) is not None and form.key in held]
    scan.notes = [n for n in scan.notes if n not in beside]
    scan.unrecognised.extend(beside)  # beside its form: a sheet of notes (客户档案填写说明)
    scan.unrecognised.sort(key=scan.sheets.index)
    if not scan.tables:
        raise InputError("no_form" if filled else "empty_workbook", label)
    return scan


def _scan_sheet(
    sheet: Sheet, label: str, prepare: Callable[[Table], None] | None
) -> tuple[str, Table | InputError | bool | str]:
    """A sheet's form table, or its problem, or NOTES, or whether it is an unrecognised sheet."""
    form = form_by_name(sheet.name)
    table: Table
    if form is not None and form.layout == "keyvalue":
        table = _key_value_table(form, label, sheet)
    else:
        found = find_header(sheet, form)
        if found is None:
            if form is not None and all(sum(v not in ("", None) for v in row) <= 1 for row in sheet.rows):
                return sheet.name, NOTES  # a note where the table would be: 本月无投诉
            if form is not None:
                return sheet.name, InputError("no_header", label, sheet=sheet.name, scanned=HEADER_SCAN_ROWS)
            return sheet.name, bool(sheet.rows) and header_key(sheet.name) not in AUXILIARY_SHEETS
        form, header_index, columns, header = found
        table = _table(form, label, sheet, header_index, columns, header.values)
    if prepare is not None:
        prepare(table)
    return sheet.name, table


def form_by_name(sheet_name: str) -> Form | None:
    """The form a sheet's name announces (exact key/alias, or containing the Chinese name)."""
    key = header_key(sheet_name)
    for form in forms().values():
        if key in form.names or header_key(form.zh) in key:
            return form
    return None


@cache
def _lexicon(form: Form) -> tuple[dict[str, str], dict[str, str]]:
    """Folded header text -> column key: the canonical names (zh, en alias, key), the synonyms."""
    canonical: dict[str, str] = {}
    synonyms: dict[str, str] = {}
    for col in form.columns:
        for text in (col.zh, col.en, col.key):
            canonical.setdefault(header_key(text), col.key)
    for col in form.columns:
        for text in col.synonyms:
            if header_key(text) not in canonical:
                synonyms.setdefault(header_key(text), col.key)
    return canonical, synonyms


def match_headers(form: Form, folded: list[str], first_col: int) -> dict[str, int]:
    """Column key -> 0-based sheet column for one row of folded header texts.

    A canonical header wins wherever it stands; a synonym names a column only when the row has
    no canonical header for it (so a sheet's own 编号 beside its 客户编码 is an extra column).
    """
    canonical, synonyms = _lexicon(form)
    columns: dict[str, int] = {}
    for lexicon in (canonical, synonyms):
        for position, text in enumerate(folded):
            key = lexicon.get(text)
            if key is not None and key not in columns and first_col + position not in columns.values():
                columns[key] = first_col + position
    return columns


def find_header(sheet: Sheet, form: Form | None) -> tuple[Form, int, dict[str, int], HeaderRow] | None:
    """The form, header row index (into sheet.rows), key -> column index and the header as read.

    Each row is read as a header with the merges above it (xlcrm.headers); the row naming the
    most columns wins, the first of equals — unless the row below is the lower row of its
    two-row header (HeaderMerges.continues), where the header is then read.
    """
    candidates = [form] if form is not None else [f for f in forms().values() if f.layout == "table"]
    merges = HeaderMerges(sheet.merges, sheet.first_row, sheet.first_col, HEADER_SCAN_ROWS)
    best: tuple[tuple[int, int], int, Form, dict[str, int], HeaderRow] | None = None
    for index in range(min(len(sheet.rows), HEADER_SCAN_ROWS)):
        header = merges.read(sheet.rows, index)
        if not any(header.folded) and not header.groups:
            continue
        for candidate in candidates:
            columns = header_columns(candidate, header, sheet.first_col)
            score = _score(candidate, columns)
            good = score[0] >= 1 if form is not None else score[1] >= MIN_SIGNATURE
            if good and (best is None or score > best[0]):
                best = (score, index, candidate, columns, header)
    if best is None:
        return None
    score, index, found, columns, header = best
    if merges.continues(sheet.rows, index, columns):
        lower = merges.read(sheet.rows, index + 1)
        lower_columns = header_columns(found, lower, sheet.first_col)
        if _score(found, lower_columns) >= score:
            return found, index + 1, lower_columns, lower
    return found, index, columns, header


def header_columns(form: Form, header: HeaderRow, first_col: int) -> dict[str, int]:
    """Column key -> 0-based sheet column for a row read as a header (xlcrm.headers).

    The row's own and vertically merged headers first; then a group heading above names a
    column the row lacks, at the heading's first column, if no other column took it.
    """
    columns = match_headers(form, header.folded, first_col)
    if header.groups:
        above = [header.groups.get(p, "") for p in range(len(header.folded))]
        for key, col in match_headers(form, above, first_col).items():
            if key not in columns and col not in columns.values():
                columns[key] = col
    return columns


def _score(form: Form, columns: dict[str, int]) -> tuple[int, int]:
    """How well a header row fits ``form``: columns named, then signature columns among them."""
    return len(columns), sum(1 for k in form.signature if k in columns)


def _table(
    form: Form, file: str, sheet: Sheet, header_index: int, columns: dict[str, int], header: list[Any]
) -> Table:
    """The form's rows below the header row ``sheet.rows[header_index]``, whose cells read ``header``."""
    data = sheet.rows[header_index + 1 :]
    first_excel_row = sheet.first_row + header_index + 2
    by_column = list(zip(*data, strict=True)) if data else []  # calamine rows are rectangular
    values = {key: list(by_column[col - sheet.first_col]) if data else [] for key, col in columns.items()}
    anchors = _fill_merges(sheet, data, first_excel_row, columns, values) if sheet.merges else {}
    leading = by_column[0] if by_column else ()
    totals = {
        position
        for position, first in enumerate(leading)
        if (first is None or first == "" or _maybe_label(first)) and _totals_row(data[position])
    }
    for position in totals:  # no customer: it reads blank, as a spacer row does
        for cells in values.values():
            cells[position] = None
    errors: dict[str, list[tuple[int, str]]] = {}
    for (row, col), text in sheet.errors.items():  # S010 cells in the form's columns and rows
        position = row - first_excel_row
        for key, index in columns.items():
            if index == col - 1 and 0 <= position < len(data) and position not in totals:
                errors.setdefault(key, []).append((position, text))
    return Table(
        form=form,
        file=file,
        sheet=sheet.name,
        header_row=first_excel_row - 1,
        columns=columns,
        rows=list(range(first_excel_row, first_excel_row + len(data))),
        values=values,
        headers={sheet.first_col + i: str(v).strip() for i, v in enumerate(header) if v not in ("", None)},
        width=sheet.first_col + len(header),
        errors=errors,
        anchors=anchors,
        hidden_rows=sheet.hidden_rows,
        hidden_cols=sheet.hidden_cols,
        visible=sheet.visible,
        date1904=sheet.date1904,
    )


def _totals_row(row: list[Any]) -> bool:
    """Whether a data row is a totals row: its first filled cell is a label such as 合计 or 小计.

    Staff sum a column under the data (合计, =SUM(…)) or per group (小计); such a row is no
    customer, and its formulas are no data of a form.
    """
    for first in row:
        if first is not None and first != "":
            break
    else:
        return False
    return _maybe_label(first) and header_key(first).rstrip(":：") in TOTALS_LABELS


def _maybe_label(value: Any) -> bool:
    """A cheap first test of a totals label (most rows are customers: a code, a name)."""
    return isinstance(value, str) and len(value) <= 16 and _LABEL_HINT.search(value) is not None


def _fill_merges(
    sheet: Sheet,
    data: list[list[Any]],
    first_excel_row: int,
    columns: dict[str, int],
    values: dict[str, list[Any]],
) -> dict[tuple[int, int], tuple[int, int]]:
    """A merged range's value holds for every cell of the range (POLICY §5).

    Staff merge 所属部门 or 客户类别 down a group of rows; only the range's first cell holds
    the value, the others read blank. Each data cell of a range takes the value, except in a
    row that is otherwise blank (a merge may span a spacer row, which stays no customer);
    ranges starting in the header or above are headings, not data. Returns each filled
    cell's range's first cell, where findings about it are shown.
    """
    keys_at: dict[int, list[str]] = {}
    for key, col in columns.items():
        keys_at.setdefault(col, []).append(key)
    anchors: dict[tuple[int, int], tuple[int, int]] = {}
    for (top, left), (bottom, right) in sheet.merges:
        first = top - (first_excel_row - 1)  # the range's first row as a position in data
        if first < 0 or first >= len(data) or not 0 <= left - sheet.first_col < len(data[first]):
            continue
        value = data[first][left - sheet.first_col]
        for position in range(first, min(bottom - (first_excel_row - 1), len(data) - 1) + 1):
            spacer = position != first and all(v in ("", None) for v in data[position])
            for col in range(left, right + 1):
                if (position, col) == (first, left):
                    continue
                anchors[(first_excel_row + position, col + 1)] = (top + 1, left + 1)
                if value not in ("", None) and not spacer:
                    for key in keys_at.get(col, ()):
                        values[key][position] = value
    return anchors


def _key_value_table(form: Form, file: str, sheet: Sheet) -> Table:
    """参数: names in column A, values in column B, one per row (POLICY §1.5)."""
    canonical, synonyms = _lexicon(form)
    lexicon = {**synonyms, **canonical}
    columns: dict[str, int] = {}
    values: dict[str, list[Any]] = {}
    cells: dict[str, int] = {}
    for index, row in enumerate(sheet.rows):
        if sheet.first_col > 0 or not row:
            break  # column A is empty: nothing to read
        # a label often ends in a colon (基准日期：), as on a paper form
        key = lexicon.get(header_key(row[0]).rstrip(":：")) if isinstance(row[0], str) else None
        if key is None or key in values:
            continue
        values[key] = [row[1] if len(row) > 1 else None]
        columns[key] = 1
        cells[key] = sheet.first_row + index + 1
    return Table(form, file, sheet.name, 0, columns, [0], values, cells)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]
