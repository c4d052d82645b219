"""Worksheet rows as SpreadsheetML, made by polars expressions for hundreds of thousands of rows.

XlsxWriter writes a cell per Python call (~100,000 cells a second here); the company table
of a big month has tens of millions. Here each column becomes its cells' XML in one
vectorised pass and each row the concatenation of its cells: text as inline strings
(escaped for XML, control characters as Excel's ``_xHHHH_``), numbers as numbers, dates as
serial numbers with a date style. Nothing becomes a formula. ``splice`` then puts the rows
into a sheet part XlsxWriter wrote with only its header row.
"""

from __future__ import annotations

import functools
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from typing import Literal

import polars as pl

from xlcrm.ahead import ahead
from xlcrm.deflate import deflate_fast
from xlcrm.diagnostics import column_letter

Kind = Literal["text", "number", "date", "shared"]
CHUNK = 20_000  # rows per piece of XML (~30 MB of text at 30 columns)
# Every C0 control but tab and line feed, as Excel (and XlsxWriter) escape them: a raw carriage
# return would come back from any XML parser as a line feed. U+FFFE and U+FFFF are no XML
# characters at all (one would make the whole part unreadable): escaped the same way.
_CONTROL = [chr(c) for c in (*range(0x00, 0x09), *range(0x0B, 0x20), 0xFFFE, 0xFFFF)]
_ESCAPED = [f"_x{ord(c):04X}_" for c in _CONTROL]
_CONTROL_CLASS = "[" + "".join(f"\\x{{{ord(c):02X}}}" for c in _CONTROL) + "]"
_LITERAL_ESCAPE, _MARKUP, _EDGE_SPACE = r"_x[0-9A-Fa-f]{4}_", r"[&<>]", r"^\s|\s$"
# A literal ``_xHHHH`` whose closing underscore is another escape's opening one: the next literal
# escape (``_x005F_x0041_``) or a control character's escape (``_x0041`` + U+0001 → ``_x0041_x0001_``).
# Each underscore that starts one needs its own escape, which Rust's regex (no look-ahead) cannot
# find in one pass; Python's re does, for these rare texts.
_CHAINED = r"_x[0-9A-Fa-f]{4}(?:_x[0-9A-Fa-f]{4}_|" + _CONTROL_CLASS + ")"
_LITERAL_UNDERSCORE = re.compile("_(?=x[0-9A-Fa-f]{4}(?:_|[" + "".join(_CONTROL) + "]))")
_NEEDS = (_LITERAL_ESCAPE, _CONTROL_CLASS, _MARKUP, _EDGE_SPACE)  # a text matching none needs no escape
_DIMENSION = re.compile(rb'<dimension ref="[^"]*"/>')
_ROW = "__excel_row"


def _escaped(name: str, column: pl.Series) -> tuple[pl.Expr, pl.Expr]:
    """A text column's ``<t>`` opening tag and its escaped text; each escape only where needed."""
    text = pl.col(name).cast(pl.Utf8)
    value = text
    # one search tells whether any of the four below can apply (most columns need none of them)
    needs = column.str.contains("|".join(_NEEDS)).any()
    if needs and column.str.contains(_LITERAL_ESCAPE).any():  # a literal _xHHHH_ stays literal
        value = value.str.replace_all(r"_(x[0-9A-Fa-f]{4}_)", "_x005F_$1")
    if needs and column.str.contains(_CHAINED).any():
        value = (
            pl.when(text.str.contains(_CHAINED))
            .then(text.map_elements(_escape_underscores, return_dtype=pl.Utf8))
            .otherwise(value)
        )
    if needs and column.str.contains(_CONTROL_CLASS).any():
        value = value.str.replace_many(_CONTROL, _ESCAPED)
    if needs and column.str.contains(_MARKUP).any():
        value = (
            value.str.replace_all("&", "&amp;", literal=True)
            .str.replace_all("<", "&lt;", literal=True)
            .str.replace_all(">", "&gt;", literal=True)
        )
    open_tag: pl.Expr = pl.lit("<t>")
    if needs and column.str.contains(_EDGE_SPACE).any():
        open_tag = (
            pl.when(text.str.contains(r"^\s|\s$"))
            .then(pl.lit('<t xml:space="preserve">'))
            .otherwise(open_tag)
        )
    return open_tag, value


