"""Issue 10, second round: valid files read right, damaged ones refused in one line, writes safe.

Each test reproduces one item of the issue (every one failed on the code before it) or one
entry point of the audit: a valid but unusual workbook (error cells spelled otherwise,
Strict OOXML, LibreOffice's empty string results, the 1904 date system, parts outside
``xl/``, no styles), a damaged one (every parser and writer entry point gives one line, never
``内部错误``), hostile text (control characters, ANSI escapes, 32,767-character cells), and
the writes (folders, links, signals, races, backups, names).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import python_calamine
from click.testing import CliRunner
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from tests.ooxml import moved, rewrite, to_strict, with_corrupt_image
from tests.workbooks import AS_OF, write_case
from xlcrm.cli import cli
from xlcrm.sample import write_sample

DATA = Path(__file__).parent / "data"
SHEET = "xl/worksheets/sheet1.xml"  # 客户档案 in write_case's workbooks


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, [*args, "--as-of", AS_OF.isoformat()])
    return result.exit_code, result.stdout, result.stderr


def found(path: Path, *extra: str) -> list[tuple[str, str | None, str | None]]:
    code, out, err = run("check", str(path), "--format", "json", *extra)
    assert code in (0, 1), err
    return [(d["code"], d["sheet"], d["cell"]) for d in json.loads(out)["diagnostics"]]


def case(tmp_path: Path, name: str = "case.xlsx", **cells: Any) -> Path:
    row = {"客户编码": "C001", "联系电话": "123", **cells}
    return write_case(tmp_path / name, {"客户档案": [row]})


def edit(source: Path, target: Path, part: str, change: Callable[[str], str]) -> Path:
    return rewrite(source, target, lambda n, d: (n, change(d.decode()).encode() if n == part else d))


def one_line(err: str, words: str) -> None:
    assert words in err, err
    assert "内部错误" not in err and "Traceback" not in err, err


# --- wrong answers on valid files ------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["t='e'", 't = "e"', "t=\t'e'"])
def test_error_cells_in_every_spelling_are_s010(tmp_path: Path, spelling: str) -> None:
    source = case(tmp_path, 备案日期={"error": "#N/A"})
    spelled = edit(source, tmp_path / "spelled.xlsx", SHEET, lambda x: x.replace('t="e"', spelling))
    assert ("S010", "客户档案", "V2") in found(spelled)
    assert ("S002", "客户档案", "V2") not in found(spelled)


def test_a_strict_workbooks_error_cell_is_s010(tmp_path: Path) -> None:
    strict = to_strict(case(tmp_path, 备案日期={"error": "#N/A"}), tmp_path / "strict.xlsx")
    assert ("S010", "客户档案", "V2") in found(strict)
    assert found(strict) == found(tmp_path / "case.xlsx")


def test_a_formula_computed_to_an_empty_string_is_blank_not_s010(tmp_path: Path) -> None:
    """LibreOffice writes IF(…,"x","") computed to "" as <c t="str"><f>…</f><v></v></c>."""
    source = case(tmp_path)
    computed = '<c r="V2" t="str"><f>IF(A2=&quot;&quot;,&quot;x&quot;,&quot;&quot;)</f><v></v></c>'
    uncomputed = '<c r="X2"><f>IF(A2=&quot;C001&quot;,1,2)</f></c>'

    def change(xml: str) -> str:
        xml = xml.replace('<c r="V2" s="1" t="n"><v>45721</v></c>', computed)
        return xml.replace('<c r="X2" s="1" t="n"><v>45839</v></c>', uncomputed)

    path = edit(source, tmp_path / "lo.xlsx", SHEET, change)
    assert computed in zipfile.ZipFile(path).read(SHEET).decode()
    diagnostics = found(path)
    assert ("S002", "客户档案", "V2") in diagnostics  # 备案日期 is required: blank, not an error value
    assert ("S010", "客户档案", "V2") not in diagnostics
    assert ("S010", "客户档案", "X2") in diagnostics
    _, out, _ = run("check", str(path))
    assert 'IF(A2="C001",1,2)' in out and "&quot;" not in out


def _as_1904(source: Path, target: Path) -> Path:
    """The workbook in the 1904 date system, every date written as a plain 1904 serial number."""
    book = openpyxl.load_workbook(source)
    book.epoch = CALENDAR_MAC_1904
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, dt.datetime):  # a date, or a date and a time of day
                    serial = (cell.value - dt.datetime(1904, 1, 1)).total_seconds() / 86400
                    cell.value = int(serial) if serial.is_integer() else serial
                    cell.number_format = "General"
    book.save(target)
    return target


def test_the_1904_date_system_reads_the_same_dates(tmp_path: Path) -> None:
    """issue 10: the demo in the 1904 system read every date 4 years early (27 false findings)."""
    sample = write_sample(tmp_path / "demo.xlsx")
    mac = _as_1904(sample, tmp_path / "demo1904.xlsx")
    assert b'date1904="1"' in zipfile.ZipFile(mac).read("xl/workbook.xml")
    expected = found(sample)
    assert found(mac) == expected and len(expected) > 10


def test_1904_date_cells_are_read_by_calamine_itself(tmp_path: Path) -> None:
    """Date-formatted cells of a 1904 workbook: python-calamine applies the system; not shifted twice."""
    sample = write_sample(tmp_path / "demo.xlsx")
    book = openpyxl.load_workbook(sample)
    book.epoch = CALENDAR_MAC_1904  # openpyxl writes the dates as 1904 serials with a date format
    mac = tmp_path / "cells1904.xlsx"
    book.save(mac)
    assert found(mac) == found(sample)


def test_a_workbook_whose_parts_live_outside_xl(tmp_path: Path) -> None:
    source = case(tmp_path, 备案日期={"error": "#N/A"})
    book = moved(source, tmp_path / "book.xlsx")
    assert not [n for n in zipfile.ZipFile(book).namelist() if n.startswith("xl/")]
    assert found(book) == found(source)
    copy = tmp_path / "book.checked.xlsx"
    code, _, err = run("process", str(book), "-o", str(copy))
    assert code == 1, err
    names = zipfile.ZipFile(copy).namelist()
    assert not [n for n in names if n.startswith("xl/")], names  # new parts beside the old ones
    assert found(copy)[: len(found(source))] == found(source)  # process reads its own output
    again = tmp_path / "again.xlsx"
    code, _, err = run("process", str(copy), "-o", str(again))
    assert code == 1, err
    # openpyxl reads styles from xl/ only, so python-calamine (and LibreOffice, in
    # test_process.py's style) read these copies.
    assert python_calamine.CalamineWorkbook.from_path(str(again)).sheet_names.count("问题清单") == 1


def test_a_strict_workbook_is_processed(tmp_path: Path) -> None:
    strict = to_strict(case(tmp_path), tmp_path / "strict.xlsx")
    copy = tmp_path / "strict.checked.xlsx"
    code, _, err = run("process", str(strict), "-o", str(copy))
    assert code == 1, err
    assert b"purl.oclc.org/ooxml/spreadsheetml/main" in zipfile.ZipFile(copy).read("xl/workbook.xml")
    assert ("S005", "客户档案", "K2") in found(copy)
    names = python_calamine.CalamineWorkbook.from_path(str(copy)).sheet_names
    assert names[-2:] == ["问题清单", "汇总"]


def test_a_workbook_without_styles_is_processed(tmp_path: Path) -> None:
    def change(name: str, data: bytes) -> tuple[str, bytes] | None:
        if name == "xl/styles.xml":
            return None
        if name == "xl/_rels/workbook.xml.rels":
            text = data.decode()
            start = text.index(
                '<Relationship Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles"'
            )
            return name, (text[:start] + text[text.index("/>", start) + 2 :]).encode()
        return name, data

    bare = rewrite(case(tmp_path), tmp_path / "bare.xlsx", change)
    assert "xl/styles.xml" not in zipfile.ZipFile(bare).namelist()
    copy = tmp_path / "bare.checked.xlsx"
    code, _, err = run("process", str(bare), "-o", str(copy))
    assert code == 1, err
    assert "问题清单" in python_calamine.CalamineWorkbook.from_path(str(copy)).sheet_names
    assert b"<dxfs" in zipfile.ZipFile(copy).read("xl/styles1.xml")  # the fills xlcrm needs
    assert ("S005", "客户档案", "K2") in found(copy)


def test_a_value_in_the_last_column_leaves_no_room_for_computed_columns(tmp_path: Path) -> None:
    source = case(tmp_path)
    far = edit(
        source,
        tmp_path / "xfd.xlsx",
        SHEET,
        lambda x: x.replace(
            "</row></sheetData>", '<c r="XFD2" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'
        ).replace('<dimension ref="A1:Z2"/>', '<dimension ref="A1:XFD2"/>'),
    )
    assert found(far)  # check is unaffected
    code, _, err = run("process", str(far), "-o", str(tmp_path / "out.xlsx"))
    assert code == 2
    one_line(err, "放不下")
    assert not (tmp_path / "out.xlsx").exists()


def test_control_characters_and_nul_in_a_flagged_cell(tmp_path: Path) -> None:
    """calamine decodes _x001B_ and _x0000_: the note, 问题清单 and the terminal get them safely."""
    source = case(tmp_path)
    hostile = edit(
        source,
        tmp_path / "ctl.xlsx",
        SHEET,
        lambda x: x.replace("<t>123</t>", "<t>12_x001B_[2K_x001B_[1A_x0000_3</t>"),
    )
    code, out, err = run("check", str(hostile))
    assert code == 1 and "\x1b" not in out + err and "\x00" not in out
    assert "\\x1b[2K" in out  # shown, escaped
    copy = tmp_path / "ctl.checked.xlsx"
    code, _, err = run("process", str(hostile), "-o", str(copy))
    assert code == 1, err
    book = openpyxl.load_workbook(copy)
    note = book["客户档案"]["K2"].comment.text
    assert "12[2K[1A3" in note and "\x00" not in note
    assert any("12[2K[1A3" in str(c.value) for c in book["问题清单"]["H"])


def test_a_32767_character_cell_is_quoted_shortened(tmp_path: Path) -> None:
    long = "9" * 32_767
    source = case(tmp_path, 联系电话=long)
    copy = tmp_path / "long.checked.xlsx"
    code, out, err = run("process", str(source), "-o", str(copy))
    assert code == 1, err
    assert long not in out and "9" * 199 + "…" in out
    book = openpyxl.load_workbook(copy)
    note = book["客户档案"]["K2"].comment.text
    issue = next(str(c.value) for c in book["问题清单"]["H"] if "联系电话" in str(c.value))
    assert len(note) < 1000 and len(issue) < 1000 and "…" in issue
    _, out, _ = run("check", str(source), "--format", "json")
    values = json.loads(out)["diagnostics"][0]["values"]
    assert values["value"] == long  # the data itself is kept whole in JSON


def test_ansi_escapes_and_line_breaks_never_reach_the_terminal(tmp_path: Path) -> None:
    named = tmp_path / "台账\n\x1b[2K假的一行.xlsx"
    named.write_bytes(b"")
    code, _, err = run("check", str(named), str(case(tmp_path)))
    assert code == 2
    assert "\x1b" not in err and len([line for line in err.splitlines() if "台账" in line]) == 1
    assert "台账\\n\\x1b[2K假的一行.xlsx" in err


# --- damaged inputs: one line at every parser and writer entry point ---------------------------------


def test_a_damaged_ole_file_is_one_line(tmp_path: Path) -> None:
    data = bytearray((DATA / "legacy.xls").read_bytes())
    data[30] = 0  # sector shift 0: olefile raised "bytes length not a multiple of item size"
    damaged = tmp_path / "damaged.xls"
    damaged.write_bytes(bytes(data))
    code, _, err = run("check", str(damaged))
    assert code == 2
    one_line(err, "已损坏")


def test_a_damaged_encrypted_package_is_damaged_not_a_wrong_password(tmp_path: Path) -> None:
    """The right password, a package damaged inside (a CRC failure): 已损坏, never 密码不正确."""
    import msoffcrypto.format.ooxml

    damaged = tmp_path / "damaged.xlsx"
    with zipfile.ZipFile(case(tmp_path)) as old, zipfile.ZipFile(damaged, "w") as new:
        for info in old.infolist():  # stored, so one flipped byte of a sheet fails its CRC
            new.writestr(info.filename, old.read(info.filename), compress_type=zipfile.ZIP_STORED)
    raw = bytearray(damaged.read_bytes())
    raw[raw.find(b"<sheetData>") + 30] ^= 0x01
    damaged.write_bytes(bytes(raw))
    locked = tmp_path / "locked.xlsx"
    with damaged.open("rb") as plain, locked.open("wb") as sink:
        msoffcrypto.format.ooxml.OOXMLFile(plain).encrypt("pw", sink)
    code, _, err = run("check", str(locked), "--password", "pw")
    assert code == 2
    one_line(err, "已损坏")
    assert "密码不正确" not in err  # the password was right: the file is what is wrong


@pytest.mark.parametrize(
    ("part", "change"),
    [
        ("xl/media/image1.png", None),  # a CRC failure in a part only the writer reads
        (SHEET, lambda x: x.replace("</worksheet>", "<pageSetup></worksheet>")),  # a broken tail
        ("xl/_rels/workbook.xml.rels", lambda x: x.replace("</Relationships>", "<Relationships>")),
    ],
    ids=["crc", "sheet-tail", "rels"],
)
def test_process_on_a_damaged_part_is_one_line(tmp_path: Path, part: str, change: Any) -> None:
    source = case(tmp_path)
    if change is None:
        damaged = with_corrupt_image(source, tmp_path / "damaged.xlsx")
        assert found(damaged)  # the check never reads it
    else:
        damaged = edit(source, tmp_path / "damaged.xlsx", part, change)
    code, _, err = run("process", str(damaged), "-o", str(tmp_path / "out.xlsx"))
    assert code == 2, err
    one_line(err, "damaged.xlsx")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.xlsx", "damaged.xlsx"]


def test_broken_notes_of_the_user_are_one_line(tmp_path: Path) -> None:
    book = openpyxl.load_workbook(case(tmp_path))
    book["客户档案"]["K2"].comment = openpyxl.comments.Comment("我的批注", "王磊")
    with_note = tmp_path / "note.xlsx"
    book.save(with_note)
    comments = next(n for n in zipfile.ZipFile(with_note).namelist() if "comments" in n)
    damaged = edit(with_note, tmp_path / "damaged.xlsx", comments, lambda x: x.replace("</comments>", ""))
    code, _, err = run("process", str(damaged), "-o", str(tmp_path / "out.xlsx"))
    assert code == 2
    one_line(err, "无法写出带标注的副本")


def test_process_refuses_a_sheet_spelled_unusually(tmp_path: Path) -> None:
    """check reads any spelling; process rewrites rows by their bytes, so only the usual one."""
    source = case(tmp_path)
    odd = edit(
        source,
        tmp_path / "odd.xlsx",
        SHEET,
        lambda x: x.replace('<c r="K2" t="inlineStr">', "<c r='K2' t='inlineStr'>"),
    )
    assert ("S005", "客户档案", "K2") in found(odd)
    code, _, err = run("process", str(odd), "-o", str(tmp_path / "out.xlsx"))
    assert code == 2
    one_line(err, "写法少见")
    assert not (tmp_path / "out.xlsx").exists()


@pytest.mark.parametrize("command", ["templates", "demo"])
def test_templates_and_demo_into_a_file_are_one_line(tmp_path: Path, command: str) -> None:
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    result = CliRunner().invoke(cli, [command, "--out", str(blocker / "sub")])
    assert result.exit_code == 2
    one_line(result.stderr, "无法写入")


# --- writes ---------------------------------------------------------------------------------------------


def test_o_with_a_trailing_separator_is_a_folder(tmp_path: Path) -> None:
    source = case(tmp_path)
    folder = tmp_path / "已检查"
    code, _, err = run("process", str(source), "-o", f"{folder}{os.sep}")
    assert code == 1, err
    assert (folder / "case.checked.xlsx").is_file() and folder.is_dir()


def test_in_place_on_a_link_writes_through_and_backs_up_the_target(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    real = case(tmp_path / "real")
    link = tmp_path / "link.xlsx"
    link.symlink_to(real)
    before = real.read_bytes()
    code, _, err = run("process", str(link), "--in-place")
    assert code == 1, err
    assert link.is_symlink() and link.resolve() == real.resolve()
    assert "问题清单" in openpyxl.load_workbook(real).sheetnames
    backups = list(real.parent.glob("case.*.bak.xlsx"))
    assert len(backups) == 1 and backups[0].read_bytes() == before


def test_backups_are_never_overwritten(tmp_path: Path) -> None:
    source = case(tmp_path)
    for _ in range(3):  # within one second: the same time stamp
        code, _, err = run("process", str(source), "--in-place")
        assert code == 1, err
    backups = sorted(p.name for p in tmp_path.glob("case.*bak.xlsx"))
    assert len(backups) == 3, backups


def test_refusing_an_existing_output_is_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two runs without --force that both found the name free: exactly one copy is placed.

    Both runs are held at the same point (after the existence check, while saving) so the
    race happens every time; the second must be refused, never replace the first's copy.
    """
    from xlcrm.annotate import package, writer
    from xlcrm.engine import check

    source = case(tmp_path)
    target = tmp_path / "out.xlsx"
    result = check([source])
    both_saving = threading.Barrier(2, timeout=60)
    save = package.Package.save

    def held(self: package.Package, out: Any) -> None:
        both_saving.wait()
        save(self, out)

    monkeypatch.setattr(package.Package, "save", held)
    done: list[writer.Written] = []
    runs = [
        threading.Thread(
            target=lambda: done.append(writer.annotate_all(result, target, in_place=False, force=False))
        )
        for _ in range(2)
    ]
    for thread in runs:
        thread.start()
    for thread in runs:
        thread.join(120)
    assert sorted(len(w.copies) for w in done) == [0, 1]
    refused = next(w.refused for w in done if not w.copies)
    assert [p.reason for p in refused] == ["exists"]
    assert "问题清单" in openpyxl.load_workbook(target).sheetnames
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.xlsx", "out.xlsx"]


