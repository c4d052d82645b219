"""The copy python-calamine reads (xlcrm.repack): the same cells as the input, or no copy at all."""

from __future__ import annotations

import tempfile
import zipfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import python_calamine

import xlcrm.reader
from tests.ooxml import IMAGE, MAIN, package, sheet_xml, with_corrupt_image, with_image
from tests.staff import write_staff
from tests.workbooks import write_case, write_kitchen_sink, write_rich
from xlcrm.errors import InputError
from xlcrm.policy import default_policy
from xlcrm.preflight import Limits, Source, open_source
from xlcrm.reader import Sheet, read_sheets
from xlcrm.repack import repack

DATA = Path(__file__).parent / "data"
LIMITS = Limits.of(default_policy())


def _read(path: Path, monkeypatch: pytest.MonkeyPatch, *, copy: bool) -> tuple[list[tuple[int, Sheet]], bool]:
    """Every sheet as read_sheets gives it, with or without the copy; whether a copy was read."""
    used: list[bool] = []

    def watched(source: Source, limits: Limits) -> None:
        if copy:
            repack(source, limits)
        used.append(source.repacked is not None)

    monkeypatch.setattr(xlcrm.reader, "repack", watched)
    sheets = sorted(read_sheets(open_source(path, path.name, LIMITS), LIMITS), key=lambda s: s[0])
    return sheets, any(used)


def _two_sheets(path: Path) -> Path:
    return write_case(
        path,
        {
            "客户档案": [{"客户编码": "C001", "联系电话": "13800138000"}, {"客户编码": "C002"}],
            "信用评定": [{"客户编码": "C001"}],
        },
    )


def _prefixed(path: Path) -> Path:
    """A sheet whose every element carries the prefix ``x:`` (as some exporters write)."""
    cells = '<x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>客户编码</x:t></x:is></x:c></x:row>'
    cells += '<x:row r="2"><x:c r="A2" t="inlineStr"><x:is><x:t>C001</x:t></x:is></x:c><x:c r="B2"><x:v>7</x:v></x:c></x:row>'
    part = (
        '<?xml version="1.0" encoding="UTF-8"?><x:worksheet xmlns:x="http://schemas.openxmlformats.org/'
        f'spreadsheetml/2006/main"><x:dimension ref="A1:B2"/><x:sheetData>{cells}</x:sheetData></x:worksheet>'
    )
    return package(path, {"客户档案": part})


@pytest.mark.parametrize(
    ("make", "copy"),
    [
        (_two_sheets, True),
        (write_kitchen_sink, True),
        (write_rich, True),
        (_prefixed, True),  # the sheet's own prefix is canonical (only another one is measured exactly)
        (lambda p: DATA / "libreoffice_sample.xlsx", True),
        (lambda p: DATA / "kitchen_libreoffice.xlsx", True),
        (lambda p: DATA / "rich_libreoffice.xlsx", True),
        (lambda p: DATA / "libreoffice_sample.xlsm", True),
    ],
    ids=["openpyxl", "kitchen-sink", "rich", "prefixed", "lo-sample", "lo-kitchen", "lo-rich", "lo-xlsm"],
)
def test_the_copy_reads_exactly_the_cells_of_the_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make: Any, copy: bool
) -> None:
    path = make(tmp_path / "book.xlsx")
    direct, copied = _read(path, monkeypatch, copy=False)
    assert not copied
    through_copy, copied = _read(path, monkeypatch, copy=True)
    assert copied is copy
    assert through_copy == direct
    assert any(row for _, sheet in direct for row in sheet.rows)