def _escape_underscores(text: str) -> str:
    """Every underscore that begins a literal ``_xHHHH_`` (once the controls are escaped) as ``_x005F_``."""
    return _LITERAL_UNDERSCORE.sub("_x005F_", text)


def _text_cell(
    name: str, letter: str, row: pl.Expr, column: pl.Series, style: pl.Expr | None = None
) -> pl.Expr:
    """A text column's cells, as inline strings."""
    open_tag, value = _escaped(name, column)
    styled = pl.lit("") if style is None else pl.concat_str(pl.lit(' s="'), style, pl.lit('"')).fill_null("")
    return pl.concat_str(
        [
            pl.lit(f'<c r="{letter}'),
            row,
            pl.lit('"'),
            styled,
            pl.lit(' t="inlineStr"><is>'),
            open_tag,
            value,
            pl.lit("</t></is></c>"),
        ]
    )


def _shared_cell(name: str, letter: str, row: pl.Expr) -> pl.Expr:
    """A shared column's cells: each an index into the shared-string table."""
    return pl.concat_str(
        [
            pl.lit(f'<c r="{letter}'),
            row,
            pl.lit('" t="s"><v>'),
            pl.col(name).cast(pl.Utf8),
            pl.lit("</v></c>"),
        ]
    )


def _number_cell(name: str, letter: str, row: pl.Expr, style: int | None) -> pl.Expr:
    value = pl.col(name).cast(pl.Float64)
    text = pl.when(value.is_finite()).then(pl.col(name).cast(pl.Utf8))
    styled = f' s="{style}"' if style is not None else ""
    return pl.concat_str([pl.lit(f'<c r="{letter}'), row, pl.lit(f'"{styled}><v>'), text, pl.lit("</v></c>")])


def _date_cell(name: str, letter: str, row: pl.Expr, style: int) -> pl.Expr:
    serial = (pl.col(name).cast(pl.Date) - pl.date(1899, 12, 30)).dt.total_days().cast(pl.Utf8)
    return pl.concat_str(
        [pl.lit(f'<c r="{letter}'), row, pl.lit(f'" s="{style}"><v>'), serial, pl.lit("</v></c>")]
    )


def rows_xml(
    frame: pl.DataFrame,
    kinds: list[Kind],
    first_row: int,
    date_style: int,
    chunk: int = CHUNK,
    styles: dict[str, str] | None = None,
    number_styles: dict[str, int] | None = None,
) -> Iterator[bytes]:
    """``<row>`` elements for ``frame`` (text, number, date or shared per column), from Excel row ``first_row``.

    ``styles`` names, for a text column, a column of ``frame`` holding each cell's style index
    (null: none); that column itself is not written. ``number_styles``: the style index of a
    number column's cells (a percentage, an amount).
    """
    number_styles = number_styles or {}
    styles = styles or {}
    hidden = set(styles.values())
    names = [n for n in frame.columns if n not in hidden]
    kinds = [k for n, k in zip(frame.columns, kinds, strict=True) if n not in hidden]
    row = pl.col(_ROW)
    cells = []
    for index, (name, kind) in enumerate(zip(names, kinds, strict=True)):  # built once, for every chunk
        letter = column_letter(index)
        if kind == "text":
            style = pl.col(styles[name]).cast(pl.Utf8) if name in styles else None
            cells.append(_text_cell(name, letter, row, frame[name].cast(pl.Utf8), style))
        elif kind == "shared":
            cells.append(_shared_cell(name, letter, row))
        elif kind == "date":
            cells.append(_date_cell(name, letter, row, date_style))
        else:
            cells.append(_number_cell(name, letter, row, number_styles.get(name)))
    xml = pl.concat_str([pl.lit('<row r="'), row, pl.lit('">'), *cells, pl.lit("</row>")], ignore_nulls=True)

    def piece(start: int) -> bytes:
        part = frame.slice(start, chunk)
        numbers = pl.int_range(first_row + start, first_row + start + part.height, dtype=pl.Int64)
        buffer = io.BytesIO()  # one row per line, written by polars itself: no Python strings
        part.with_columns(numbers.cast(pl.Utf8).alias(_ROW)).select(xml.alias("xml")).write_csv(
            buffer, include_header=False, quote_style="never"
        )
        return buffer.getvalue()

    yield from ahead(piece, range(0, frame.height, chunk))


