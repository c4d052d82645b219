"""POLICY §7 in consolidation: encryption, one workbook per department, no unprotected copy of protected rows.

December of tests/months.py with 销售二部's workbook saved with an open password: the run that
would write its rows into an unprotected file is refused (one line, nothing written); with
--password the company workbook needs the password; --split-by-department gives each
department a workbook that opens only with its own password and holds only its rows.
"""

from __future__ import annotations

import io
import json
import os
import threading
import zipfile
from pathlib import Path

import duckdb
import msoffcrypto
import msoffcrypto.format.ooxml
import pytest
from click.testing import CliRunner

from tests.months import write_month
from tests.workbooks import AS_OF
from xlcrm.batch.outputs import read_passwords
from xlcrm.cli import cli
from xlcrm.errors import InputError

PASSWORD = "二部-2025"
NAMES = {  # each department's customers, by the names only they have
    "销售一部": ("北京康达医疗器械有限公司", "天津华康医疗器械有限公司", "保定安康医疗用品有限公司"),
    "销售二部": ("首都骨科医院", "津南区康复中心"),
    "销售四部": ("沧州惠民医疗器械有限公司",),
}


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        cli, ["consolidate", *args, "--month", "2025-12", "--as-of", AS_OF.isoformat(), "--jobs", "0", "-q"]
    )
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = write_month(tmp_path_factory.mktemp("protected"), "2025-12")
    plain = (folder / "销售二部.xlsx").read_bytes()
    with (folder / "销售二部.xlsx").open("wb") as sink:
        msoffcrypto.format.ooxml.OOXMLFile(io.BytesIO(plain)).encrypt(PASSWORD, sink)
    return folder


def decrypted(path: Path, password: str) -> zipfile.ZipFile:
    """The package of an encrypted workbook (ValueError-like errors for a wrong password)."""
    with path.open("rb") as handle:
        office = msoffcrypto.OfficeFile(handle)
        assert office.is_encrypted()
        office.load_key(password=password)
        plain = io.BytesIO()
        office.decrypt(plain)
    return zipfile.ZipFile(plain)


def text_of(package: zipfile.ZipFile) -> str:
    return "".join(package.read(n).decode("utf-8", "replace") for n in package.namelist())


