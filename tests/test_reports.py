"""The month's reports (issue 12): the company workbook's sections, the HTML page, their numbers.

One three-month history (tests/months.py: 2025-10, 2025-11, 2025-12 in a real DuckDB file)
is consolidated once through the CLI; each test reads what December's run wrote — the
company workbook (openpyxl, and the chart parts), the HTML page, the CSV and the JSON — and
checks the numbers each section must show for the changes the months were built with.
"""

from __future__ import annotations

import html
import json
import re
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner
from lxml import html as lxml_html
from openpyxl import load_workbook

from tests.browser import chromium, needs_chromium
from tests.months import ADDRESS_MOBILE, EMAIL, MOBILE, MONTHS, write_month
from tests.office import needs_soffice, soffice
from tests.workbooks import AS_OF
from xlcrm.cli import cli

REPORT_SHEETS = ["总览", "清单", "部门汇总", "授信执行", "大客户分析", "变化", "趋势"]


def consolidate(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        cli, ["consolidate", *args, "--as-of", AS_OF.isoformat(), "--jobs", "0", "-q"]
    )
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The three months consolidated in order into one history; December with every report."""
    base = tmp_path_factory.mktemp("months")
    store = base / "history.duckdb"
    runs: dict[str, Any] = {"base": base, "store": store}
    for month in MONTHS:
        folder = write_month(base / "in", month)
        out = base / "out" / month
        args = [str(folder), "--month", month, "-o", str(out / "公司汇总.xlsx"), "--history", str(store)]
        if month == MONTHS[-1]:
            args += ["--html", str(out / "报告.html"), "--csv", str(out / "公司客户.csv"), "--format", "json"]
        code, stdout, stderr = consolidate(*args)
        assert code in (0, 1), stderr
        runs[month] = {"out": out, "stdout": stdout, "code": code}
    december = runs[MONTHS[-1]]
    december["json"] = json.loads(december["stdout"])
    december["book"] = load_workbook(december["out"] / "公司汇总.xlsx")
    december["html"] = (december["out"] / "报告.html").read_text(encoding="utf-8")
    return runs


def rows_of(sheet: Any) -> list[list[Any]]:
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def table_after(rows: list[list[Any]], title: str) -> list[dict[str, Any]]:
    """The table under a title row (its header is the next row; it ends at a blank row)."""
    start = next(i for i, r in enumerate(rows) if r and isinstance(r[0], str) and r[0].startswith(title))
    header = [h for h in rows[start + 1] if h is not None]
    table = []
    for row in rows[start + 2 :]:
        if row[0] is None:
            break
        table.append(dict(zip(header, row, strict=False)))
    return table


def header_table(rows: list[list[Any]], first: str) -> list[dict[str, Any]]:
    """The first table whose header row starts with ``first`` (up to a blank or 合计 row)."""
    header = next(i for i, r in enumerate(rows) if r and r[0] == first)
    table = []
    for row in rows[header + 1 :]:
        if row[0] in (None, "合计"):
            break
        table.append(dict(zip(rows[header], row, strict=False)))
    return table


def html_table(page: str, title: str) -> list[dict[str, str]]:
    """A table of the HTML report by its <h3> title (prefix), as header → cell text."""
    tree = lxml_html.fromstring(page)
    heading = next(h for h in tree.iter("h3") if h.text_content().startswith(title))
    table = heading.getnext().find("table")
    headers = [th.text_content() for th in table.find("thead").iter("th")]
    return [
        dict(zip(headers, (td.text_content() for td in tr.iter("td")), strict=True))
        for part in ("tbody", "tfoot")
        if table.find(part) is not None
        for tr in table.find(part).iter("tr")
    ]


def test_the_workbook_has_every_section_and_the_overview_numbers(history: dict[str, Any]) -> None:
    book = history["2025-12"]["book"]
    assert book.sheetnames[: len(REPORT_SHEETS)] == REPORT_SHEETS
    assert book.sheetnames[len(REPORT_SHEETS) :] == ["问题明细", "跨部门", "公司客户", "图表数据"]
    overview = {r[0]: r[1] for r in rows_of(book["总览"]) if r and r[0]}
    assert overview["对比月份"] == "2025-11"
    assert overview["部门（已检查）"] == "3 个"
    assert overview["新报部门"] == "销售四部" and overview["缺报部门（D106）"] == "销售三部"
    assert overview["文件"] == "找到 3 个 = 已检查 3 + 无法使用 0 + 已跳过 0"
    families = {r["类别"]: (r["错误"], r["警告"]) for r in table_after(rows_of(book["总览"]), "问题按类别")}
    # C307 and C308 (errors), C312 and C313 (warnings); B402; P501; E601; T202 and T204; D106
    assert families == {
        "T 等级": (1, 1), "C 信用": (2, 2), "B 黑名单": (1, 0), "P 投诉": (1, 0), "E 费用": (1, 0),
        "D 跨部门": (0, 1), "合计": (6, 4),
    }  # fmt: skip
    top = table_after(rows_of(book["总览"]), "错误最多的")
    assert [(r["部门"], r["错误"], r["警告"]) for r in top] == [("销售一部", 4, 0), ("销售二部", 2, 3)]
    paragraph = next(r[0] for r in rows_of(book["总览"]) if r[0] and str(r[0]).startswith("与 2025-11 相比"))
    for part in ("新增客户 1 位、减少 1 位", "信用额度上调 1 户、下调 0 户", "新增黑名单命中 1 户",
                 "流失 1 家", "新报部门 1 个、缺报部门 1 个", "超额 1 户，无授信增长 1 户，合同到期 1 户，调查过期 1 户"):  # fmt: skip
        assert part in paragraph


def test_departments_sheet_has_the_other_forms_figures_and_native_charts(history: dict[str, Any]) -> None:
    december = history["2025-12"]
    rows = rows_of(december["book"]["部门汇总"])
    header = next(i for i, r in enumerate(rows) if r[0] == "部门")
    table = [dict(zip(rows[header], r, strict=True)) for r in rows[header + 1 : header + 4]]
    second = next(r for r in table if r["部门"] == "销售二部")
    assert second["VIP占比(上限15%)"] == pytest.approx(0.5)  # B1 of 2 admitted
    assert (second["合同到期(户)"], second["调查过期(户)"], second["超额(户)"]) == (1, 1, 0)
    figures = {r["部门"]: r for r in table_after(rows, "其他表单统计")}
    first = figures["销售一部"]
    assert first["投诉(件)"] == 2 and first["及时响应率"] == pytest.approx(0.5)  # 6 h in time, 30 h late
    assert first["首次响应中位数(小时)"] == pytest.approx(18.0) and first["满意率"] == pytest.approx(0.5)
    assert (first["E601不予报销(笔)"], first["E601不予报销(元)"]) == (1, 300)
    assert (first["重点客户(家)"], first["期内已回访(家)"], first["超标准优惠(项)"]) == (1, 1, 1)
    assert (
        first["收益计划合同额(万元)"],
        first["收益计划实际收入(万元)"],
        first["收益计划利润额(万元)"],
    ) == (300, 130, 16)
    assert figures["销售二部"]["投诉(件)"] is None  # no 投诉记录 submitted: blank, not 0
    assert figures["公司"]["投诉(件)"] == 2
    with zipfile.ZipFile(december["out"] / "公司汇总.xlsx") as package:
        charts = sorted(n for n in package.namelist() if n.startswith("xl/charts/chart"))
        parts = [package.read(n).decode() for n in charts]
    assert (
        len(charts) >= 3 + 4
    )  # 部门汇总's three (each a column chart, two with a line for the cap) + 趋势's
    shares = next(p for p in parts if "VIP与优选类客户占比（对比上限）" in p)
    # the data is cached in the chart (LibreOffice and WPS draw from it): departments and shares
    assert "<c:strCache>" in shares and "销售二部" in shares and "<c:v>0.5</c:v>" in shares
    assert "<c:v>0.15</c:v>" in shares  # the VIP cap line


def test_credit_execution_flags_and_actions(history: dict[str, Any]) -> None:
    rows = rows_of(history["2025-12"]["book"]["授信执行"])
    table = {r[1]: dict(zip(rows[0], r, strict=True)) for r in rows[1:]}
    assert sorted(table) == ["A1", "A2", "A4", "B1", "B2"]  # in business; A3 (nothing owed) is not
    a1 = table["A1"]
    assert (a1["信用额度(元)"], a1["当前占用额(元)"], a1["使用率"]) == (100_000, 120_000, pytest.approx(1.2))
    assert (a1["上月占用额(元)"], a1["较上月变化(元)"], a1["上月数来源"]) == (50_000, 70_000, "历史库")
    assert (a1["超额"], a1["建议措施"]) == ("是", "压缩至额度内")
    a4 = table["A4"]  # new this month: last month's figure is its own 上月占用额
    assert (a4["无授信增长"], a4["建议措施"], a4["较上月变化(元)"], a4["上月数来源"]) == (
        "是",
        "停止新增赊销",
        5_000,
        "本表上月占用额",
    )
    b2 = table["B2"]
    assert (b2["合同到期"], b2["调查过期"], b2["建议措施"]) == ("是", "是", "续签/清收；重新调查")
    assert table["B1"]["建议措施"] is None and table["B1"]["超额"] is None


def test_key_accounts(history: dict[str, Any]) -> None:
    rows = rows_of(history["2025-12"]["book"]["大客户分析"])
    per = {r["部门"]: r for r in header_table(rows, "部门")}
    assert (per["销售一部"]["重点客户(本月)"], per["销售一部"]["上月(2025-11)"]) == (1, 2)
    assert per["销售一部"]["年业务量占比"] == pytest.approx(200 / 330)  # A1 of A1 + A2 + A4
    assert (per["销售二部"]["重点客户(本月)"], per["销售二部"]["上月(2025-11)"]) == (1, 1)
    assert per["销售四部"]["上月(2025-11)"] is None  # it did not submit in November
    assert per["销售一部"]["去年同月(无)"] is None  # no 2024-12 in the history
    assert (per["销售一部"]["月均回款额(元)"], per["销售一部"]["上月月均回款额(元)"]) == (150_000, 300_000)
    products = {r["经营品种"]: r["重点客户(家)"] for r in table_after(rows, "重点客户的经营品种")}
    assert products == {"矫形器": 2, "假肢": 1}  # A1 (假肢、矫形器), B1 (矫形器)
    lost = table_after(rows, "流失的重点客户")
    assert [(r["部门"], r["客户编码"], r["原因"]) for r in lost] == [
        ("销售一部", "A2", "客户类别改为一般客户")
    ]
    by_month = table_after(rows, "重点客户月均回款额")
    assert [r["部门"] for r in by_month] == ["销售一部", "销售二部", "合计"]
    assert (by_month[0]["2025-10"], by_month[0]["2025-11"], by_month[0]["2025-12"]) == (
        300_000,
        300_000,
        150_000,
    )


def test_lost_key_accounts_each_reason() -> None:
    """Last month's key accounts: changed category, gone, gone and a key account elsewhere; kept ones not listed."""
    import polars as pl

    from xlcrm.batch.accounts import _lost
    from xlcrm.batch.past import Past

    before = (
        Past()
        .customers.clear()
        .vstack(
            pl.DataFrame(
                {
                    "department": ["销售一部"] * 4,
                    "identity": ["uscc:A", "uscc:B", "uscc:C", "uscc:D"],
                    "customer_code": ["A1", "B1", "C1", "D1"],
                    "name": ["甲", "乙", "丙", "丁"],
                    "category": ["重点客户"] * 4,
                },
            )
            .with_columns(pl.lit(None, dtype=pl.Utf8).alias(c) for c in ("computed_tier", "computed_grade"))
            .with_columns(
                pl.lit(1.0).alias("annual_business"), pl.lit(None, dtype=pl.Float64).alias("credit_limit")
            )
            .select(Past().customers.columns)
        )
    )
    archive = pl.DataFrame(
        {
            "__department": ["销售一部", "销售一部", "销售二部", "销售一部"],
            "identity": ["uscc:A", "uscc:D", "uscc:C", "uscc:E"],
            "category": ["一般客户", "重点客户", "重点客户", "重点客户"],
        }
    )
    lost = _lost(archive, Past(previous="2025-11", customers=before), {"销售一部", "销售二部"})
    assert lost.select("customer_code", "reason").rows() == [
        ("A1", "客户类别改为一般客户"),
        ("B1", "已不在本部门客户档案中"),
        ("C1", "已不在本部门客户档案中；现为销售二部的重点客户"),
    ]