SAMPLE = 1024  # a column's first rows, which tell most columns of names or codes at once


def _varied(column: pl.Series) -> bool:
    """Whether the values are mostly different (inline strings cost less than the table)."""
    return column.n_unique() * 2 > column.len() + 2  # (null counts as a value; a few rows decide nothing)


class SharedStrings:
    """The workbook's shared-string table, for text columns that repeat a few values.

    A department, a file, a form's name or a 是/否 is the same text on hundreds of thousands
    of rows; written once in ``xl/sharedStrings.xml`` and referred to by its index, it takes a
    third of the bytes to make and to deflate. Columns of mostly different values (names,
    codes) stay inline strings, which cost less there.
    """

    PART = "xl/sharedStrings.xml"
    CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
    RELATIONSHIP = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"

    def __init__(self) -> None:
        self.index: dict[str, int] = {}
        self.count = 0  # cells that refer to the table

    def share(
        self, frame: pl.DataFrame, kinds: list[Kind], keep: Iterable[str] = ()
    ) -> tuple[pl.DataFrame, list[Kind]]:
        """``frame`` with its repetitive text columns (``keep`` left as they are) as indices, and their kinds."""
        kept = set(keep)
        columns: list[pl.Series] = []
        shared: list[Kind] = []
        for name, kind in zip(frame.columns, kinds, strict=True):
            column = frame[name]
            if kind != "text" or name in kept or column.dtype != pl.Utf8 or _varied(column.head(SAMPLE)):
                shared.append(kind)
                continue
            values = column.drop_nulls().unique(maintain_order=True)
            filled = column.len() - column.null_count()
            if len(values) * 2 > filled:  # mostly different: inline is smaller
                shared.append(kind)
                continue
            codes = pl.Series(
                [self.index.setdefault(v, len(self.index)) for v in values.to_list()], dtype=pl.UInt32
            )
            columns.append(column.replace_strict(values, codes, default=None, return_dtype=pl.UInt32))
            self.count += filled
            shared.append("shared")
        return (frame.with_columns(columns) if columns else frame), shared

    def xml(self) -> bytes:
        """The ``xl/sharedStrings.xml`` part (escaped as inline strings are)."""
        strings = pl.DataFrame({"s": list(self.index)}, schema={"s": pl.Utf8})
        open_tag, value = _escaped("s", strings["s"])
        items = io.BytesIO()
        strings.select(pl.concat_str([pl.lit("<si>"), open_tag, value, pl.lit("</t></si>")])).write_csv(
            items, include_header=False, quote_style="never"
        )
        head = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            f'count="{self.count}" uniqueCount="{len(self.index)}">'
        )
        return head.encode() + items.getvalue() + b"</sst>"

    def register(self, content_types: bytes, workbook_rels: bytes) -> tuple[bytes, bytes]:
        """``[Content_Types].xml`` and ``xl/_rels/workbook.xml.rels`` naming the part."""
        override = f'<Override PartName="/{self.PART}" ContentType="{self.CONTENT_TYPE}"/>'.encode()
        end = content_types.rindex(b"</Types>")
        numbers = [int(n) for n in re.findall(rb'Id="rId(\d+)"', workbook_rels)]
        relationship = (
            f'<Relationship Id="rId{max(numbers, default=0) + 1}" Type="{self.RELATIONSHIP}" '
            'Target="sharedStrings.xml"/>'
        ).encode()
        last = workbook_rels.rindex(b"</Relationships>")
        return (
            content_types[:end] + override + content_types[end:],
            workbook_rels[:last] + relationship + workbook_rels[last:],
        )