def test_a_protected_submission_never_yields_an_unprotected_file(month: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    # --password opens 销售二部's workbook and encrypts the company workbook; the HTML and the
    # CSV cannot be encrypted, so asking for them is refused
    for extra in (["--html", str(out / "报告.html")], ["--csv", str(out / "客户.csv")]):
        code, _, stderr = run(str(month), "-o", str(out / "公司汇总.xlsx"), "--password", PASSWORD, *extra)
        lines = stderr.strip().splitlines()
        assert code == 2 and len(lines) == 1, stderr
        assert (
            lines[0].startswith("已拒绝：")
            and "销售二部.xlsx" in lines[0]
            and "--allow-unprotected" in lines[0]
        )
        assert extra[1] in lines[0]
        assert not out.exists()  # nothing written: no workbook, no report, no history
    code, _, stderr = run(str(month), "-o", str(out / "公司汇总.xlsx"), "--password", PASSWORD, "--html", str(out / "报告.html"), "--allow-unprotected")  # fmt: skip
    assert code == 1, stderr
    assert "津南区康复中心" in (out / "报告.html").read_text(encoding="utf-8")  # allowed: its rows are in it


def test_the_company_workbook_needs_the_password_and_the_history_withholds_the_rows(
    month: Path, tmp_path: Path
) -> None:
    target = tmp_path / "公司汇总.xlsx"
    code, stdout, stderr = run(str(month), "-o", str(target), "--password", PASSWORD)
    assert code == 1, stderr
    assert "已加密" in stdout and "未存入历史库" in stdout
    assert not zipfile.is_zipfile(target)
    with pytest.raises(Exception):  # noqa: B017 - msoffcrypto raises several types for a wrong password
        decrypted(target, "wrong")
    package = decrypted(target, PASSWORD)
    assert "xl/worksheets/sheet1.xml" in package.namelist() and "首都骨科医院" in text_of(package)
    con = duckdb.connect(str(tmp_path / "xlcrm-history.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT department FROM withheld").fetchall() == [("销售二部",)]
        stored = {r[0] for r in con.execute("SELECT DISTINCT department FROM customers").fetchall()}
        assert stored == {"销售一部", "销售四部"}  # 销售二部's customers are not stored unprotected
        assert ("销售二部",) in con.execute("SELECT department FROM submissions").fetchall()
        assert con.execute("SELECT protected FROM outputs").fetchall() == [(True,)]
    finally:
        con.close()


def test_one_protected_workbook_per_department_with_its_rows_only(month: Path, tmp_path: Path) -> None:
    passwords = tmp_path / "密码.csv"
    passwords.write_text(
        "部门,密码\n销售一部,一部-pw\n销售二部,二部-pw\n", encoding="gbk"
    )  # as Excel saves it
    target = tmp_path / "out" / "公司汇总.xlsx"
    code, stdout, stderr = run(
        str(month),
        "-o",
        str(target),
        "--password",
        PASSWORD,
        "--split-by-department",
        "--passwords",
        str(passwords),
    )
    assert code == 1, stderr
    own = {"销售一部": "一部-pw", "销售二部": "二部-pw", "销售四部": PASSWORD}  # 四部: --password
    for department, password in own.items():
        path = target.with_name(f"公司汇总_{department}.xlsx")
        assert f"{path}（部门工作簿，已加密）" in stdout
        for other_password in own.values():
            if other_password != password:
                with pytest.raises(Exception):  # noqa: B017
                    decrypted(path, other_password)
        text = text_of(decrypted(path, password))
        for name in NAMES[department]:
            assert name in text, (department, name)
        for other, names in NAMES.items():
            if other != department:
                assert other not in text, (department, other)
                assert not [n for n in names if n in text], (department, other)


def test_a_passwords_file_names_departments_as_staff_type_them(tmp_path: Path) -> None:
    """ "销售１部 " (full width, a space) in the passwords file is the department 销售1部, as its
    参数!部门 typed so is: its workbook got --password instead, without a word."""
    from tests.months import customer
    from tests.workbooks import write_departments

    write_departments(tmp_path / "in", [{"department": "销售1部", "parameters": {"部门": "销售１部"},
                                         "rows": {"客户档案": [customer("A1", "甲有限公司", 801)]}}])  # fmt: skip
    passwords = tmp_path / "密码.csv"
    passwords.write_text("销售１部 ,一部-pw\n", encoding="utf-8")
    target = tmp_path / "out" / "c.xlsx"
    code, _, err = run(str(tmp_path / "in"), "-o", str(target), "--no-history", "--password", "company",
                         "--split-by-department", "--passwords", str(passwords))  # fmt: skip
    assert code in (0, 1), err
    assert "甲有限公司" in text_of(decrypted(target.with_name("c_销售1部.xlsx"), "一部-pw"))


def test_split_refuses_a_department_without_a_password(tmp_path: Path) -> None:
    month = write_month(tmp_path / "in", "2025-12")  # no protected submission
    passwords = tmp_path / "密码.csv"
    passwords.write_text("销售一部,一部-pw\n销售二部,二部-pw\n", encoding="utf-8")
    code, _, stderr = run(str(month), "-o", str(tmp_path / "x.xlsx"), "--split-by-department",
                          "--passwords", str(passwords), "--allow-unprotected")  # fmt: skip
    assert code == 1  # allowed: 销售四部's workbook unprotected, 二部's with its password
    assert not zipfile.is_zipfile(tmp_path / "x_销售二部.xlsx") and zipfile.is_zipfile(
        tmp_path / "x_销售四部.xlsx"
    )
    code, _, stderr = run(str(month), "-o", str(tmp_path / "y.xlsx"), "--split-by-department", "--passwords", str(passwords))  # fmt: skip
    assert code == 2 and stderr.count("\n") == 1
    assert "销售四部" in stderr and str(passwords) in stderr
    assert not list(tmp_path.glob("y*"))


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("销售一部,pw,多余\n", "第 1 行应为两列"),
        ("部门,密码\n销售一部,\n", "第 2 行部门或密码为空"),
        ("销售一部,a\n销售一部,b\n", "第 2 行：部门“销售一部”重复"),
        ("# 只有注释\n\n", "没有任何密码"),
    ],
)
def test_a_bad_passwords_file_is_one_clear_line(
    month: Path, tmp_path: Path, content: str, expected: str
) -> None:
    passwords = tmp_path / "pw.csv"
    passwords.write_text(content, encoding="utf-8")
    code, _, stderr = run(str(month), "-o", str(tmp_path / "x.xlsx"), "--split-by-department", "--passwords", str(passwords))  # fmt: skip
    assert code == 2 and stderr.count("\n") == 1, stderr
    assert str(passwords) in stderr and expected in stderr
    assert "Traceback" not in stderr and not (tmp_path / "x.xlsx").exists()


