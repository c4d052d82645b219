"""Issue 12, the single department: process's 汇总 dashboard and charts, sizes and print setup,
check's HTML header and columns in a real browser, masking, and encrypted inputs."""

from __future__ import annotations

import csv
import io
import re
import subprocess
import zipfile
from collections import Counter
from pathlib import Path

import msoffcrypto
import polars as pl
import pytest
from click.testing import CliRunner
from lxml import etree
from openpyxl import load_workbook

from tests.browser import chromium, needs_chromium
from tests.office import needs_soffice, soffice
from tests.test_bad_files import encrypt
from tests.workbooks import AS_OF, write_case, write_rich
from xlcrm.annotate.parts import display_width
from xlcrm.cli import cli
from xlcrm.render.csv import FORMULA_START, as_text
from xlcrm.sample import write_sample

C = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
MOBILE, EMAIL = "13912345678", "zhang.wei@example"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, [*args, "--as-of", AS_OF.isoformat()])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("dashboard")
    target = folder / "out.xlsx"
    code, _, err = run("process", str(write_rich(folder / "rich.xlsx")), "-o", str(target))
    assert code == 1 and target.is_file(), err
    return target


def summary_rows(path: Path) -> list[list[object]]:
    return [list(r) for r in load_workbook(path)["汇总"].iter_rows(values_only=True)]


def test_the_dashboard_counts_what_the_issue_list_holds(copy: Path) -> None:
    book = load_workbook(copy)
    issues = list(book["问题清单"].iter_rows(min_row=2, values_only=True))
    rows = summary_rows(copy)
    assert rows[0][0] == "xlcrm 汇总"
    head = {r[0]: r[1] for r in rows[1:5]}
    assert head["部门"] == "销售一部（依据：参数!部门）" and head["基准日期"] == AS_OF.isoformat()
    assert head["文件"] == "rich.xlsx"
    errors = sum(1 for r in issues if r[2] == "错误" and not r[8])
    warnings = sum(1 for r in issues if r[2] == "警告" and not r[8])
    assert head["问题"] == f"错误 {errors}，警告 {warnings}，已豁免 {len(issues) - errors - warnings}"
    # the family table: one row per family with findings, error/warning/waived columns
    start = next(i for i, r in enumerate(rows) if r[0] == "问题（按类别与级别）") + 2
    table = {}
    for r in rows[start:]:
        if r[0] is None:
            break
        table[r[0]] = r[2:6]
    expected: Counter[tuple[str, str]] = Counter(
        (str(r[1])[0], "waived" if r[8] else str(r[2])) for r in issues
    )
    assert table == {
        f: [expected[(f, "错误")], expected[(f, "警告")], expected[(f, "waived")],
            expected[(f, "错误")] + expected[(f, "警告")] + expected[(f, "waived")]]
        for f in {f for f, _ in expected}
    }  # fmt: skip
    assert sum(v[3] for v in table.values()) == len(issues)


def test_the_charts_are_parts_with_their_data_cached(copy: Path) -> None:
    rows = summary_rows(copy)
    with zipfile.ZipFile(copy) as package:
        charts = sorted(n for n in package.namelist() if re.fullmatch(r"xl/charts/xlcrmChart\d+\.xml", n))
        assert len(charts) == 4  # findings, tiers, credit, complaints by type
        titles, cached = [], {}
        for name in charts:
            root = etree.fromstring(package.read(name))
            title = "".join(t.text or "" for t in root.iter("{*}t"))
            titles.append(title)
            for ser in root.iter(f"{C}ser"):
                ref = ser.find(f"{C}val/{C}numRef/{C}f")
                assert ref is not None and ref.text is not None and ref.text.startswith("汇总!")
                points = ser.findall(f"{C}val/{C}numRef/{C}numCache/{C}pt")
                cached[(title, ref.text)] = [float(p.findtext(f"{C}v") or "nan") for p in points]
        content_types = package.read("[Content_Types].xml").decode()
        assert content_types.count("drawingml.chart+xml") >= 3
        sheet_rels = [n for n in package.namelist() if n.startswith("xl/worksheets/_rels/")]
        assert any(b"xlcrmDrawing" in package.read(n) for n in sheet_rels)
    assert titles == [
        "问题按类别与级别",
        "客户等级占比（申报，对比上限）",
        "信用额度与占用（按系统评定的等级）",
        "投诉（按类型）",
    ]
    # every cached series is the table's column it references
    for (_, ref), values in cached.items():
        col, first, last = re.fullmatch(r"汇总!\$([A-Z])\$(\d+):\$[A-Z]\$(\d+)", ref).groups()  # type: ignore[union-attr]
        column = ord(col) - ord("A")
        table = [rows[r - 1][column] for r in range(int(first), int(last) + 1)]
        assert (
            [v if v == v else None for v in values][: len(table)]
            == [
                None if t is None else float(t)
                for t in table  # type: ignore[arg-type]
            ][: len(values)]
        )
    shares = cached[
        (
            "客户等级占比（申报，对比上限）",
            "汇总!$C$" + ref_row(rows, "VIP客户") + ":$C$" + ref_row(rows, "合格类客户"),
        )
    ]
    assert shares[:2] == [0.3, 0.1]  # 3 and 1 of 10 admitted customers
    caps = "汇总!$D$" + ref_row(rows, "VIP客户") + ":$D$" + ref_row(rows, "优选类客户")
    assert cached[("客户等级占比（申报，对比上限）", caps)] == [0.15, 0.3]  # 合格类 has no cap: no mark
    with zipfile.ZipFile(copy) as package:
        units = {
            "".join(t.text or "" for t in root.iter("{*}t")): [
                u.get("val") for u in root.iter(f"{C}majorUnit")
            ]
            for root in (etree.fromstring(package.read(n)) for n in charts)
        }
    for title in ("问题按类别与级别", "投诉（按类型）"):  # counts: whole steps, never 0.5
        assert len(units[title]) == 1 and float(units[title][0]).is_integer() and float(units[title][0]) >= 1


