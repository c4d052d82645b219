"""The command line through click's runner: output, JSON contract, exit codes, options."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.workbooks import AS_OF, write_case
from xlcrm.cli import cli
from xlcrm.policy import default_policy
from xlcrm.registry import rules
from xlcrm.sample import PLANTED, WAIVED, write_sample

JSON_KEYS = {"code", "severity", "file", "sheet", "cell", "row", "column", "customer_code", "message"}


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    return write_sample(tmp_path / "销售一部.xlsx")


def run(*args: str) -> tuple[int, str, str]:
    if args and args[0] == "check" and "--as-of" not in args:
        args = (*args, "--as-of", AS_OF.isoformat())  # date rules count from a fixed day
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def planted_counts() -> tuple[int, int]:
    """Errors and warnings the sample's planted findings count (waived ones do not)."""
    counted = list(PLANTED)
    for waived in WAIVED:
        counted.remove(waived)
    severities = [rules()[code].severity for code, _, _ in counted]
    return severities.count("error"), severities.count("warning")


def test_text_output_is_grouped_and_located(sample: Path) -> None:
    code, out, _ = run("check", str(sample))
    assert code == 1
    headings = [
        out.index(f"\n  {sheet}  (")
        for sheet in (
            "客户档案",
            "客户评价",
            "信用评定",
            "黑名单",
            "投诉记录",
            "费用报销",
            "回访记录",
            "收益计划",
            "大客户优惠",
            "豁免",
            "备注",
        )
    ]
    assert headings == sorted(headings)
    assert "K6" in out and "S005 错误" in out and "[C003]" in out and "1380013800" in out
    errors, warnings = planted_counts()
    assert f"共 {len(PLANTED)} 个问题：{errors} 个错误，{warnings} 个警告，{len(WAIVED)} 个已豁免" in out
    assert out.count("（已豁免）") == len(WAIVED)


def test_json_output_follows_the_contract(sample: Path) -> None:
    code, out, _ = run("check", str(sample), "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert set(data) == {"diagnostics", "summary"}
    assert [(d["code"], d["sheet"], d["cell"]) for d in data["diagnostics"]] == PLANTED
    for item in data["diagnostics"]:
        assert set(item) >= JSON_KEYS
        assert item["severity"] in ("error", "warning")
        assert item["file"] == str(sample)
    phone = next(d for d in data["diagnostics"] if d["code"] == "S005")
    assert phone == phone | {"row": 6, "column": "联系电话", "customer_code": "C003", "cell": "K6"}
    assert "格式" in phone["message"]
    missing = next(d for d in data["diagnostics"] if d["code"] == "S009")
    assert missing["cell"] is None and missing["row"] is None and missing["customer_code"] is None
    assert (data["summary"]["errors"], data["summary"]["warnings"]) == planted_counts()
    assert data["summary"]["waived"] == 2 and data["summary"]["as_of"] == "2025-12-31"
    assert [(d["code"], d["sheet"], d["cell"]) for d in data["diagnostics"] if d["waived"]] == WAIVED
    assert data["summary"]["exit_code"] == 1


def test_english_messages(sample: Path) -> None:
    _, out, _ = run("check", str(sample), "--format", "json", "--lang", "en")
    messages = [d["message"] for d in json.loads(out)["diagnostics"]]
    assert any("wrong format" in m for m in messages)
    assert all("应为" not in m for m in messages)


def test_select_and_ignore_by_prefix(sample: Path) -> None:
    _, out, _ = run("check", str(sample), "--format", "json", "--select", "S00", "--ignore", "S007,S009")
    codes = {d["code"] for d in json.loads(out)["diagnostics"]}
    assert codes == {"S002", "S003", "S004", "S005", "S006", "S008"}
    code, out, _ = run("check", str(sample), "--select", "S009")
    assert code == 0 and "S009" in out  # only a warning left
    code, _, err = run("check", str(sample), "--select", "Q1")
    assert code == 2 and "Q1" in err


def test_clean_workbook_exits_zero(tmp_path: Path) -> None:
    path = write_case(tmp_path / "ok.xlsx", {"客户档案": [{"客户编码": "C001"}]})
    code, out, _ = run("check", str(path))
    assert code == 0 and "没有发现问题" in out


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("notes.txt", b"hello", "不支持的文件类型"),
        ("renamed.xlsx", b"a,b\n1,2\n", "文本或 CSV 文件"),
        ("missing.xlsx", None, "文件不存在"),
    ],
)
def test_unusable_file_is_one_line_and_exit_2(
    tmp_path: Path, name: str, content: bytes | None, words: str
) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    code, out, err = run("check", str(path))
    assert code == 2
    assert words in err and name in err
    assert "Traceback" not in err + out
    assert len(err.strip().splitlines()) == 1