def test_changes_month_over_month(history: dict[str, Any]) -> None:
    rows = rows_of(history["2025-12"]["book"]["变化"])
    facts = {r[0]: r[1] for r in rows[:6] if r[0]}
    assert (facts["新报部门"], facts["缺报部门（D106）"]) == ("销售四部", "销售三部")
    per = {r["部门"]: r for r in table_after(rows, "各部门客户与额度变化")}
    assert (per["销售一部"]["新增客户"], per["销售一部"]["减少客户"]) == (1, 1)  # A4 came, A3 went
    assert (per["销售二部"]["额度上调"], per["销售二部"]["新增黑名单命中"]) == (1, 1)
    assert "销售四部" not in per  # a new department's customers are not "new customers"
    tiers = {r["上月 \\ 本月"]: r for r in table_after(rows, "系统等级的变化")}
    assert tiers["VIP客户"]["VIP客户"] == 1 and tiers["合格类客户"]["合格类客户"] == 3
    assert tiers["合格类客户"]["（减少）"] == 1 and tiers["（新增）"]["合格类客户"] == 1
    grades = {r["上月 \\ 本月"]: r for r in table_after(rows, "系统信用等级的变化")}
    assert grades["B"]["B"] == 4 and grades["（新增）"]["B"] == 1
    limits = table_after(rows, "信用额度的调整")
    assert [(r["客户编码"], r["上月额度(元)"], r["本月额度(元)"], r["变化(元)"]) for r in limits] == [
        ("B1", 50_000, 80_000, 30_000)
    ]
    hits = table_after(rows, "新增黑名单命中")
    assert [(r["部门"], r["客户编码"], r["代码"]) for r in hits] == [("销售二部", "B2", "B402")]