def test_merged_ranges_are_read_by_python_calamine_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sheets with merged ranges go into the copy unchanged; the others gain the empty marker."""
    path = write_staff(tmp_path / "staff.xlsx")
    direct, _ = _read(path, monkeypatch, copy=False)
    sheets, copied = _read(path, monkeypatch, copy=True)
    assert copied
    assert any(sheet.merges for _, sheet in sheets) and any(not sheet.merges for _, sheet in sheets)
    assert sheets == direct


def test_a_sheet_mentioning_mergecell_in_a_value_is_read_as_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cells = '<row r="1"><c r="A1" t="inlineStr"><is><t>客户编码</t></is></c><c r="B1" t="inlineStr"><is><t>客户名称</t></is></c></row>'
    cells += '<row r="2"><c r="A2" t="inlineStr"><is><t>C001</t></is></c><c r="B2" t="inlineStr"><is><t>&lt;mergeCells&gt;</t></is></c></row>'
    path = package(tmp_path / "t.xlsx", {"客户档案": sheet_xml(cells, head='<dimension ref="A1:B2"/>')})
    direct, _ = _read(path, monkeypatch, copy=False)
    sheets, copied = _read(path, monkeypatch, copy=True)
    assert not copied
    assert sheets == direct and sheets[0][1].rows[1] == ["C001", "<mergeCells>"]


def test_a_damaged_part_only_a_writer_reads_leaves_the_input_to_be_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = _two_sheets(tmp_path / "t.xlsx")
    damaged = with_corrupt_image(source, tmp_path / "damaged.xlsx")
    direct, _ = _read(source, monkeypatch, copy=False)
    sheets, copied = _read(damaged, monkeypatch, copy=True)
    assert not copied
    assert sheets == direct


def test_the_copy_is_removed_after_reading_and_after_a_refusal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    good = _two_sheets(tmp_path / "good.xlsx")
    sheets, copied = _read(good, monkeypatch, copy=True)
    assert copied and len(sheets) == 4
    assert list(folder.iterdir()) == []
    small = Limits(LIMITS.max_file, LIMITS.max_unzipped, LIMITS.max_ratio, LIMITS.max_parts, 10)
    with pytest.raises(InputError):
        list(read_sheets(open_source(good, "good.xlsx", small), small))
    assert list(folder.iterdir()) == []
    # stopping after the first sheet (a caller that gives up) removes it too
    reading = read_sheets(open_source(good, "good.xlsx", LIMITS), LIMITS)
    next(reading)
    reading.close()
    assert list(folder.iterdir()) == []


def test_a_password_protected_input_is_never_written_to_the_temporary_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import msoffcrypto.format.ooxml

    plain = _two_sheets(tmp_path / "plain.xlsx")
    locked = tmp_path / "locked.xlsx"
    with plain.open("rb") as source, locked.open("wb") as sink:
        msoffcrypto.format.ooxml.OOXMLFile(source).encrypt("pw", sink)
    made: list[str] = []
    real = tempfile.TemporaryDirectory

    def watched(*args: Any, **kwargs: Any) -> Any:
        made.append("folder")
        return real(*args, **kwargs)

    monkeypatch.setattr(tempfile, "TemporaryDirectory", watched)
    source = open_source(locked, "locked.xlsx", LIMITS, "pw")
    sheets = sorted(read_sheets(source, LIMITS), key=lambda s: s[0])
    assert made == [] and source.repacked is None
    direct, _ = _read(plain, monkeypatch, copy=False)
    assert sheets == direct


def test_a_temporary_folder_that_cannot_take_the_copy_costs_only_speed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No temporary folder, or a full disk: the input is read as it is, never refused."""
    import xlcrm.repack

    path = _two_sheets(tmp_path / "t.xlsx")
    direct, _ = _read(path, monkeypatch, copy=False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "missing"))
    sheets, copied = _read(path, monkeypatch, copy=True)
    assert not copied and sheets == direct
    monkeypatch.setattr(tempfile, "tempdir", None)

    class Full(xlcrm.repack.Spool):
        def __init__(self, path: Path) -> None:
            super().__init__(Path("/dev/full"))  # every write fails with ENOSPC

    monkeypatch.setattr(xlcrm.repack, "Spool", Full)
    sheets, copied = _read(path, monkeypatch, copy=True)
    assert not copied and sheets == direct