def test_same_named_inputs_to_one_folder_never_collide(tmp_path: Path) -> None:
    (tmp_path / "一部").mkdir()
    (tmp_path / "二部").mkdir()
    first = case(tmp_path / "一部", "台账.xlsx")
    second = case(tmp_path / "二部", "台账.xlsx", 联系电话="456")
    out = tmp_path / "out"
    code, stdout, err = run("process", str(first), str(second), "-o", str(out), "--force")
    assert code == 1, err
    copies = sorted(p.name for p in out.iterdir())
    assert copies == ["一部_台账.checked.xlsx", "二部_台账.checked.xlsx"]
    assert "（输入" in stdout and stdout.count("已写出") == 2
    notes = {name: openpyxl.load_workbook(out / name)["客户档案"]["K2"].comment.text for name in copies}
    assert "123" in notes["一部_台账.checked.xlsx"] and "456" in notes["二部_台账.checked.xlsx"]


def test_a_long_chinese_file_name_works(tmp_path: Path) -> None:
    name = "销售一部客户管理台账" * 8 + ".xlsx"  # 80 characters, 245 bytes
    source = case(tmp_path, name)
    code, _, err = run("process", str(source))
    assert code == 1, err
    copies = [p for p in tmp_path.iterdir() if p != source]
    assert len(copies) == 1 and len(copies[0].name.encode()) <= 255
    code, _, err = run("process", str(source), "--in-place")
    assert code == 1, err


