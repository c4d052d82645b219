"""What python-calamine will allocate for a worksheet, and its S010 cells — before it reads it.

python-calamine (calamine 0.37) reads a worksheet as a flat stream of XML events: an element
whose local name (after the first ``:``) is ``row`` sets the row from its attribute ``r`` (the
exact key, no prefix), and the end of one adds 1 to it and resets the column; an element
named ``c`` is a cell at its ``r`` (letters, either case, then digits, counted in unsigned
32-bit integers) or, without one, at the current row and column; the column goes on from the
cell. Cells whose value is empty are dropped, then a grid spanning the first to the last row
and column of the rest is allocated (``Range::from_sparse``): about 56 bytes per grid cell
with python-calamine's list of lists. That grid, summed over the workbook, is what the limit
``limits.max_cells`` bounds.

Three ways to measure a sheet, the first that applies:

- **fast** — every cell tag is spelled the canonical way (``<c r="B7"`` with an upper-case
  reference in range, attributes ``␠name="value"``, no second ``r``, no other prefix), which
  one regular-expression search per chunk proves; then every cell lies inside the sheet's
  ``<dimension>``, and the grid is at most its last row × last column. This is what Excel,
  LibreOffice, WPS, openpyxl and XlsxWriter write, and it costs about as much as reading
  the bytes.
- **measure** — canonical, but no ``<dimension>`` (or cells outside it): every cell reference
  is read (the grid of all cells, empty or not, bounds calamine's).
- **exact** — anything else (cells or rows without ``r``, quotes ``'``, spaces around ``=``,
  lower-case references, leading zeros, duplicate or prefixed attributes, other encodings),
  or a bound too big for the limit: the part is parsed with expat and calamine's counting is
  replayed event by event, so the grid is exactly calamine's. XML that expat rejects is
  refused as damaged; a non-empty cell outside Excel's grid (past XFD1048576) is refused.

The same pass finds the cells python-calamine would show as blank although they are not
(S010): Excel error values, and formulas without a computed value. A formula computed to an
empty string (LibreOffice's ``<c t="str"><f>…</f><v></v></c>``) is data: blank.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any
from xml.parsers import expat

from xlcrm.errors import InputError
from xlcrm.layout import hidden_columns, hidden_rows
from xlcrm.phrase import Phrase
from xlcrm.preflight import Limits, Source, inflate

EXCEL_ROWS, EXCEL_COLS = 1_048_576, 16_384
_U32 = 1 << 32
HEAD_MAX = 1 << 20  # a worksheet's head (before <sheetData>) longer than this is measured exactly
_TEXT_KEEP = 40_000  # characters of a value or formula kept to show (Excel holds 32,767)
_DELIMITERS = rb"[\t\n\r />]"  # what ends an element name for quick-xml
_ERROR = re.compile(rb' t="e"')


@dataclass
class SheetScan:
    """What the pre-flight found in one worksheet part."""

    rows: int = 0  # the grid python-calamine allocates (or a bound on it, unless exact)
    cols: int = 0
    exact: bool = False  # measured as calamine counts (non-empty cells only)
    mode: str = "fast"  # fast, measure or exact (which way it was measured)
    errors: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, col) 1-based -> shown text
    work: int = 0  # bytes examined around S010 candidates (linear in the sheet's size)
    first: tuple[int, int] = (0, 0)  # (row, col) 1-based of the grid's first cell (exact/measure)
    hidden_rows: set[int] = field(default_factory=set)  # 1-based
    hidden_cols: frozenset[int] = frozenset()  # 1-based

    @property
    def cells(self) -> int:
        """The grid's size in cells."""
        return self.rows * self.cols


# --- calamine's reference arithmetic ---------------------------------------------------------


def reference(value: str, *, cell: bool) -> tuple[int, int] | None:
    """(row, column), 0-based, of an ``r`` value as calamine computes it; None where it errs.

    Letters of either case, then digits, in unsigned 32-bit arithmetic (so it wraps); a row
    reference (``cell=False``) may carry letters, which are ignored.
    """
    plain = _PLAIN_REF.match(value)  # the usual spelling, without the character loop
    if plain is not None:
        letters, digits = plain.groups()
        if letters or not cell:
            return int(digits) - 1, (_column_of(letters) - 1 if letters else -1)
    row = col = 0
    index, size = 0, len(value)
    while index < size:
        code = ord(value[index])
        if 65 <= code <= 90 or 97 <= code <= 122:
            col = (col * 26 + (code & 0x1F)) % _U32
        elif 48 <= code <= 57:
            row = code - 48
            index += 1
            break
        else:
            return None
        index += 1
    while index < size:
        code = ord(value[index])
        if not 48 <= code <= 57:
            return None
        row = (row * 10 + code - 48) % _U32
        index += 1
    if row == 0 or (cell and col == 0):
        return None
    return row - 1, col - 1