def test_an_encrypted_part_only_a_writer_reads_leaves_the_input_to_be_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A zip entry flagged encrypted (zipfile cannot read it) that calamine never reads."""
    source = _two_sheets(tmp_path / "t.xlsx")
    flagged = with_image(source, tmp_path / "flagged.xlsx", b"\x89PNG" + bytes(64))
    raw = bytearray(flagged.read_bytes())
    name = IMAGE.encode()
    for header, at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):  # the flag bits in both headers
        start = raw.rfind(header, 0, raw.rfind(name) if header == b"PK\x01\x02" else raw.find(name))
        raw[start + at] |= 0x01
    flagged.write_bytes(bytes(raw))
    with zipfile.ZipFile(flagged) as check, pytest.raises(RuntimeError):
        check.read(name.decode())
    direct, _ = _read(source, monkeypatch, copy=False)
    sheets, copied = _read(flagged, monkeypatch, copy=True)
    assert not copied
    assert sheets == direct


# --- a sheet parsed in two halves -----------------------------------------------------------------


def _halved(
    path: Path, monkeypatch: pytest.MonkeyPatch, force: str | None = None
) -> tuple[list[tuple[int, Sheet]], list[str]]:
    """Every sheet as read_sheets gives it with any sheet worth it (or ``force``) split; the sheets split."""
    import xlcrm.repack

    monkeypatch.setattr(xlcrm.repack, "SPLIT_MIN", 0)
    if force is not None:

        def forced(source: Source) -> tuple[str, tuple[int, int, bytes]] | None:
            cut = source.spools[force].halves()
            return None if cut is None else (force, cut)

        monkeypatch.setattr(xlcrm.repack, "_worth_splitting", forced)
    split: list[str] = []
    real = xlcrm.repack.repack

    def watched(source: Source, limits: Limits) -> None:
        real(source, limits)
        split.extend(source.halves)

    monkeypatch.setattr(xlcrm.reader, "repack", watched)
    sheets = sorted(read_sheets(open_source(path, path.name, LIMITS), LIMITS), key=lambda s: s[0])
    return sheets, split


def _text(ref: str, value: str) -> str:
    return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'


def _rows(numbers: range, columns: str, *, extra: str = "") -> str:
    """Rows of text, numbers, a date serial, a boolean, an error and a computed formula."""
    out = []
    for r in numbers:
        cells = []
        for i, col in enumerate(columns):
            kind = (r + i) % 6
            if kind == 0:
                cells.append(_text(f"{col}{r}", f"客户{r}{col}"))
            elif kind == 1:
                cells.append(f'<c r="{col}{r}"><v>{r * 1.5}</v></c>')
            elif kind == 2:
                cells.append(f'<c r="{col}{r}" t="b"><v>{r % 2}</v></c>')
            elif kind == 3:
                cells.append(f'<c r="{col}{r}" t="e"><v>#N/A</v></c>')
            elif kind == 4:
                cells.append(f'<c r="{col}{r}"><f>1+{r}</f><v>{r + 1}</v></c>')
            else:
                cells.append(f'<c r="{col}{r}" s="0"/>')  # an empty styled cell
        out.append(f'<row r="{r}">{"".join(cells)}{extra}</row>')
    return "".join(out)


@pytest.mark.parametrize(
    ("cells", "split"),
    [
        (_rows(range(1, 21), "ABC") + _rows(range(40, 60), "BCDE"), True),  # a gap, other columns
        (_rows(range(1, 41), "ABCD"), True),
        (_rows(range(40, 60), "ABC") + _rows(range(1, 21), "ABC"), True),  # out of row order: read whole
        (_rows(range(1, 21), "ABC") + "<!-- </row> -->" + _rows(range(40, 60), "ABC"), False),
        (_rows(range(1, 21), "ABC") + "<![CDATA[</row>]]>" + _rows(range(40, 60), "ABC"), False),
    ],
    ids=["gap-and-columns", "plain", "out-of-order", "comment", "cdata"],
)
def test_a_sheet_read_in_two_halves_is_the_whole_sheet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cells: str, split: bool
) -> None:
    sheets = {"客户档案": sheet_xml(cells), "黑名单": sheet_xml(_rows(range(1, 3), "AB"))}
    path = package(tmp_path / "t.xlsx", sheets)
    direct, _ = _read(path, monkeypatch, copy=False)
    halved, names = _halved(path, monkeypatch)
    assert names == (["客户档案"] if split else [])
    assert halved == direct
    assert [name for _, sheet in halved for name in [sheet.name]] == ["客户档案", "黑名单"]
    assert halved[0][1].errors  # the pre-flight's error cells of both halves are kept
    assert any(row for row in halved[0][1].rows)


@pytest.mark.parametrize(
    ("make", "sheet"),
    [
        (write_kitchen_sink, "客户档案"),
        (write_rich, "客户档案"),
        (lambda p: DATA / "libreoffice_sample.xlsx", "客户档案"),
        (lambda p: DATA / "kitchen_libreoffice.xlsx", "客户档案"),
        (lambda p: DATA / "rich_libreoffice.xlsx", "客户档案"),
        (lambda p: DATA / "staff_libreoffice.xlsx", "信用评定"),
        (lambda p: DATA / "libreoffice_sample.xlsm", "客户评价"),
    ],
    ids=["kitchen-sink", "rich", "lo-sample", "lo-kitchen", "lo-rich", "lo-staff", "lo-xlsm"],
)
def test_real_workbooks_read_the_same_with_a_sheet_split(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make: Any, sheet: str
) -> None:
    """Workbooks openpyxl and LibreOffice wrote, one sheet read in halves: the same Sheets."""
    path = make(tmp_path / "book.xlsx")
    direct, _ = _read(path, monkeypatch, copy=False)
    halved, names = _halved(path, monkeypatch, force=sheet)
    assert names == [sheet]
    assert halved == direct


def _mixed(numbers: range) -> str:
    """Rows from C5 on: a repeated 是, a text of its own, 1, TRUE and 1.0 (equal values of three types)."""
    return "".join(
        f'<row r="{r}">{_text(f"C{r}", "是")}{_text(f"D{r}", f"客户{r}")}<c r="E{r}"><v>1</v></c>'
        f'<c r="F{r}" t="b"><v>1</v></c><c r="G{r}"><v>1.0</v></c></row>'
        for r in numbers
    ) + _rows(range(numbers.stop, numbers.stop + 30), "CDEFGH")


def _typed(sheets: list[tuple[int, Sheet]]) -> list[Any]:
    """Every sheet with each value's type beside it (1, 1.0 and True are equal, not the same)."""
    return [(i, sheet, [[(type(v), v) for v in row] for row in sheet.rows]) for i, sheet in sheets]


