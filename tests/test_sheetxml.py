"""Rows made by polars (xlcrm/batch/sheetxml.py) read back exactly, by openpyxl and python-calamine."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

import polars as pl
import python_calamine
import xlsxwriter
from openpyxl import load_workbook

from xlcrm.ahead import ahead
from xlcrm.batch import sheetxml

TRICKY = [
    "普通文本",
    "a & b < c > d",
    "=1+1",
    "  leading and trailing  ",
    "_x0041_ stays literal",
    "tab\tand\x01control\r\nand a Windows line end",
    "'quoted' \"double\"",
    None,
    "_x005F_x0041_ and _x0041_x0042_x0043_ chained stay literal",
    "_x0041\x01 and _x0042\x1f: a literal before a control character's escape",
]
PAD = [None] * (len(TRICKY) - 8)  # the other columns' rows beside the texts past the eighth


def test_text_numbers_and_dates_round_trip(tmp_path: Path) -> None:
    frame = pl.DataFrame(
        {
            "text": TRICKY,
            "number": [1.5, 0.0, -3.0, 1e20, None, 7.0, 123456789.125, float("nan"), *PAD],
            "integer": [1, 2, None, 4, 5, 6, 7, 8, *PAD],
            "date": [dt.date(2025, 12, 31), None, dt.date(1900, 3, 1), *[dt.date(2024, 2, 29)] * 5, *PAD],
        },
        schema={"text": pl.Utf8, "number": pl.Float64, "integer": pl.Int64, "date": pl.Date},
    )
    stage, target = tmp_path / "stage.xlsx", tmp_path / "out.xlsx"
    book = xlsxwriter.Workbook(str(stage), {"constant_memory": True})
    date = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet = book.add_worksheet("表")
    sheet.write_row(0, 0, frame.columns)
    sheet.write_datetime(0, 4, dt.datetime(2025, 1, 1), date)  # gives the date format its index
    book.close()
    rows = sheetxml.rows_xml(frame, ["text", "number", "number", "date"], 2, date.xf_index, chunk=3)
    with zipfile.ZipFile(stage) as source, zipfile.ZipFile(target, "w") as out:
        part = "xl/worksheets/sheet1.xml"
        spliced = sheetxml.splice(source.read(part), rows, frame.height + 1, 4)
        sheetxml.copy_with(source, out, {part: spliced})
    # Excel's reading of the text (python-calamine decodes _xHHHH_ as Excel does; openpyxl does not)
    calamine = python_calamine.CalamineWorkbook.from_path(str(target)).get_sheet_by_name("表").to_python()
    assert [row[0] for row in calamine[1:]] == [v or "" for v in TRICKY]
    sheet = load_workbook(target)["表"]
    values = list(sheet.iter_rows(min_row=2, max_col=4, values_only=True))
    assert [v[1] for v in values] == [1.5, 0, -3, 1e20, None, 7, 123456789.125, None, *PAD]
    assert [v[2] for v in values] == [1, 2, None, 4, 5, 6, 7, 8, *PAD]
    assert [v[3].date() if v[3] else None for v in values] == frame["date"].to_list()
    assert sheet["A4"].value == "=1+1" and sheet["A4"].data_type == "s"  # text, never a formula
    with zipfile.ZipFile(target) as package:
        xml = package.read("xl/worksheets/sheet1.xml")
    assert f'<dimension ref="A1:E{len(TRICKY) + 1}"/>'.encode() in xml and b"<f>" not in xml


def test_ahead_keeps_the_order_and_makes_at_most_depth_ahead() -> None:
    """Chunks come back in order although later ones finish first, with a bounded number in flight."""
    import threading
    import time

    lock, running, most = threading.Lock(), [0], [0]

    def make(n: int) -> int:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.02 if n % 3 == 0 else 0.001)  # every third chunk is slow
        with lock:
            running[0] -= 1
        return n * n

    made = list(ahead(make, range(12), depth=2))
    assert made == [n * n for n in range(12)]
    assert most[0] <= 2


def test_repeated_text_goes_through_the_shared_string_table(tmp_path: Path) -> None:
    """Repetitive columns become indices into xl/sharedStrings.xml; read back they are the same text.

    Rows: the tricky texts three times each (repeated: shared) beside a column of distinct codes
    (mostly different: stays inline), and a second sheet reusing the first one's strings.
    """
    tricky = [t for t in TRICKY for _ in range(3)]
    first = pl.DataFrame(
        {"repeated": tricky, "codes": [f"K{n:04d}" for n in range(len(tricky))]},
        schema={"repeated": pl.Utf8, "codes": pl.Utf8},
    )
    second = pl.DataFrame(
        {"again": ["普通文本", "新的", "新的", "普通文本", None]}, schema={"again": pl.Utf8}
    )
    stage, target = tmp_path / "stage.xlsx", tmp_path / "out.xlsx"
    book = xlsxwriter.Workbook(str(stage), {"constant_memory": True})
    for name, frame in (("甲", first), ("乙", second)):
        book.add_worksheet(name).write_row(0, 0, frame.columns)
    book.close()
    strings = sheetxml.SharedStrings()
    coded_first, kinds_first = strings.share(first, ["text", "text"])
    coded_second, kinds_second = strings.share(second, ["text"])
    assert kinds_first == ["shared", "text"] and kinds_second == ["shared"]
    assert len(strings.index) == len({t for t in TRICKY if t is not None}) + 1  # 普通文本 once, 新的 added
    assert strings.count == len([t for t in tricky if t is not None]) + 4
    replaced: dict[str, Any] = {}
    with zipfile.ZipFile(stage) as source, zipfile.ZipFile(target, "w") as out:
        for index, (frame, kinds) in enumerate(
            ((coded_first, kinds_first), (coded_second, kinds_second)), start=1
        ):
            part = f"xl/worksheets/sheet{index}.xml"
            rows = sheetxml.rows_xml(frame, kinds, 2, 0)
            replaced[part] = sheetxml.splice(source.read(part), rows, frame.height + 1, frame.width - 1)
        types, rels = strings.register(
            source.read("[Content_Types].xml"), source.read("xl/_rels/workbook.xml.rels")
        )
        replaced["[Content_Types].xml"], replaced["xl/_rels/workbook.xml.rels"] = [types], [rels]
        sheetxml.copy_with(source, out, replaced, {strings.PART: strings.xml()})
    calamine = python_calamine.CalamineWorkbook.from_path(str(target))
    assert [r[0] for r in calamine.get_sheet_by_name("甲").to_python()[1:]] == [v or "" for v in tricky]
    assert [r[1] for r in calamine.get_sheet_by_name("甲").to_python()[1:]] == first["codes"].to_list()
    assert [r[0] for r in calamine.get_sheet_by_name("乙").to_python()[1:]] == [
        "普通文本",
        "新的",
        "新的",
        "普通文本",
    ]  # the empty last row is not read
    book_read = load_workbook(target)
    cell = book_read["甲"]["A8"]
    assert cell.value == "=1+1" and cell.data_type == "s"  # a shared string is text, never a formula
    assert [c.value for c in book_read["乙"]["A"]][1:] == ["普通文本", "新的", "新的", "普通文本"]
    with zipfile.ZipFile(target) as package:
        sheet = package.read("xl/worksheets/sheet1.xml")
        assert b't="s"><v>' in sheet and b"<is><t>K0000</t></is>" in sheet
        distinct = len({t for t in TRICKY if t is not None}) + 1  # TRICKY's texts and 新的
        assert f'uniqueCount="{distinct}"'.encode() in package.read(strings.PART)


def test_a_column_whose_first_rows_all_differ_stays_inline() -> None:
    """Names and codes are told by their first rows, without counting the whole column.

    Rows: 3,000; 客户名称 distinct in its first 1,024 rows and 甲 from then on; 部门 one of two
    values. Expected: 客户名称 stays inline text (its first rows decide), 部门 is shared; a
    1,000-row frame (the first rows are all of it) decides as the whole column says.
    """
    names = [f"客户{n:04d}" if n < sheetxml.SAMPLE else "甲" for n in range(3000)]
    frame = pl.DataFrame({"客户名称": names, "部门": ["销售一部", "销售二部"] * 1500})
    coded, kinds = sheetxml.SharedStrings().share(frame, ["text", "text"])
    assert kinds == ["text", "shared"] and coded["客户名称"].to_list() == names
    small = frame.slice(1000, 1000)  # 24 distinct names, then 甲: mostly the same
    assert sheetxml.SharedStrings().share(small, ["text", "text"])[1] == ["shared", "shared"]


def test_hyperlinks_leave_out_incomplete_links_and_number_the_rest() -> None:
    """Rows: a link, one without a target, another link; then no links at all."""
    links = pl.DataFrame(
        {
            "cell": ["D2", "D3", "D4"],
            "target": ["a.xlsx", None, "b&c.xlsx"],
            "location": ["'客户档案'!A1", "'x'!B2", "'It''s'!C3"],
        },
        schema={"cell": pl.Utf8, "target": pl.Utf8, "location": pl.Utf8},
    )
    element, relationships = sheetxml.hyperlinks(links)
    assert (
        element
        == (
            '<hyperlinks><hyperlink ref="D2" r:id="rId1" location="\'客户档案\'!A1"/>'
            '<hyperlink ref="D4" r:id="rId2" location="\'It\'\'s\'!C3"/></hyperlinks>'
        ).encode()
    )
    assert b'Id="rId1"' in relationships and b'Target="b&amp;c.xlsx"' in relationships
    assert b"rId3" not in relationships and b"D3" not in element
    assert sheetxml.hyperlinks(links.clear()) == (b"", b"")


def test_characters_xml_cannot_hold_are_escaped_as_excel_does(tmp_path: Path) -> None:
    """U+FFFE and U+FFFF (no XML characters) become _xFFFE_ and _xFFFF_: the part stays readable.

    Written raw, either one made the sheet (or the shared-string table, every sheet) unreadable.
    """
    import xml.etree.ElementTree as ET

    frame = pl.DataFrame({"text": ["前\ufffe中\uffff后", "普通"]})
    stage, target = tmp_path / "stage.xlsx", tmp_path / "out.xlsx"
    book = xlsxwriter.Workbook(str(stage), {"constant_memory": True})
    book.add_worksheet("表").write_row(0, 0, frame.columns)
    book.close()
    part = "xl/worksheets/sheet1.xml"
    with zipfile.ZipFile(stage) as source, zipfile.ZipFile(target, "w") as out:
        rows = sheetxml.rows_xml(frame, ["text"], 2, 0)
        sheetxml.copy_with(source, out, {part: sheetxml.splice(source.read(part), rows, 3, 0)})
    with zipfile.ZipFile(target) as package:
        xml = package.read(part)
    assert "前_xFFFE_中_xFFFF_后".encode() in xml
    ET.fromstring(xml)  # well-formed
    assert load_workbook(target)["表"]["A3"].value == "普通"