def splice(
    header: bytes, rows: Iterable[bytes], last_row: int, last_column: int, hyperlinks: bytes = b""
) -> Iterator[bytes]:
    """A sheet part XlsxWriter wrote (header row only) with ``rows`` appended to its sheet data.

    ``hyperlinks`` (a ``<hyperlinks>`` element) goes where the schema wants it: after the
    conditional formats, before the page margins XlsxWriter always writes.
    """
    end = header.rindex(b"</sheetData>")
    dimension = f'<dimension ref="A1:{column_letter(last_column)}{last_row}"/>'.encode()
    yield _DIMENSION.sub(dimension, header[:end], count=1)
    yield from rows
    tail = header[end:]
    if hyperlinks:
        margins = tail.index(b"<pageMargins")
        tail = tail[:margins] + hyperlinks + tail[margins:]
    yield tail


def copy_with(
    source: zipfile.ZipFile,
    target: zipfile.ZipFile,
    replaced: dict[str, Iterable[bytes]],
    added: dict[str, bytes] | None = None,
) -> None:
    """Copy every part of ``source`` to ``target``, streaming the ``replaced`` parts' new bytes.

    ``added`` parts are new (each a name XlsxWriter's package does not have).
    """
    for name, data in (added or {}).items():
        assert name not in source.namelist(), name
        target.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=6)
    for info in source.infolist():
        pieces = replaced.get(info.filename)
        if pieces is None:
            target.writestr(
                info, source.read(info.filename), compress_type=zipfile.ZIP_DEFLATED, compresslevel=6
            )
            continue
        entry = zipfile.ZipInfo(info.filename, date_time=info.date_time)
        entry.compress_type = zipfile.ZIP_DEFLATED
        with target.open(entry, "w", force_zip64=True) as sink:
            deflate_fast(sink)
            for piece in pieces:
                sink.write(piece)


REL_HYPERLINK = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink"
_URL_ESCAPES = {"%": "%25", '"': "%22", " ": "%20", "<": "%3c", ">": "%3e", "[": "%5b", "]": "%5d",
                "^": "%5e", "`": "%60", "{": "%7b", "}": "%7d", "#": "%23"}  # fmt: skip


@functools.cache
def external_target(path: str, relative: bool) -> str:
    """A file's hyperlink target as Excel (and XlsxWriter) write it: backslashes, escaped."""
    target = path.replace("/", "\\")
    if not relative:
        target = "file:///" + target
    if not re.search("%[0-9a-fA-F]{2}", target):
        target = "".join(_URL_ESCAPES.get(c, c) for c in target)
    return target


def _attribute(text: pl.Expr) -> pl.Expr:
    """Text escaped for an XML attribute."""
    for char, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;")):
        text = text.str.replace_all(char, entity, literal=True)
    return text


def hyperlinks(links: pl.DataFrame) -> tuple[bytes, bytes]:
    """The ``<hyperlinks>`` element and the sheet's relationships part for ``links`` (cell, target, location).

    A link without a cell, target or location is left out; no links at all: two empty parts.
    """
    links = links.drop_nulls(["cell", "target", "location"])
    if links.is_empty():
        return b"", b""
    number = pl.int_range(1, pl.len() + 1).cast(pl.Utf8)
    made = links.select(
        pl.concat_str(
            [
                pl.lit('<hyperlink ref="'),
                pl.col("cell"),
                pl.lit('" r:id="rId'),
                number,
                pl.lit('" location="'),
                _attribute(pl.col("location")),
                pl.lit('"/>'),
            ]
        ).str.join(""),
        pl.concat_str(
            [
                pl.lit('<Relationship Id="rId'),
                number,
                pl.lit(f'" Type="{REL_HYPERLINK}" Target="'),
                _attribute(pl.col("target")),
                pl.lit('" TargetMode="External"/>'),
            ]
        )
        .str.join("")
        .alias("relationships"),
    ).row(0)
    rels = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        + made[1]
        + "</Relationships>"
    )
    return ("<hyperlinks>" + made[0] + "</hyperlinks>").encode(), rels.encode()