@pytest.mark.parametrize(
    "make",
    [
        write_kitchen_sink,
        write_rich,
        lambda p: DATA / "libreoffice_sample.xlsx",
        lambda p: DATA / "kitchen_libreoffice.xlsx",
        lambda p: DATA / "staff_libreoffice.xlsx",
        lambda p: DATA / "libreoffice_sample.xlsm",
        lambda p: package(p, {"客户档案": sheet_xml(_mixed(range(5, 40))), "x": sheet_xml("")}),
    ],
    ids=["kitchen-sink", "rich", "lo-sample", "lo-kitchen", "lo-staff", "lo-xlsm", "offset-mixed"],
)
@pytest.mark.parametrize("split", [False, True], ids=["whole", "halves"])
def test_a_large_sheet_shares_its_repeated_texts_and_reads_the_same_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make: Any, split: bool
) -> None:
    """Texts shared row by row (reader._values, for large sheets): every value and its type as
    python-calamine's to_python gives them, whole or in halves; a text repeated below the first
    rows is one object."""
    path = make(tmp_path / "book.xlsx")
    monkeypatch.setattr(xlcrm.reader, "SHARED_TEXT_CELLS", 1 << 60)
    read = (
        (lambda: _halved(path, monkeypatch)[0])
        if split
        else (lambda: _read(path, monkeypatch, copy=False)[0])
    )
    direct = read()
    monkeypatch.setattr(xlcrm.reader, "SHARED_TEXT_CELLS", 0)
    monkeypatch.setattr(xlcrm.reader, "SHARED_TEXT_SAMPLE", 3)  # texts past the third row: not in the sample
    shared = read()
    assert _typed(shared) == _typed(direct)
    if split:
        return  # each half shares the texts of its own first rows
    repeated = 0
    for _, sheet in shared:
        first = {v: v for row in sheet.rows[:3] for v in row if isinstance(v, str)}
        for row in sheet.rows[3:]:
            for value in row:
                if isinstance(value, str) and value in first:
                    assert value is first[value]
                    repeated += 1
    assert repeated  # a 是, a 否, an empty cell's "" …