def test_trends_over_the_three_months(history: dict[str, Any]) -> None:
    rows = rows_of(history["2025-12"]["book"]["趋势"])
    table = header_table(rows, "月份")
    assert [r["月份"] for r in table] == list(MONTHS)
    assert [r["客户数"] for r in table] == [5, 6, 6]  # 三部's S1 in November only, 四部's F1 in December
    assert [r["VIP占比"] for r in table] == pytest.approx([1 / 5, 1 / 6, 1 / 6])
    assert [r["当前占用额合计(元)"] for r in table] == [110_000, 110_000, 185_000]
    assert [r["C 信用"] for r in table] == [0, 0, 4]
    page = history["2025-12"]["html"]
    assert page.count('<svg class="chart"') == 3 + 4  # 部门汇总's three, 趋势's four
    trend = html_table(page, "近 3 个月")
    assert [r["客户"] for r in trend] == ["5", "6", "6"]


def test_the_html_report_holds_the_same_numbers_and_needs_no_network(history: dict[str, Any]) -> None:
    page = history["2025-12"]["html"]
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)  # nothing fetched
    assert "<link" not in page and "@import" not in page
    assert html_table(page, "本月概况")[0] == {"项目": "月份", "内容": "2025-12"}
    flagged = {r["客户编码"]: r for r in html_table(page, "有标记的客户")}
    assert sorted(flagged) == ["A1", "A4", "B2"]
    assert flagged["A1"]["建议措施"] == "压缩至额度内" and flagged["B2"]["建议措施"] == "续签/清收；重新调查"
    figures = {r["部门"]: r for r in html_table(page, "其他表单统计")}
    assert figures["销售一部"]["E601不予报销(元)"] == "300.00" and figures["公司"]["满意率"] == "50.0%"
    lost = html_table(page, "流失的重点客户")
    assert [(r["部门"], r["客户编码"]) for r in lost] == [("销售一部", "A2")]
    changes = {r["部门"]: r for r in html_table(page, "各部门（与 2025-11 相比）")}
    assert (changes["销售一部"]["新增"], changes["销售一部"]["减少"]) == ("1", "1")