def test_a_passwords_file_that_is_a_pipe_is_refused_without_reading_it(tmp_path: Path) -> None:
    """A FIFO blocked the run until something wrote to it, /dev/zero filled the memory."""
    fifo = tmp_path / "pw.csv"
    os.mkfifo(fifo)

    def writer() -> None:  # without the refusal, the read gets a valid file and no error
        with fifo.open("w", encoding="utf-8") as handle:
            handle.write("销售一部,pw\n")

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        with pytest.raises(InputError) as caught:
            read_passwords(fifo)
        assert caught.value.message("zh") == f"不是文件：{fifo}"
    finally:  # let the writer go: it writes into the pipe's buffer and closes
        reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        thread.join(5)
        os.close(reader)


def test_an_interrupted_encrypted_workbook_leaves_no_plain_rows_anywhere(
    month: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C while the company workbook is being assembled: XlsxWriter's row files (the
    small sheets hold customer names, findings, 跨部门) must not stay behind, unencrypted, in
    the system's temporary folder or beside the target."""
    import tempfile

    from xlcrm.batch import dashboard

    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))

    def interrupted(*_: object) -> None:  # the last step before XlsxWriter closes the package
        raise KeyboardInterrupt

    monkeypatch.setattr(dashboard.ChartData, "write", interrupted)
    out = tmp_path / "out"
    code, _, stderr = run(
        str(month), "-o", str(out / "公司汇总.xlsx"), "--password", PASSWORD, "--no-history"
    )
    assert code == 130 and "已中断" in stderr, stderr
    assert not list(system_tmp.rglob("*")), [p.name for p in system_tmp.rglob("*")]
    assert not list(out.rglob("*")), [p.name for p in out.rglob("*")]


def test_department_names_that_make_the_same_or_too_long_a_file_name(tmp_path: Path) -> None:
    """销售/一部 and 销售_一部 both make 公司汇总_销售_一部.xlsx, and a 100-character name is past
    a file name's 255 bytes: each department still gets its own workbook, with its own rows."""
    from tests.months import customer
    from tests.workbooks import write_departments

    long_name = "华北大区" * 25
    departments = {"销售/一部": "甲客户有限公司", "销售_一部": "乙客户有限公司", long_name: "丙客户有限公司"}
    write_departments(
        tmp_path / "in",
        [
            {
                "file": f"f{n}.xlsx",
                "department": name,
                "rows": {"客户档案": [customer(f"K{n}", who, 600 + n)]},
            }
            for n, (name, who) in enumerate(departments.items())
        ],
    )
    target = tmp_path / "out" / "公司汇总.xlsx"
    code, _, stderr = run(str(tmp_path / "in"), "-o", str(target), "--password", "pw", "--split-by-department", "--no-history")  # fmt: skip
    assert code in (0, 1), stderr
    written = sorted(p.name for p in target.parent.iterdir() if p.name != target.name)
    assert len(written) == 3 and not [n for n in written if n.startswith(".")], written
    assert "公司汇总_销售_一部.xlsx" in written and "公司汇总_销售_一部_2.xlsx" in written
    assert all(len(n.encode()) <= 255 for n in written)
    found = {}
    for name in written:
        text = text_of(decrypted(target.parent / name, "pw"))
        found[name] = [who for who in departments.values() if who in text]
    assert sorted(found.values()) == [["丙客户有限公司"], ["乙客户有限公司"], ["甲客户有限公司"]], found
    assert found["公司汇总_销售_一部.xlsx"] == ["甲客户有限公司"]  # the first found keeps the plain name


def test_an_output_name_too_long_is_one_line(month: Path, tmp_path: Path) -> None:
    target = tmp_path / ("汇" * 100 + ".xlsx")
    code, _, stderr = run(str(month), "-o", str(target), "--password", PASSWORD, "--no-history")
    assert code == 2 and stderr.count("\n") == 1, stderr
    assert "无法写入" in stderr and "内部错误" not in stderr
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize("same", [("-o", "--csv"), ("--html", "--csv")])
def test_two_outputs_to_one_file_are_refused(month: Path, tmp_path: Path, same: tuple[str, str]) -> None:
    """-o x.xlsx --csv x.xlsx wrote the CSV over the workbook, then failed (internal error)."""
    target = tmp_path / "同一个.xlsx"
    args = {"-o": str(tmp_path / "公司汇总.xlsx"), same[0]: str(target), same[1]: str(target)}
    code, _, stderr = run(str(month), *[x for pair in args.items() for x in pair], "--password", PASSWORD, "--allow-unprotected", "--no-history")  # fmt: skip
    assert code == 2 and stderr.count("\n") == 1, stderr
    assert str(target) in stderr and "同一个文件" in stderr and "内部错误" not in stderr
    assert not list(tmp_path.iterdir())