_PLAIN_REF = re.compile(r"([A-Z]{0,3})([1-9][0-9]{0,8})\Z")


@lru_cache(maxsize=1 << 15)
def _column_of(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - 64
    return number


def _letters(number: int) -> str:
    out = ""
    while number:
        number, rest = divmod(number - 1, 26)
        out = chr(65 + rest) + out
    return out


# --- regular expressions of the fast path ----------------------------------------------------


def _at_most_digits(limit: int) -> str:
    """A regex for decimal numbers 1..limit without leading zeros."""
    text = str(limit)
    options = [rf"[1-9][0-9]{{0,{len(text) - 2}}}"] if len(text) > 1 else []
    for i, digit in enumerate(text):
        low = "1" if i == 0 else "0"
        if digit > low:
            high = chr(ord(digit) - 1)
            rest = len(text) - i - 1
            options.append(text[:i] + f"[{low}-{high}]" + (f"[0-9]{{{rest}}}" if rest else ""))
    options.append(text)
    return "(?:" + "|".join(options) + ")"


def _at_most_letters(limit: int) -> str:
    """A regex for upper-case column letters A..``_letters(limit)``."""
    text = _letters(limit)
    options = [rf"[A-Z]{{1,{len(text) - 1}}}"] if len(text) > 1 else []
    for i, letter in enumerate(text):
        if letter > "A":
            rest = len(text) - i - 1
            options.append(text[:i] + f"[A-{chr(ord(letter) - 1)}]" + (f"[A-Z]{{{rest}}}" if rest else ""))
    options.append(text)
    return "(?:" + "|".join(options) + ")"


@lru_cache(maxsize=256)
def _anomaly(prefix: bytes, rows: int, cols: int) -> re.Pattern[bytes]:
    """A cell tag that is not canonical, or whose reference lies outside rows × cols.

    Canonical: ``<c r="REF"`` then attributes ``␠name="value"`` whose names start with a letter
    other than ``r`` (so no second ``r`` key can hide among them), then ``>`` or ``/>``.
    """
    ref = (_at_most_letters(cols) + _at_most_digits(rows)).encode()
    common = rb'>| t="[a-zA-Z]++">| s="[0-9]++">| s="[0-9]++" t="[a-zA-Z]++">| s="[0-9]++"/>|'  # tried first
    canonical = rb' r="' + ref + rb'"(?:' + common + rb'(?: [a-qs-zA-Z][\w:.-]*+="[^"]*+")*+/?>)'
    return re.compile(rb"<" + re.escape(prefix) + rb"c(?!" + canonical + rb")" + _DELIMITERS)


@cache
def _foreign(prefix: bytes) -> re.Pattern[bytes]:
    """A cell element spelled with another prefix than the sheet's (calamine ignores prefixes)."""
    if not prefix:
        return re.compile(rb":c" + _DELIMITERS)
    name = re.escape(prefix[:-1])
    return re.compile(rb"<c" + _DELIMITERS + rb"|(?<!<" + name + rb")(?<!</" + name + rb"):c" + _DELIMITERS)


@cache
def _refs(prefix: bytes) -> re.Pattern[bytes]:
    return re.compile(rb"<" + re.escape(prefix) + rb'c r="([A-Z]+)([0-9]+)"')


@cache
def _uncomputed(prefix: bytes) -> tuple[re.Pattern[bytes], re.Pattern[bytes]]:
    """Formula ends not followed by a non-empty value: candidates for S010 (checked exactly)."""
    p = re.escape(prefix)
    good = rb"(?!<" + p + rb"v>[^<])"
    return (
        re.compile(rb"</" + p + rb"f>" + good),
        re.compile(rb"<" + p + rb"f(?:[\t\n\r ][^>]*)?/>" + good),
    )


_HIDDEN = re.compile(rb"hidden")
SHEET_DATA = re.compile(rb"<([^\s<>/:!?]+:)?sheetData" + _DELIMITERS)  # where the cells start
_DIMENSION = re.compile(
    rb'<(?:[^\s<>/:!?]+:)?dimension ref="(?:[A-Z]{1,3}[1-9][0-9]{0,6}:)?([A-Z]{1,3})([1-9][0-9]{0,6})"'
)
_DECLARATION = re.compile(rb"""^(?:\xef\xbb\xbf)?<\?xml[^>]*?encoding\s*=\s*["']([^"']*)["']""")


# --- the workbook's sheets ------------------------------------------------------------------------


def measure_sheets(source: Source, limits: Limits, sheets: Sequence[str]) -> dict[str, SheetScan]:
    """Every worksheet measured before any is read; InputError if together they are too big.

    The sheets are measured in two threads (inflating runs without the GIL). When their
    bounds add up to more than ``limits.max_cells``, the bounds are measured exactly, largest
    first, until they fit: a workbook is refused exactly when its sheets' exact grids add up
    to more than the limit, and then nothing of it has been read.
    """
    if len(sheets) < 2:
        found = {name: scan_sheet(source, name, limits) for name in sheets}
    else:
        with ThreadPoolExecutor(max_workers=2) as pool:
            scans = pool.map(lambda name: scan_sheet(source, name, limits), sheets)
            found = dict(zip(sheets, scans, strict=True))
    for name in sorted(found, key=lambda n: -found[n].cells):
        if sum(s.cells for s in found.values()) <= limits.max_cells:
            break
        if not found[name].exact:
            found[name] = _exact(source, name, limits)
    source.spelled.update({name: scan.mode for name, scan in found.items()})
    total = sum(s.cells for s in found.values())
    if total > limits.max_cells:
        largest = max(found, key=lambda n: found[n].cells)
        raise InputError(
            "too_many_cells_book",
            source.label,
            sheet=largest,
            rows=found[largest].rows,
            cols=found[largest].cols,
            cells=total,
            limit=limits.max_cells,
        )
    return found


# --- one sheet -------------------------------------------------------------------------------------


def scan_sheet(source: Source, sheet: str, limits: Limits) -> SheetScan:
    """Bounds and S010 cells of one worksheet; InputError if python-calamine must not read it."""
    if sheet not in source.sheet_parts:  # calamine will read a part the pre-flight did not find
        raise InputError(
            "unreadable",
            source.label,
            detail=Phrase(f"工作表“{sheet}”的部件不明", f"sheet “{sheet}”: unknown part"),
        )
    if source.sheet_parts[sheet] is None:
        raise InputError(
            "unreadable",
            source.label,
            detail=Phrase(f"工作表“{sheet}”的部件不存在", f"sheet “{sheet}”: its part is missing"),
        )
    scan = _canonical(source, sheet, limits, measure=False)
    if scan is None:
        scan = _exact(source, sheet, limits)
    if scan.cells > limits.max_cells and not scan.exact:
        scan = _exact(source, sheet, limits)
    if scan.cells > limits.max_cells:
        raise InputError(
            "too_many_cells",
            source.label,
            sheet=sheet,
            rows=scan.rows,
            cols=scan.cols,
            limit=limits.max_cells,
        )
    return scan


def _chunks(source: Source, sheet: str, limits: Limits) -> Generator[bytes]:
    """The sheet's part, inflated in chunks (bounded memory, the zip limits enforced)."""
    part = source.sheet_parts[sheet]
    if part is None:  # the relationship names no part: calamine cannot read the sheet either
        return
    spool = source.spools.get(sheet)  # xlcrm.repack: the bytes kept for the copy calamine reads
    if spool is not None:
        spool.restart()
    with source.zip() as archive:
        for chunk in inflate(archive, archive.getinfo(part), source.label, limits):
            if spool is not None:
                spool.write(chunk)
            yield chunk
    if spool is not None:  # only when every chunk went through (not when the scan stopped early)
        spool.finish()


def _canonical(source: Source, sheet: str, limits: Limits, *, measure: bool) -> SheetScan | None:
    """The fast (or, with ``measure``, the measuring) scan; None when the sheet needs the exact one.

    Each chunk is searched in place between cell boundaries; only the few bytes of a cell cut
    by a chunk's end are carried over and joined to the next chunk's start.
    """
    scan = SheetScan(mode="measure" if measure else "fast")
    chunks = _chunks(source, sheet, limits)
    carry, head = b"", None
    for chunk in chunks:  # the part's head, up to <sheetData>
        carry += chunk
        head = SHEET_DATA.search(carry)
        if head is not None or len(carry) > HEAD_MAX:
            break
    if head is None or b"\x00" in carry[:4096] or not _ascii_compatible(carry):
        chunks.close()
        return None
    prefix = head.group(1) or b""
    scan.hidden_cols = hidden_columns(carry[: head.start()])
    bounds = (EXCEL_ROWS, EXCEL_COLS)
    if not measure:
        dimension = _DIMENSION.search(carry, 0, head.start())
        rows, cols = (int(dimension.group(2)), _column(dimension.group(1))) if dimension else (0, 0)
        if not 0 < rows <= EXCEL_ROWS or not 0 < cols <= EXCEL_COLS:
            chunks.close()
            return _canonical(source, sheet, limits, measure=True)
        bounds = (rows, cols)
    low, high = [EXCEL_ROWS + 1, EXCEL_COLS + 1], [0, 0]
    opening = b"<" + prefix + b"c "

    def whole(data: bytes, start: int, end: int) -> str:
        verdict = _check(data, start, end, prefix, bounds)
        if not verdict:
            if measure:
                _measure(data, start, end, prefix, low, high)
            _find_s010(data, start, end, prefix, scan)
            if _HIDDEN.search(data, start, end):
                scan.hidden_rows |= hidden_rows(data[start:end])
        return verdict

    cut = _cut(carry, 0, prefix)
    verdict = whole(carry, 0, cut)
    carry = carry[cut:]
    for chunk in chunks:
        if verdict:
            break
        begin = chunk.find(opening)  # the first cell starting here ends whatever was carried
        if begin < 0:
            carry += chunk
            continue
        if carry:
            joint = carry + chunk[:begin]
            verdict = whole(joint, 0, len(joint))
        cut = _cut(chunk, begin, prefix)
        verdict = verdict or whole(chunk, begin, cut)
        carry = chunk[cut:]
    else:
        verdict = verdict or whole(carry, 0, len(carry))
    chunks.close()
    if verdict == "measure" and not measure:
        return _canonical(source, sheet, limits, measure=True)
    if verdict:
        return None
    if not measure:
        scan.rows, scan.cols = bounds
        scan.first = (1, 1)
    elif high[0]:
        scan.rows, scan.cols = high[0] - low[0] + 1, high[1] - low[1] + 1
        scan.first = (low[0], low[1])
    return scan


def _ascii_compatible(data: bytes) -> bool:
    """No declaration, or one of UTF-8 (what every spreadsheet program writes)."""
    declared = _DECLARATION.match(data)
    return declared is None or declared.group(1).lower() in (b"utf-8", b"utf8")


def _cut(data: bytes, begin: int, prefix: bytes) -> int:
    """Where the whole cells from ``begin`` end: after the last cell or row end, or at the last cell's start."""
    close_cell, close_row = b"</" + prefix + b"c>", b"</" + prefix + b"row>"
    ends = [data.rfind(close_cell, begin), data.rfind(close_row, begin)]
    cut = max(
        ends[0] + len(close_cell) if ends[0] >= 0 else begin,
        ends[1] + len(close_row) if ends[1] >= 0 else begin,
        data.rfind(b"<" + prefix + b"c ", begin),
    )
    if cut == begin and data.find(b"<" + prefix + b"c", begin) < 0:  # no cell at all: any tag end
        return max(begin, data.rfind(b">", begin) + 1)
    return cut


def _check(data: bytes, start: int, end: int, prefix: bytes, bounds: tuple[int, int]) -> str:
    """'' if every cell tag is canonical and inside bounds; 'measure' if one is only outside."""
    if _foreign(prefix).search(data, start, end):
        return "exact"
    odd = _anomaly(prefix, *bounds).search(data, start, end)
    if odd is None:
        return ""
    grid = _anomaly(prefix, EXCEL_ROWS, EXCEL_COLS)
    if bounds != (EXCEL_ROWS, EXCEL_COLS) and grid.match(data, odd.start(), end) is None:
        return "measure"  # canonical, but outside the declared dimension
    return "exact"


def _measure(data: bytes, start: int, end: int, prefix: bytes, low: list[int], high: list[int]) -> None:
    found = _refs(prefix).findall(data, start, end)
    if not found:
        return
    rows = [int(r) for _, r in found]
    columns = {letters for letters, _ in found}
    cols = [_column(c) for c in columns]
    low[0], high[0] = min(low[0], min(rows)), max(high[0], max(rows))
    low[1], high[1] = min(low[1], min(cols)), max(high[1], max(cols))


def _column(letters: bytes) -> int:
    number = 0
    for byte in letters:
        number = number * 26 + byte - 64
    return number


def _find_s010(data: bytes, start: int, end: int, prefix: bytes, scan: SheetScan) -> None:
    """Error cells and uncomputed formulas among canonical cells, each looked at once.

    Candidates come from C-speed searches (``t="e"``, a formula end not followed by a
    non-empty value); each is then read exactly (expat) in its own cell: linear in the data.
    """
    hits = [m.start() for m in _ERROR.finditer(data, start, end)]
    if _formula_start(prefix).search(data, start, end):  # formulas: which ones lack a value
        after_formula, empty_formula = _uncomputed(prefix)
        hits += [m.start() for m in after_formula.finditer(data, start, end)]
        hits += [m.start() for m in empty_formula.finditer(data, start, end)]
    if not hits:
        return
    opening, closing = b"<" + prefix + b"c ", b"</" + prefix + b"c>"
    done = start  # end of the last cell looked at: hits before it were in that cell
    for hit in sorted(hits):
        if hit < done:
            continue
        begin = data.rfind(opening, done, hit + 1)
        if begin < 0:
            continue
        tag_end = data.find(b">", begin, end)
        if tag_end < 0:
            continue
        if data[tag_end - 1 : tag_end] == b"/":
            stop = tag_end + 1
        else:
            following = data.find(opening, tag_end, end)
            stop = data.find(closing, tag_end, following if following >= 0 else end)
            if stop < 0:
                continue
            stop += len(closing)
        scan.work += stop - begin
        done = stop
        _cell_s010(data[begin:stop], scan)


@cache
def _formula_start(prefix: bytes) -> re.Pattern[bytes]:
    return re.compile(rb"<" + re.escape(prefix) + rb"f")


def _cell_s010(xml: bytes, scan: SheetScan) -> None:
    """Record one cell if it is an error or a formula without a value (exactly, with expat)."""
    model = _Calamine(scan, 1 << 62, sheet_data=True)
    parser = _parser(model)
    try:
        parser.Parse(xml, True)
    except (expat.ExpatError, _Damaged, _Outside):
        return


# --- the exact scan: calamine's counting replayed on expat's events -----------------------------


class _Damaged(Exception):
    """XML python-calamine would reject or that no spreadsheet program writes."""


class _TooBig(Exception):
    """The grid has outgrown what the budget allows: no need to read on."""


class _Outside(Exception):
    """A non-empty cell past Excel's last row or column."""

    def __init__(self, row: int, col: int) -> None:
        self.row, self.col = row, col


_VALUE_KINDS = frozenset({"v", "f", "is"})
_NOT_IN_TEXT = frozenset({"c", "row", "sheetData", "v", "f", "is"})
_PLAIN_TYPES = frozenset({None, "n", "s", "b", "e"})


class _Calamine:
    """calamine's worksheet reader, replayed: positions, non-empty cells, the grid, S010 cells."""

    def __init__(self, scan: SheetScan, limit: int, *, sheet_data: bool = False) -> None:
        self.scan, self.limit = scan, limit
        self.inside = sheet_data  # between <sheetData> and its end
        self.done = False
        self.row = self.col = 0  # calamine's row_index, col_index (0-based, u32)
        self.cell: list[Any] | None = None  # [row, col, t, last child, value text, formula text, has f]
        self.depth = 0  # element depth inside the current cell
        self.text: list[str] | None = None  # where character data goes (inside <v> or <f>)
        self.low_row = self.low_col = _U32
        self.high_row = self.high_col = -1

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if self.done:
            return
        local = name[name.find(":") + 1 :]
        if not self.inside:
            self.inside = local == "sheetData"
            if local == "col" and attrs.get("hidden") in ("1", "true"):
                low, high = attrs.get("min", ""), attrs.get("max", "")
                if low.isdigit() and high.isdigit() and 0 < int(low) <= int(high):
                    hidden = range(int(low), min(int(high), EXCEL_COLS) + 1)
                    self.scan.hidden_cols = self.scan.hidden_cols | frozenset(hidden)
            return
        cell = self.cell
        if cell is not None:
            self.depth += 1
            if self.depth == 1:
                if local not in _VALUE_KINDS:
                    raise _Damaged(f"<{name}> in a cell")
                cell[3] = local
                if local == "v":
                    cell[4] = ""
                    self.text = []
                elif local == "f":
                    cell[6] = True
                    self.text = []
            elif self.text is not None or local in _NOT_IN_TEXT:
                raise _Damaged(f"<{name}> inside a cell value")
            return
        if local == "row":
            r = attrs.get("r")
            if r is not None:
                found = reference(r, cell=False)
                if found is None:
                    raise _Damaged(f'row r="{r[:20]}"')
                self.row = found[0]
            if attrs.get("hidden") in ("1", "true"):
                self.scan.hidden_rows.add(self.row + 1)
        elif local == "c":
            r = attrs.get("r")
            if r is not None:
                found = reference(r, cell=True)
                if found is None:
                    raise _Damaged(f'cell r="{r[:20]}"')
                row, self.col = found
            else:
                row = self.row
            self.cell = [row, self.col, attrs.get("t"), None, None, None, False]
            self.depth = 0

    def end(self, name: str) -> None:
        if self.done or not self.inside:
            return
        cell = self.cell
        if cell is not None:
            if self.depth == 0:
                self._finish(cell)
                return
            if self.depth == 1 and self.text is not None:
                text = "".join(self.text)[:_TEXT_KEEP]
                if cell[3] == "v":
                    cell[4] = text
                else:
                    cell[5] = text
                self.text = None
            self.depth -= 1
            return
        local = name[name.find(":") + 1 :]
        if local == "row":
            self.row = (self.row + 1) % _U32
            self.col = 0
        elif local == "sheetData":
            self.done = True

    def data(self, text: str) -> None:
        if self.text is not None and sum(map(len, self.text)) < _TEXT_KEEP:
            self.text.append(text)

    def _finish(self, cell: list[Any]) -> None:
        row, col, kind, last, value, formula, has_formula = cell
        self.cell = None
        self.col = (col + 1) % _U32
        empty = (
            last is None
            or last == "f"
            or (last == "v" and (kind in ("inlineStr", "is") or (kind in _PLAIN_TYPES and not value)))
        )
        if kind == "e":
            self.scan.errors[(row + 1, col + 1)] = value or "#ERROR"
        elif has_formula and empty:
            self.scan.errors[(row + 1, col + 1)] = f"={formula}" if formula else "=…"
        if empty:
            return
        if row >= EXCEL_ROWS or col >= EXCEL_COLS:
            raise _Outside(row + 1, col + 1)
        grew = False
        if row < self.low_row:
            self.low_row, grew = row, True
        if row > self.high_row:
            self.high_row, grew = row, True
        if col < self.low_col:
            self.low_col, grew = col, True
        if col > self.high_col:
            self.high_col, grew = col, True
        if grew and (self.high_row - self.low_row + 1) * (self.high_col - self.low_col + 1) > self.limit:
            raise _TooBig


def _parser(model: _Calamine) -> Any:
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartElementHandler = model.start
    parser.EndElementHandler = model.end
    parser.CharacterDataHandler = model.data
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

    def refuse(*_: Any) -> None:
        raise _Damaged("DTD")

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    return parser


def _exact(source: Source, sheet: str, limits: Limits) -> SheetScan:
    """The grid python-calamine will allocate, exactly; InputError for damage or a cell off the grid."""
    scan = SheetScan(exact=True, mode="exact")
    model = _Calamine(scan, limits.max_cells)
    parser = _parser(model)
    label = source.label
    try:
        for chunk in _chunks(source, sheet, limits):
            parser.Parse(chunk, False)
            if model.done:
                break
        else:
            parser.Parse(b"", True)
    except _TooBig:
        rows, cols = model.high_row - model.low_row + 1, model.high_col - model.low_col + 1
        scan.rows, scan.cols = rows, cols
        return scan
    except _Outside as far:
        raise InputError("outside_grid", label, sheet=sheet, row=far.row, col=far.col) from None
    except (expat.ExpatError, _Damaged) as exc:
        raise InputError(
            "damaged",
            label,
            detail=Phrase(f"工作表“{sheet}”：{_describe(exc)}", f"sheet “{sheet}”: {_describe(exc)}"),
        ) from None
    if model.high_row >= 0:
        scan.rows = model.high_row - model.low_row + 1
        scan.cols = model.high_col - model.low_col + 1
        scan.first = (model.low_row + 1, model.low_col + 1)
    return scan


def _describe(exc: Exception) -> str:
    text = str(exc) or type(exc).__name__
    return text[:120]