def test_no_unmasked_contact_in_any_output(history: dict[str, Any]) -> None:
    december = history["2025-12"]
    out = december["out"]
    texts = {
        "html": december["html"],
        "csv": (out / "公司客户.csv").read_text(encoding="utf-8-sig"),
        "json": december["stdout"],
    }
    with zipfile.ZipFile(out / "公司汇总.xlsx") as package:
        texts["workbook"] = "".join(package.read(n).decode("utf-8", "replace") for n in package.namelist())
    for name, text in texts.items():
        for secret in (MOBILE, ADDRESS_MOBILE, EMAIL, "wangfang@"):
            assert secret not in text, (name, secret)
    assert "139****5678" in texts["csv"] and "w***@kangda.cn" in texts["csv"]
    assert "137****5678" in texts["workbook"]  # the mobile typed into 地址
    customers = {r[4]: r for r in rows_of(december["book"]["公司客户"])[1:]}
    assert customers["A1"][14] == "139****5678"  # 联系电话 (the column after 联系人)
    code, _, _ = consolidate(
        str(history["base"] / "in" / "2025-12"), "--month", "2025-12", "-o", str(out / "明文.xlsx"),
        "--csv", str(out / "明文.csv"), "--no-history", "--unmask",
    )  # fmt: skip
    assert code == 1
    assert MOBILE in (out / "明文.csv").read_text(encoding="utf-8-sig")