def test_a_department_workbook_names_no_other_department_in_cross_department_findings(tmp_path: Path) -> None:
    """The demo month shares customers C001, C002, C005 between 销售一部, 二部 and 三部 (D101, D102):
    each department's workbook keeps the findings and every value, but names only itself."""
    from xlcrm.batch.demo import write_month as write_demo_month

    write_demo_month(tmp_path / "in")
    target = tmp_path / "out" / "c.xlsx"
    code, _, stderr = run(
        str(tmp_path / "in"), "-o", str(target), "--password", "pw", "--split-by-department"
    )
    assert code == 2, stderr  # the demo month has one unusable file
    company = text_of(decrypted(target, "pw"))
    assert "销售一部 A、销售二部 C、销售三部 A" in company  # every department, in counting order
    departments = ("销售一部", "销售二部", "销售三部")
    for department in departments:
        text = text_of(decrypted(target.with_name(f"c_{department}.xlsx"), "pw"))
        grades = "、".join(f"{department if d == department else '其他部门'} {g}" for d, g in
                          (("销售一部", "A"), ("销售二部", "C"), ("销售三部", "A")))  # fmt: skip
        assert f"系统信用等级不同：{grades}" in text, department
        assert "合计 960,000 元（" in text  # D102 keeps the total and each exposure
        assert not [other for other in departments if other != department and other in text], department


def test_the_history_keeps_no_text_that_quotes_a_withheld_department(tmp_path: Path) -> None:
    """The demo month's D101/D102 list 销售二部's grade and exposure beside the others': with 销售二部
    protected, those findings of the other departments are stored without their text."""
    from xlcrm.batch.demo import write_month as write_demo_month
    from xlcrm.batch.history import WITHHELD_MESSAGE

    write_demo_month(tmp_path / "in")
    protected = tmp_path / "in" / "销售二部_客户管理台账.xlsx"
    plain = protected.read_bytes()
    with protected.open("wb") as sink:
        msoffcrypto.format.ooxml.OOXMLFile(io.BytesIO(plain)).encrypt("pw", sink)
    code, _, stderr = run(str(tmp_path / "in"), "-o", str(tmp_path / "out" / "c.xlsx"), "--password", "pw")
    assert code == 2, stderr  # the demo month has one unusable file
    con = duckdb.connect(str(tmp_path / "out" / "xlcrm-history.duckdb"), read_only=True)
    try:
        rows = con.execute("SELECT department, code, message, message_en FROM findings").fetchall()
    finally:
        con.close()
    assert not [r for r in rows if r[0] == "销售二部"]
    assert not [r for r in rows if "销售二部" in r[2] + r[3]]  # nothing quotes it
    hidden = [(d, c) for d, c, zh, en in rows if (zh, en) == WITHHELD_MESSAGE]
    assert {c for _, c in hidden} == {"D101", "D102"} and {d for d, _ in hidden} >= {"销售一部"}


def test_the_terminal_report_masks_contacts_as_the_json_does(tmp_path: Path) -> None:
    """consolidate's text report prints other departments' findings and the major losses: its
    mobiles and e-mail local parts are masked as in the JSON, unless --unmask."""
    from tests.months import customer
    from tests.workbooks import write_departments

    listed = customer("M1", "赵六贸易有限公司", 603, **{"客户类别": "重点客户"})
    write_departments(tmp_path / "in", [
        {"department": "甲部", "rows": {
            "客户档案": [customer("L1", "张三 13912345678 有限公司", 601)],
            "客户评价": [{"客户编码": "L1", "造成重大损失": "是"}],
            "黑名单": [{"客户名称": "赵六贸易有限公司", "范围": "部门", "部门": "甲部",
                        "原因": "欠款，联系 17712345678 或 zhaoliu@example.cn", "批准人": "钱七"}]}},
        {"department": "乙部", "rows": {"客户档案": [listed]}},
    ])  # fmt: skip
    for unmask in (False, True):
        code, out, err = run(str(tmp_path / "in"), "-o", str(tmp_path / f"{unmask}.xlsx"), "--no-history",
                             *(["--unmask"] if unmask else []))  # fmt: skip
        assert code in (0, 1) and "D103" in out and "张三" in out, err
        for secret in ("13912345678", "17712345678", "zhaoliu@"):
            assert (secret in out) is unmask, (unmask, secret)
        if not unmask:
            assert "139****5678" in out and "177****5678" in out and "z***@example.cn" in out