def test_batch_goes_on_after_an_unusable_file(tmp_path: Path, sample: Path) -> None:
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a zip")
    code, out, _ = run("check", str(bad), str(sample), "--format", "json")
    assert code == 2
    data = json.loads(out)
    assert len(data["diagnostics"]) == len(PLANTED)
    assert data["summary"]["unusable"][0]["file"] == str(bad)


def test_workbook_without_any_form(tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["随便", "写点"])
    book.save(tmp_path / "x.xlsx")
    code, _, err = run("check", str(tmp_path / "x.xlsx"), "--lang", "en")
    assert code == 2 and "no form found" in err


def test_bad_as_of_date_is_a_usage_error(sample: Path) -> None:
    code, _, err = run("check", str(sample), "--as-of", "2025-13-01")
    assert code == 2 and "2025-13-01" in err


@pytest.mark.parametrize("as_of", ["9999-12-31", "0001-01-01", "1900-12-31", "3000-01-01"])
def test_an_as_of_date_the_rules_cannot_count_from_is_a_usage_error(sample: Path, as_of: str) -> None:
    code, out, err = run("check", str(sample), "--as-of", as_of)
    assert code == 2 and as_of in err and "1901-01-01" in err and "内部错误" not in err + out


def test_an_as_of_parameter_the_rules_cannot_count_from_is_one_line(tmp_path: Path) -> None:
    """参数!基准日期 in year 9999: the file is unusable, naming the cell; --as-of still checks it."""
    path = write_case(tmp_path / "x.xlsx", {"客户档案": [{}]}, parameters={"基准日期": "9999-12-31"})
    result = CliRunner().invoke(cli, ["check", str(path)])  # no --as-of: the parameter counts
    code, out, err = result.exit_code, result.stdout, result.stderr
    assert code == 2 and "参数!B" in err and "9999-12-31" in err and len(err.strip().splitlines()) == 1
    assert "内部错误" not in err + out
    code, _, _ = run("check", str(path), "--as-of", "2025-12-31")
    assert code in (0, 1)


def test_a_parameters_sheet_naming_no_known_parameter_is_read(tmp_path: Path) -> None:
    """参数 with only 填表人 (or 部門 in traditional characters): no parameter, no internal error."""
    path = write_case(
        tmp_path / "x.xlsx", {"客户档案": [{}]}, parameters={"填表人": "张三", "部門": "销售一部"}
    )
    code, out, err = run("check", str(path), "--format", "json")
    assert code == 0, err
    assert json.loads(out)["diagnostics"] == []


@pytest.mark.parametrize("month", ["２０２６-11", "2026-11\n", "2026-1", "2026-13", "٢٠٢٦-11"])
def test_a_month_must_be_written_with_ascii_digits(tmp_path: Path, month: str) -> None:
    code, _, err = run("consolidate", str(tmp_path), "--month", month.replace("\\n", "\n"))
    assert code == 2 and "2026-11" in err  # the usage error shows how to write it


def test_rules_lists_and_explains() -> None:
    code, out, _ = run("rules")
    assert code == 0
    for rule_code in rules():
        assert rule_code in out
    code, out, _ = run("rules", "s005", "--lang", "en")
    assert code == 0 and "Wrong format" in out and "联系电话" in out
    code, _, _ = run("rules", "Z999")
    assert code == 2