def test_a_macro_workbook_keeps_its_type(tmp_path: Path) -> None:
    source = case(tmp_path)
    macro = tmp_path / "a.xlsm"
    macro.write_bytes(source.read_bytes())
    code, _, err = run("process", str(macro), "-o", str(tmp_path / "b.xlsx"))
    assert code == 2
    one_line(err, ".xlsm")
    assert not (tmp_path / "b.xlsx").exists()


def test_a_sheet_name_with_an_apostrophe_links_right(tmp_path: Path) -> None:
    book = openpyxl.load_workbook(case(tmp_path))
    book["客户档案"].title = "销售'一部客户档案"
    named = tmp_path / "quote.xlsx"
    book.save(named)
    copy = tmp_path / "quote.checked.xlsx"
    code, _, err = run("process", str(named), "-o", str(copy))
    assert code == 1, err
    links = [c.hyperlink.location for c in openpyxl.load_workbook(copy)["问题清单"]["A"] if c.hyperlink]
    assert "'销售''一部客户档案'!K2" in links


def test_processing_an_annotated_copy_writes_it_again(tmp_path: Path) -> None:
    """issue 9: X.checked.xlsx gives X.checked.xlsx (refused without --force), never X.checked.checked."""
    source = case(tmp_path)
    code, _, err = run("process", str(source))
    assert code == 1, err
    copy = tmp_path / "case.checked.xlsx"
    before = copy.read_bytes()
    code, _, err = run("process", str(copy))
    assert code == 2 and "已存在" in err and copy.read_bytes() == before
    code, _, err = run("process", str(copy), "--force")
    assert code == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["case.checked.xlsx", "case.xlsx"]
    assert openpyxl.load_workbook(copy).sheetnames.count("问题清单") == 1