def ref_row(rows: list[list[object]], first: str) -> str:
    return str(next(i for i, r in enumerate(rows) if r[0] == first) + 1)


@needs_soffice
def test_libreoffice_draws_the_charts(copy: Path, tmp_path: Path) -> None:
    converted = soffice("--convert-to", "pdf", "--outdir", str(tmp_path), str(copy))
    pdf = tmp_path / "out.pdf"
    assert pdf.is_file(), converted.stderr
    import subprocess

    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    page = text[text.index("xlcrm 汇总") :]
    for title in ("问题按类别与级别", "客户等级占比（申报，对比上限）", "信用额度与占用（按系统评定的等级）"):
        assert title in page, title
    assert "VIP客户" in page and "上限" in page


def test_added_columns_are_sized_and_wrapped_and_sheets_print(copy: Path) -> None:
    book = load_workbook(copy)
    for sheet, headers in (("客户档案", ("系统等级", "等级依据")),
                           ("信用评定", ("系统信用等级", "最高可授信额度(元)", "最长回款期限(天)"))):  # fmt: skip
        ws = book[sheet]
        top = next(r for r in ws.iter_rows(max_row=10) if any(c.value == headers[0] for c in r))
        header = {c.value: c.column_letter for c in top if c.value in headers}
        assert set(header) == set(headers)
        for text, letter in header.items():
            width = ws.column_dimensions[letter].width
            assert width >= display_width(text), (sheet, text, width)
    archive = book["客户档案"]
    basis_cell = next(c for r in archive.iter_rows(max_row=10) for c in r if c.value == "等级依据")
    basis = basis_cell.column_letter
    filled = [c for c in archive[basis][basis_cell.row :] if c.value]
    assert filled and all(c.alignment.wrap_text for c in filled)
    assert archive.column_dimensions[basis].width <= 42
    with zipfile.ZipFile(copy) as package:
        workbook = package.read("xl/workbook.xml").decode()
        for name in ("问题清单", "汇总"):
            assert re.search(rf"_xlnm.Print_Titles[^>]*>'{name}'!\$1:\$1<", workbook), name
        rels = package.read("xl/_rels/workbook.xml.rels").decode()
        sheets = re.findall(r'<sheet [^>]*name="([^"]+)"[^>]*r:id="([^"]+)"', workbook)
        for name, rid in sheets:
            if name not in ("问题清单", "汇总"):
                continue
            target = re.search(rf'Id="{rid}"[^>]*Target="([^"]+)"|Target="([^"]+)"[^>]*Id="{rid}"', rels)
            assert target is not None
            xml = package.read("xl/" + (target.group(1) or target.group(2))).decode()
            assert re.search(r'<pageSetup [^>]*orientation="landscape"', xml) and 'fitToWidth="1"' in xml
            assert 'paperSize="9"' in xml and '<pageSetUpPr fitToPage="1"/>' in xml


def test_the_summary_numbers_right_aligned_under_right_aligned_headers(copy: Path) -> None:
    ws = load_workbook(copy)["汇总"]
    header = next(r for r in ws.iter_rows() if r[0].value == "信用等级（系统评定）")
    assert header[0].alignment.horizontal in (None, "general", "left")
    assert all(c.alignment.horizontal == "right" for c in header[1:5])
    row = ws[header[0].row + 1]
    assert isinstance(row[2].value, (int, float)) and row[2].number_format == "#,##0.00"
    assert row[4].number_format == "0.00%"


