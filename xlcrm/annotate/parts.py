"""The parts xlcrm adds or extends: styles, comments with their drawing, and its two sheets."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from xlcrm.annotate.package import TRANSITIONAL, Names, parse, serialize
from xlcrm.annotate.sheet import escape, xml_text
from xlcrm.diagnostics import column_letter, column_number

AUTHOR = "xlcrm"
MARKER = "[xlcrm]"  # every note xlcrm writes starts with it
FILLS = {"error": ("FFFFC7CE", "FF9C0006"), "warning": ("FFFFEB9C", "FF9C5700")}
HEADER_FILL = "FFE2EFDA"  # computed columns: a green header, distinct from the templates' blues


def _insert_after(parent: etree._Element, element: etree._Element, before_names: Sequence[str]) -> None:
    """Insert ``element`` before the first child named in ``before_names`` (else append)."""
    for index, child in enumerate(parent):
        if isinstance(child.tag, str) and etree.QName(child.tag).localname in before_names:
            parent.insert(index, element)
            return
    parent.append(element)


def _reuse(parent: etree._Element, element: etree._Element) -> int:
    """The index of ``element``, just appended to ``parent``: an identical earlier one's if there is one.

    An annotated copy already holds xlcrm's fills, fonts and formats: a new run uses them
    instead of adding them again (the duplicate is removed), so styles.xml does not grow.
    """
    own = etree.tostring(element, method="c14n", with_tail=False)
    for index, other in enumerate(parent):
        if other is element:
            break
        if etree.tostring(other, method="c14n", with_tail=False) == own:
            parent.remove(element)
            return index
    return len(parent) - 1


@dataclass(frozen=True, slots=True)
class Look:
    """The ids xlcrm's marks and sheets use in styles.xml: fills (dxfs) and cell formats (xfs)."""

    dxf: dict[str, int]  # severity -> conditional fill
    xf: dict[
        str, int
    ]  # HEADER, HEADER_RIGHT, TITLE, BOLD, WRAP, INTEGER, MONEY, PERCENT, NOTE -> cell format

    def __getitem__(self, name: str | None) -> int | None:
        return None if name is None else self.xf.get(name)


# xlcrm's cell formats: (font, fill, number format, alignment). Built-in number formats:
# 3 = #,##0, 4 = #,##0.00, 10 = 0.00%.
HEADER, HEADER_RIGHT, TITLE, BOLD, WRAP = "header", "header_right", "title", "bold", "wrap"
INTEGER, MONEY, PERCENT, NOTE = "integer", "money", "percent", "note"
_FORMATS: dict[str, tuple[str, bool, int, dict[str, str]]] = {
    HEADER: ("bold", True, 0, {"vertical": "center"}),
    HEADER_RIGHT: ("bold", True, 0, {"horizontal": "right", "vertical": "center"}),
    TITLE: ("title", False, 0, {}),
    BOLD: ("bold", False, 0, {}),
    WRAP: ("", False, 0, {"wrapText": "1", "vertical": "top"}),
    INTEGER: ("", False, 3, {}),
    MONEY: ("", False, 4, {}),
    PERCENT: ("", False, 10, {}),
    NOTE: ("grey", False, 0, {"wrapText": "1", "vertical": "top"}),
}


