"""The pre-flight's guarantee, proven over generated spellings (issue 10).

Guarantee: python-calamine never allocates a grid (first to last row × first to last column
of the non-empty cells, summed over the workbook's sheets) larger than ``limits.max_cells``
for a workbook the pre-flight lets through; and when the pre-flight measures a sheet exactly,
its grid is calamine's, cell for cell. Generated worksheets use every spelling the OOXML specs
and real producers allow (quotes ' and ", spaces around =, lower-case references, leading
zeros, rows and cells without ``r``, attributes and elements with prefixes bound to other
namespaces, a ``<dimension>`` that lies) and compare the pre-flight with python-calamine
itself: in this process for small coordinates, and in a child process held to an
address-space limit for far ones.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import python_calamine
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.ooxml import package, sheet_xml
from xlcrm.errors import InputError
from xlcrm.policy import default_policy
from xlcrm.preflight import Limits, open_source
from xlcrm.sheetscan import EXCEL_COLS, EXCEL_ROWS, SheetScan, measure_sheets, reference, scan_sheet

OTHER_NS = ' xmlns:y="urn:example:other" xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def letters(number: int, lower: bool = False) -> str:
    out = ""
    while number:
        number, rest = divmod(number - 1, 26)
        out = chr(65 + rest) + out
    return out.lower() if lower else out


@st.composite
def attribute(draw: st.DrawFn, value: str, plain: bool) -> str:
    """An ``r`` attribute in one of the spellings XML allows, or one calamine ignores."""
    canonical = plain or draw(st.integers(0, 3)) > 0  # mostly as Excel writes it
    spellings = ['r="{}"', "r='{}'", 'r = "{}"', "r\t=\t'{}'", 'y:r="{}"', 'R="{}"', ""]
    form = spellings[0] if canonical else draw(st.sampled_from(spellings))
    return form.format(value)


@st.composite
def reference_text(
    draw: st.DrawFn, rows: st.SearchStrategy[int], cols: st.SearchStrategy[int], plain: bool
) -> str:
    row, col = draw(rows), draw(cols)
    if plain:
        return letters(col) + str(row)
    zeros = "0" * draw(st.sampled_from([0, 0, 0, 0, 0, 1, 2]))
    return letters(col, lower=draw(st.integers(0, 5)) == 0) + zeros + str(row)


VALUES = [
    ('t="inlineStr"', "<is><t>x</t></is>"),
    ("", "<v>1</v>"),
    ("", "<v></v>"),
    ("", "<f>1+1</f>"),
    ('t="e"', "<v>#N/A</v>"),
    ('t="str"', "<f>IF(1,&quot;&quot;,1)</f><v></v>"),
    ('s="1"', None),  # a styled empty cell: <c …/>
]


@st.composite
def cell(draw: st.DrawFn, rows: st.SearchStrategy[int], cols: st.SearchStrategy[int], plain: bool) -> str:
    ref = draw(attribute(draw(reference_text(rows, cols, plain)), plain))
    kind, body = draw(st.sampled_from(VALUES))
    prefix = "" if plain else draw(st.sampled_from(["", "", "", "", "", "", "x:", "y:"]))
    attributes = " ".join(a for a in (ref, kind) if a)
    if body is None:
        return f"<{prefix}c {attributes}/>" if attributes else f"<{prefix}c/>"
    return f"<{prefix}c{' ' if attributes else ''}{attributes}>{body}</{prefix}c>"


# Cells spelled as no spreadsheet program writes them, each just outside A1:AN40 for calamine:
# inserted into otherwise canonical sheets, they are what the fast path must never miss.
TWISTS = [
    "<c r='AO40'><v>1</v></c>",
    '<c r = "AO40"><v>1</v></c>',
    '<c r="ao40"><v>1</v></c>',
    '<c r="AO040"><v>1</v></c>',
    '<c r="A1" r="AO40"><v>1</v></c>',
    '<c r="A40" t="n" r="AO40"><v>1</v></c>',
    '<c\tr="AO40"><v>1</v></c>',
    '<c r="AO40"\n><v>1</v></c>',
    '<x:c r="AO40"><v>1</v></x:c>',
    '<y:c r="AO40"><v>1</v></y:c>',
    '<c r="AN40"/><c><v>1</v></c>',
    '<c r="AN40"/><c y:r="A1"><v>1</v></c>',
    '<c r="AN40"/><c R="A1"><v>1</v></c>',
    '<c r="AN40"/><c rr="A1"><v>1</v></c>',
    '<c r="AO40" x:foo="&gt;"><v>1</v></c>',
    '<c r="AN40" foo=">" r="AO40"><v>1</v></c>',
    '<c r="AN40" foo=\'"\' r="AO40"><v>1</v></c>',
    '<c r="AN40"/><![CDATA[<c r="A1">]]><c><v>1</v></c>',
    '<c r="AN40"/><!-- <c r="A1"> --><c><v>1</v></c>',
]


@st.composite
def worksheet(draw: st.DrawFn, rows: st.SearchStrategy[int], cols: st.SearchStrategy[int]) -> str:
    parts = []
    plain = draw(st.booleans())  # every tag as spreadsheet programs write it (the fast path's case)
    for _ in range(draw(st.integers(1, 5))):
        ref = draw(attribute(str(draw(rows)), plain))
        cells = "".join(draw(st.lists(cell(rows, cols, plain), max_size=4)))
        prefix = "" if plain else draw(st.sampled_from(["", "", "x:"]))
        opening = f"<{prefix}row{' ' if ref else ''}{ref}"
        parts.append(f"{opening}>{cells}</{prefix}row>" if cells else f"{opening}/>")
    if plain and draw(st.booleans()):
        parts.append(f'<row r="40">{draw(st.sampled_from(TWISTS))}</row>')
    dimension = ""
    if draw(st.integers(0, 3)) > 0:  # a dimension, often wrong: the fast path must not trust it
        row, col = (draw(rows), draw(cols)) if draw(st.booleans()) else (max_of(rows), max_of(cols))
        dimension = f'<dimension ref="A1:{letters(col)}{row}"/>'
    return sheet_xml("".join(parts), head=dimension, namespaces=OTHER_NS)


def calamine_grids(path: Path, names: list[str]) -> list[tuple[int, int, tuple[int, int] | None]] | None:
    """(height, width, start) of each sheet as python-calamine reads it; None if it refuses."""
    try:
        book = python_calamine.CalamineWorkbook.from_path(str(path))
        grids = []
        for name in names:
            sheet = book.get_sheet_by_name(name)
            grids.append((sheet.height, sheet.width, sheet.start))
        return grids
    except Exception:
        return None


def preflight(path: Path, names: list[str], limit: int) -> list[SheetScan] | InputError:
    limits = Limits(1 << 30, 1 << 30, 1e9, 1000, limit)
    try:
        source = open_source(path, path.name, limits)
        found = measure_sheets(source, limits, names)
        return [found[name] for name in names]
    except InputError as refused:
        return refused


SMALL = st.integers(1, 40)


def max_of(strategy: st.SearchStrategy[int]) -> int:
    """The largest value a coordinate strategy draws (a dimension that covers every cell)."""
    return 40 if strategy is SMALL else EXCEL_ROWS


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    sheets=st.lists(worksheet(SMALL, SMALL), min_size=1, max_size=3),
    limit=st.sampled_from([30, 400, 10_000, 10_000]),
)
def test_the_preflight_bounds_calamines_grid_for_every_spelling(
    tmp_path: Path, sheets: list[str], limit: int
) -> None:
    names = [f"表{i}" for i in range(len(sheets))]
    path = package(tmp_path / "spelled.xlsx", dict(zip(names, sheets, strict=True)))
    actual = calamine_grids(path, names)
    found = preflight(path, names, limit)
    if isinstance(found, InputError):
        event(f"refused: {found.reason}")
        if found.reason in ("too_many_cells", "too_many_cells_book"):  # refused for size only when too big
            assert actual is not None and sum(h * w for h, w, _ in actual) > limit, found.message("en")
        return
    if actual is None:
        return  # calamine refuses the file: it allocates no grid
    for scan, (height, width, start) in zip(found, actual, strict=True):
        event(f"measured {scan.mode}")
        assert height * width <= scan.cells, (scan, height, width)
        if scan.exact:
            assert (scan.rows, scan.cols) == (height, width)
            if height:
                assert start is not None and scan.first == (start[0] + 1, start[1] + 1)
    assert sum(h * w for h, w, _ in actual) <= limit


@st.composite
def canonical_sheet(draw: st.DrawFn) -> str:
    """A sheet as spreadsheet programs write it (dimension A1:AN40), perhaps with one twist."""
    rows = []
    for row in sorted(set(draw(st.lists(SMALL, min_size=1, max_size=6)))):
        cells = "".join(
            f'<c r="{letters(col)}{row}"{draw(st.sampled_from(EXTRA))}>{draw(st.sampled_from(BODIES))}</c>'
            for col in sorted(set(draw(st.lists(SMALL, max_size=5))))
        )
        rows.append(f'<row r="{row}" spans="1:40" x14ac:dyDescent="0.25">{cells}</row>')
    if draw(st.booleans()):
        rows.insert(draw(st.integers(0, len(rows))), f'<row r="40">{draw(st.sampled_from(TWISTS))}</row>')
    head = '<dimension ref="A1:AN40"/><sheetViews><sheetView workbookViewId="0"/></sheetViews>'
    return sheet_xml("".join(rows), head=head, namespaces=OTHER_NS + ' xmlns:x14ac="urn:x14ac"')


EXTRA = ["", ' s="1"', ' t="s"', ' s="2" t="n"', ' t="inlineStr"', ' cm="1"', ' x14ac:x="&quot;>"']
BODIES = ["<v>0</v>", "<f>SUM(A1:A2)</f><v>3</v>", "<is><t>x&lt;y</t></is>", "<v></v>"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sheet=canonical_sheet())
def test_the_fast_path_never_misses_a_cell(tmp_path: Path, sheet: str) -> None:
    path = package(tmp_path / "canonical.xlsx", {"S": sheet})
    actual = calamine_grids(path, ["S"])
    found = preflight(path, ["S"], 1 << 40)
    if isinstance(found, InputError) or actual is None:
        event(f"refused: {found.reason}" if isinstance(found, InputError) else "calamine refused")
        return
    event(f"measured {found[0].mode}")
    height, width, _ = actual[0]
    assert height * width <= found[0].cells
    if any(twist in sheet for twist in TWISTS):  # every twist sends the sheet to a measuring scan
        assert found[0].mode != "fast"


def test_reference_arithmetic_is_calamines() -> None:
    """Letters either case, u32 wrap-around, zero rows and missing columns refused."""
    assert reference("A1", cell=True) == (0, 0)
    assert reference("xfd1048576", cell=True) == (1048575, 16383)
    assert reference("B4294967299", cell=True) == (2, 1)  # wraps as calamine's u32 does
    assert reference("A0", cell=True) is None and reference("12", cell=True) is None
    assert reference("C5", cell=False) == (4, 2) and reference("A 1", cell=True) is None


# --- far coordinates: the reader itself, in a child process held to an address-space limit -------

FAR_ROWS = st.sampled_from([1, 2, 3, 300, 40_000, EXCEL_ROWS - 1, EXCEL_ROWS, EXCEL_ROWS + 1, (1 << 32) + 3])
FAR_COLS = st.sampled_from([1, 2, 3, 26, 47, 48, 700, EXCEL_COLS - 1, EXCEL_COLS, EXCEL_COLS + 1])
CHILD_LIMIT = 2 << 30  # bytes of address space for the reading child (see test_bad_files.MEMORY_LIMIT)
CHILD_CELLS = 2_000_000  # limits.max_cells in the child: ~110 MB of grid

_READER = """
import json, sys
from pathlib import Path
from xlcrm.errors import InputError
from xlcrm.policy import default_policy
from xlcrm.preflight import Limits, open_source
from xlcrm.reader import read_sheets
limits = Limits(1 << 28, 1 << 28, 1e9, 1000, int(sys.argv[1]))
for name in sys.argv[2:]:
    try:
        source = open_source(Path(name), name, limits)
        cells = sum(len(s.rows) * max((len(r) for r in s.rows), default=0) for _, s in read_sheets(source, limits))
        print(json.dumps({"file": name, "cells": cells}), flush=True)
    except InputError as refused:
        print(json.dumps({"file": name, "refused": refused.reason}), flush=True)