def contact_case(path: Path) -> Path:
    """A submission whose findings quote a mobile number and an e-mail address."""
    return write_case(path, {"客户档案": [{"联系电话": MOBILE + "9", "电子邮箱": EMAIL}]})


def test_html_and_csv_mask_contacts_unless_unmask(tmp_path: Path) -> None:
    path = contact_case(tmp_path / "c.xlsx")
    for fmt in ("html", "csv"):
        code, masked, _ = run("check", str(path), "--format", fmt)
        assert code in (0, 1)
        assert MOBILE not in masked and "zhang.wei@" not in masked, fmt
        assert "139****5678" in masked and "z***@example" in masked, fmt
        code, plain, _ = run("check", str(path), "--format", fmt, "--unmask")
        assert MOBILE in plain and EMAIL in plain, fmt
    _, text, _ = run("check", str(path), "--format", "csv")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][7] == "客户编码" and any(r[7] == "C001" for r in rows[1:])  # codes stay whole


def test_csv_defuses_formulas_behind_leading_spaces_and_in_full_width(tmp_path: Path) -> None:
    """Excel skips leading spaces (a no-break one too) before = + - @, and a Chinese input method
    types them full width: every such sheet name is written behind an apostrophe, as ``=`` is."""
    names = [" =1+1", "\u00a0@SUM(A1)", "＝1+1", "\u3000－2", "=1+1", "a=b", 'a,b"c']
    path = write_case(tmp_path / "f.xlsx", {"客户档案": [{}]}, extra_sheets={n: [["x"]] for n in names})
    _, text, _ = run("check", str(path), "--format", "csv")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    sheets = [r[3] for r in rows[1:] if r[0] == "S009"]
    assert sheets == [("'" + n if n[-3:] != "a=b" and "," not in n else n) for n in names], sheets
    pattern = pl.Series(names).str.contains(FORMULA_START).to_list()  # the company CSVs agree
    assert pattern == [as_text(n).startswith("'") for n in names]


def test_an_encrypted_input_gives_no_unprotected_report(tmp_path: Path) -> None:
    plain = write_sample(tmp_path / "plain.xlsx")
    locked = encrypt(plain, tmp_path / "locked.xlsx", "s3cret")
    for fmt in ("html", "csv"):
        code, out, err = run("check", str(locked), "--password", "s3cret", "--format", fmt)
        assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, err
        assert "locked.xlsx" in err and "--allow-unprotected" in err
        code, out, _ = run(
            "check", str(locked), "--password", "s3cret", "--format", fmt, "--allow-unprotected"
        )
        assert code == 1 and "locked.xlsx" in out
    code, out, _ = run("check", str(locked), "--password", "s3cret", "--format", "json")
    assert code == 1  # JSON and text are not reports to file (POLICY §7 names HTML and CSV)
    target = tmp_path / "copy.xlsx"
    code, _, err = run("process", str(locked), "--password", "s3cret", "-o", str(target))
    assert code == 1, err
    with target.open("rb") as handle:
        office = msoffcrypto.OfficeFile(handle)
        assert office.is_encrypted()
    with pytest.raises(zipfile.BadZipFile):
        zipfile.ZipFile(target)


@needs_chromium
def test_the_check_report_opens_with_the_submission_and_keeps_short_columns_on_one_line(
    tmp_path: Path,
) -> None:
    path = write_sample(tmp_path / "dept.xlsx")
    code, page, _ = run("check", str(path), "--format", "html")
    assert code == 1
    head = page[: page.index("<h2>")]
    assert "部门" in head and "销售一部" in head and AS_OF.isoformat() in head and "dept.xlsx" in head
    assert page.index("概览（按类别与级别）") < page.index("明细")
    # measured in the browser, in a narrow window where long messages must wrap
    probe = """<script>
    const lines = td => { const r = document.createRange(); r.selectNodeContents(td);
      return new Set([...r.getClientRects()].map(x => Math.round(x.top))).size; };
    const most = sel => Math.max(...[...document.querySelectorAll(sel)].map(lines));
    document.body.setAttribute('data-lines', [most('table.details td.cell'), most('table.details td.severity'),
      most('table.details td.customer'), most('table.details tr td:last-child')].join(','));
    </script></body>"""
    measured = tmp_path / "measured.html"
    measured.write_text(page.replace("</body>", probe), encoding="utf-8")
    dumped = chromium(measured, "--window-size=480,900", "--dump-dom")
    found = re.search(r'data-lines="([^"]+)"', dumped.stdout)
    assert found is not None, dumped.stderr
    cell, severity, customer, message = map(int, found.group(1).split(","))
    assert (cell, severity, customer) == (1, 1, 1)  # one line each: never a character per line
    assert message > 1  # while the messages beside them do wrap at this width