def extend_styles(styles: bytes, names: Names = TRANSITIONAL) -> tuple[bytes, Look]:
    """styles.xml with xlcrm's fills (as dxfs) and cell formats; (bytes, their ids)."""
    _q = names.q
    root = parse(styles)
    dxfs = root.find(_q("dxfs"))
    if dxfs is None:
        dxfs = etree.Element(_q("dxfs"), count="0")
        _insert_after(root, dxfs, ("tableStyles", "colors", "extLst"))
    ids = {}
    for severity, (fill, font) in FILLS.items():
        dxf = etree.SubElement(dxfs, _q("dxf"))
        etree.SubElement(etree.SubElement(dxf, _q("font")), _q("color"), rgb=font)
        pattern = etree.SubElement(etree.SubElement(dxf, _q("fill")), _q("patternFill"), patternType="solid")
        etree.SubElement(pattern, _q("bgColor"), rgb=fill)
        ids[severity] = _reuse(dxfs, dxf)
    dxfs.set("count", str(len(dxfs)))
    fonts, fills, xfs = root.find(_q("fonts")), root.find(_q("fills")), root.find(_q("cellXfs"))
    if fonts is None or fills is None or xfs is None:
        return serialize(root), Look(ids, {})
    font_ids = {"": "0"}
    for name, (bold, size, color) in {"bold": (True, "11", ""), "title": (True, "14", "FF1F4E78"),
                                      "grey": (False, "10", "FF595959")}.items():  # fmt: skip
        font = etree.SubElement(fonts, _q("font"))
        if bold:
            etree.SubElement(font, _q("b"))
        etree.SubElement(font, _q("sz"), val=size)
        if color:
            etree.SubElement(font, _q("color"), rgb=color)
        font_ids[name] = str(_reuse(fonts, font))
    fonts.set("count", str(len(fonts)))
    fill = etree.SubElement(fills, _q("fill"))
    pattern = etree.SubElement(fill, _q("patternFill"), patternType="solid")
    etree.SubElement(pattern, _q("fgColor"), rgb=HEADER_FILL)
    header_fill = str(_reuse(fills, fill))
    fills.set("count", str(len(fills)))  # after _reuse: it drops the fill when styles.xml has it
    xf_ids = {}
    for name, (font_name, filled, number, align) in _FORMATS.items():
        xf = etree.SubElement(
            xfs, _q("xf"), numFmtId=str(number), fontId=font_ids[font_name],
            fillId=header_fill if filled else "0", borderId="0", xfId="0",
        )  # fmt: skip
        if font_name:
            xf.set("applyFont", "1")
        if filled:
            xf.set("applyFill", "1")
        if number:
            xf.set("applyNumberFormat", "1")
        if align:
            xf.set("applyAlignment", "1")
            etree.SubElement(xf, _q("alignment"), **align)
        xf_ids[name] = _reuse(xfs, xf)
    xfs.set("count", str(len(xfs)))
    return serialize(root), Look(ids, xf_ids)


def comments_part(
    existing: bytes | None, notes: dict[str, str], names: Names = TRANSITIONAL
) -> tuple[bytes, set[str], set[str]]:
    """A comments part: the user's comments kept, xlcrm's earlier ones dropped, ``notes`` added.

    Returns the part, the cells whose xlcrm comments were dropped, and the cells that got a
    new xlcrm comment (a cell with a user's comment keeps it and gets none). Lines someone
    added to an xlcrm note (a reply typed into it) are kept: after the cell's new note, or as
    the cell's note when it has no finding any more.
    """
    _q = names.q
    if existing is not None:
        root = parse(existing)
    else:
        root = etree.Element(_q("comments"), nsmap={None: names.main})
        etree.SubElement(root, _q("authors"))
        etree.SubElement(root, _q("commentList"))
    authors, comment_list = root.find(_q("authors")), root.find(_q("commentList"))
    if authors is None or comment_list is None:
        raise ValueError("a comments part without authors or commentList")
    people = [a.text or "" for a in authors]
    if AUTHOR not in people:
        etree.SubElement(authors, _q("author")).text = AUTHOR
        people.append(AUTHOR)
    ours = str(people.index(AUTHOR))
    dropped = set()
    replies: dict[str, str] = {}  # cell -> the lines someone added to xlcrm's note there
    for comment in list(comment_list):
        author_id = comment.get("authorId", "")
        author = people[int(author_id)] if author_id.isdigit() and int(author_id) < len(people) else ""
        mine = author_id == ours or (author.strip() in ("", AUTHOR) and _is_xlcrm_text(comment))
        if mine:  # another person's note stays whole, even one that quotes xlcrm's marker
            ref = comment.get("ref", "")
            dropped.add(ref)
            comment_list.remove(comment)
            if reply := _added_lines(comment):
                replies[ref] = reply
    taken = {c.get("ref") for c in comment_list}
    added = set()
    notes = {ref: "\n".join(filter(None, (notes.get(ref), replies.get(ref)))) for ref in {*notes, *replies}}
    for ref, text in sorted(
        notes.items(), key=lambda item: (int(re.sub(r"\D", "", item[0])), column_number(item[0]))
    ):
        if ref in taken:
            continue
        comment = etree.SubElement(comment_list, _q("comment"), ref=ref, authorId=ours)
        run = etree.SubElement(etree.SubElement(comment, _q("text")), _q("t"))
        run.text = xml_text(text)
        run.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        added.add(ref)
    return serialize(root), dropped, added