def test_demo_writes_and_checks_the_sample(tmp_path: Path) -> None:
    code, out, _ = run("demo", "--out", str(tmp_path / "demo"))
    assert code == 0
    assert (tmp_path / "demo" / "销售一部_客户管理台账.xlsx").is_file()
    assert (tmp_path / "demo" / "templates" / "客户管理台账.xlsx").is_file()
    assert "K6" in out and "S005" in out and "退出码为 1" in out
    annotated = tmp_path / "demo" / "销售一部_客户管理台账.checked.xlsx"
    assert annotated.is_file() and str(annotated) in out
    company = tmp_path / "demo" / "公司汇总_2025-12.xlsx"  # the demo month, consolidated
    assert company.is_file() and str(company) in out
    report = tmp_path / "demo" / "公司汇总_2025-12.html"  # and its HTML report
    assert report.is_file() and str(report) in out and "授信执行" in report.read_text(encoding="utf-8")
    assert (tmp_path / "demo" / "xlcrm-history.duckdb").is_file()
    assert len(list((tmp_path / "demo" / "月度汇总" / "2025-12").iterdir())) == 5
    code, _, _ = run("demo", "--out", str(tmp_path / "demo"))  # a second run replaces its own files
    assert code == 0


def test_html_report_is_escaped_and_complete(tmp_path: Path) -> None:
    path = write_case(
        tmp_path / "x.xlsx", {"客户档案": [{"客户编码": "C001", "客户类型": "<script>alert(1)</script>"}]}
    )
    code, out, _ = run("check", str(path), "--format", "html")
    assert code == 1
    assert out.startswith("<!DOCTYPE html>") and "xlcrm 检查报告" in out
    assert "<script>" not in out and "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert '<td class="cell">D2</td><td class="code">S004</td>' in out


def test_the_same_file_twice_is_checked_once(sample: Path) -> None:
    _, out, _ = run("check", str(sample), str(sample.parent / "." / sample.name), "--format", "json")
    assert [(d["code"], d["sheet"], d["cell"]) for d in json.loads(out)["diagnostics"]] == PLANTED


def test_blacklist_file_contributes_only_its_blacklist(tmp_path: Path, sample: Path) -> None:
    company = write_case(
        tmp_path / "公司黑名单.xlsx", {"客户档案": [{"客户编码": "X001"}], "黑名单": [{"客户名称": "某公司"}]}
    )
    _, out, _ = run("check", str(sample), "--blacklist", str(company), "--format", "json")
    diagnostics = json.loads(out)["diagnostics"]
    assert not any(d["file"] == str(company) and d["sheet"] != "黑名单" for d in diagnostics)
    assert [(d["code"], d["sheet"], d["cell"]) for d in diagnostics if d["file"] == str(sample)] == PLANTED
    nothing = write_case(tmp_path / "无黑名单.xlsx", {"客户档案": [{}]}, omit_sheets=("黑名单",))
    code, _, err = run("check", str(sample), "--blacklist", str(nothing))
    assert code == 2 and "没有黑名单表" in err


def test_every_output_covers_the_other_forms(sample: Path) -> None:
    """JSON, CSV, HTML and text carry the other forms' findings like any other, in both languages."""
    other = [p for p in PLANTED if p[1] in ("投诉记录", "费用报销", "回访记录", "收益计划", "大客户优惠")]
    assert {code for code, _, _ in other} >= {"P501", "P502", "P503", "E601", "V101", "V102", "R701", "K801"}
    _, out, _ = run("check", str(sample), "--format", "json")
    found = {(d["code"], d["sheet"], d["cell"]): d for d in json.loads(out)["diagnostics"]}
    for place in other:
        assert set(found[place]) >= JSON_KEYS and found[place]["message"], place
    late = found[("P501", "投诉记录", "H3")]
    assert late["row"] == 3 and late["column"] == "首次响应时间" and late["customer_code"] == "C002"
    assert "2025-11-20 16:40" in late["message"] and "41 小时 25 分" in late["message"]
    assert late["values"]["received"] == "2025-11-20T16:40:00"  # a date-time in JSON: ISO 8601
    _, english, _ = run("check", str(sample), "--format", "json", "--lang", "en")
    late_en = next(d for d in json.loads(english)["diagnostics"] if d["code"] == "P501")
    assert "41 h 25 min later" in late_en["message"]
    _, csv_text, _ = run("check", str(sample), "--format", "csv")
    for code, sheet, cell in other:
        assert f"{code},{'错误' if rules()[code].severity == 'error' else '警告'}," in csv_text
        assert f",{sheet},{cell}," in csv_text
    _, html, _ = run("check", str(sample), "--format", "html")
    for code, sheet, cell in other:
        assert code in html and sheet in html and f">{cell}<" in html
    _, text, _ = run("check", str(sample))
    assert "投诉记录  (" in text and "P501 错误" in text and "K803 警告" in text