def test_the_history_records_the_run_and_its_outputs(history: dict[str, Any]) -> None:
    con = duckdb.connect(str(history["store"]), read_only=True)
    try:
        outputs = con.execute(
            "SELECT kind, path, protected, masked, sha256 FROM outputs WHERE month = '2025-12' ORDER BY kind"
        ).fetchall()
        runs = con.execute(
            "SELECT \"user\", host, output_sha256 FROM runs WHERE month = '2025-12'"
        ).fetchall()
    finally:
        con.close()
    out = history["2025-12"]["out"]
    assert [(k, Path(p).name, pr, m) for k, p, pr, m, _ in outputs] == [
        ("csv", "公司客户.csv", False, True), ("html", "报告.html", False, True), ("workbook", "公司汇总.xlsx", False, True),
    ]  # fmt: skip
    from xlcrm.batch.discover import sha256_of

    assert {Path(p).name: s for _, p, _, _, s in outputs}["报告.html"] == sha256_of(out / "报告.html")
    assert runs[0][0] and runs[0][1] and runs[0][2] == sha256_of(out / "公司汇总.xlsx")
    manifest = {r[0]: r[1] for r in rows_of(history["2025-12"]["book"]["清单"]) if r and r[0]}
    assert manifest["输出：HTML 报告"].endswith("报告.html（未加密）")
    assert manifest["运行人"] == runs[0][0] and manifest["主机"] == runs[0][1]


def pdf_text(pdf: Path) -> tuple[str, list[tuple[float, float]]]:
    """(the PDF's text without spaces, every page's size in points)."""
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True)
    info = subprocess.run(
        ["pdfinfo", "-f", "1", "-l", "9999", str(pdf)], capture_output=True, text=True, check=True
    ).stdout
    sizes = [(float(w), float(h)) for w, h in re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info)]
    return re.sub(r"\s+", "", text.stdout), sizes


def a4_landscape(sizes: list[tuple[float, float]]) -> bool:
    return bool(sizes) and all(abs(w - 841.9) < 1 and abs(h - 595.3) < 1 for w, h in sizes)


@needs_chromium
def test_the_html_report_in_a_browser(history: dict[str, Any], tmp_path: Path) -> None:
    page = history["2025-12"]["out"] / "报告.html"
    pdf, shot = tmp_path / "报告.pdf", tmp_path / "报告.png"
    printed = chromium(page, "--no-pdf-header-footer", f"--print-to-pdf={pdf}")
    assert pdf.is_file(), printed.stderr
    text, size = pdf_text(pdf)
    assert a4_landscape(size)  # as the page's @page asks
    for title in ("总览", "部门汇总", "授信执行", "大客户分析", "变化", "趋势", "运行记录"):
        assert title in text
    # the charts' text is drawn (SVG text, Chinese glyphs), and the right-most columns are on the page
    for drawn in ("VIP与优选类客户占比（对比上限）", "各部门问题（按类别）", "信用额度使用率", "问题按类别（不含已豁免）",
                  "VIP上限15%", "调查过期(户)", "续签/清收；重新调查", "E601不予报销(元)", "收益计划利润额(万元)"):  # fmt: skip
        assert drawn in text, drawn
    assert MOBILE not in text and "139****5678" not in text  # contacts are not in the report at all
    taken = chromium(page, f"--screenshot={shot}", "--window-size=1400,1000", "--hide-scrollbars")
    assert shot.is_file() and shot.stat().st_size > 20_000, taken.stderr


@needs_soffice
def test_the_company_workbook_through_libreoffice(history: dict[str, Any], tmp_path: Path) -> None:
    book = history["2025-12"]["out"] / "公司汇总.xlsx"
    converted = soffice("--convert-to", "pdf", "--outdir", str(tmp_path), str(book))
    pdf = tmp_path / "公司汇总.pdf"
    assert pdf.is_file(), converted.stderr
    text, size = pdf_text(pdf)
    assert a4_landscape(size)  # every printed page of every sheet
    for title in (
        "公司汇总总览2025-12",
        "部门汇总2025-12",
        "大客户分析2025-12",
        "变化2025-12与2025-11",
        "趋势（近3个月",
    ):
        assert title in text, title
    # LibreOffice drew the native charts: their titles are in the PDF only when a chart is drawn
    for chart in ("VIP与优选类客户占比（对比上限）", "各部门问题（按类别）", "信用额度使用率（占用额÷额度）", "客户数",
                  "信用额度与占用额（元）"):  # fmt: skip
        assert chart in text, chart
    assert "压缩至额度内" in text and "续签/清收；重新调查" in text
    assert MOBILE not in text and "139****5678" in text


SPELLED = {  # a mobile as staff type it → the digits that must not survive anywhere
    "王先生 139.2468.1357": "13924681357",
    "李女士 138 - 2468 - 2468": "13824682468",
    "赵总 137–2468–3579": "13724683579",
}