def _is_xlcrm_text(comment: etree._Element) -> bool:
    """Whether a note is xlcrm's by its text (it starts with the marker).

    Some programs drop the author when they save (LibreOffice writes an empty one) or put the
    author's name on a first line (Excel).
    """
    text = "".join(t.text or "" for t in comment.iter("{*}t")).lstrip()
    return text.startswith(MARKER) or text.split("\n", 1)[-1].lstrip().startswith(MARKER)


def _added_lines(comment: etree._Element) -> str:
    """The lines of an xlcrm note that xlcrm did not write (each of its own starts with MARKER).

    Excel puts the author's name on a first line of its own ("xlcrm:"); that line is not kept.
    """
    lines = "".join(t.text or "" for t in comment.iter("{*}t")).split("\n")
    if lines and lines[0].strip().rstrip(":：").strip() == AUTHOR:
        lines = lines[1:]
    kept = "\n".join(line for line in lines if not line.lstrip().startswith(MARKER)).strip("\n")
    return kept if kept.strip() else ""


_SHAPE = re.compile(rb"<v:shape\b.*?</v:shape>", re.S)
_SHAPE_ID = re.compile(rb'<(?:[\w.-]+:)?shape\b[^>]*?\sid="_x0000_s(\d+)"')
_IDMAP = re.compile(rb'<(?:[\w.-]+:)?idmap\b[^>]*\bdata="([^"]*)"')
_ANCHOR_ROW = re.compile(rb"<x:Row>(\d+)</x:Row>")
_ANCHOR_COL = re.compile(rb"<x:Column>(\d+)</x:Column>")
VML_HEAD = (
    '<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
    'xmlns:x="urn:schemas-microsoft-com:office:excel">'
    '<o:shapelayout v:ext="edit"><o:idmap v:ext="edit" data="{blocks}"/></o:shapelayout>'
    '<v:shapetype id="_x0000_t202" coordsize="21600,21600" o:spt="202" path="m,l,21600r21600,l21600,xe">'
    '<v:stroke joinstyle="miter"/><v:path gradientshapeok="t" o:connecttype="rect"/></v:shapetype>'
)


def vml_shape(ref: str, shape_id: int) -> bytes:
    """The hidden note box Excel draws for a comment on ``ref``."""
    col, row = column_number(ref) - 1, int(re.sub(r"\D", "", ref)) - 1
    anchor = f"{col + 1}, 15, {max(row - 1, 0)}, 10, {col + 3}, 15, {row + 3}, 4"
    return (
        f'<v:shape id="_x0000_s{shape_id}" type="#_x0000_t202" style="position:absolute;margin-left:80pt;'
        'margin-top:2pt;width:240pt;height:80pt;z-index:1;visibility:hidden" fillcolor="#ffffe1" '
        'o:insetmode="auto"><v:fill color2="#ffffe1"/><v:shadow on="t" color="black" obscured="t"/>'
        '<v:path o:connecttype="none"/><v:textbox style="mso-direction-alt:auto">'
        '<div style="text-align:left"></div></v:textbox><x:ClientData ObjectType="Note">'
        f"<x:MoveWithCells/><x:SizeWithCells/><x:Anchor>{anchor}</x:Anchor><x:AutoFill>False</x:AutoFill>"
        f"<x:Row>{row}</x:Row><x:Column>{col}</x:Column></x:ClientData></v:shape>"
    ).encode()