def test_html_masks_contacts_in_file_sheet_and_department_names(tmp_path: Path) -> None:
    """The HTML report masks what its CSV masks: a mobile in a file's, a sheet's or the
    department's name (staff name files and sheets after a contact) is no less a contact."""
    path = write_case(
        tmp_path / f"台账{MOBILE}.xlsx",
        {"客户档案": [{"联系电话": "1380013800"}]},
        extra_sheets={f"王磊{MOBILE}": [["联系人"]]},
        parameters={"部门": f"销售一部{MOBILE}"},
    )
    code, page, _ = run("check", str(path), "--format", "html")
    assert code == 1
    assert MOBILE not in page and "139****5678" in page
    assert "<h4>王磊139****5678 " in page and "台账139****5678.xlsx" in page
    _, plain, _ = run("check", str(path), "--format", "html", "--unmask")
    assert f"<h4>王磊{MOBILE} " in plain and f"台账{MOBILE}.xlsx" in plain


def test_an_unprotected_copy_holds_nothing_of_a_protected_file_of_its_submission(tmp_path: Path) -> None:
    """A submission split in two files, the customers' one password-protected: the copy of the
    other (written unprotected, as its input is) must not carry the protected file's figures —
    the customers over the VIP quota with their scores, the counts by tier and grade (POLICY §7:
    a protected submission never yields an unprotected file with its rows)."""
    scores = {"业务合作量得分": 25, "应收款情况得分": 25, "经营信誉得分": 20, "忠诚度得分": 20, "总分": 90}
    plain = write_case(
        tmp_path / "customers.xlsx",
        {
            "客户档案": [{"客户等级": "VIP客户", "年业务量(万元)": 500}] * 3,
            "客户评价": [{**scores, "客户编码": f"C00{i}", "当前等级": "VIP客户"} for i in (1, 2, 3)],
        },
        omit_sheets=("黑名单",),
    )
    locked = encrypt(plain, tmp_path / "locked.xlsx", "s3cret")
    plain.unlink()
    other = write_case(
        tmp_path / "blacklist.xlsx",
        {"黑名单": [{"客户名称": "某公司", "范围": "公司", "原因": "套取货款", "批准人": "总经理"}]},
        omit_sheets=("客户档案", "客户评价", "信用评定"),
    )
    code, out, err = run(
        "process", str(locked), str(other), "--password", "s3cret", "-o", str(tmp_path / "out") + "/"
    )
    assert code == 1 and "C001（90分）" in out, err  # the findings are on the protected file
    with (tmp_path / "out" / "locked.checked.xlsx").open("rb") as handle:
        assert msoffcrypto.OfficeFile(handle).is_encrypted()
    copy = load_workbook(tmp_path / "out" / "blacklist.checked.xlsx")
    texts = [
        str(v) for sheet in copy.worksheets for row in sheet.iter_rows(values_only=True) for v in row if v
    ]
    assert not any("C001" in t or "VIP客户" in t or "销售一部" in t for t in texts), texts


@needs_chromium
def test_the_printed_check_report_repeats_table_headers_and_keeps_headings_with_their_tables(
    tmp_path: Path,
) -> None:
    """Printed (A4), every page that continues a table starts with its header row, and a
    sheet's heading never stays alone at the foot of a page with its table on the next."""
    path = write_sample(tmp_path / "dept.xlsx")
    _, page, _ = run("check", str(path), "--format", "html")
    html, pdf = tmp_path / "report.html", tmp_path / "report.pdf"
    html.write_text(page, encoding="utf-8")
    printed = chromium(html, "--no-pdf-header-footer", f"--print-to-pdf={pdf}")
    assert pdf.is_file(), printed.stderr
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True)
    pages = [p for p in text.stdout.split("\f") if p.strip()]
    assert len(pages) > 2
    detail = re.compile(r"^\s*(?:[A-Z]{1,3}\d+\s+)?[A-Z]\d{3}\s+(?:错误|警告)\s", re.MULTILINE)
    summary = re.compile(r"^\s*[A-Z]\d{3}\s+\S.*\s\d+\s*$", re.MULTILINE)
    for number, text_of_page in enumerate(pages, 1):
        if detail.search(text_of_page):
            assert "单元格" in text_of_page and "客户编码" in text_of_page, f"page {number}: no header row"
        elif summary.search(text_of_page):
            assert "个数" in text_of_page, f"page {number}: no header row"
        last = [line for line in text_of_page.splitlines() if line.strip()][-1]
        assert not re.search(r"\(\d+\)\s*$", last), f"page {number} ends with a heading: {last}"