def test_help_is_chinese_first(sample: Path) -> None:
    for args in ([], ["check"], ["process"], ["rules"], ["policy"], ["templates"], ["demo"]):
        result = CliRunner().invoke(cli, [*args, "--help"])
        assert result.exit_code == 0
        assert "用法 / Usage:" in result.stdout and "选项 / Options:" in result.stdout
        assert "显示本帮助并退出。 Show this message and exit." in result.stdout
        options = result.stdout.split("选项 / Options:")[1]
        for line in options.splitlines():  # every option's help starts in Chinese
            if line.strip().startswith("-") and "  " in line.strip():
                text = line.strip().split("  ", 1)[1].strip()
                assert re.match(r"[\u4e00-\u9fff]", text), line


@pytest.mark.parametrize(
    ("args", "chinese"),
    [
        (["check"], "缺少参数 / Missing argument '文件/FILES...'"),
        (["check", "a.xlsx", "--format", "xml"], "'--format' 的值无效"),
        (["check", "a.xlsx", "--bogus"], "没有这个选项 / No such option '--bogus'"),
        (["chek"], "没有这个命令 / No such command 'chek'"),
    ],
)
def test_usage_errors_are_chinese_first(args: list[str], chinese: str) -> None:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert chinese in result.stderr and "错误 / Error:" in result.stderr and "Traceback" not in result.stderr


def test_csv_says_severity_and_waived_in_the_language_asked(sample: Path) -> None:
    _, out, _ = run("check", str(sample), "--format", "csv")
    rows = list(csv.reader(io.StringIO(out.lstrip("\ufeff"))))
    assert rows[0][1] == "级别" and rows[0][9] == "已豁免"
    assert {r[1] for r in rows[1:]} == {"错误", "警告"} and {r[9] for r in rows[1:]} == {"是", "否"}
    assert sum(1 for r in rows[1:] if r[9] == "是") == len(WAIVED)
    _, out, _ = run("check", str(sample), "--format", "csv", "--lang", "en")
    rows = list(csv.reader(io.StringIO(out.lstrip("\ufeff"))))
    assert {r[1] for r in rows[1:]} == {"error", "warning"} and {r[9] for r in rows[1:]} == {"yes", "no"}


def test_text_marks_waived_findings_in_the_language_asked(sample: Path) -> None:
    """A waived finding's line ends with the word in the language asked, in that language's brackets."""
    from xlcrm.registry import phrases

    word = phrases()["waived"]
    _, out, _ = run("check", str(sample))
    assert out.count(f"（{word['zh']}）") == len(WAIVED)
    _, out, _ = run("check", str(sample), "--lang", "en")
    assert out.count(f" ({word['en']})") == len(WAIVED) and "（" + word["en"] not in out


def test_html_marks_waived_findings_in_the_language_asked(sample: Path) -> None:
    """As the text output: Chinese brackets in Chinese, plain ones in English (the department's source too)."""
    from xlcrm.registry import phrases

    word = phrases()["waived"]
    _, out, _ = run("check", str(sample), "--format", "html")
    assert out.count(f"（{word['zh']}）") == len(WAIVED) and "（依据 " in out
    _, out, _ = run("check", str(sample), "--format", "html", "--lang", "en")
    assert out.count(f"({word['en']})") == len(WAIVED) and "(from " in out
    assert "（" + word["en"] not in out and "（from " not in out


def test_html_names_the_rule_families_in_the_language_asked(sample: Path) -> None:
    """The overview table and chart of check's HTML: 格式/准入 … in Chinese, Format/Admission … in English."""
    from xlcrm.batch.report import FAMILIES

    _, chinese, _ = run("check", str(sample), "--format", "html")
    _, english, _ = run("check", str(sample), "--format", "html", "--lang", "en")
    for family in ("S", "A", "C"):
        zh, en = FAMILIES[family]
        assert f"<td>{zh}</td>" in chinese and f"{family} {zh}" in chinese
        assert f"<td>{en}</td>" in english and f"{family} {en}" in english
        assert f"<td>{zh}</td>" not in english