def test_texts_are_shared_only_where_reading_row_by_row_pays() -> None:
    """Large grids only; not one far below the sheet's top (iter_rows makes every row above it)."""
    from xlcrm.reader import SHARED_TEXT_CELLS, _worth_sharing

    wide = 16_384
    rows = SHARED_TEXT_CELLS // wide + 1
    assert _worth_sharing((0, 0), rows, wide)
    assert _worth_sharing((2 * rows, 0), rows, wide)  # a split sheet's second half starts ~one height down
    assert not _worth_sharing((2 * rows + 1, 0), rows, wide)
    assert not _worth_sharing((1_000_000, 0), rows, wide)  # 16 billion blanks before the first row
    assert not _worth_sharing((0, 0), rows - 1, wide)  # small
    assert not _worth_sharing(None, 0, 0)  # empty


def test_a_large_grid_far_down_a_wide_sheet_reads_as_to_python(tmp_path: Path) -> None:
    """31 rows × 16,384 columns from row 20,000: python-calamine's own values, read at once."""
    from xlcrm.diagnostics import column_letter

    cells = "".join(
        f'<row r="{r}">{_text(f"A{r}", "是")}{_text(f"{column_letter(8000)}{r}", f"客户{r}")}'
        f'<c r="{column_letter(16_383)}{r}"><v>1</v></c></row>'
        for r in range(20_000, 20_031)
    )
    path = package(tmp_path / "far.xlsx", {"客户档案": sheet_xml(cells)})
    sheets = list(read_sheets(open_source(path, path.name, LIMITS), LIMITS))
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    expected = book.get_sheet_by_name("客户档案").to_python()
    assert _typed(sheets) == _typed([(0, replace(sheets[0][1], rows=expected))])
    assert (sheets[0][1].first_row, len(sheets[0][1].rows), len(sheets[0][1].rows[0])) == (19_999, 31, 16_384)


