"""Worksheet rows as SpreadsheetML, made by polars expressions for hundreds of thousands of rows.

XlsxWriter writes a cell per Python call (~100,000 cells a second here); the company table
of a big month has tens of millions. Here each column becomes its cells' XML in one
vectorised pass and each row the concatenation of its cells: text as inline strings
(escaped for XML, control characters as Excel's ``_xHHHH_``), numbers as numbers, dates as
serial numbers with a date style. Nothing becomes a formula. ``splice`` then puts the rows
into a sheet part XlsxWriter wrote with only its header row.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Iterable, Iterator
from typing import Literal

import polars as pl

from xlcrm.diagnostics import column_letter

Kind = Literal["text", "number", "date"]
CHUNK = 20_000  # rows per piece of XML (~30 MB of text at 30 columns)
_CONTROL = [chr(c) for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20))]
_ESCAPED = [f"_x{ord(c):04X}_" for c in _CONTROL]
_DIMENSION = re.compile(rb'<dimension ref="[^"]*"/>')


def _text_cell(name: str, letter: str, row: pl.Expr) -> pl.Expr:
    value = pl.col(name)
    value = (
        value.str.replace_all(r"_(x[0-9A-Fa-f]{4}_)", "_x005F_$1")  # literal _xHHHH_ stays literal
        .str.replace_many(_CONTROL, _ESCAPED)
        .str.replace_all("&", "&amp;", literal=True)
        .str.replace_all("<", "&lt;", literal=True)
        .str.replace_all(">", "&gt;", literal=True)
    )
    open_tag = (
        pl.when(pl.col(name).str.contains(r"^\s|\s$"))
        .then(pl.lit('<t xml:space="preserve">'))
        .otherwise(pl.lit("<t>"))
    )
    return pl.concat_str(
        [
            pl.lit(f'<c r="{letter}'),
            row,
            pl.lit('" t="inlineStr"><is>'),
            open_tag,
            value,
            pl.lit("</t></is></c>"),
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
    frame: pl.DataFrame, kinds: list[Kind], first_row: int, date_style: int, chunk: int = CHUNK
) -> Iterator[bytes]:
    """``<row>`` elements for ``frame`` (text, number or date per column), from Excel row ``first_row``."""
    names = frame.columns
    for start in range(0, frame.height, chunk):
        part = frame.slice(start, chunk)
        row = pl.int_range(first_row + start, first_row + start + part.height, dtype=pl.Int64).cast(pl.Utf8)
        cells = []
        for index, (name, kind) in enumerate(zip(names, kinds, strict=True)):
            letter = column_letter(index)
            if kind == "text":
                cells.append(_text_cell(name, letter, row))
            elif kind == "date":
                cells.append(_date_cell(name, letter, row, date_style))
            else:
                cells.append(_number_cell(name, letter, row, None))
        rows = part.select(
            pl.concat_str(
                [pl.lit('<row r="'), row, pl.lit('">'), *cells, pl.lit("</row>")], ignore_nulls=True
            )
            .str.join("")
            .alias("xml")
        )
        yield rows.item().encode("utf-8")


def splice(header: bytes, rows: Iterable[bytes], last_row: int, last_column: int) -> Iterator[bytes]:
    """A sheet part XlsxWriter wrote (header row only) with ``rows`` appended to its sheet data."""
    end = header.rindex(b"</sheetData>")
    dimension = f'<dimension ref="A1:{column_letter(last_column)}{last_row}"/>'.encode()
    yield _DIMENSION.sub(dimension, header[:end], count=1)
    yield from rows
    yield header[end:]


def copy_with(source: zipfile.ZipFile, target: zipfile.ZipFile, replaced: dict[str, Iterable[bytes]]) -> None:
    """Copy every part of ``source`` to ``target``, streaming the ``replaced`` parts' new bytes."""
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
            for piece in pieces:
                sink.write(piece)