def test_mobiles_in_names_and_products_are_masked_in_every_section(tmp_path: Path) -> None:
    """Customer names and products in 授信执行, 大客户分析 and 变化 (this month's and the
    history's) are masked like 公司客户's, and a mobile written with dots or en dashes too."""
    from tests.months import customer, grant
    from tests.workbooks import write_departments

    def department(month: str) -> dict[str, Any]:
        names = list(SPELLED)
        gone = customer("K1", names[0], 501, **{"客户类别": "重点客户", "年业务量(万元)": 80})
        kept = customer("K2", names[1], 502, **{"客户类别": "重点客户", "年业务量(万元)": 90,
                                                   "经营品种": f"假肢、{names[2]}"})  # fmt: skip
        new = customer("K3", names[2], 503, **{"联系人": names[0]})
        archive = [gone, kept] if month == "2025-11" else [kept, new]
        raised = 80_000 if month == "2025-12" else 50_000
        credit = [{"客户编码": "K2", **grant(raised, 90_000, 30_000)}]
        return {"department": "销售一部", "rows": {"客户档案": archive, "信用评定": credit}}

    store, out = tmp_path / "history.duckdb", tmp_path / "out"
    texts: dict[str, str] = {}
    for month in ("2025-11", "2025-12"):
        write_departments(tmp_path / month, [department(month)])
        extra = ["--html", str(out / "报告.html"), "--csv", str(out / "客户.csv"), "--format", "json"]
        code, stdout, stderr = consolidate(
            str(tmp_path / month), "--month", month, "-o", str(out / f"{month}.xlsx"), "--history", str(store),
            *(extra if month == "2025-12" else []),
        )  # fmt: skip
        assert code in (0, 1), stderr
    texts["json"] = stdout
    texts["html"] = (out / "报告.html").read_text(encoding="utf-8")
    texts["csv"] = (out / "客户.csv").read_text(encoding="utf-8-sig")
    with zipfile.ZipFile(out / "2025-12.xlsx") as package:
        texts["workbook"] = "".join(package.read(n).decode("utf-8", "replace") for n in package.namelist())
    book = load_workbook(out / "2025-12.xlsx")
    assert [r["客户编码"] for r in table_after(rows_of(book["大客户分析"]), "流失的重点客户")] == ["K1"]
    for name, text in texts.items():
        digits = re.sub(r"[^0-9]", "", text)
        for mobile in SPELLED.values():
            assert mobile not in digits, (name, mobile)
    for masked in ("139****1357", "138****2468", "137****3579"):
        assert masked in texts["workbook"] and masked in texts["html"], masked


def test_a_share_of_no_customers_is_drawn_as_no_bar() -> None:
    """A department whose customers all lack 客户等级 has no VIP share (NaN): the chart leaves it out.

    The HTML report stopped with "cannot convert float NaN to integer" for such a month.
    """
    from xlcrm.render import svg

    nan = float("nan")
    chart = svg.bars("占比", ["销售一部", "销售二部"], [svg.Series("VIP占比", [nan, 0.1])], percent=True)
    assert chart.count("<rect") - chart.count('<rect x="0"') >= 1 and "nan" not in chart.lower()
    assert "销售二部 VIP占比: 10%" in chart and "销售一部 VIP占比" not in chart
    empty = svg.bars("占比", ["销售一部"], [svg.Series("VIP占比", [nan])], percent=True)
    assert "<svg" in empty and "nan" not in empty.lower()
    trend = svg.lines("趋势", ["2025-11", "2025-12"], [svg.Series("错误", [nan, 3.0])])
    assert "<svg" in trend and "nan" not in trend.lower()


def test_a_department_that_submitted_an_empty_archive_is_compared_not_missing(tmp_path: Path) -> None:
    """销售二部 files B1 in November and a 客户档案 with no rows in December: it submitted
    (checked, no D106), so 总览 and 变化 do not list it as missing; B1 is a removed customer.

    The sections took the month's departments from the 客户档案 rows, so a checked submission
    without any was "缺报部门（D106）" while D106 itself (rightly) did not fire.
    """
    from tests.months import customer
    from tests.workbooks import write_departments

    store, out = tmp_path / "history.duckdb", tmp_path / "out"
    for month in ("2025-11", "2025-12"):
        second = [] if month == "2025-12" else [customer("B1", "乙一有限公司", 601)]
        write_departments(
            tmp_path / month,
            [
                {"department": "销售一部", "rows": {"客户档案": [customer("A1", "甲一有限公司", 602)]}},
                {"department": "销售二部", "rows": {"客户档案": second}},
            ],
        )
        code, stdout, stderr = consolidate(
            str(tmp_path / month), "--month", month, "-o", str(out / f"{month}.xlsx"), "--history", str(store),
            "--format", "json",
        )  # fmt: skip
        assert code in (0, 1), stderr
    assert not [d for d in json.loads(stdout)["diagnostics"] if d["code"] == "D106"]
    book = load_workbook(out / "2025-12.xlsx")
    overview = {r[0]: r[1] for r in rows_of(book["总览"]) if r and r[0]}
    assert (overview["新报部门"], overview["缺报部门（D106）"]) == ("无", "无")
    rows = rows_of(book["变化"])
    per = {r["部门"]: r for r in table_after(rows, "各部门客户与额度变化")}
    second = per["销售二部"]
    assert (second["本月客户"], second["上月客户"], second["减少客户"]) == (0, 1, 1)
    tiers = {r["上月 \\ 本月"]: r for r in table_after(rows, "系统等级的变化")}
    assert tiers["合格类客户"]["（减少）"] == 1