def test_a_dominant_sheet_is_split_and_check_finds_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One sheet that is most of the workbook (as staff's archives are): split by the rule
    itself, the same Sheet as read whole, and ``check`` reports exactly the same findings."""
    import datetime as dt

    import xlcrm.repack
    from xlcrm.engine import Options, check

    rows: list[dict[str, Any]] = [
        {
            "客户编码": f"K{i:07d}",
            "客户名称": f"客户{i}",
            "年业务量(万元)": i * 10.5,
            "首次接触日期": "2024-01-02",
        }
        for i in range(2500)
    ]
    rows[1800]["客户编码"] = rows[10]["客户编码"]  # a duplicate across the halves
    rows[2400]["首次接触日期"] = "2025-02-30"  # a bad date in the second half
    path = write_case(
        tmp_path / "big.xlsx",
        {"客户档案": rows, "黑名单": [{"客户编码": "K0000001"}]},
        omit_sheets=("客户评价", "信用评定"),
    )
    direct, _ = _read(path, monkeypatch, copy=False)
    halved, names = _halved(path, monkeypatch)
    assert names == ["客户档案"]
    assert halved == direct and len(halved[0][1].rows) > 2500
    options = Options(as_of=dt.date(2025, 12, 31))
    split_findings = [d.to_dict() for d in check([path], options).diagnostics]
    monkeypatch.setattr(xlcrm.repack, "SPLIT_MIN", 1 << 60)
    whole_findings = [d.to_dict() for d in check([path], options).diagnostics]
    assert split_findings == whole_findings
    assert {"S003", "S007"} <= {f["code"] for f in whole_findings}


def test_a_second_half_that_cannot_be_written_leaves_the_copy_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The two packages are written at once; when the second half's fails, the copy is written
    again whole (not its first half alone), and the sheet reads as it does without a split."""
    import xlcrm.repack

    path = write_case(
        tmp_path / "big.xlsx",
        {"客户档案": [{"客户编码": f"K{i:07d}", "客户名称": f"客户{i}"} for i in range(600)]},
        omit_sheets=("客户评价", "信用评定", "黑名单"),
    )
    direct, _ = _read(path, monkeypatch, copy=False)
    real = xlcrm.repack._write

    def failing(source: Source, limits: Limits, target: Path, split: Any) -> None:
        if target.name == "half.xlsx":
            raise OSError("no space left on device")
        real(source, limits, target, split)

    monkeypatch.setattr(xlcrm.repack, "_write", failing)
    copied: list[bool] = []
    real_repack = xlcrm.repack.repack

    def watched(source: Source, limits: Limits) -> None:
        real_repack(source, limits)
        copied.append(source.repacked is not None and not source.halves)

    monkeypatch.setattr(xlcrm.repack, "SPLIT_MIN", 0)
    monkeypatch.setattr(xlcrm.reader, "repack", watched)
    sheets = sorted(read_sheets(open_source(path, path.name, LIMITS), LIMITS), key=lambda s: s[0])
    assert copied == [True] and sheets == direct and len(sheets[0][1].rows) == 601


@pytest.mark.parametrize(
    ("body", "odd"),
    [
        ('<row r="1"><c r="A1"><v>1</v></c></row>', False),
        ('<row r="1"><c r="A1" t="inlineStr"><is><t>好!?</t></is></c></row>', False),
        ('<row r="1"><!-- x --><c r="A1"><v>1</v></c></row>', True),
        ('<row r="1"><c r="A1" t="inlineStr"><is><t><![CDATA[<]]></t></is></c></row>', True),
        ('<row r="1"><?pi x?><c r="A1"><v>1</v></c></row>', True),
    ],
)
def test_the_spool_finds_the_end_of_the_cells_and_markup_across_any_chunking(
    tmp_path: Path, body: str, odd: bool
) -> None:
    """Where ``</sheetData`` starts and whether a comment, CDATA or PI precedes it, whatever the chunks."""
    from xlcrm.repack import Spool

    part = sheet_xml(body).replace("</worksheet>", "<!-- after --></worksheet>").encode()
    closes = part.index(b"</sheetData")
    for size in range(1, 40):
        spool = Spool(tmp_path / f"s{size}.xml")
        spool.restart()
        for at in range(0, len(part), size):
            spool.write(part[at : at + size])
        spool.finish()
        assert spool.odd == odd, size
        assert odd or spool.closes == closes, size  # (a sheet with markup is not split: no need to look on)
        assert spool.path.read_bytes() == part


def _numbers(numbers: range) -> str:
    return "".join(
        f'<row r="{r}"><c r="A{r}"><v>{r}</v></c><c r="B{r}"><v>{r * 2}</v></c></row>' for r in numbers
    )


def _rows_with(cell: str) -> str:
    """Rows 1–59: a number in A, then ``cell`` (its ``{r}`` the row)."""
    return "".join(
        f'<row r="{r}"><c r="A{r}"><v>{r}</v></c>{cell.replace("{r}", str(r))}</row>' for r in range(1, 60)
    )


@pytest.mark.parametrize(
    ("part", "split"),
    [
        # '>' inside the <sheetData> tag's attribute and cells whose text is '/>: copying the tag
        # up to its first '>' once dropped the whole second half (well-formed XML)
        (
            sheet_xml(_rows_with('<c r="B{r}" t="inlineStr"><is><t>\'/></t></is></c>')).replace(
                "<sheetData>", "<sheetData x='a>b'>"
            ),
            False,
        ),
        # another namespace's sheetData element ends the cells for python-calamine (local names)
        (
            sheet_xml(
                _numbers(range(1, 5))
                + '<row r="5"><c r="A5"><v>5</v></c><y:sheetData xmlns:y="urn:y"></y:sheetData></row>'
                + _numbers(range(6, 60))
            ),
            None,
        ),
        # a processing instruction in the head that mentions <sheetData
        (sheet_xml(_numbers(range(1, 60))).replace("<sheetData>", "<?note <sheetData ?><sheetData>"), False),
        # a cell attribute holding '/>' and a row element nested in a cell's text
        (
            sheet_xml(
                _rows_with('<c r="B{r}" t="inlineStr" x="/>"><is><t>a</t><row></row><t>b</t></is></c>')
            ),
            None,
        ),
        # '</row>' inside a row's attribute (not well-formed, but python-calamine reads it whole)
        (
            sheet_xml(
                _numbers(range(1, 21))
                + '<row r="21" x="</row>"><c r="A21"><v>5</v></c></row>'
                + _numbers(range(22, 41))
            ),
            None,
        ),
    ],
    ids=["sheetdata-attribute", "foreign-sheetdata-end", "pi-in-head", "cell-attribute", "row-attribute"],
)
def test_sheets_that_could_fool_the_cut_read_as_they_do_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, part: str, split: bool | None
) -> None:
    """The review's inputs: not split where the cut could be mistaken, and the same Sheets either way."""
    path = package(tmp_path / "t.xlsx", {"客户档案": part, "黑名单": sheet_xml(_numbers(range(1, 2)))})
    direct, _ = _read(path, monkeypatch, copy=False)
    halved, names = _halved(path, monkeypatch)
    if split is not None:
        assert bool(names) is split
    assert halved == direct and len(direct[0][1].rows) >= 5


