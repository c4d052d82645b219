"""Patch one worksheet part: computed cells appended to rows, marks added after the data.

The rows (``<sheetData>``, possibly 100 MB) are streamed as bytes: only rows that receive
computed cells are rewritten, and a user's cells are never re-encoded. The short tail after
``</sheetData>`` is edited as XML, inserting xlcrm's conditional formatting and the comment
drawing at the places the schema orders them, and dropping xlcrm's marks of an earlier run.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from lxml import etree

from xlcrm.annotate.inventory import lost, sheet_features
from xlcrm.annotate.package import PARSER, TRANSITIONAL, Names
from xlcrm.diagnostics import column_letter, column_number
from xlcrm.errors import InputError

# CT_Worksheet's child order (ECMA-376 §18.3.1.99); unknown elements keep their place.
ORDER = [
    "sheetPr",
    "dimension",
    "sheetViews",
    "sheetFormatPr",
    "cols",
    "sheetData",
    "sheetCalcPr",
    "sheetProtection",
    "protectedRanges",
    "scenarios",
    "autoFilter",
    "sortState",
    "dataConsolidate",
    "customSheetViews",
    "mergeCells",
    "phoneticPr",
    "conditionalFormatting",
    "dataValidations",
    "hyperlinks",
    "printOptions",
    "pageMargins",
    "pageSetup",
    "headerFooter",
    "rowBreaks",
    "colBreaks",
    "customProperties",
    "cellWatches",
    "ignoredErrors",
    "smartTags",
    "drawing",
    "legacyDrawing",
    "legacyDrawingHF",
    "drawingHF",
    "picture",
    "oleObjects",
    "controls",
    "webPublishItems",
    "tableParts",
    "extLst",
]
MARK = '"xlcrm"="xlcrm"'  # the always-true formula that identifies xlcrm's conditional formats
# Characters XML 1.0 cannot hold (C0 controls but tab and line breaks, lone surrogates, FFFE/FFFF).
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
CELL_LIMIT = 32_767  # characters an Excel cell (or note) holds
_REF = re.compile(rb'\br="([A-Z]+)(\d+)"')
_ROW_NUMBER = re.compile(rb'\br="(\d+)"')
_BLANK_CELL = re.compile(rb"<(?:\w+:)?c\b[^>]*?(?:/>|>\s*</(?:\w+:)?c>)")  # no value, formula or text
_STYLE = re.compile(rb'\ss="\d+"')


def xml_text(text: str) -> str:
    """Text XML can hold and an Excel cell can show: illegal characters dropped, at most 32,767."""
    text = _ILLEGAL.sub("", text)
    return text if len(text) <= CELL_LIMIT else text[: CELL_LIMIT - 1] + "…"


@lru_cache(maxsize=1 << 16)  # computed columns repeat their texts down 100,000 rows
def escape(text: str) -> str:
    """Text safe inside an XML element (and never a formula: it is written as text)."""
    return xml_text(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@dataclass
class SheetPatch:
    """What to change in one worksheet part."""

    cells: dict[int, list[tuple[int, Any, int | None]]] = field(
        default_factory=dict
    )  # row → (col, value, style)
    drop_columns: set[int] = field(default_factory=set)  # 1-based columns of an earlier run's computed cells
    marks: dict[int, list[str]] = field(default_factory=dict)  # dxf id → cell references
    legacy_drawing: str | None = None  # relationship id of a new comments drawing
    last_column: int = 0  # widest column now used (for <dimension>)
    widths: dict[int, float] = field(default_factory=dict)  # 1-based column -> width of xlcrm's columns
    lost: list[str] = field(default_factory=list)  # features the patched part holds fewer of (never expected)
    own_styles: frozenset[int] = frozenset()  # xlcrm's cell formats: a dropped cell's other style stays
    names: Names = TRANSITIONAL  # the workbook's namespaces (Strict or transitional)


def _cell_tags(prefix: str, letters: str, style: int | None, number: bool) -> tuple[str, str, str]:
    """A cell's XML around its row number and value: ``head + row + middle + value + tail``.

    Text is always an inline string, so a value starting with ``=`` is never a formula.
    """
    s = f' s="{style}"' if style is not None else ""
    if number:
        return f'<{prefix}c r="{letters}', f'"{s}><{prefix}v>', f"</{prefix}v></{prefix}c>"
    return (
        f'<{prefix}c r="{letters}',
        f'"{s} t="inlineStr"><{prefix}is><{prefix}t xml:space="preserve">',
        f"</{prefix}t></{prefix}is></{prefix}c>",
    )


def patch_sheet(read: Callable[[], bytes], patch: SheetPatch, label: str) -> list[bytes]:
    """The worksheet part ``read()`` returns with ``patch`` applied, as chunks to write one after another.

    Chunks rather than one ``bytes``: a 100,000-row sheet is ~140 MB, and joining it once more
    would cost that again in memory. The part's bytes are read here, so that this function holds
    their only reference: they go as soon as the rows are split, and each row's piece once the
    rows are joined (a caller's argument would stay alive until the call returns).
    """
    xml = read()
    found = re.search(rb"<(\w+:)?sheetData\b[^>]*?(/?)>", xml)
    if found is None:
        raise InputError("unreadable", label, detail="worksheet without sheetData")
    prefix = found.group(1) or b""
    if found.group(2):  # <sheetData/>: nothing to append to
        start = end = found.end()
        head, tail = xml[: found.start()], xml[found.end() :]
        open_tag, close_tag = found.group(0)[:-2] + b">", b"</" + prefix + b"sheetData>"
    else:
        start, end = found.end(), xml.index(b"</" + prefix + b"sheetData>", found.end())
        head, tail = xml[: found.start()], xml[end + len(prefix) + 12 :]
        open_tag, close_tag = found.group(0), b"</" + prefix + b"sheetData>"
    if not patch.cells and not patch.drop_columns:
        body = xml[start:end]
    else:
        closing = b"</" + prefix + b"row>"
        numbers = re.compile(rb"<" + prefix + rb'row\b[^>]*?\br="(\d+)"').findall(xml, start, end)
        pieces = xml[start:end].split(closing)
        del xml  # the part's bytes go: only the rows' pieces are kept
        body = _patch_rows(pieces, numbers, prefix, patch, label)
    before = sheet_features(head + tail, MARK)
    head = _patch_dimension(head, patch.last_column)
    head = _patch_cols(head, prefix, patch.widths)
    tail = _patch_tail(head, tail, prefix, patch)
    patch.lost = lost(before, sheet_features(head + tail, MARK))
    return [head, open_tag, body, close_tag, tail]


def _patch_rows(
    pieces: list[bytes], numbers: list[bytes], prefix: bytes, patch: SheetPatch, label: str
) -> bytes:
    """Append computed cells and drop an earlier run's, row by row, without parsing the rest.

    ``pieces`` are the sheet's rows split at each ``</row>`` (fast, in C); the row's start tag is
    the last ``<row`` of each piece, as cell text is always escaped; ``numbers`` the rows'
    ``r`` in order. When every row has its start tag with a reference and no earlier computed
    cells are to be dropped (a first run), each row needs only a look at its last cell. The
    list is emptied once joined (its pieces are freed).
    """
    closing = b"</" + prefix + b"row>"
    cells_xml = _CellsXml(prefix)
    if patch.drop_columns or len(numbers) != len(pieces) - 1:  # self-closing rows, or a rerun
        body = _patch_rows_slow(pieces, prefix, patch, label, cells_xml)
        pieces.clear()
        return body
    cell_open, search, get = b"<" + prefix + b"c ", _REF.search, patch.cells.get
    rows = list(map(int, numbers))
    for n, row in enumerate(rows):
        cells = get(row)
        if not cells:
            continue
        piece = pieces[n]
        last = search(piece, max(piece.rfind(cell_open), 0))
        if last is None or _before(last.group(1), cells[0][0], cells_xml):
            pieces[n] = piece + cells_xml.joined(row, cells)
        else:
            added = cells_xml(row, cells)
            pieces[n] = _insert_cells(piece + closing, prefix, closing, added)[: -len(closing)]
    if not set(patch.cells) <= set(rows):
        raise InputError("unreadable", label, detail="rows without references (r) are not supported")
    body = closing.join(pieces)
    pieces.clear()
    return body


def _before(letters: bytes, col: int, cells_xml: _CellsXml) -> bool:
    """Whether column ``letters`` (e.g. ``b"AB"``) lies left of 1-based column ``col``."""
    other = cells_xml.letters(col)
    return (len(letters), letters) < (len(other), other)


class _CellsXml:
    """The XML of one row's added cells; each column's tags are built once, not per row."""

    def __init__(self, prefix: bytes) -> None:
        self.prefix = prefix.decode()
        self.tags: dict[tuple[int, int | None, bool], tuple[str, str, str]] = {}
        self.column_letters: dict[int, bytes] = {}

    def __call__(self, row: int, cells: list[tuple[int, Any, int | None]]) -> list[tuple[int, bytes]]:
        out = []
        for col, value, style in cells:
            number = value.__class__ is int or value.__class__ is float
            key = (col, style, number)
            head, middle, tail = self.tags.get(key) or self.tags.setdefault(key, self._tags(*key))
            text = repr(value) if number else escape(str(value))
            out.append((col, f"{head}{row}{middle}{text}{tail}".encode()))
        return out

    def joined(self, row: int, cells: list[tuple[int, Any, int | None]]) -> bytes:
        """The cells' XML in one piece."""
        parts = []
        for col, value, style in cells:
            number = value.__class__ is int or value.__class__ is float
            key = (col, style, number)
            head, middle, tail = self.tags.get(key) or self.tags.setdefault(key, self._tags(*key))
            parts.append(f"{head}{row}{middle}{repr(value) if number else escape(str(value))}{tail}")
        return "".join(parts).encode()

    def letters(self, col: int) -> bytes:
        """A column's letters as bytes (cached)."""
        found = self.column_letters.get(col)
        if found is None:
            found = self.column_letters[col] = column_letter(col - 1).encode()
        return found

    def _tags(self, col: int, style: int | None, number: bool) -> tuple[str, str, str]:
        return _cell_tags(self.prefix, column_letter(col - 1), style, number)


def _patch_rows_slow(
    pieces: list[bytes], prefix: bytes, patch: SheetPatch, label: str, cells_xml: _CellsXml
) -> bytes:
    """The general case: self-closing rows, or an earlier run's computed cells to drop."""
    drop = None
    if patch.drop_columns:
        letters = b"|".join(column_letter(c - 1).encode() for c in sorted(patch.drop_columns))
        drop = re.compile(
            rb"<" + prefix + rb'c\b[^>]*?\br="(?:' + letters + rb')\d+"[^>]*?(?:/>|>.*?</' + prefix + rb"c>)",
            re.S,
        )
    closing, opening = b"</" + prefix + b"row>", b"<" + prefix + b"row"
    seen: set[int] = set()

    def keep_style(match: re.Match[bytes]) -> bytes:
        """An earlier run's cell goes; the user's style it kept (a border) stays, on a blank cell."""
        cell = match.group(0)
        start = cell[: cell.index(b">")]
        ref, style = _REF.search(start), _STYLE.search(start)
        if ref is None or style is None or int(style.group(0)[4:-1]) in patch.own_styles:
            return b""
        return b"<" + prefix + b'c r="' + ref.group(1) + ref.group(2) + b'"' + style.group(0) + b"/>"

    for n in range(len(pieces) - 1):
        piece = pieces[n]
        start = piece.rfind(opening)
        number = _ROW_NUMBER.search(piece, start, piece.index(b">", start)) if start >= 0 else None
        if number is None:
            raise InputError("unreadable", label, detail="rows without references (r) are not supported")
        row = int(number.group(1))
        cells = patch.cells.get(row)
        if cells is None and drop is None:
            continue
        seen.add(row)
        new = piece[start:] + closing
        if drop is not None:
            new = drop.sub(keep_style, new)
        if cells:
            new = _insert_cells(new, prefix, closing, cells_xml(row, cells))
        pieces[n] = piece[:start] + new[: -len(closing)]
    if not set(patch.cells) <= seen:
        raise InputError("unreadable", label, detail="rows without references (r) are not supported")
    return closing.join(pieces)


def _insert_cells(row_xml: bytes, prefix: bytes, closing: bytes, added: list[tuple[int, bytes]]) -> bytes:
    """Insert cells into a row, keeping the cells in column order, never two of one column.

    A blank cell of the user's where a computed cell goes (a bordered table wider than its
    data: ``<c r="AA2" s="3"/>``) gives way to it, which keeps its style unless xlcrm sets
    one; a user's cell with content there (a formula showing "") is kept, without the computed one.
    """
    if row_xml.endswith(b"/>") and not row_xml.endswith(closing):
        row_xml = row_xml[:-2] + b">" + closing
    inner_start = row_xml.index(b">") + 1
    inner = row_xml[inner_start : -len(closing)]
    last = _REF.search(inner, max(inner.rfind(b"<" + prefix + b"c "), 0))  # only the last cell matters
    if last is None or column_number(last.group(1).decode()) < added[0][0]:
        return row_xml[:inner_start] + inner + b"".join(x for _, x in added) + closing
    cell_re = re.compile(rb"<" + prefix + rb"c\b[^>]*?(?:/>|>.*?</" + prefix + rb"c>)", re.S)
    pieces = []
    for match in cell_re.finditer(inner):
        ref = _REF.search(match.group(0))
        pieces.append((column_number(ref.group(1).decode()) if ref else 0, match.group(0)))
    theirs = {col: xml for col, xml in pieces}
    kept: list[tuple[int, bytes]] = []
    for col, xml in added:
        existing = theirs.get(col)
        if existing is not None and not _BLANK_CELL.fullmatch(existing):
            continue
        if existing is not None:
            pieces.remove((col, existing))
            style = _STYLE.search(existing[: existing.index(b">")])
            if style and _STYLE.search(xml[: xml.index(b">")]) is None:
                ref = _REF.search(xml)
                if ref is not None:
                    xml = xml[: ref.end()] + style.group(0) + xml[ref.end() :]
        kept.append((col, xml))
    merged = sorted(pieces + kept, key=lambda item: item[0])
    return row_xml[:inner_start] + b"".join(x for _, x in merged) + closing


def _patch_dimension(head: bytes, last_column: int) -> bytes:
    match = re.search(rb'(<(?:\w+:)?dimension\b[^>]*?\bref=")([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?"', head)
    if match is None or last_column == 0:
        return head
    end_col = match.group(4) or match.group(2)
    end_row = match.group(5) or match.group(3)
    if column_number(end_col.decode()) >= last_column:
        return head
    ref = match.group(2) + match.group(3) + b":" + column_letter(last_column - 1).encode() + end_row
    return head[: match.start()] + match.group(1) + ref + b'"' + head[match.end() :]


def _patch_cols(head: bytes, prefix: bytes, widths: dict[int, float]) -> bytes:
    """Widths for xlcrm's columns in ``<cols>``: a user's column ranges over them are split around them.

    The user's other columns keep their widths and styles.
    """
    if not widths:
        return head
    p = prefix.decode()
    ours = [f'<{p}col min="{c}" max="{c}" width="{w:g}" customWidth="1"/>' for c, w in sorted(widths.items())]
    found = re.search(rb"<" + prefix + rb"cols\b[^>]*?(/>|>.*?</" + prefix + rb"cols>)", head, re.S)
    if found is None:  # no <cols>: it goes right before <sheetData>, where ``head`` ends
        return head + f"<{p}cols>{''.join(ours)}</{p}cols>".encode()
    pieces: list[tuple[int, bytes]] = []
    # an empty <col> is spelled <col …/> or <col …></col> (Go's encoding/xml): both are kept
    col_re = rb"<" + prefix + rb"col\b[^>]*?(?:/>|>\s*</" + prefix + rb"col>)"
    for col in re.finditer(col_re, found.group(0)):
        xml = col.group(0)
        low, high = (
            int(m.group(1))
            for m in (re.search(rb'\bmin="(\d+)"', xml), re.search(rb'\bmax="(\d+)"', xml))
            if m
        )
        for a, b in _outside(low, high, sorted(widths)):
            pieces.append(
                (
                    a,
                    re.sub(
                        rb'\bmax="\d+"',
                        f'max="{b}"'.encode(),
                        re.sub(rb'\bmin="\d+"', f'min="{a}"'.encode(), xml),
                    ),
                )
            )
    pieces += [(c, x.encode()) for c, x in zip(sorted(widths), ours, strict=True)]
    body = b"".join(x for _, x in sorted(pieces, key=lambda item: item[0]))
    cols = b"<" + prefix + b"cols>" + body + b"</" + prefix + b"cols>"
    return head[: found.start()] + cols + head[found.end() :]


def _outside(low: int, high: int, taken: list[int]) -> list[tuple[int, int]]:
    """The runs of ``low..high`` that avoid the columns in ``taken``."""
    runs, start = [], low
    for col in taken:
        if col < start or col > high:
            continue
        if col > start:
            runs.append((start, col - 1))
        start = col + 1
    if start <= high:
        runs.append((start, high))
    return runs


def _patch_tail(head: bytes, tail: bytes, prefix: bytes, patch: SheetPatch) -> bytes:
    """Remove old xlcrm marks and add new ones, in schema order."""
    root_tag = re.search(rb"<(\w+:)?worksheet\b[^>]*>", head)
    if root_tag is None:
        return tail
    wrapper = etree.fromstring(root_tag.group(0) + tail, PARSER)
    q = patch.names.q
    changed = False
    for block in wrapper.findall(q("conditionalFormatting")):
        if any(MARK in (f.text or "") for f in block.iter(q("formula"))):
            wrapper.remove(block)
            changed = True
    priority = max((_priority(r) for r in wrapper.iter(q("cfRule"))), default=0)
    for dxf, refs in patch.marks.items():
        if not refs:
            continue
        priority += 1
        block = etree.Element(q("conditionalFormatting"), sqref=" ".join(_ranges(refs)))
        rule = etree.SubElement(block, q("cfRule"), type="expression", dxfId=str(dxf), priority=str(priority))
        etree.SubElement(rule, q("formula")).text = MARK
        _insert_ordered(wrapper, block)
        changed = True
    if patch.legacy_drawing is not None:
        drawing = etree.Element(q("legacyDrawing"))
        drawing.set(patch.names.rid, patch.legacy_drawing)
        _insert_ordered(wrapper, drawing)
        changed = True
    if not changed:
        return tail
    inner = b"".join(etree.tostring(child, encoding="UTF-8") for child in wrapper)
    return inner + b"</" + prefix + b"worksheet>"


def _priority(rule: etree._Element) -> int:
    text = rule.get("priority", "0")
    return int(text) if text.isdigit() else 0


def _local(tag: Any) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _insert_ordered(parent: etree._Element, element: etree._Element) -> None:
    rank = ORDER.index(_local(element.tag))
    for index, child in enumerate(parent):
        name = _local(child.tag)
        if name in ORDER and ORDER.index(name) > rank:
            parent.insert(index, element)
            return
    parent.append(element)


def _ranges(refs: list[str]) -> list[str]:
    """Cell references merged into vertical runs: K7 K8 K9 → K7:K9."""
    by_column: dict[str, list[int]] = {}
    for ref in refs:
        match = re.match(r"([A-Z]+)(\d+)$", ref)
        if match:
            by_column.setdefault(match[1], []).append(int(match[2]))
    out = []
    for letters, rows in by_column.items():
        rows = sorted(set(rows))
        start = previous = rows[0]
        for row in [*rows[1:], None]:
            if row is not None and row == previous + 1:
                previous = row
                continue
            out.append(f"{letters}{start}" if start == previous else f"{letters}{start}:{letters}{previous}")
            if row is not None:
                start = previous = row
    return out