def test_rules_explains_placeholders_and_columns() -> None:
    result = CliRunner().invoke(cli, ["rules", "C304"])
    assert "{missing} = 缺少的审批" in result.stdout
    assert "信用评定.总经理审批" in result.stdout and "信用评定.董事长审批" in result.stdout
    assert "002 = 《客户管理制度模板》" in result.stdout  # the clause names its document
    result = CliRunner().invoke(cli, ["rules", "T202", "--lang", "en"])
    assert "{allowed} = at most this many within the quota" in result.stdout


def test_policy_names_each_value_with_its_unit() -> None:
    out = CliRunner().invoke(cli, ["policy"]).stdout
    assert re.search(r"tiers\.vip_min_total\s+= 85\s+# VIP客户最低总分（分）；默认值", out)
    assert re.search(r"deadlines\.filing_working_days\s+= 5\s+# .*（工作日）", out)
    assert len(out.splitlines()) == len(default_policy().values)


def test_a_blank_template_says_the_forms_hold_no_rows() -> None:
    template = Path(__file__).parent.parent / "workbook_templates" / "客户管理台账.xlsx"
    code, out, _ = run("check", str(template))
    assert code == 0 and "表单中没有任何数据行（0 个客户）" in out and "没有发现问题" not in out
    _, out, _ = run("check", str(template), "--format", "json")
    assert set(json.loads(out)["summary"]["rows"].values()) == {0}


def test_json_text_is_compact_readable_and_takes_what_orjson_refuses() -> None:
    """--format json's encoder: Chinese as itself, no NaN (invalid JSON); an integer past 64 bits
    and a name's undecodable bytes still give the standard library's text, not an error."""
    from xlcrm.render.json import dumps

    assert dumps({"说明": "客户编码", "n": [1, 2.5, None]}) == '{"说明":"客户编码","n":[1,2.5,null]}'
    assert json.loads(dumps({"x": float("nan")})) == {"x": None}
    assert json.loads(dumps({"big": 2**70})) == {"big": 2**70}
    assert dumps({"file": "a\udcffb"}) == json.dumps({"file": "a\udcffb"}, ensure_ascii=False)


_CJK = re.compile(r"[\u3400-\u9fff\uff01-\uff5e\u3001-\u3011]")


def test_an_input_errors_detail_is_said_in_the_language_asked() -> None:
    """No InputError value is a fixed text holding Chinese: xlcrm's own words come as a Phrase.

    A bilingual "中文 / English" detail showed its Chinese half in English mode and its
    English half in Chinese mode.
    """
    import ast

    root = Path(__file__).parent.parent / "xlcrm"
    fixed = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "InputError"):
                continue
            for keyword in node.keywords:
                for part in ast.walk(keyword.value):
                    if isinstance(part, ast.Call):  # Phrase(...): said per language
                        break
                    if (
                        isinstance(part, ast.Constant)
                        and isinstance(part.value, str)
                        and _CJK.search(part.value)
                    ):
                        fixed.append(f"{path.name}:{node.lineno} {keyword.arg}={part.value!r}")
    assert fixed == []


def test_a_wrong_policy_file_and_a_missing_suffix_in_english(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    bare = tmp_path / "bare"
    bare.write_bytes(b"x")
    for text, words in (
        ("bogus = 1\n", "unknown key “bogus”"),
        ("[quotas]\nvip_share = 2\n", "a share is at most 1"),
        ("[tiers]\nvip_min_total = 'x'\n", "wrong type"),
    ):
        policy.write_text(text, encoding="utf-8")
        result = CliRunner().invoke(cli, ["policy", "--policy", str(policy), "--lang", "en"])
        assert result.exit_code == 2 and words in result.stderr
        assert not _CJK.search(result.stderr.replace(str(tmp_path), "")), result.stderr
        result = CliRunner().invoke(cli, ["policy", "--policy", str(policy)])
        assert " / " not in result.stderr and words not in result.stderr and _CJK.search(result.stderr)
    code, _, err = run("check", str(bare), "--lang", "en")
    assert code == 2 and "(no extension)" in err and not _CJK.search(err.replace(str(tmp_path), ""))
