"""The copy python-calamine reads (xlcrm.repack): the same cells as the input, or no copy at all."""

from __future__ import annotations

import tempfile
import zipfile
from pathlib import Path
from typing import Any

import pytest

import xlcrm.reader
from tests.ooxml import IMAGE, package, sheet_xml, with_corrupt_image, with_image
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
        (_prefixed, False),  # measured exactly (expat), so not spooled to its end
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