def test_templates_refuse_existing_files_without_force(tmp_path: Path) -> None:
    """issue 9: `xlcrm templates --out DIR` overwrote a filled-in template silently."""
    result = CliRunner().invoke(cli, ["templates", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.stderr
    filled = tmp_path / "客户档案.xlsx"
    book = openpyxl.load_workbook(filled)
    book["客户档案"]["A2"] = "C001"
    book.save(filled)
    before = filled.read_bytes()
    result = CliRunner().invoke(cli, ["templates", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "已存在" in result.stderr and "--force" in result.stderr
    assert filled.read_bytes() == before
    result = CliRunner().invoke(cli, ["templates", "--out", str(tmp_path), "--force"])
    assert result.exit_code == 0 and filled.read_bytes() != before


@pytest.mark.parametrize(("sent", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_while_writing_leaves_nothing_behind(tmp_path: Path, sent: int, code: int) -> None:
    rows = [{"客户编码": f"C{i:05d}", "联系电话": "123"} for i in range(20_000)]
    source = write_case(tmp_path / "big.xlsx", {"客户档案": rows})
    target = tmp_path / "out" / "big.checked.xlsx"
    command = [sys.executable, "-c", "from xlcrm.cli import main; main()", "process", str(source)]
    child = subprocess.Popen(
        [*command, "-o", str(target), "--as-of", AS_OF.isoformat()],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and child.poll() is None:
        if target.parent.exists() and any(p.name.startswith(".xlcrm-") for p in target.parent.iterdir()):
            break  # the temporary copy is being written
        time.sleep(0.005)
    assert child.poll() is None, "finished before it could be interrupted"
    child.send_signal(sent)
    assert child.wait(timeout=120) == code
    err = child.stderr.read() if child.stderr else ""
    one_line(err, "已中断")
    assert list(target.parent.iterdir()) == []  # no temporary file, no half-written copy


def test_interrupting_a_check_exits_130(tmp_path: Path) -> None:
    rows = [{"客户编码": f"C{i:05d}", "联系电话": "123"} for i in range(20_000)]
    source = write_case(tmp_path / "big.xlsx", {"客户档案": rows})
    scratch = tmp_path / "tmp"  # where the check spools the sheet while it reads (xlcrm/repack.py)
    scratch.mkdir()
    child = subprocess.Popen(
        [sys.executable, "-c", "from xlcrm.cli import main; main()", "check", str(source)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(scratch)},
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and child.poll() is None and not any(scratch.iterdir()):
        time.sleep(0.002)  # until the check is reading (a fixed delay lost the race on a fast day)
    assert child.poll() is None, "finished before it could be interrupted"
    child.send_signal(signal.SIGINT)
    assert child.wait(timeout=120) == 130
    one_line(child.stderr.read() if child.stderr else "", "已中断")
    assert list(scratch.iterdir()) == []  # the spooled copy is gone too


# A command that, as Ctrl-C unwinds it, fails with another error: what a signal landing inside a
# lock's acquire or release does (threading raises "release unlocked lock" in place of it).
_UNWINDS_BADLY = """
import os, signal, click
from xlcrm import cli as entry

@click.command()
def unwinds_badly():
    try:
        os.kill(os.getpid(), signal.SIG{name})
        signal.pause()
    except BaseException:
        raise RuntimeError("release unlocked lock")

entry.cli = unwinds_badly
entry.main()
"""


@pytest.mark.parametrize(("name", "code"), [("INT", 130), ("TERM", 143)])
def test_an_error_while_a_signal_unwinds_the_run_is_still_the_signal(name: str, code: int) -> None:
    child = subprocess.run(
        [sys.executable, "-c", _UNWINDS_BADLY.format(name=name)], capture_output=True, text=True, timeout=60
    )
    assert child.returncode == code, child.stderr
    one_line(child.stderr, "已中断")
    assert "内部错误" not in child.stderr and "RuntimeError" not in child.stderr


def test_held_signals_reach_their_handler_after_the_block() -> None:
    """SIGTERM raised inside interrupts.held() waits for the block's end, then reaches the handler set."""
    from xlcrm import interrupts

    got: list[int] = []
    previous = signal.signal(signal.SIGTERM, lambda number, _frame: got.append(number))
    try:
        with interrupts.held():
            signal.raise_signal(signal.SIGTERM)
            assert got == []  # held back
        assert got == [signal.SIGTERM]
        with pytest.raises(OSError), interrupts.held():  # the block fails: the signal still arrives
            signal.raise_signal(signal.SIGTERM)
            raise OSError("disk full")
        assert got == [signal.SIGTERM, signal.SIGTERM]
        before = signal.getsignal(signal.SIGINT)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        try:  # a handler that raises: Ctrl-C wins over the block's error, which it carries
            with pytest.raises(KeyboardInterrupt) as caught, interrupts.held():
                signal.raise_signal(signal.SIGINT)
                raise OSError("disk full")
            assert isinstance(caught.value.__context__, OSError)
        finally:
            signal.signal(signal.SIGINT, before)
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_ctrl_c_just_as_the_read_folder_is_made_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SIGINT the moment the spool folder exists, before the block that removes it holds it: it goes too.

    CI once left ``xlcrm-read-*`` behind after a Ctrl-C (test_interrupting_a_check_exits_130).
    """
    import tempfile
    import types

    from xlcrm import repack

    made: list[Path] = []

    class Interrupted(tempfile.TemporaryDirectory):  # type: ignore[type-arg]
        def __init__(self, **options: Any) -> None:
            super().__init__(dir=tmp_path, **options)
            made.append(Path(self.name))
            self._finalizer.detach()  # xlcrm leaves by os._exit: no finalizer would remove it
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(repack.tempfile, "TemporaryDirectory", Interrupted)
    source = types.SimpleNamespace(password=None, data=None, spools={}, repacked=None)
    # Python's own Ctrl-C handler, whatever the test runner's process had (an xdist worker may ignore SIGINT)
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt), repack.spooling(source, ["客户档案"]):  # type: ignore[arg-type]
            pytest.fail("the block must not start")
    finally:
        signal.signal(signal.SIGINT, previous)
    assert len(made) == 1 and not made[0].exists()
    assert list(tmp_path.iterdir()) == []