def test_when_both_halves_fail_the_error_is_the_whole_sheets_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bad boolean at the end of the first half and one at the start of the second (which fails
    first): the message names the first in the sheet, as read whole, every time."""
    body = "".join(
        f'<row r="{r}"><c r="A{r}" t="b"><v>{7 if r == 1400 else 8}</v></c></row>'
        if r in (1400, 1600)
        else _numbers(range(r, r + 1))
        for r in range(1, 3001)
    )
    path = package(
        tmp_path / "t.xlsx", {"客户档案": sheet_xml(body), "黑名单": sheet_xml(_numbers(range(1, 2)))}
    )
    with pytest.raises(InputError) as whole:
        _read(path, monkeypatch, copy=False)
    for _ in range(5):
        with pytest.raises(InputError) as halved:
            _halved(path, monkeypatch)
        assert str(halved.value) == str(whole.value) and ": 7" in str(whole.value)


def test_a_large_shared_string_table_keeps_the_sheet_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each half's handle loads the shared strings again: not worth it when they are a quarter of the sheet."""
    path = package(tmp_path / "t.xlsx", {"客户档案": sheet_xml(_numbers(range(1, 200)))})
    with zipfile.ZipFile(path) as archive:
        sheet = max(archive.infolist(), key=lambda i: i.file_size).file_size
    items = "".join(f"<si><t>共享文本{i}</t></si>" for i in range(sheet // 40))
    with zipfile.ZipFile(path, "a") as archive:
        archive.writestr("xl/sharedStrings.xml", f'<sst xmlns="{MAIN}">{items}</sst>')
    direct, _ = _read(path, monkeypatch, copy=False)
    halved, names = _halved(path, monkeypatch)
    assert names == [] and halved == direct


def test_of_two_unreadable_sheets_the_first_in_the_workbook_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The two sheets are parsed at once; the error is the first sheet's, however fast the second fails."""
    first = _numbers(range(1, 4000)) + '<row r="4000"><c r="A4000" t="b"><v>7</v></c></row>'
    second = '<row r="1"><c r="A1" t="b"><v>8</v></c></row>'
    path = package(tmp_path / "t.xlsx", {"客户档案": sheet_xml(first), "黑名单": sheet_xml(second)})
    for _ in range(5):
        with pytest.raises(InputError) as raised:
            _read(path, monkeypatch, copy=True)
        assert ": 7" in str(raised.value)


def test_ctrl_c_while_the_copy_is_opened_is_not_taken_for_an_unreadable_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first handle closed, the signal before the second is open: Ctrl-C, not "unreadable"."""
    path = _two_sheets(tmp_path / "t.xlsx")
    real = Source.calamine
    opened: list[bool] = []

    def interrupted(self: Source, *, original: bool = False) -> Any:
        if self.repacked is not None and not original:
            opened.append(True)
            raise KeyboardInterrupt
        return real(self, original=original)

    monkeypatch.setattr(Source, "calamine", interrupted)
    with pytest.raises(KeyboardInterrupt):
        list(read_sheets(open_source(path, path.name, LIMITS), LIMITS))
    assert opened