def vml_part(existing: bytes | None, dropped: set[str], added: set[str], first_block: int) -> bytes:
    """The comments drawing: shapes of dropped xlcrm comments removed, new ones added.

    The new shapes take the drawing's own id blocks (in its idmap, or used by its shapes) that no
    remaining shape uses (those of the xlcrm notes just dropped) before new blocks from
    ``first_block``: a copy processed again keeps its drawing as it was.
    """
    count = len(added)
    blocks = max(1, -(-count // 1024))
    if existing is None:
        new_blocks = list(range(first_block, first_block + blocks))
        ids = (block * 1024 + n + 1 for block in new_blocks for n in range(1023))
        shapes = b"".join(vml_shape(ref, next(ids)) for ref in sorted(added))
        head = VML_HEAD.format(blocks=",".join(map(str, new_blocks))).encode()
        return head + shapes + b"</xml>"

    def keep(match: re.Match[bytes]) -> bytes:
        shape = match.group(0)
        row, col = _ANCHOR_ROW.search(shape), _ANCHOR_COL.search(shape)
        if b'ObjectType="Note"' in shape and row and col:
            ref = f"{column_letter(int(col.group(1)))}{int(row.group(1)) + 1}"
            if ref in dropped:
                return b""
        return shape

    body = _SHAPE.sub(keep, existing)
    idmap = _IDMAP.search(body)
    declared = [int(x) for x in re.findall(rb"\d+", idmap.group(1))] if idmap else []
    # the blocks its shapes had are the drawing's too (LibreOffice writes no idmap)
    declared += sorted({int(x) // 1024 for x in _SHAPE_ID.findall(existing)} - set(declared))
    taken = {int(x) // 1024 for x in _SHAPE_ID.findall(body)}
    reused = [block for block in declared if block not in taken][:blocks]
    new_blocks = list(range(first_block, first_block + blocks - len(reused)))
    ids = (block * 1024 + n + 1 for block in reused + new_blocks for n in range(1023))
    shapes = b"".join(vml_shape(ref, next(ids)) for ref in sorted(added))
    if new_blocks:
        body = re.sub(
            rb'(<(?:[\w.-]+:)?idmap\b[^>]*\bdata=")([^"]*)"',
            lambda m: m.group(1) + m.group(2) + b"," + ",".join(map(str, new_blocks)).encode() + b'"',
            body,
            count=1,
        )
    end = body.rindex(b"</xml>")
    return body[:end] + shapes + body[end:]


def used_vml_blocks(vml_parts: Sequence[bytes]) -> int:
    """The first drawing id block no existing VML part uses (by its idmap or its shapes' ids).

    Any namespace prefix: openpyxl writes ``<ns0:idmap>`` and ``<ns0:shape>``, not ``o:``/``v:``.
    """
    used = [0]
    for part in vml_parts:
        for match in _IDMAP.finditer(part):
            used.extend(int(x) for x in re.findall(rb"\d+", match.group(1)))
        used.extend(int(x) // 1024 for x in _SHAPE_ID.findall(part))
    return max(used) + 1


@dataclass
class Grid:
    """An xlcrm sheet to write: cells by row (0-based), column widths, and how it shows and prints."""

    widths: Sequence[float]
    cells: dict[int, list[tuple[int, Any, str | None]]] = field(
        default_factory=dict
    )  # row -> (col, value, style)
    freeze: int = 0  # rows frozen at the top
    filter: str | None = None  # the autofilter's range
    links: dict[str, str] = field(default_factory=dict)  # cell -> internal target (``'客户档案'!K7``)
    breaks: list[int] = field(default_factory=list)  # 0-based rows a printed page ends after
    heights: dict[int, float] = field(default_factory=dict)  # row -> height in points

    def put(self, row: int, col: int, value: Any, style: str | None = None) -> None:
        """One cell (a blank value writes nothing)."""
        if value is not None and value != "":
            self.cells.setdefault(row, []).append((col, value, style))


PRINT_TITLES = "_xlnm.Print_Titles"


def grid_sheet(grid: Grid, look: Look, names: Names = TRANSITIONAL, drawing: str | None = None) -> bytes:
    """The worksheet part of ``grid``: inline strings and numbers (text never a formula).

    Printing: A4 landscape, one page wide (fit to width), as many pages down as it needs; the
    header rows repeat through the workbook's ``_xlnm.Print_Titles`` (see ``print_titles``).
    ``drawing`` is the relationship id of the sheet's charts.
    """
    rows = max(grid.cells, default=0) + 1
    last = column_letter(max((c for cells in grid.cells.values() for c, _, _ in cells), default=0))
    out = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>']
    out.append(f'<worksheet xmlns="{names.main}" xmlns:r="{names.rel}">')
    out.append('<sheetPr><pageSetUpPr fitToPage="1"/></sheetPr>')
    out.append(f'<dimension ref="A1:{last}{rows}"/>')
    if grid.freeze:
        out.append(
            f'<sheetViews><sheetView workbookViewId="0"><pane ySplit="{grid.freeze}" '
            f'topLeftCell="A{grid.freeze + 1}" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>'
        )
    else:
        out.append('<sheetViews><sheetView workbookViewId="0"/></sheetViews>')
    out.append(
        "<cols>"
        + "".join(
            f'<col min="{i + 1}" max="{i + 1}" width="{w:g}" customWidth="1"/>'
            for i, w in enumerate(grid.widths)
        )
        + "</cols>"
    )
    out.append("<sheetData>")
    for r in sorted(grid.cells):
        height = grid.heights.get(r)
        custom = f' ht="{height:g}" customHeight="1"' if height else ""
        cells = sorted(grid.cells[r], key=lambda c: c[0])
        out.append(
            f'<row r="{r + 1}"{custom}>'
            + "".join(_cell(f"{column_letter(c)}{r + 1}", v, look[s]) for c, v, s in cells)
            + "</row>"
        )
    out.append("</sheetData>")
    if grid.filter:
        out.append(f'<autoFilter ref="{grid.filter}"/>')
    if grid.links:
        out.append("<hyperlinks>")
        for ref, target in grid.links.items():
            quoted = escape(target).replace('"', "&quot;")
            out.append(f'<hyperlink ref="{ref}" location="{quoted}" display="{quoted}"/>')
        out.append("</hyperlinks>")
    out.append('<printOptions gridLines="0"/>')
    out.append('<pageMargins left="0.4" right="0.4" top="0.5" bottom="0.5" header="0.3" footer="0.3"/>')
    out.append('<pageSetup paperSize="9" orientation="landscape" fitToWidth="1" fitToHeight="0"/>')
    if grid.breaks:
        out.append(f'<rowBreaks count="{len(grid.breaks)}" manualBreakCount="{len(grid.breaks)}">')
        out.append("".join(f'<brk id="{b + 1}" max="16383" man="1"/>' for b in grid.breaks))
        out.append("</rowBreaks>")
    if drawing:
        out.append(f'<drawing r:id="{drawing}"/>')
    out.append("</worksheet>")
    return "".join(out).encode("utf-8")


def _cell(ref: str, value: Any, style: int | None) -> str:
    s = f' s="{style}"' if style is not None else ""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f'<c r="{ref}"{s}><v>{value!r}</v></c>'
    return f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{escape(str(value))}</t></is></c>'


def display_width(text: str) -> float:
    """A text's width in Excel column units: a CJK or full-width character counts two."""
    return sum(2.0 if ord(c) > 0x2E7F else 1.0 for c in text)


def fitted_width(header: str, values: Sequence[Any], *, most: float = 60, least: float = 6) -> float:
    """A column's width: its header and its widest value (up to ``most``), with a little room."""
    widest = max([display_width(header), *(display_width(_shown(v)) for v in values)], default=0)
    return max(least, min(most, widest + 2))


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}"
    return "" if value is None else str(value)


def table_sheet(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    widths: Sequence[float],
    look: Look,
    links: dict[int, str] | None = None,
    names: Names = TRANSITIONAL,
    wrap: Sequence[int] = (),
    numbers: Sequence[int] = (),
) -> bytes:
    """A plain table with a filterable, frozen header row that repeats on every printed page.

    ``links`` maps a 0-based row index to an internal target (``'客户档案'!K7``) for column A;
    the columns in ``wrap`` wrap their text; those in ``numbers`` are right-aligned, header too.
    """
    last = column_letter(len(headers) - 1)
    grid = Grid(widths, freeze=1, filter=f"A1:{last}{max(len(rows) + 1, 1)}")
    for i, h in enumerate(headers):
        grid.put(0, i, h, HEADER_RIGHT if i in numbers else HEADER)
    for r, values in enumerate(rows, start=1):
        for i, v in enumerate(values):
            grid.put(r, i, v, WRAP if i in wrap else None)
    grid.links = {f"A{index + 2}": target for index, target in (links or {}).items()}
    return grid_sheet(grid, look, names)