def test_the_json_major_losses_mask_the_name_and_keep_code_and_file_whole(tmp_path: Path) -> None:
    """major_losses masked its 客户编码 and file name as contacts, where diagnostics and 跨部门 keep them."""
    from tests.months import customer
    from tests.workbooks import write_departments

    loss = customer("13912345678", "张三 13712345678 有限公司", 601)
    write_departments(tmp_path / "in", [{"department": "甲部", "file": "甲部13812345678.xlsx", "rows": {
        "客户档案": [loss], "客户评价": [{"客户编码": "13912345678", "造成重大损失": "是"}]}}])  # fmt: skip
    code, out, err = run(
        str(tmp_path / "in"), "-o", str(tmp_path / "o.xlsx"), "--no-history", "--format", "json"
    )
    assert code in (0, 1), err
    done = json.loads(out)
    (row,) = done["summary"]["major_losses"]
    (t207,) = [d for d in done["diagnostics"] if d["code"] == "T207"]
    assert row["customer_code"] == t207["customer_code"] == "13912345678"
    assert row["__file"] == t207["file"] and row["__file"].endswith("甲部13812345678.xlsx")
    assert row["name"] == "张三 137****5678 有限公司"


def test_an_empty_password_is_refused_not_called_encryption(tmp_path: Path) -> None:
    """``--password ''`` (an unset variable) wrote the workbooks "已加密" with an empty password."""
    folder = write_month(tmp_path, "2025-12")
    code, _, err = run(str(folder), "-o", str(tmp_path / "o.xlsx"), "--no-history", "--password", "",
                       "--split-by-department")  # fmt: skip
    assert code == 2 and "--password" in err and "不能为空" in err, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2025-12"]


def test_an_unusable_files_reason_quoting_a_cell_is_masked(tmp_path: Path) -> None:
    """A reader's error quotes the cell ("Unrecognized boolean cell value: 13912345678"): the
    manifest's reason in the JSON, the terminal report and 清单 showed the mobile in full."""
    from tests.workbooks import write_case

    folder = tmp_path / "in"
    folder.mkdir()
    good = write_case(folder / "甲部.xlsx", {"客户档案": [{}]}, parameters={"部门": "甲部"})
    bad = folder / "乙部.xlsx"
    with zipfile.ZipFile(good) as source, zipfile.ZipFile(bad, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            if name == "xl/worksheets/sheet1.xml":  # a boolean cell no program writes, holding a mobile
                data = data.replace(b"</row>", b'<c r="AZ2" t="b"><v>13912345678</v></c></row>', 2)
            target.writestr(name, data)
    for unmask in (False, True):
        target = tmp_path / f"{unmask}.xlsx"
        flags = ["-o", str(target), "--no-history", *(["--unmask"] if unmask else [])]
        code, out, _ = run(str(folder), *flags, "--format", "json")
        (reason,) = [m["reason"] for m in json.loads(out)["manifest"] if m["status"] == "unusable"]
        code, text, _ = run(str(folder), *flags, "--force")
        shown = reason + text + text_of(zipfile.ZipFile(target))
        assert code == 2 and "Unrecognized boolean" in reason and ("13912345678" in shown) is unmask
        if not unmask:
            assert "139****5678" in reason and "139****5678" in text, (reason, text)
    progress = CliRunner().invoke(cli, ["consolidate", str(folder), "--month", "2025-12", "--jobs", "0",
                                        "-o", str(tmp_path / "p.xlsx"), "--no-history"])  # fmt: skip
    assert "139****5678" in progress.stderr and "13912345678" not in progress.stderr, progress.stderr


def test_a_department_name_with_a_list_mark_or_a_space_is_hidden_whole() -> None:
    """D101's listing "华北、华东部 A、销售 二部 C": 销售 二部's own view names no part of 华北、华东部."""
    from xlcrm.batch.cross import Finding, for_department, involves
    from xlcrm.diagnostics import Diagnostic

    grades = ("华北、华东部 A", "销售 二部 C")  # each department with its grade, joined per language
    finding = Finding(
        Diagnostic("D101", args={"grades": grades, "matched": "名称", "customer": "甲"}),
        "销售 二部",
        1,
        "consolidation",
    )
    assert "华北、华东部 A、销售 二部 C" in finding.diagnostic.message("zh")
    assert "华北、华东部 A, 销售 二部 C" in finding.diagnostic.message("en")
    shown = for_department(finding, "销售 二部").diagnostic
    assert "其他部门 A、销售 二部 C" in shown.message("zh") and "华北" not in shown.message("zh")
    assert "another department A, 销售 二部 C" in shown.message("en")
    assert involves(finding, {"华北、华东部"}, set()) and not involves(finding, {"华北"}, set())
