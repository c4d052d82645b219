"""xlcrm process: the annotated copy keeps everything the user had and carries xlcrm's marks."""

from __future__ import annotations

import hashlib
import io
import json
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

import pytest
import python_calamine
import xlsxwriter
from click.testing import CliRunner
from openpyxl import load_workbook
from rich.console import Console

from tests.office import needs_soffice, soffice
from tests.workbooks import AS_OF, write_case, write_kitchen_sink, write_rich
from xlcrm.annotate.inventory import lost, package_features, sheet_features
from xlcrm.annotate.parts import MARKER
from xlcrm.annotate.sheet import MARK
from xlcrm.cli import cli
from xlcrm.forms import forms
from xlcrm.sample import PLANTED, write_sample

DATA = Path(__file__).parent / "data"
ADDED_SHEETS = ["问题清单", "汇总"]


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, [*args, "--as-of", AS_OF.isoformat()])
    return result.exit_code, result.stdout, result.stderr


def process(source: Path, target: Path, *extra: str) -> Path:
    code, _, err = run("process", str(source), "-o", str(target), *extra)
    assert code in (0, 1), err
    assert "少了" not in err, err  # the inventory found nothing lost
    return target


def values(path: Path) -> dict[str, list[list[Any]]]:
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    return {name: book.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in book.sheet_names}


def formulas(path: Path) -> dict[tuple[str, str], str]:
    book = load_workbook(path)
    return {
        (ws.title, cell.coordinate): cell.value
        for ws in book.worksheets
        for row in ws.iter_rows()
        for cell in row
        if cell.data_type == "f"
    }


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_xlsm_with_vba(path: Path) -> Path:
    """A macro workbook by XlsxWriter: the sample's forms, a VBA project, and a chart."""
    sample = values(write_sample(path.with_suffix(".src.xlsx")))
    vba = path.with_name("vbaProject.bin")
    vba.write_bytes(b"\xd0\xcf\x11\xe0 not really OLE, but opaque bytes xlcrm must copy as they are")
    book = xlsxwriter.Workbook(str(path))
    for name, rows in sample.items():
        sheet = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value != "":
                    sheet.write(r, c, value if not hasattr(value, "isoformat") else value.isoformat())
    chart = book.add_chart({"type": "column"})
    chart.add_series({"values": "='客户评价'!$D$2:$D$9"})
    book.get_worksheet_by_name("备注").insert_chart("D2", chart)
    book.add_vba_project(str(vba))
    book.close()
    return path


