"""What xlcrm does with a bad file: every line of the README's table, proven.

Each unusable input is one clear line naming the file (exit 2), never a traceback, and the
rest of a batch goes on. Hostile files (bombs, absurd sheets) are refused by the pre-flight
check before any parser runs, in a child process held to a memory limit, within seconds.
"""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import msoffcrypto.format.ooxml
import openpyxl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.workbooks import AS_OF, write_case
from xlcrm.cli import cli

DATA = Path(__file__).parent / "data"
# 2 GiB of address space for the child: a bomb that got through (gigabytes of grid) would die,
# while polars' and jemalloc's thread pools, which reserve address space as they start, do not
# (at 1 GiB they sometimes fail to start on a loaded machine, with or without a bomb).
MEMORY_LIMIT = 2 << 30
TIME_LIMIT = 30  # seconds; each refusal takes well under one


def run(*args: str, password: str | None = None) -> tuple[int, str, str]:
    env = {"XLCRM_PASSWORD": password} if password else {}
    result = CliRunner().invoke(cli, [*args, "--as-of", AS_OF.isoformat()], env=env)
    return result.exit_code, result.stdout, result.stderr


def run_limited(*args: str) -> tuple[int, str, str, float]:
    """xlcrm in a child process under MEMORY_LIMIT: (exit code, stdout, stderr, seconds)."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))

    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", "from xlcrm.cli import main; main()", *args, "--as-of", AS_OF.isoformat()],
        capture_output=True,
        text=True,
        timeout=TIME_LIMIT,
        preexec_fn=limit,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr, time.monotonic() - started


def good(tmp_path: Path, name: str = "good.xlsx") -> Path:
    return write_case(tmp_path / name, {"客户档案": [{"客户编码": "C001", "联系电话": "123"}]})


def refused(err: str, path: Path, words: str) -> None:
    assert words in err, err
    assert path.name in err
    assert "Traceback" not in err
    assert len([line for line in err.splitlines() if path.name in line]) == 1


def replace_part(source: Path, target: Path, name: str, data: bytes) -> Path:
    with zipfile.ZipFile(source) as a, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as b:
        for item in a.namelist():
            b.writestr(item, data if item == name else a.read(item))
    return target


# --- files that are not workbooks ------------------------------------------------------------


@pytest.mark.parametrize("name", ["legacy.xls", "legacy_renamed.xlsx"])
def test_a_legacy_xls_says_save_as_xlsx(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_bytes((DATA / "legacy.xls").read_bytes())  # BIFF8, written by LibreOffice
    code, _, err = run("check", str(path))
    assert code == 2
    refused(err, path, "旧版 Excel 97-2003")
    _, _, err = run("check", str(path), "--lang", "en")
    assert "old Excel 97-2003 workbook" in err


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("客户编码,客户名称\nC001,甲公司\n".encode("gb18030"), "文本或 CSV 文件"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "不是 Excel 工作簿"),
        (b"", "文件是空的"),
    ],
)
def test_renamed_and_empty_files(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "客户.xlsx"
    path.write_bytes(content)
    code, _, err = run("check", str(path))
    assert code == 2
    refused(err, path, words)


def test_a_truncated_or_corrupt_workbook_is_damaged(tmp_path: Path) -> None:
    whole = good(tmp_path).read_bytes()
    half = tmp_path / "half.xlsx"
    half.write_bytes(whole[: len(whole) // 2])  # a half-copied file
    code, _, err = run("check", str(half))
    assert code == 2
    refused(err, half, "已损坏或不完整")
    corrupt = tmp_path / "crc.xlsx"
    with zipfile.ZipFile(tmp_path / "good.xlsx") as source, zipfile.ZipFile(corrupt, "w") as out:
        for info in source.infolist():  # stored, so the sheet's bytes can be found and spoiled
            out.writestr(info.filename, source.read(info.filename), compress_type=zipfile.ZIP_STORED)
    raw = bytearray(corrupt.read_bytes())
    at = raw.find(b"<sheetData>")
    raw[at + 20] ^= 0x01  # one flipped bit inside a stored (uncompressed) sheet: the CRC fails
    corrupt.write_bytes(bytes(raw))
    code, _, err = run("check", str(corrupt))
    assert code == 2
    refused(err, corrupt, "已损坏或不完整")


def test_empty_workbook_and_missing_header(tmp_path: Path) -> None:
    empty = tmp_path / "empty.xlsx"
    openpyxl.Workbook().save(empty)
    code, _, err = run("check", str(empty))
    assert code == 2
    refused(err, empty, "没有任何数据")
    headless = tmp_path / "headless.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "客户档案"
    book.active.append(["C001", "甲公司"])
    book.save(headless)
    code, _, err = run("check", str(headless))
    assert code == 2
    refused(err, headless, "找不到表头行")


def test_an_excel_lock_file_is_skipped_with_a_note(tmp_path: Path) -> None:
    lock = tmp_path / "~$good.xlsx"
    lock.write_bytes(b"\x06owner  " + b"\x00" * 150)  # what Excel leaves while the file is open
    code, out, err = run("check", str(good(tmp_path)), str(lock))
    assert code == 1  # the real file's findings decide
    assert "已跳过" in out and "锁文件" in out and err == ""
    code, out, _ = run("check", str(lock), "--format", "json")
    assert code == 2 and "lock file" not in out and "锁文件" in json.loads(out)["summary"]["notes"][0]


# --- password-protected workbooks ------------------------------------------------------------


def encrypt(source: Path, target: Path, password: str) -> Path:
    with source.open("rb") as plain, target.open("wb") as sink:
        msoffcrypto.format.ooxml.OOXMLFile(plain).encrypt(password, sink)
    return target


def test_a_password_protected_workbook(tmp_path: Path) -> None:
    locked = encrypt(good(tmp_path), tmp_path / "locked.xlsx", "销售一部2025")
    code, _, err = run("check", str(locked))
    assert code == 2
    refused(err, locked, "设置了打开密码")
    code, _, err = run("check", str(locked), "--password", "wrong")
    assert code == 2
    refused(err, locked, "密码不正确")
    code, out, _ = run("check", str(locked), "--format", "json", password="销售一部2025")
    assert code == 1 and [d["code"] for d in json.loads(out)["diagnostics"]] == ["S005"]
    copy = tmp_path / "locked.checked.xlsx"
    code, _, err = run("process", str(locked), "-o", str(copy), password="销售一部2025")
    assert code == 1, err
    assert copy.read_bytes()[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # still protected
    plain = io.BytesIO()
    office = msoffcrypto.OfficeFile(copy.open("rb"))
    office.load_key(password="销售一部2025")
    office.decrypt(plain)
    assert "问题清单" in openpyxl.load_workbook(plain).sheetnames


def test_a_password_protected_company_blacklist_is_refused_with_or_without_the_password(
    tmp_path: Path,
) -> None:
    """``--blacklist`` of a protected workbook: its entries would reach unprotected outputs (the
    HTML, a plain submission's copy, the history), so it is refused in one line — also when
    --password is given (it used to ask for the password already given)."""
    submission = write_case(tmp_path / "部门.xlsx", {"客户档案": [{"客户名称": "甲公司"}]})
    plain = write_case(
        tmp_path / "plain.xlsx",
        {"黑名单": [{"客户名称": "甲公司"}]},
        omit_sheets=("客户档案", "客户评价", "信用评定"),
    )
    locked = encrypt(plain, tmp_path / "公司黑名单.xlsx", "pw")
    for password in (None, "pw"):
        for command in (["check"], ["process", "-o", str(tmp_path / "copy.xlsx")]):
            code, _, err = run(
                command[0], str(submission), *command[1:], "--blacklist", str(locked), password=password
            )
            assert code == 2, err
            refused(err, locked, "设置了打开密码")
            assert "未加密的黑名单文件" in err
            (tmp_path / "copy.xlsx").unlink(missing_ok=True)  # the submission's own copy goes on (exit 2)


# --- hostile files: refused before any parser, bounded memory, seconds --------------------------


def test_a_zip_bomb_is_refused_from_the_zip_directory(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.xlsx"
    sheet = b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
    with zipfile.ZipFile(good(tmp_path)) as source, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as out:
        for name in source.namelist():
            if name != "xl/worksheets/sheet1.xml":
                out.writestr(name, source.read(name))
        with out.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            part.write(sheet)
            for _ in range(16):  # 16 × 32 MB of spaces: 512 MB that deflate to ~0.5 MB (1000:1)
                part.write(b" " * (32 << 20))
    assert bomb.stat().st_size < 5 << 20
    code, _, err, seconds = run_limited("check", str(bomb))
    assert code == 2 and seconds < TIME_LIMIT
    refused(err, bomb, "压缩炸弹")


def billion_laughs() -> bytes:
    lines = ['<?xml version="1.0"?>', '<!DOCTYPE lolz [<!ENTITY lol "lol">']
    lines += [
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
    ]
    lines += ["]>", '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">&lol9;</sst>']
    return "\n".join(lines).encode()


@pytest.mark.parametrize(
    "part",
    [
        "xl/sharedStrings.xml",
        "xl/worksheets/sheet1.xml",
        "xl/workbook.xml",
        "_rels/.rels",
        "xl/_rels/workbook.xml.rels",
    ],
)
def test_an_xml_entity_bomb_is_refused(tmp_path: Path, part: str) -> None:
    source = good(tmp_path)
    bomb = replace_part(source, tmp_path / "laughs.xlsx", part, billion_laughs())
    if part == "xl/sharedStrings.xml" and part not in zipfile.ZipFile(source).namelist():
        with zipfile.ZipFile(bomb, "a") as out:
            out.writestr(part, billion_laughs())
    code, _, err, seconds = run_limited("check", str(bomb))
    assert code == 2 and seconds < TIME_LIMIT
    refused(err, bomb, "XML 实体声明")
    assert f"部件 {part} " in err  # the part that holds it (the relationships were "workbook.xml")


def test_defusedxml_is_what_parses_the_workbook_xml() -> None:
    from defusedxml import DTDForbidden

    from xlcrm import preflight

    assert preflight.SafeTree.__name__ == "defusedxml.ElementTree"
    with pytest.raises(DTDForbidden):
        preflight.SafeTree.fromstring(billion_laughs(), forbid_dtd=True)
    assert openpyxl.DEFUSEDXML  # openpyxl (templates, tests) uses it too once installed


def far_cell(tmp_path: Path, name: str, cell: str) -> Path:
    """A 5 KB workbook whose 客户档案 has one more cell far away (python-calamine would abort)."""
    source = good(tmp_path, f"{name}.src.xlsx")
    with zipfile.ZipFile(source) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml")
    xml = xml.replace(b"</sheetData>", f'<row r="1048576">{cell}</row></sheetData>'.encode())
    return replace_part(source, tmp_path / name, "xl/worksheets/sheet1.xml", xml)


def test_an_absurd_sheet_is_refused_and_the_batch_goes_on(tmp_path: Path) -> None:
    """A value at XFD1048576 (a styled empty cell there is harmless: tests/test_preflight.py)."""
    far = far_cell(tmp_path, "far.xlsx", '<c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c>')
    assert far.stat().st_size < 10_000
    other = good(tmp_path, "other.xlsx")
    code, out, err, seconds = run_limited("check", str(far), str(other))
    assert code == 2 and seconds < TIME_LIMIT
    refused(err, far, "使用范围异常")
    assert "S005" in out and "other.xlsx" in out  # the other file was checked


@pytest.mark.parametrize(
    ("limit", "words"),
    [("max_unzipped_mb = 0", "压缩炸弹"), ("max_parts = 3", "压缩炸弹"), ("max_file_mb = 0", "文件太大")],
)
def test_limits_live_in_the_policy_file(tmp_path: Path, limit: str, words: str) -> None:
    policy = tmp_path / "policy.toml"
    policy.write_text(f"[limits]\n{limit}\n", encoding="utf-8")
    path = good(tmp_path)
    code, _, err = run("check", str(path), "--policy", str(policy))
    assert code == 2
    refused(err, path, words)
    shown = CliRunner().invoke(cli, ["policy"])
    assert shown.exit_code == 0 and "limits.max_cells" in shown.stdout


# --- values stay what staff typed --------------------------------------------------------------


def test_codes_typed_as_text_stay_text(tmp_path: Path) -> None:
    path = write_case(
        tmp_path / "codes.xlsx",
        {"客户档案": [{"客户编码": "00123", "联系电话": "1"}, {"客户编码": "1E5", "联系电话": "1"}]},
    )
    _, out, _ = run("check", str(path), "--format", "json")
    codes = {d["customer_code"] for d in json.loads(out)["diagnostics"]}
    assert {"00123", "1E5"} <= codes and "123" not in codes and "100000" not in codes


# --- outputs: safe writes, never formulas -------------------------------------------------------


def test_an_existing_output_is_kept_and_the_batch_goes_on(tmp_path: Path) -> None:
    first, second = good(tmp_path, "a.xlsx"), good(tmp_path, "b.xlsx")
    taken = tmp_path / "a.checked.xlsx"
    taken.write_bytes(b"someone's file")
    code, out, err = run("process", str(first), str(second))
    assert code == 2
    assert taken.read_bytes() == b"someone's file"
    refused(err, taken, "已存在")
    assert (tmp_path / "b.checked.xlsx").exists() and "b.checked.xlsx" in out


def test_an_unwritable_target_is_a_clear_error_and_leaves_nothing(tmp_path: Path) -> None:
    path = good(tmp_path)
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where a folder should be")
    code, _, err = run("process", str(path), "-o", str(blocker / "out.xlsx"))
    assert code == 2 and "无法写入" in err and "Traceback" not in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.xlsx", "not_a_folder"]


def test_permission_denied_says_close_it_in_excel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    def locked(*_: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", locked)  # what Windows says about a file open in Excel
    monkeypatch.setattr(os, "link", locked)
    path = good(tmp_path)
    code, _, err = run("process", str(path), "-o", str(tmp_path / "out.xlsx"))
    assert code == 2 and "Excel 中打开" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.xlsx"]  # the temporary copy is gone


def test_two_runs_at_once_never_corrupt_the_output(tmp_path: Path) -> None:
    path = good(tmp_path)
    target = tmp_path / "out.xlsx"
    command = [sys.executable, "-c", "from xlcrm.cli import main; main()", "process", str(path)]
    command += ["-o", str(target), "--force", "--as-of", AS_OF.isoformat()]
    runs = [subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(3)]
    assert all(p.wait(timeout=TIME_LIMIT) == 1 for p in runs)
    assert "问题清单" in openpyxl.load_workbook(target).sheetnames  # a whole copy, from one of them
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.xlsx", "out.xlsx"]


FORMULAS = ['=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(1)", "\tTAB", "\rCR"]


def test_user_text_is_never_written_as_a_formula(tmp_path: Path) -> None:
    rows = [{"客户编码": f"C00{i + 1}", "客户名称": text, "联系人": text} for i, text in enumerate(FORMULAS)]
    rows.append({"客户编码": "=1+2"})  # a bad code is reported with the code itself
    path = write_case(tmp_path / "evil.xlsx", {"客户档案": rows})
    copy = tmp_path / "evil.checked.xlsx"
    code, _, err = run("process", str(path), "-o", str(copy))
    assert code == 1, err
    book = openpyxl.load_workbook(copy)
    written = [
        c for ws in book.worksheets for row in ws.iter_rows() for c in row if ws.title in ("问题清单", "汇总")
    ]
    assert not [c.coordinate for c in written if c.data_type == "f"]
    assert "=1+2" in [c.value for c in book["问题清单"]["D"]]  # the code, as text
    source = openpyxl.load_workbook(path)["客户档案"]
    assert [c.data_type for c in book["客户档案"]["B"]] == [c.data_type for c in source["B"]]  # untouched
    code, out, _ = run("check", str(path), "--format", "csv")
    assert "'=1+2" in out and ",=1+2" not in out


def test_formulas_with_computed_values_are_data(tmp_path: Path) -> None:
    """LibreOffice saved 总分 as =SUM(…) with its value: read as the value, never S010."""
    code, out, _ = run("check", str(DATA / "rich_libreoffice.xlsx"), "--format", "json")
    found = json.loads(out)["diagnostics"]
    assert code == 1 and found and not [d for d in found if d["code"] == "S010"]
    with zipfile.ZipFile(DATA / "rich_libreoffice.xlsx") as archive:
        sheets = b"".join(archive.read(n) for n in archive.namelist() if n.startswith("xl/worksheets/sheet"))
    assert sheets.count(b"<f") >= 8  # the formulas are there


_SPECIAL = st.sampled_from([None, "text", 12.5, {"error": "#N/A"}, {"error": "#DIV/0!"}, {"formula": "=1+1"}])


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cells=st.lists(st.lists(_SPECIAL, min_size=1, max_size=5), min_size=1, max_size=6))
def test_the_preflight_finds_exactly_the_error_and_uncomputed_cells(
    tmp_path: Path, cells: list[list[object]]
) -> None:
    from xlcrm.policy import default_policy
    from xlcrm.preflight import Limits, open_source
    from xlcrm.sheetscan import scan_sheet

    book = openpyxl.Workbook()
    sheet = book.active
    expected = {}
    for r, row in enumerate(cells, start=1):
        for c, value in enumerate(row, start=1):
            if isinstance(value, dict):
                sheet.cell(r, c).value = value.get("error") or value.get("formula")
                sheet.cell(r, c).data_type = "e" if "error" in value else "f"
                expected[(r, c)] = value.get("error") or value.get("formula")
            elif value is not None:
                sheet.cell(r, c).value = value
    path = tmp_path / "cells.xlsx"
    book.save(path)
    limits = Limits.of(default_policy())
    found = scan_sheet(open_source(path, "cells.xlsx", limits), sheet.title, limits).errors
    assert found == expected


def test_a_chunk_boundary_never_splits_a_cell_from_its_value(monkeypatch: pytest.MonkeyPatch) -> None:
    """Scanned in tiny chunks, LibreOffice's computed formulas still have their values."""
    from xlcrm import preflight
    from xlcrm.policy import default_policy
    from xlcrm.sheetscan import scan_sheet

    limits = preflight.Limits.of(default_policy())
    source = preflight.open_source(DATA / "rich_libreoffice.xlsx", "rich", limits)
    for size in range(16, 129, 8):  # a cut between </f> and <v> happens at some of these
        monkeypatch.setattr(preflight, "CHUNK", size)
        assert all(scan_sheet(source, sheet, limits).errors == {} for sheet in source.sheet_parts), size


def _gbk_named(folder: Path, name: str) -> Path:
    """A path whose name holds ``name``'s GBK bytes, as a zip made on a Chinese Windows leaves it."""
    raw = os.fsencode(folder) + b"/" + name.encode("gbk")
    try:
        with open(raw, "wb"):
            pass
    except OSError:  # a file system that takes only UTF-8 names (macOS)
        pytest.skip("this file system refuses names that are not UTF-8")
    return Path(os.fsdecode(raw))


def _strict_terminal(*args: str | Path) -> subprocess.CompletedProcess[bytes]:
    """xlcrm in a child whose stdout and stderr are strict UTF-8, as in a UTF-8 locale."""
    return subprocess.run(
        [sys.executable, "-m", "xlcrm", *map(str, args), "--as-of", AS_OF.isoformat()],
        capture_output=True,
        env={**os.environ, "PYTHONIOENCODING": "utf-8:strict", "XLCRM_LANG": "zh"},
        check=False,
    )


def test_a_file_whose_name_is_not_utf8_is_checked_and_processed(tmp_path: Path) -> None:
    """check reads it (python-calamine's from_path calls it "No such file") and names it as GBK
    text on a strict UTF-8 terminal; process writes its copy under the same bytes."""
    path = _gbk_named(tmp_path, "销售一部.xlsx")
    write_case(path, {"客户档案": [{"客户编码": "C001", "联系电话": "123"}]})
    done = _strict_terminal("check", path, "--format", "json", "--select", "S005")
    assert (done.returncode, done.stderr) == (1, b"")
    found = json.loads(done.stdout.decode("utf-8"))
    assert found["summary"]["files"] == [str(tmp_path / "销售一部.xlsx")]
    assert [(d["code"], d["cell"]) for d in found["diagnostics"]] == [("S005", "K2")]
    done = _strict_terminal("process", path, "-o", f"{tmp_path / 'out'}/")
    assert (done.returncode, done.stderr) == (1, b""), done.stderr.decode()
    assert str(tmp_path / "out" / "销售一部.checked.xlsx") in done.stdout.decode("utf-8")
    (copy,) = (tmp_path / "out").iterdir()
    assert os.fsencode(copy.name) == "销售一部.checked.xlsx".encode("gbk")
    assert "客户档案" in openpyxl.load_workbook(copy, read_only=True).sheetnames


def test_names_show_their_gbk_bytes_as_text() -> None:
    """Each part of a path with undecodable bytes reads as GB 18030; other parts stay as they are."""
    from xlcrm.names import shown

    gbk = os.fsdecode("销售一部".encode("gbk"))  # 一's two GBK bytes are valid UTF-8 (һ)
    assert shown(f"月报/{gbk}/台账.xlsx") == "月报/销售一部/台账.xlsx"
    assert shown(os.fsdecode(b"a\xffb.xlsx")) == "a\ufffdb.xlsx"  # not GB 18030 either
    assert shown("销售二部/台账.xlsx") == "销售二部/台账.xlsx"


def test_a_form_sheet_holding_only_a_note_is_that_form_not_submitted(tmp_path: Path) -> None:
    """黑名单 “本部门暂无黑名单客户”, 投诉记录 “本月无投诉”: the workbook is usable (it was exit 2)."""
    path = write_case(
        tmp_path / "n.xlsx",
        {"客户档案": [{"联系电话": "123"}]},
        omit_sheets=("黑名单",),
        extra_sheets={
            "黑名单": [["黑名单（2025年）"], ["本部门暂无黑名单客户"]],
            "投诉记录": [["本月无投诉"]],
        },
    )
    code, out, err = run("check", str(path), "--format", "json", "--as-of", "2025-12-31")
    assert code == 1 and err == ""
    found = [(d["code"], d["sheet"], d["message"]) for d in json.loads(out)["diagnostics"]]
    assert found[0][:2] == ("S005", "客户档案")
    assert found[1:] == [
        ("S009", "黑名单", "工作表只有说明文字，没有表头行，已忽略（按未提交该表单处理）：“黑名单”。")
    ]