"""


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    books=st.lists(st.lists(worksheet(FAR_ROWS, FAR_COLS), min_size=1, max_size=3), min_size=6, max_size=6)
)
def test_no_input_under_the_limits_makes_the_reader_allocate_more(
    tmp_path: Path, books: list[list[str]]
) -> None:
    paths = []
    for n, sheets in enumerate(books):
        names = [f"表{i}" for i in range(len(sheets))]
        paths.append(str(package(tmp_path / f"far{n}.xlsx", dict(zip(names, sheets, strict=True)))))

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (CHILD_LIMIT, CHILD_LIMIT))

    done = subprocess.run(
        [sys.executable, "-c", _READER, str(CHILD_CELLS), *paths],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=limit,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]  # no abort, no MemoryError, no traceback
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["file"] for r in results] == paths
    for result in results:
        assert result.get("cells", 0) <= CHILD_CELLS, result


# --- the spellings the issue reproduced ------------------------------------------------------------


def _book(tmp_path: Path, name: str, data: str, **options: bool) -> Path:
    return package(tmp_path / name, {"客户档案": sheet_xml(data, namespaces=OTHER_NS)}, **options)  # type: ignore[arg-type]


HEADER = '<row r="1"><c r="A1" t="inlineStr"><is><t>客户编码</t></is></c></row>'
MANY_EMPTY = "<c/>" * 16_000
MANY_PREFIXED = '<c y:r="A1"/>' * 16_000
SPELLINGS = {
    "a row without r, then a cell at XFD1048576": '<row><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>',
    "single quotes": "<row r='1048576'><c r='XFD1048576' t='inlineStr'><is><t>x</t></is></c></row>",
    "cells without r": f'<row r="1048576"><c r="AU1048576"/>{MANY_EMPTY}<c t="inlineStr"><is><t>x</t></is></c></row>',
    "spaces around =": '<row r = "1048576"><c r = "XFD1048576" t="inlineStr"><is><t>x</t></is></c></row>',
    "a lower-case reference": '<row r="1048576"><c r="xfd1048576" t="inlineStr"><is><t>x</t></is></c></row>',
    "r with another namespace's prefix": (
        f'<row r="1048576"><c r="AU1048576"/>{MANY_PREFIXED}'
        '<c y:r="A1" t="inlineStr"><is><t>x</t></is></c></row>'
    ),
}


@pytest.mark.parametrize("spelling", list(SPELLINGS))
def test_every_spelling_of_a_far_cell_is_refused(tmp_path: Path, spelling: str) -> None:
    from tests.test_bad_files import good, refused, run_limited

    far = _book(tmp_path, "far.xlsx", HEADER + SPELLINGS[spelling])
    assert far.stat().st_size < 15_000
    code, out, err, _ = run_limited("check", str(far), str(good(tmp_path, "other.xlsx")))
    assert code == 2, err
    refused(err, far, "使用范围异常")
    assert "other.xlsx" in out  # the batch goes on


def test_a_strict_workbook_is_measured_too(tmp_path: Path) -> None:
    from tests.test_bad_files import refused, run_limited

    far = _book(
        tmp_path, "strict.xlsx", HEADER + '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>', strict=True
    )
    code, _, err, _ = run_limited("check", str(far))
    assert code == 2
    refused(err, far, "使用范围异常")


@pytest.mark.parametrize(("count", "last"), [(32, "E1048576"), (2, "AU1048576")])
def test_the_limit_holds_for_the_workbook(tmp_path: Path, count: int, last: str) -> None:
    """Each sheet is inside the limit; together they are not (issue 10: SIGABRT, or a hang)."""
    from tests.test_bad_files import refused, run_limited

    data = f'<row r="1"><c r="A1"><v>1</v></c></row><row r="1048576"><c r="{last}"><v>2</v></c></row>'
    sheets = {f"表{i}": sheet_xml(data) for i in range(count)}
    path = package(tmp_path / "many.xlsx", sheets)
    assert path.stat().st_size < 30_000
    code, _, err, _ = run_limited("check", str(path))
    assert code == 2, err
    refused(err, path, "合计")


def test_a_styled_empty_far_cell_allocates_nothing_and_is_read(tmp_path: Path) -> None:
    """calamine drops empty cells before it allocates: far-away formatting alone is harmless."""
    from tests.test_bad_files import good, run_limited

    source = good(tmp_path)
    with zipfile.ZipFile(source) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml").decode()
    xml = xml.replace("</sheetData>", '<row r="1048576"><c r="XFD1048576" s="1"/></row></sheetData>')
    far = tmp_path / "styled.xlsx"
    with zipfile.ZipFile(source) as archive, zipfile.ZipFile(far, "w") as out:
        for name in archive.namelist():
            out.writestr(name, xml if name == "xl/worksheets/sheet1.xml" else archive.read(name))
    code, out, err, _ = run_limited("check", str(far))
    assert code == 1 and "S005" in out, err


def test_the_limit_counts_calamines_grid_not_the_declared_dimension(tmp_path: Path) -> None:
    """A dimension claiming XFD1048576 is a bound the fast path cannot use: measured exactly."""
    data = '<row r="5"><c r="B5"><v>1</v></c><c r="C5"><v>2</v></c></row>'
    path = package(tmp_path / "dim.xlsx", {"S": sheet_xml(data, head='<dimension ref="A1:XFD1048576"/>')})
    limits = Limits(1 << 30, 1 << 30, 1e9, 100, 10)
    scan = scan_sheet(open_source(path, "dim", limits), "S", limits)
    assert (scan.rows, scan.cols, scan.exact) == (1, 2, True)
    sheet = python_calamine.CalamineWorkbook.from_path(str(path)).get_sheet_by_name("S")
    assert (sheet.height, sheet.width) == (1, 2)


def test_the_fast_path_is_what_spreadsheet_programs_write() -> None:
    """Workbooks LibreOffice and openpyxl wrote never need the slow exact parse."""
    data = Path(__file__).parent / "data"
    limits = Limits(1 << 30, 1 << 30, 1e9, 1000, 50_000_000)
    for name in ("kitchen_libreoffice.xlsx", "rich_libreoffice.xlsx", "libreoffice_sample.xlsx"):
        source = open_source(data / name, name, limits)
        modes = {scan_sheet(source, sheet, limits).mode for sheet in source.sheet_parts}
        assert modes == {"fast"}, (name, modes)


# --- linear time --------------------------------------------------------------------------------


def _formulas(tmp_path: Path, rows: int, computed: bool) -> tuple[SheetScan, float]:
    value = "<v>2</v>" if computed else ""
    data = "".join(
        f'<row r="{i}"><c r="A{i}"><f>1+1</f>{value}</c><c r="B{i}"><v>{i}</v></c></row>'
        for i in range(1, rows + 1)
    )
    path = package(
        tmp_path / f"f{rows}{computed}.xlsx", {"S": sheet_xml(data, head=f'<dimension ref="A1:B{rows}"/>')}
    )
    limits = Limits(1 << 30, 1 << 30, 1e9, 100, 50_000_000)
    scan = scan_sheet(open_source(path, "f", limits), "S", limits)
    return scan, path.stat().st_size


def test_finding_s010_cells_is_linear(tmp_path: Path) -> None:
    """issue 10: 10k formula rows took 4.9 s, 40k 73 s (each formula searched the whole chunk).

    Now each candidate is looked at in its own cell: the bytes examined grow as the sheet.
    """
    small, _ = _formulas(tmp_path, 10_000, computed=False)
    large, _ = _formulas(tmp_path, 40_000, computed=False)
    assert len(small.errors) == 10_000 and len(large.errors) == 40_000
    assert small.work > 0 and large.work <= 4.2 * small.work
    computed, _ = _formulas(tmp_path, 40_000, computed=True)  # values present: nothing to look at
    assert computed.errors == {} and computed.work == 0 and computed.mode == "fast"


@pytest.mark.parametrize("quote", ['"', "'"], ids=["fast", "exact"])
def test_hidden_rows_and_columns_in_either_path(tmp_path: Path, quote: str) -> None:
    """Hidden rows and columns are found by the fast search and by the exact replay alike."""
    q = quote
    head = f"<dimension ref={q}A1:D5{q}/><cols><col min={q}2{q} max={q}3{q} hidden={q}1{q}/></cols>"
    data = (
        f"<row r={q}1{q}><c r={q}A1{q}><v>1</v></c></row>"
        f"<row r={q}3{q} hidden={q}1{q}><c r={q}A3{q}><v>1</v></c></row>"
        f"<row r={q}5{q} hidden={q}true{q}><c r={q}D5{q}><v>1</v></c></row>"
    )
    path = package(tmp_path / "hidden.xlsx", {"S": sheet_xml(data, head=head)})
    limits = Limits(1 << 30, 1 << 30, 1e9, 100, 1000)
    scan = scan_sheet(open_source(path, "hidden", limits), "S", limits)
    assert scan.mode == ("fast" if quote == '"' else "exact")
    assert scan.hidden_rows == {3, 5} and scan.hidden_cols == frozenset({2, 3})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    parts=st.lists(st.binary(max_size=3000), min_size=1, max_size=4),
    level=st.integers(0, 9),
    chunk=st.sampled_from([1, 7, 64, 4096, 4 << 20]),
)
def test_parts_inflate_to_exactly_what_zipfile_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, parts: list[bytes], level: int, chunk: int
) -> None:
    """ISA-L's inflating (xlcrm.preflight.inflated) gives zipfile's bytes, at any chunk size."""
    from xlcrm import preflight

    path = tmp_path / "parts.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for i, data in enumerate(parts):
            archive.writestr(
                f"p{i}.bin", data * 50, zipfile.ZIP_DEFLATED if i % 2 == 0 else zipfile.ZIP_STORED, level
            )
    monkeypatch.setattr(preflight, "CHUNK", chunk)
    limits = Limits.of(default_policy())
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            assert b"".join(preflight.inflate(archive, info, "parts.zip", limits)) == archive.read(info)


def test_a_deflated_part_whose_crc_fails_is_damaged(tmp_path: Path) -> None:
    from xlcrm import preflight

    path = tmp_path / "one.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("p.xml", bytes(range(256)) * 2000)
    altered = bytearray(path.read_bytes())
    for header, at in ((b"PK\x03\x04", 14), (b"PK\x01\x02", 16)):  # the CRC-32 in both headers
        altered[altered.index(header) + at] ^= 0xFF
    (tmp_path / "altered.zip").write_bytes(bytes(altered))
    limits = Limits.of(default_policy())
    with zipfile.ZipFile(tmp_path / "altered.zip") as archive, pytest.raises(InputError) as problem:
        b"".join(preflight.inflate(archive, archive.getinfo("p.xml"), "altered.zip", limits))
    assert problem.value.reason == "damaged" and "CRC" in str(problem.value)