@pytest.fixture(
    params=[
        "rich_libreoffice.xlsx",
        "libreoffice_sample.xlsm",
        "kitchen_libreoffice.xlsx",
        "openpyxl_rich.xlsx",
        "xlsxwriter_vba.xlsm",
        "xlsxwriter_kitchen.xlsx",
        "xlsxwriter_kitchen.xlsm",
    ]
)
def source(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    name = request.param
    if name == "openpyxl_rich.xlsx":
        return write_rich(tmp_path / name)
    if name.startswith("xlsxwriter_kitchen"):
        return write_kitchen_sink(tmp_path / name)
    if name == "xlsxwriter_vba.xlsm":
        return write_xlsm_with_vba(tmp_path / name)
    copy = tmp_path / name
    shutil.copy(DATA / name, copy)
    return copy


def test_round_trip_keeps_every_value_formula_and_part(source: Path, tmp_path: Path) -> None:
    before = digest(source)
    target = process(source, tmp_path / f"out{source.suffix}")
    assert digest(source) == before, "the input must never change"
    original, annotated = values(source), values(target)
    nine = [f.zh for f in forms().values() if f.layout == "table" and f.key != "waivers"]
    assert len(nine) == 9 and set(nine) <= set(original)  # all nine forms, filled
    assert list(annotated) == [*original, *ADDED_SHEETS]
    for sheet, rows in original.items():
        width = max((len(r) for r in rows), default=0)
        got = annotated[sheet]
        assert len(got) == len(rows), sheet
        for r, row in enumerate(rows):
            assert got[r][:width] == row + [""] * (width - len(row)), (sheet, r + 1)
    assert formulas(target) == formulas(source)
    with zipfile.ZipFile(source) as a, zipfile.ZipFile(target) as b:
        changed = ("xl/worksheets/", "xl/styles", "xl/workbook", "[Content", "xl/_rels", "xl/comments")
        untouched = [n for n in a.namelist() if not n.startswith(changed) and not n.endswith(".vml")]
        for name in untouched:
            assert a.read(name) == b.read(name), name
        assert ("xl/vbaProject.bin" in a.namelist()) == ("xl/vbaProject.bin" in b.namelist())
    if source.suffix == ".xlsm":
        assert target.suffix == ".xlsm"
    kept = package_features(target, MARKER)
    expected = package_features(source, MARKER)
    expected["定义的名称 defined names"] += 2  # the print titles of 问题清单 and 汇总
    assert kept == expected  # the user's charts, images, names, notes…: nothing fewer
    if "kitchen" in source.name:
        assert (
            kept["图表 charts"] == 1 and kept["图片 images"] == 1 and kept["隐藏的工作表 hidden sheets"] == 1
        )
        assert features(target) == features(source)
        assert features(source)[:3] == (True, 1, ["A5:C5"])


def features(path: Path) -> tuple[Any, ...]:
    """What the kitchen-sink workbooks hold, read by openpyxl (a second library)."""
    book = load_workbook(path)
    archive = book["客户档案"]
    return (
        book["锁定"].protection.sheet,
        len(archive.data_validations.dataValidation),
        [str(r) for r in book["备注"].merged_cells.ranges],
        archive["J5"].comment.text,
        archive.freeze_panes,  # LibreOffice's converter drops XlsxWriter's frozen pane; equal is what counts
        "客户编码列" in book.defined_names,
        book["内部"].sheet_state,
        book["备注"]["B3"].value,
    )


def test_the_inventory_names_what_a_copy_lost(tmp_path: Path) -> None:
    source = write_kitchen_sink(tmp_path / "k.xlsx")
    stripped = tmp_path / "stripped.xlsx"
    with zipfile.ZipFile(source) as a, zipfile.ZipFile(stripped, "w") as b:
        for name in a.namelist():
            if not name.startswith(("xl/charts/", "xl/media/")):
                b.writestr(name, a.read(name))
    missing = lost(package_features(source, MARKER), package_features(stripped, MARKER))
    assert missing == ["图表 charts: 1 → 0", "图片 images: 1 → 0"]
    tail = b'<mergeCells count="1"><mergeCell ref="A1:B1"/></mergeCells><pane xSplit="1"/>'
    assert lost(sheet_features(tail, MARK), sheet_features(b"<pane/>", MARK)) == [
        "合并单元格 merged cells: 1 → 0"
    ]


def test_marks_comments_issues_and_computed_columns(tmp_path: Path) -> None:
    target = process(write_rich(tmp_path / "rich.xlsx"), tmp_path / "out.xlsx")
    book = load_workbook(target)
    archive = book["客户档案"]
    assert archive["K6"].comment.author == "xlcrm" and "S005" in archive["K6"].comment.text
    assert archive["J5"].comment.text == "用户自己的批注：联系人已换"  # the user's note stays
    header = [c.value for c in archive[3]]
    assert header[-2:] == ["系统等级", "等级依据"]
    assert archive.cell(5, len(header) - 1).value == "优选类客户"  # C002, declared VIP
    credit = book["信用评定"]
    assert [c.value for c in credit[1]][-3:] == ["系统信用等级", "最高可授信额度(元)", "最长回款期限(天)"]
    assert [c.value for c in credit[2]][-3:] == ["A", 600000, 30]  # C001: A 长期, min(shipment, collection)
    issues = book["问题清单"]
    rows = list(issues.iter_rows(min_row=2, values_only=True))
    # openpyxl saved the 总分 formulas without computed values: each is S010, not a blank
    uncomputed = [("S010", "客户评价", f"H{row}") for row in range(2, book["客户评价"].max_row + 1)]
    found = [(r[1], r[4], r[5]) for r in rows]
    assert sorted(found, key=str) == sorted([*PLANTED, *uncomputed, ("S009", "内部", None)], key=str)
    assert issues["A2"].hyperlink.location == "'客户档案'!A1"
    assert any(c.hyperlink and c.hyperlink.location == "'客户档案'!K6" for c in issues["A"])
    assert issues.auto_filter.ref.startswith("A1:")
    rules = [
        rule
        for block in archive.conditional_formatting
        for rule in block.rules
        if MARK in "".join(rule.formula)
    ]
    assert len(rules) == 2  # one fill per severity
    summary = [list(r) for r in book["汇总"].iter_rows(values_only=True)]
    n = None
    # 10 admitted customers, 3 declared VIP against 15% (1 allowed), 1 优选 against 30%
    assert ["VIP客户", 3, 0.3, 0.15, 1, 2, n, "C002（73分）、C003（87分）"] in summary
    assert ["优选类客户", 1, 0.1, 0.3, n, 0, n, n] in summary
    assert ["A 级", 2, 700000, 320000, 320000 / 700000, n, n, n] in summary


def test_several_findings_on_one_cell_share_one_note(tmp_path: Path) -> None:
    path = write_case(tmp_path / "c.xlsx", {"客户档案": [{"客户编码": "C 001"}]}, auto_evaluations=False)
    target = process(path, tmp_path / "out.xlsx")
    note = load_workbook(target)["客户档案"]["A2"].comment.text
    assert "C315" in note and "S005" in note and "T209" in note and note.count("[xlcrm]") == 3
    # the inventory tells xlcrm's one note holding three findings from a user's note
    assert package_features(target, MARKER)["批注 notes"] == 0


def test_reprocessing_replaces_instead_of_stacking(tmp_path: Path) -> None:
    first = process(write_rich(tmp_path / "rich.xlsx"), tmp_path / "first.xlsx")
    second = process(first, tmp_path / "second.xlsx")
    a, b = load_workbook(first), load_workbook(second)
    assert a.sheetnames == b.sheetnames and b.sheetnames.count("问题清单") == 1
    for ws in a.worksheets:
        other = b[ws.title]
        skip = {4} if ws.title == "汇总" else set()  # 汇总!B4 names the file processed
        assert [[c.value for c in row] for row in ws.iter_rows() if row[0].row not in skip] == [
            [c.value for c in row] for row in other.iter_rows() if row[0].row not in skip
        ], ws.title
        assert sum(1 for row in ws.iter_rows() for c in row if c.comment) == sum(
            1 for row in other.iter_rows() for c in row if c.comment
        )
        assert len(ws.conditional_formatting) == len(other.conditional_formatting), ws.title


def test_reprocessing_does_not_add_styles_again(tmp_path: Path) -> None:
    """Each run added xlcrm's fills, fonts and cell formats to styles.xml once more: a copy
    processed again and again grew by nine cell formats and two fills a run."""
    from lxml import etree

    def counts(path: Path) -> dict[str, int]:
        with zipfile.ZipFile(path) as archive:
            root = etree.fromstring(archive.read("xl/styles.xml"))
        return {etree.QName(child).localname: len(child) for child in root}

    first = process(write_rich(tmp_path / "rich.xlsx"), tmp_path / "first.xlsx")
    second = process(first, tmp_path / "second.xlsx")
    third = process(second, tmp_path / "third.xlsx")
    assert counts(first) == counts(second) == counts(third)
    assert load_workbook(third)["问题清单"]["A1"].font.b  # xlcrm's header format, reused
    with zipfile.ZipFile(third) as archive:  # each list's count says how many it holds (fills said one more)
        root = etree.fromstring(archive.read("xl/styles.xml"))
    assert [(c.tag, c.get("count")) for c in root if c.get("count") is not None] == [
        (c.tag, str(len(c))) for c in root if c.get("count") is not None
    ]


def test_reprocessing_keeps_the_notes_drawings_as_they_were(tmp_path: Path) -> None:
    """The notes' boxes of a copy processed again moved to new drawing id blocks every run
    (``<o:idmap data="2">`` became ``"2,12"``, then ``"2,12,22"``; ``_x0000_s2049`` became
    ``_x0000_s12289``): the copy of a copy was never the same copy. A drawing's blocks freed by
    xlcrm's dropped notes are used again."""

    def drawings(path: Path) -> dict[str, bytes]:
        with zipfile.ZipFile(path) as archive:
            return {n: archive.read(n) for n in archive.namelist() if n.endswith(".vml")}

    first = process(write_rich(tmp_path / "rich.xlsx"), tmp_path / "first.xlsx")
    second = process(first, tmp_path / "second.xlsx")
    third = process(second, tmp_path / "third.xlsx")
    assert drawings(first) and drawings(first) == drawings(second) == drawings(third)


def test_a_notes_drawing_without_an_idmap_keeps_its_ids_when_processed_again() -> None:
    """LibreOffice saves a notes drawing with no ``<o:idmap>``; processed, it gets xlcrm's boxes
    (``_x0000_s2049`` …) still without one, so processing that copy again found no block of its
    own to use again and moved the boxes to a new block every run."""
    from xlcrm.annotate.parts import vml_part, vml_shape

    head = (
        b'<xml xmlns:v="urn:schemas-microsoft-com:vml" xmlns:o="urn:schemas-microsoft-com:office:office" '
        b'xmlns:x="urn:schemas-microsoft-com:office:excel">'
    )
    before = head + vml_shape("B2", 2049) + vml_shape("C3", 2050) + b"</xml>"
    after = vml_part(before, {"B2", "C3"}, {"B2", "C3"}, first_block=7)
    assert after == before


def test_reprocessing_writes_the_workbook_part_as_it_was(tmp_path: Path) -> None:
    """The sheets 问题清单 and 汇总 are registered again on every run. Where workbook.xml binds no
    ``r`` prefix at its root (openpyxl declares it on each <sheet>), their ``r:id`` took lxml's
    own prefix (``ns0:id`` on one run, ``ns5:id`` on the next) unless something in the process
    had registered ``r`` (openpyxl does, so only xlcrm run alone showed it): the copy of a copy
    was not the same copy. Run as users run it, in a process of its own."""
    import subprocess
    import sys

    def process_alone(source: Path, target: Path) -> Path:
        args = ["process", str(source), "-o", str(target), "--as-of", AS_OF.isoformat()]
        done = subprocess.run(
            [sys.executable, "-c", "from xlcrm.cli import main; main()", *args],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode in (0, 1), done.stderr
        return target

    first = process_alone(write_sample(tmp_path / "sample.xlsx"), tmp_path / "first.xlsx")
    second = process_alone(first, tmp_path / "second.xlsx")
    parts = []
    for copy in (first, second):
        with zipfile.ZipFile(copy) as archive:
            parts.append(archive.read("xl/workbook.xml"))
    assert parts[0] == parts[1]
    assert b'r:id="rIdX1"' in parts[0]


def test_notes_never_reuse_a_shape_id_of_a_drawing_openpyxl_wrote(tmp_path: Path) -> None:
    """openpyxl writes a note's drawing with ``ns0:`` prefixes (``<ns0:idmap data="1">``,
    ``<ns0:shape id="_x0000_s1026">``): xlcrm looked for ``o:idmap`` only, took block 1 for its
    own notes and gave one of them the user's note's id ``_x0000_s1026``."""
    first = process(write_rich(tmp_path / "rich.xlsx"), tmp_path / "first.xlsx")
    with zipfile.ZipFile(first) as archive:
        for name in (n for n in archive.namelist() if n.endswith(".vml")):
            ids = re.findall(r'<(?:[\w.-]+:)?shape\b[^>]*?\sid="(_x0000_s\d+)"', archive.read(name).decode())
            assert ids and len(ids) == len(set(ids)), (name, ids)


def test_notes_beside_a_header_picture_get_their_own_drawing(tmp_path: Path) -> None:
    """A page header's picture (a logo, ``legacyDrawingHF``) is a VML drawing too: xlcrm wrote its
    notes' boxes into it, with no ``legacyDrawing`` for the notes. The picture's drawing stays
    as it was; the notes get their own, once, also when processed again."""
    from tests.workbooks import tiny_png

    path = tmp_path / "logo.xlsx"
    book = xlsxwriter.Workbook(str(path))
    for name, rows in values(write_sample(tmp_path / "src.xlsx")).items():
        sheet = book.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value != "":
                    sheet.write(r, c, value if not hasattr(value, "isoformat") else value.isoformat())
    logo = {"image_left": "logo.png", "image_data_left": io.BytesIO(tiny_png())}
    book.get_worksheet_by_name("客户档案").set_header("&L&G&C客户档案", logo)
    book.close()
    with zipfile.ZipFile(path) as archive:
        picture = archive.read("xl/drawings/vmlDrawing1.vml")
    first = process(path, tmp_path / "first.xlsx")
    second = process(first, tmp_path / "second.xlsx")
    for copy in (first, second):
        with zipfile.ZipFile(copy) as archive:
            assert archive.read("xl/drawings/vmlDrawing1.vml") == picture, copy
            sheet = archive.read("xl/worksheets/sheet1.xml").decode()
            rels = archive.read("xl/worksheets/_rels/sheet1.xml.rels").decode()
            legacy = re.search(r'<legacyDrawing [^>]*r:id="([^"]+)"', sheet)
            assert legacy is not None and 'r:id="rId1"' in sheet.split("<legacyDrawingHF")[1], copy
            target = re.search(rf'Id="{legacy[1]}"[^>]*Target="../([^"]+)"', rels)
            assert target is not None, rels
            notes = archive.read(f"xl/{target[1]}").decode().count('ObjectType="Note"')
        assert notes == sum(
            1 for row in load_workbook(copy)["客户档案"].iter_rows() for c in row if c.comment
        )
        assert notes > 5


def test_column_widths_written_with_an_end_tag_are_kept(tmp_path: Path) -> None:
    """``<col …></col>`` (an empty element with an end tag, as Go's encoding/xml writes them) is
    a column as much as ``<col …/>``: adding the computed columns' widths dropped every one of
    them — the user's widths, hidden and styled columns — without the inventory noticing."""
    source = write_rich(tmp_path / "rich.xlsx")
    path = tmp_path / "end_tags.xlsx"
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for info in old.infolist():
            data = old.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb"<col ([^>]*?)/>", rb"<col \1></col>", data)
            new.writestr(info, data)
    before = load_workbook(path)["客户档案"].column_dimensions
    widths = {letter: before[letter].width for letter in ("A", "B", "I", "Z")}
    assert widths["B"] == 30
    after = load_workbook(process(path, tmp_path / "out.xlsx"))["客户档案"].column_dimensions
    assert {letter: after[letter].width for letter in widths} == widths
    assert after["AB"].width == 40  # 等级依据


def _bordered_table(path: Path, *, rows: int) -> Path:
    """Two customers in 客户档案 and 信用评定, every cell of the first ``rows`` rows bordered out to
    four columns past the data, as staff border a table wider than it is (blank styled cells)."""
    from openpyxl.styles import Border, Side

    write_case(path, {"客户档案": [{}, {}], "信用评定": [{}, {}]})
    book = load_workbook(path)
    thin = Side(style="thin")
    for name in ("客户档案", "信用评定"):
        sheet = book[name]
        for line in sheet.iter_rows(min_row=1, max_row=rows, min_col=1, max_col=sheet.max_column + 4):
            for cell in line:
                cell.border = Border(left=thin, right=thin, top=thin, bottom=thin)
    book.save(path)
    return path


def test_reprocessing_keeps_the_users_borders_under_the_computed_columns(tmp_path: Path) -> None:
    """The first run keeps a bordered blank cell's style where a computed cell takes its place and
    leaves the blank cells it does not fill; processing the copy again dropped every cell of
    the earlier computed columns, the user's borders with them (data rows and the blank rows
    under the table alike)."""
    source = _bordered_table(tmp_path / "styled.xlsx", rows=6)
    first = process(source, tmp_path / "first.xlsx")
    second = process(first, tmp_path / "second.xlsx")

    def borders(path: Path) -> dict[str, list[list[str | None]]]:
        copy = load_workbook(path)
        found = {}
        for name, computed in (("客户档案", "系统等级"), ("信用评定", "系统信用等级")):
            sheet = copy[name]
            start = [c.value for c in sheet[1]].index(computed) + 1
            found[name] = [
                [sheet.cell(row, col).border.left.style for col in range(start, start + 3)]
                for row in range(2, 7)
            ]
        return found

    assert borders(first)["信用评定"][0] == ["thin"] * 3  # B, and two blank limits: the border kept
    assert borders(first)["客户档案"][3] == ["thin"] * 3  # a bordered blank row under the table
    assert borders(second) == borders(first)


def test_reprocessing_keeps_what_someone_typed_into_a_note(tmp_path: Path) -> None:
    """A reply typed under xlcrm's note stays (once) under the new one; 张三's note stays whole,
    even when it begins with xlcrm's marker."""
    from openpyxl.comments import Comment

    first = process(write_sample(tmp_path / "dept.xlsx"), tmp_path / "first.xlsx")
    book = load_workbook(first)
    sheet = book["客户档案"]
    ref = next(
        c.coordinate for row in sheet.iter_rows() for c in row if c.comment and c.comment.author == "xlcrm"
    )
    ours = sheet[ref].comment.text
    sheet[ref].comment = Comment(ours + "\n张三回复：已核实，客户已换号", "xlcrm")
    free = next(c for c in sheet[1] if not c.comment)  # a header cell: no finding there
    free.comment = Comment("[xlcrm] 模板备注：请勿删除", "张三")
    book.save(tmp_path / "replied.xlsx")
    second = process(tmp_path / "replied.xlsx", tmp_path / "second.xlsx")
    third = process(second, tmp_path / "third.xlsx")
    for copy in (second, third):
        sheet = load_workbook(copy)["客户档案"]
        assert sheet[ref].comment.text == ours + "\n张三回复：已核实，客户已换号", copy
        note = sheet[free.coordinate].comment
        assert (note.author, note.text) == ("张三", "[xlcrm] 模板备注：请勿删除"), copy


def test_in_place_keeps_a_backup_and_replaces(tmp_path: Path) -> None:
    path = write_sample(tmp_path / "dept.xlsx")
    original = path.read_bytes()
    code, out, _ = run("process", str(path), "--in-place")
    assert code == 1 and "dept.xlsx" in out
    backups = list(tmp_path.glob("dept.*.bak.xlsx"))
    assert len(backups) == 1 and backups[0].read_bytes() == original
    assert "问题清单" in load_workbook(path).sheetnames
    assert not list(tmp_path.glob(".dept*"))  # no temporary file left behind


def test_existing_output_needs_force(tmp_path: Path) -> None:
    path = write_sample(tmp_path / "dept.xlsx")
    assert run("process", str(path))[0] == 1
    default = tmp_path / "dept.checked.xlsx"
    assert default.is_file()
    code, _, err = run("process", str(path))
    assert code == 2 and "--force" in err
    assert run("process", str(path), "--force")[0] == 1


def test_the_copy_never_replaces_an_input_even_with_force(tmp_path: Path) -> None:
    """``-o`` naming the input (or another input) with ``--force``: refused, the input unchanged."""
    path = write_sample(tmp_path / "dept.xlsx")
    other = write_sample(tmp_path / "other.xlsx")
    before = path.read_bytes()
    for args in (["-o", str(path)], ["-o", str(tmp_path / "." / "dept.xlsx")]):
        code, _, err = run("process", str(path), *args, "--force")
        assert code == 2 and "--in-place" in err and len(err.strip().splitlines()) == 1
        assert path.read_bytes() == before
    blacklist = write_case(
        tmp_path / "黑名单.xlsx",
        {"黑名单": [{"客户名称": "某公司"}]},
        omit_sheets=("客户档案", "客户评价", "信用评定"),
    )
    kept = blacklist.read_bytes()
    code, _, err = run("process", str(path), "--blacklist", str(blacklist), "-o", str(blacklist), "--force")
    assert code == 2 and "--in-place" in err and blacklist.read_bytes() == kept
    code, _, err = run("process", str(path), str(other), "-o", str(tmp_path), "--force")
    assert code == 1, err  # into a folder: the copies get their own names
    assert path.read_bytes() == before
    assert not list(tmp_path.glob("*.bak*"))


def test_check_and_process_report_the_same_findings(tmp_path: Path) -> None:
    path = write_sample(tmp_path / "dept.xlsx")
    _, out, _ = run("check", str(path), "--format", "json")
    checked = [(d["code"], d["sheet"], d["cell"], d["message"]) for d in json.loads(out)["diagnostics"]]
    target = process(path, tmp_path / "out.xlsx")
    listed = [
        (r[1], r[4], r[5], r[7])
        for r in load_workbook(target)["问题清单"].iter_rows(min_row=2, values_only=True)
    ]
    assert listed == checked


@needs_soffice
def test_every_workbook_xlcrm_writes_opens_in_libreoffice(tmp_path: Path) -> None:
    """The demo's sample and annotated copy, every template, annotated copies of an openpyxl
    workbook and of an .xlsm: LibreOffice converts each to PDF without a word on stderr
    (soffice exits 0 even when it cannot load a file, so the PDFs themselves are checked)."""
    from xlcrm.demo import run_demo

    demo = tmp_path / "demo"
    run_demo(demo, "zh", Console(file=io.StringIO()))
    written = sorted(demo.glob("*.xlsx")) + sorted((demo / "templates").glob("*.xls[xm]"))
    written.append(process(write_rich(tmp_path / "rich.xlsx"), tmp_path / "rich.out.xlsx"))
    written.append(process(write_kitchen_sink(tmp_path / "k.xlsm"), tmp_path / "k.out.xlsm"))
    assert len(written) >= 11 and any(p.suffix == ".xlsm" for p in written)
    done = soffice("--convert-to", "pdf", "--outdir", str(tmp_path / "pdf"), *(str(p) for p in written))
    errors = [line for line in done.stderr.splitlines() if line.strip() and "javaldx" not in line]
    assert errors == []
    for path in written:
        assert (tmp_path / "pdf" / f"{path.stem}.pdf").stat().st_size > 5_000, path.name


def test_a_users_own_summary_sheet_is_kept(tmp_path: Path) -> None:
    path = write_sample(tmp_path / "dept.xlsx")
    book = load_workbook(path)
    mine = book.create_sheet("汇总")
    mine["A1"], mine["B1"] = "本部门自己的汇总", 12345
    book.save(path)
    first = process(path, tmp_path / "first.xlsx")
    second = process(first, tmp_path / "second.xlsx")  # re-processing replaces only xlcrm's sheets
    for target in (first, second):
        names = load_workbook(target).sheetnames
        assert names.count("汇总") == 1 and names.count("汇总(xlcrm)") == 1 and names.count("问题清单") == 1
        assert values(target)["汇总"] == [["本部门自己的汇总", 12345.0]]


@needs_soffice
def test_marks_are_replaced_after_another_program_resaved_the_copy(tmp_path: Path) -> None:
    first = process(write_sample(tmp_path / "dept.xlsx"), tmp_path / "first.xlsx")
    soffice("--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(tmp_path / "lo"), str(first))
    resaved = tmp_path / "lo" / "first.xlsx"
    archive = load_workbook(resaved)["客户档案"]
    assert {c.comment.author for row in archive.iter_rows() for c in row if c.comment} != {
        "xlcrm"
    }  # LibreOffice drops it
    second = load_workbook(process(resaved, tmp_path / "second.xlsx"))["客户档案"]
    notes = {c.coordinate: c.comment for row in second.iter_rows() for c in row if c.comment}
    assert len(notes) == 14 and all(
        n.author == "xlcrm" and n.text.count("[xlcrm]") >= 1 for n in notes.values()
    )
    assert sum(len(block.rules) for block in second.conditional_formatting) == 2


def test_the_summary_has_the_other_forms_statistics(tmp_path: Path) -> None:
    """汇总 of the demo sample: the figures worked out by hand from xlcrm/sample.py's rows."""
    target = process(write_sample(tmp_path / "dept.xlsx"), tmp_path / "out.xlsx")
    rows = [list(r) for r in load_workbook(target)["汇总"].iter_rows(values_only=True)]
    first = next(i for i, r in enumerate(rows) if str(r[0]).startswith("其他表单统计")) + 2
    other = [
        r
        for r in rows[first:]
        if str(r[0]).startswith(("投诉", "费用报销", "回访", "大客户优惠", "收益计划"))
    ]
    n = None
    assert other == [
        ["投诉", "合计", 5, n, n, n, n, "投诉记录的行数"],
        ["投诉（类型）", "产品质量", 2, 0.4, n, n, n, n],
        ["投诉（类型）", "交付物流", 1, 0.2, n, n, n, n],
        ["投诉（类型）", "服务态度", 1, 0.2, n, n, n, n],
        ["投诉（类型）", "价格结算", 1, 0.2, n, n, n, n],
        ["投诉（渠道）", "电话", 2, 0.4, n, n, n, n],
        ["投诉（渠道）", "邮件", 1, 0.2, n, n, n, n],
        ["投诉（渠道）", "在线", 1, 0.2, n, n, n, n],
        ["投诉（渠道）", "面谈", 1, 0.2, n, n, n, n],
        ["投诉（责任人）", "张伟", 3, 0.6, n, n, n, n],
        ["投诉（责任人）", "刘洋", 2, 0.4, n, n, n, n],
        # TS-001 (4 h 45 min) and TS-003 (1 h 20 min) in time; TS-002 (41 h 25 min) and the
        # unanswered TS-004 late; TS-005's "response" before the complaint is not counted
        ["投诉（响应）", "24小时内首次响应", 2, 0.5, n, n, n, "占已到响应期限的 4 件（已响应，或截至基准日日终已超过 24 小时）"],
        ["投诉（响应）", "首次响应时间中位数", 3, n, n, n, n, "中位数 4.8 小时；已响应 3 件"],
        ["投诉（满意度）", "满意率（满意＋基本满意）", 3, 1.0, n, n, n, "已调查 3 件：满意 2、基本满意 1（003 §5.3）"],
        ["费用报销", "合计(元)", 5, n, 4690.0, n, n, n],
        ["费用报销", "E601 不予报销(元)", 2, 0.4, 1550.0, n, n, "未备案客户的费用一律不予报销（000 篇三 §1.8.1）"],
        ["回访", "重点客户近90天已回访", 1, 0.5, n, n, n, "重点客户 2 家；2025-10-02 起"],
        ["大客户优惠", "超过标准（10%）", 1, 0.25, n, n, n, "共 4 项；其中总经理已审批 0 项"],
        ["收益计划", "合同额(万元)", 4, n, 550.0, n, n, "项目合计"],
        ["收益计划", "实际收入(万元)", 4, n, 231.0, n, n, "项目合计"],
        ["收益计划", "利润额(万元)", 4, n, 40.4, n, n, "项目合计"],
    ]  # fmt: skip


def test_a_submission_without_the_other_forms_has_no_such_statistics(tmp_path: Path) -> None:
    target = process(write_case(tmp_path / "c.xlsx", {"客户档案": [{}]}), tmp_path / "out.xlsx")
    items = {r[0] for r in load_workbook(target)["汇总"].iter_rows(values_only=True)}
    assert "VIP客户" in items and "基准日期" in items
    assert not [i for i in items if str(i).startswith("其他表单统计")]
    assert not [i for i in items if str(i).startswith(("投诉", "费用报销", "回访", "大客户优惠", "收益计划"))]


def test_a_workbook_with_prefixed_sheets_is_processed_as_the_plain_one(tmp_path: Path) -> None:
    """Worksheets spelled with an ``x:`` prefix (the OpenXML SDK's way): ``</x:c>`` is the
    sheet's own prefix, not another, so the sheets are patched, and to the same values."""
    import re

    from tests.ooxml import MAIN, rewrite

    def prefixed(name: str, data: bytes) -> tuple[str, bytes]:
        if not re.fullmatch(r"xl/worksheets/sheet\d+\.xml", name):
            return name, data
        data = data.replace(f'xmlns="{MAIN}"'.encode(), f'xmlns:x="{MAIN}"'.encode())
        return name, re.sub(rb"<(/?)([A-Za-z]+)(?=[\s>/])", rb"<\1x:\2", data)

    plain = write_sample(tmp_path / "plain.xlsx")
    source = rewrite(plain, tmp_path / "prefixed.xlsx", prefixed)
    assert b"</x:c>" in zipfile.ZipFile(source).read("xl/worksheets/sheet1.xml")
    ours, theirs = process(source, tmp_path / "a.xlsx"), process(plain, tmp_path / "b.xlsx")
    got, expected = values(ours), values(theirs)
    assert got.pop("汇总") != expected.pop("汇总")  # its file name
    assert got == expected


def test_computed_columns_take_the_place_of_styled_blank_cells(tmp_path: Path) -> None:
    """Staff border a table wider than its data: Excel saves the blank cells at the right as
    ``<c r="AA2" s="3"/>``. The computed columns go there; the copy must not hold two cells of
    one reference (Excel repairs such a file, dropping cells), and the user's border stays."""
    import re
    from collections import Counter

    source = _bordered_table(tmp_path / "styled.xlsx", rows=4)
    target = process(source, tmp_path / "out.xlsx")
    with zipfile.ZipFile(target) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/sheet"):
                refs = Counter(re.findall(r'<c r="([A-Z]+\d+)"', archive.read(name).decode()))
                assert [r for r, n in refs.items() if n > 1] == [], name
    copy = load_workbook(target)
    archive_sheet = copy["客户档案"]
    header = [c.value for c in archive_sheet[1]]
    width = header.index("系统等级")
    assert archive_sheet.cell(2, width + 1).value == "合格类客户"
    assert archive_sheet.cell(2, width + 1).border.left.style == "thin"  # the user's border kept
    credit = [c.value for c in copy["信用评定"][1]]
    start = credit.index("系统信用等级")
    assert credit[start : start + 3] == ["系统信用等级", "最高可授信额度(元)", "最长回款期限(天)"]
    assert credit[start + 3 :] == [None]  # the user's bordered blank beyond them stays