def test_a_department_without_admitted_customers_has_no_share_not_nan(tmp_path: Path) -> None:
    """销售一部 files one 潜在客户 only (no tier base): its VIP and 优选 shares are NULL in the
    history, as utilisation without a limit is — never NaN, which DuckDB sorts above every number,
    so an analyst's ``WHERE vip_share > vip_cap`` listed the department as over the cap."""
    from tests.months import customer
    from tests.workbooks import write_departments

    prospect = {"客户类别": "潜在客户", "客户等级": None, "证照齐全": None, "经营资质齐全": None,
                "已签购销合同": None, "有违法记录": None}  # fmt: skip
    write_departments(
        tmp_path / "in",
        [
            {
                "department": "销售一部",
                "rows": {"客户档案": [customer("A1", "甲一有限公司", 611, **prospect)]},
            },
            {"department": "销售二部", "rows": {"客户档案": [customer("B1", "乙一有限公司", 612)]}},
        ],
    )
    store = tmp_path / "history.duckdb"
    code, _, stderr = consolidate(
        str(tmp_path / "in"),
        "--month",
        "2025-12",
        "-o",
        str(tmp_path / "公司汇总.xlsx"),
        "--history",
        str(store),
    )
    assert code in (0, 1), stderr
    con = duckdb.connect(str(store), read_only=True)
    try:
        shares = con.execute(
            "SELECT department, admitted, vip_share, preferred_share FROM submissions ORDER BY position"
        ).fetchall()
        over = con.execute(
            "SELECT department FROM submissions WHERE vip_share > vip_cap OR preferred_share > preferred_cap"
        ).fetchall()
    finally:
        con.close()
    assert shares == [("销售一部", 0, None, None), ("销售二部", 1, 0.0, 0.0)]
    assert over == []


def test_a_missing_department_loses_no_key_account(tmp_path: Path) -> None:
    """销售二部's key account B1 in November; in December 销售二部 does not submit (D106). B1 is
    not a lost key account — nothing is known of 销售二部's 客户档案 now, as 变化 does not
    count its customers as removed — and 总览's paragraph says 流失 0 家."""
    from tests.months import KEY, customer
    from tests.workbooks import write_departments

    store, out = tmp_path / "history.duckdb", tmp_path / "out"
    first = {"department": "销售一部", "rows": {"客户档案": [customer("A1", "甲一有限公司", 621, **KEY)]}}
    second = {"department": "销售二部", "rows": {"客户档案": [customer("B1", "乙一有限公司", 622, **KEY)]}}
    for month, departments in (("2025-11", [first, second]), ("2025-12", [first])):
        write_departments(tmp_path / month, departments)
        code, _, stderr = consolidate(
            str(tmp_path / month), "--month", month, "-o", str(out / f"{month}.xlsx"), "--history", str(store),
            "--html", str(out / f"{month}.html"),
        )  # fmt: skip
        assert code in (0, 1), stderr
    book = load_workbook(out / "2025-12.xlsx")
    assert table_after(rows_of(book["大客户分析"]), "流失的重点客户") == []
    paragraph = next(r[0] for r in rows_of(book["总览"]) if r[0] and str(r[0]).startswith("与 2025-11 相比"))
    assert "流失 0 家" in paragraph and "缺报部门 1 个" in paragraph
    assert "流失的重点客户（0 家）" in (out / "2025-12.html").read_text(encoding="utf-8")


def test_key_account_collections_by_month_are_0_when_there_are_none(tmp_path: Path) -> None:
    """October: 销售一部's key account A1 and 销售二部's B1 (月均回款额 150,000 each); November:
    销售二部 does not submit; December: A1 is an 一般客户, B1 a key account again. By month,
    销售一部 collects 150,000, 150,000 and 0 (it submitted, with no key account) and 销售二部
    150,000, blank (no submission) and 150,000; a month no key account collected in is 0, not
    left out of the table."""
    from tests.months import KEY, credit, customer, grant
    from tests.workbooks import write_departments

    def first(key: bool) -> dict[str, Any]:
        a1 = customer("A1", "甲一有限公司", 631, **(KEY if key else {}))
        return {
            "department": "销售一部",
            "rows": {"客户档案": [a1], "信用评定": [credit("A1", **grant(100_000, 0, 0))]},
        }

    second = {
        "department": "销售二部",
        "rows": {
            "客户档案": [customer("B1", "乙一有限公司", 632, **KEY)],
            "信用评定": [credit("B1", **grant(100_000, 0, 0))],
        },
    }
    store, out = tmp_path / "history.duckdb", tmp_path / "out"
    for month, departments in (
        ("2025-10", [first(True), second]),
        ("2025-11", [first(True)]),
        ("2025-12", [first(False), second]),
    ):
        write_departments(tmp_path / month, departments)
        code, _, stderr = consolidate(
            str(tmp_path / month), "--month", month, "-o", str(out / f"{month}.xlsx"), "--history", str(store)
        )
        assert code in (0, 1), stderr
    book = load_workbook(out / "2025-12.xlsx")
    by_month = table_after(rows_of(book["大客户分析"]), "重点客户月均回款额")
    assert [(r["部门"], r["2025-10"], r["2025-11"], r["2025-12"]) for r in by_month] == [
        ("销售一部", 150_000, 150_000, 0),
        ("销售二部", 150_000, None, 150_000),
        ("合计", 300_000, 150_000, 150_000),
    ]


LONG_NAMES = (
    "华北区医疗器械销售一部 010-12345678",
    "销售二部",
    "销售三部",
    "销售四部",
    "华南区医疗器械销售五部 service@corp.cn",
)


@needs_chromium
def test_a_printed_table_title_is_never_alone_at_the_foot_of_a_page(tmp_path: Path) -> None:
    """Printed, each table's title (h3) goes to the page its table starts on: with five
    departments of long names, 各部门 stayed alone under the three charts of 部门汇总."""
    from xlcrm.batch.demo import write_department

    folder = tmp_path / "in"
    folder.mkdir()
    for name in LONG_NAMES:
        write_department(folder / f"{name}.xlsx", name)
    page, pdf = tmp_path / "报告.html", tmp_path / "报告.pdf"
    code, _, stderr = consolidate(
        str(folder), "-o", str(tmp_path / "公司汇总.xlsx"), "--no-history", "--html", str(page)
    )
    assert code in (0, 1), stderr
    titles = {
        re.sub(r"\s+", "", html.unescape(t)) for t in re.findall(r"<h3>(.*?)</h3>", page.read_text("utf-8"))
    }
    printed = chromium(page, "--no-pdf-header-footer", f"--print-to-pdf={pdf}")
    assert pdf.is_file(), printed.stderr
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True)
    for number, lines in enumerate((p.splitlines() for p in text.stdout.split("\f") if p.strip()), 1):
        last = re.sub(r"\s+", "", [line for line in lines if line.strip()][-1])
        assert last not in titles, f"page {number} ends with the title {last}"


@needs_chromium
def test_a_chart_draws_every_category_label_inside_itself(tmp_path: Path) -> None:
    """A long department name under a bar (slanted) is shortened to fit the chart: drawn whole,
    its start ran off the chart's bottom and left edges and was cut. The name stays in full in
    its tooltip."""
    from xlcrm.render import svg

    long = "华北区医疗器械销售一部（北京、天津、河北）"
    names = [long, "销售二部", "华南区医疗器械销售五部 service@corp.cn"]
    chart = svg.bars("各部门", names, [svg.Series("错误", [3, 4, 5])])
    probe = """<script>
    const box = document.querySelector('svg').getBoundingClientRect();
    const out = [...document.querySelectorAll('svg text')].filter(t => { const r = t.getBoundingClientRect();
      return r.left < box.left - 1 || r.right > box.right + 1 || r.top < box.top - 1 || r.bottom > box.bottom + 1; });
    document.body.setAttribute('data-out', out.map(t => t.textContent).join('|') || 'none');
    </script>"""
    page = tmp_path / "chart.html"
    page.write_text(
        f'<!DOCTYPE html><meta charset="utf-8"><body style="margin:0;padding:0">{chart}{probe}</body>',
        "utf-8",
    )
    dumped = chromium(page, "--window-size=900,400", "--dump-dom")
    found = re.search(r'data-out="([^"]*)"', dumped.stdout)
    assert found is not None, dumped.stderr
    assert found.group(1) == "none"
    assert f"<title>{long}</title>" in chart  # the label's own tooltip
