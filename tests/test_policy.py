"""The policy file, the as-of date and the working-day calendar, through the command line."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.workbooks import write_case
from xlcrm.cli import cli
from xlcrm.policy import Policy, default_policy, load_policy
from xlcrm.sample import write_sample


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def codes(out: str) -> list[str]:
    return [d["code"] for d in json.loads(out)["diagnostics"]]


def test_every_cfg_value_has_a_shipped_default() -> None:
    values = default_policy().values
    assert values["quotas.vip_share"] == 0.15 and values["quotas.preferred_share"] == 0.30
    assert values["deadlines.filing_working_days"] == 5 and values["credit.b_temporary_max_term_days"] == 15
    assert set(default_policy().sources.values()) == {"default"}


def test_policy_command_shows_values_and_sources(tmp_path: Path) -> None:
    override = tmp_path / "company.toml"
    override.write_text("[quotas]\nvip_share = 0.25\n", encoding="utf-8")
    code, out, _ = run("policy", "--policy", str(override))
    assert code == 0
    line = next(x for x in out.splitlines() if x.startswith("quotas.vip_share"))
    assert "0.25" in line and str(override) in line
    assert next(x for x in out.splitlines() if x.startswith("quotas.preferred_share")).endswith("；默认值")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[quotas\n", "策略文件有误"),
        ("[quotas]\nvip_shar = 0.2\n", "vip_shar"),
        ("[quotas]\nvip_share = '15%'\n", "类型不对"),
        ("[tiers]\nvip_min_hospital_level = '三级'\n", "不是医院等级"),
        ("[quotas]\nvip_share = nan\n", "不是有限的数"),  # an internal error in Fraction
        ("[limits]\nmax_ratio = nan\n", "不是有限的数"),  # switched the zip-bomb check off
        ("[limits]\nmax_cells = -1\n", "不能为负"),  # refused every workbook
        ("[quotas]\npreferred_share = 1.5\n", "不能超过 1"),
        ("[complaints]\nresponse_hours = 1e300\n", "不能超过"),  # overflowed a duration
        ("[deadlines]\nfiling_working_days = 100000000\n", "不能超过"),  # a minute, then overflowed
        ("[tiers]\nvip_min_beds = -5\n", "不能为负"),
        ("[deadlines]\nfiling_working_days = 2.5\n", "须为整数"),  # the rules counted 2 days
        ("[visits]\nkey_account_days = 89.9\n", "须为整数"),
        ("[tiers.vip_min_total]\n", "tiers.vip_min_total” 是一个值，不是一节"),  # was ignored
        ("[tiers]\nvip_min_total = {}\n", "不是一节"),
        ("[tiers.vip_min_total]\nvalue = 90\n", "tiers.vip_min_total” 是一个值，不是一节"),
        ("[" + "a." * 3000 + "a]\n", "嵌套太深"),  # an internal error (RecursionError)
        ("x = " + "[" * 3000 + "]" * 3000 + "\n", "嵌套太深"),
    ],
)
def test_a_bad_policy_file_is_exit_2(tmp_path: Path, text: str, words: str) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(text, encoding="utf-8")
    code, _, err = run("policy", "--policy", str(bad))
    assert code == 2 and words in err and "bad.toml" in err and "Traceback" not in err


def test_an_empty_section_of_a_policy_file_is_left_to_fill(tmp_path: Path) -> None:
    """`[expenses]` with its key commented out, as policy.toml suggests, sets nothing."""
    path = tmp_path / "company.toml"
    path.write_text("[expenses]\n# visit_cap = 800\n[quotas]\nvip_share = 0.2\n", encoding="utf-8")
    assert load_policy(path).values == default_policy().values | {"quotas.vip_share": 0.2}


def test_a_policy_file_that_is_not_a_file_or_too_big_is_exit_2(tmp_path: Path) -> None:
    """A FIFO blocked ``--policy`` until something wrote to it; /dev/zero filled the memory."""
    fifo = tmp_path / "policy.toml"
    os.mkfifo(fifo)
    writer = threading.Thread(target=fifo.write_text, args=("",), daemon=True)  # read, it was a policy
    writer.start()
    try:
        code, _, err = run("policy", "--policy", str(fifo))
    finally:  # let the writer go: it writes nothing and closes
        reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
        writer.join(5)
        os.close(reader)
    assert (code, err) == (2, f"不是文件：{fifo}\n")
    big = tmp_path / "big.toml"
    big.write_text("# " + "x" * (1 << 20) + "\n", encoding="utf-8")
    code, _, err = run("policy", "--policy", str(big))
    assert code == 2 and "big.toml" in err and "1 MB" in err and err.count("\n") == 1


def test_an_override_changes_the_findings(tmp_path: Path) -> None:
    sample = write_sample(tmp_path / "s.xlsx")
    _, out, _ = run("check", str(sample), "--format", "json")
    assert "T202" in codes(out)
    relaxed = tmp_path / "relaxed.toml"
    relaxed.write_text("[quotas]\nvip_share = 0.30\n", encoding="utf-8")
    _, out, _ = run("check", str(sample), "--format", "json", "--policy", str(relaxed))
    assert "T202" not in codes(out)
    assert load_policy(relaxed)["quotas.vip_share"] == 0.30


def test_score_maxima_come_from_the_policy(tmp_path: Path) -> None:
    path = write_case(
        tmp_path / "c.xlsx",
        {"客户档案": [{}], "客户评价": [{"客户编码": "C001", "业务合作量得分": 35, "总分": 80}]},
    )
    _, out, _ = run("check", str(path), "--format", "json", "--as-of", "2025-12-31")
    assert "S006" in codes(out)
    wider = tmp_path / "wider.toml"
    wider.write_text("[scores]\nvolume_max = 40\n", encoding="utf-8")
    _, out, _ = run("check", str(path), "--format", "json", "--as-of", "2025-12-31", "--policy", str(wider))
    assert "S006" not in codes(out)


def test_as_of_comes_from_the_option_then_the_parameter_sheet(tmp_path: Path) -> None:
    sample = write_sample(tmp_path / "s.xlsx")  # its 参数!基准日期 is 2025-12-31
    _, out, _ = run("check", str(sample), "--format", "json")
    assert json.loads(out)["summary"]["as_of"] == "2025-12-31"
    _, out, _ = run("check", str(sample), "--format", "json", "--as-of", "2026-06-30")
    data = json.loads(out)
    assert data["summary"]["as_of"] == "2026-06-30"
    assert codes(out).count("A105") > 1  # archive updates now older than 3 months


def test_years_outside_the_calendar_fall_back_and_say_so_once(tmp_path: Path) -> None:
    path = write_case(
        tmp_path / "f.xlsx",
        {
            "客户档案": [
                {"首次接触日期": "2027-03-01", "备案日期": "2027-03-09"},
                {"首次接触日期": "2028-03-01", "备案日期": "2028-03-02"},
            ]
        },
    )
    code, out, _ = run("check", str(path), "--as-of", "2025-12-31")
    assert code == 1 and "A103" in out
    assert out.count("2027、2028 年不在法定节假日日历") == 1
    _, out, _ = run("check", str(path), "--as-of", "2025-12-31", "--format", "json", "--lang", "en")
    assert json.loads(out)["summary"]["notes"] == [
        "2027、2028 is not covered by the statutory holiday calendar (chinesecalendar); working days are Monday to Friday"
    ]


def test_findings_explain_themselves(tmp_path: Path) -> None:
    sample = write_sample(tmp_path / "s.xlsx")
    _, out, _ = run("check", str(sample), "--format", "json")
    by_code = {d["code"]: d for d in json.loads(out)["diagnostics"]}
    assert "总分 73 < 85" in by_code["T201"]["message"] and "年业务量 120 万元" in by_code["T201"]["message"]
    assert (
        "最高可授信额度 600000 元" in by_code["C305"]["message"]
        and "月均回款额" in by_code["C305"]["message"]
    )
    assert "近两年经营状况一般；资金实力一般" in by_code["C301"]["message"]
    assert "C002（73分）、C003（87分）" in by_code["T202"]["message"]
    assert "按统一社会信用代码匹配" in by_code["B401"]["message"]
    _, out, _ = run("check", str(sample), "--format", "json", "--lang", "en")
    english = {d["code"]: d for d in json.loads(out)["diagnostics"]}
    assert (
        "total 73 < 85" in english["T201"]["message"]
        and "average monthly collection" in english["C305"]["message"]
    )


_VIP = {"客户类型": "医疗机构", "医院等级": "三级甲等", "客户等级": "VIP客户", "经营品种": None}
_SCORES = {"应收款情况得分": 25, "经营信誉得分": 20, "忠诚度得分": 20}


def test_quota_candidates_read_in_the_language_asked(tmp_path: Path) -> None:
    """2 VIP of 2 admitted (cap 15%: none allowed): both over, lowest total first, per language."""
    path = write_case(
        tmp_path / "q.xlsx",
        {
            "客户档案": [_VIP, _VIP],
            "客户评价": [
                {"客户编码": "C001", "业务合作量得分": 25, **_SCORES, "总分": 90},
                {"客户编码": "C002", "业务合作量得分": 23, **_SCORES, "总分": 88},
            ],
        },
    )
    quota = {}
    for lang in ("zh", "en"):
        _, out, _ = run("check", str(path), "--format", "json", "--as-of", "2025-12-31", "--lang", lang)
        quota[lang] = next(d for d in json.loads(out)["diagnostics"] if d["code"] == "T202")
    assert quota["zh"]["message"].endswith("得分最低、超出名额的：C002（88分）、C001（90分）。")
    assert quota["en"]["message"].endswith(
        "lowest-scoring over the quota: C002 (88 points), C001 (90 points)."
    )
    # the values are data, the same in either language
    assert (
        quota["zh"]["values"]["candidates"]
        == quota["en"]["values"]["candidates"]
        == [
            {"customer": "C002", "sheet": "客户档案", "row": 3, "score": 88.0},
            {"customer": "C001", "sheet": "客户档案", "row": 2, "score": 90.0},
        ]
    )


def test_quota_candidates_of_equal_totals_go_in_the_order_of_their_codes(tmp_path: Path) -> None:
    """C1 and C10, VIP without evaluations, among 7 admitted (1 allowed): C1 is over, as before
    the candidates were objects (sorted by "C1（—分）" and "C10（—分）", C10 came first)."""
    others = [{"客户编码": f"C{n}"} for n in range(2, 7)]
    path = write_case(
        tmp_path / "t.xlsx",
        {"客户档案": [{**_VIP, "客户编码": "C1"}, {**_VIP, "客户编码": "C10"}, *others]},
        auto_evaluations=False,
    )
    _, out, _ = run("check", str(path), "--format", "json", "--as-of", "2025-12-31", "--select", "T202")
    (quota,) = json.loads(out)["diagnostics"]
    assert [c["customer"] for c in quota["values"]["candidates"]] == ["C1"]


def test_a_quota_candidate_without_code_or_total_reads_in_either_language() -> None:
    from xlcrm.phrase import Candidate

    nameless = Candidate(None, "客户档案", 7, None)
    assert (nameless.text("zh"), nameless.text("en")) == ("客户档案第7行（—分）", "客户档案 row 7 (no total)")
    half = Candidate("C009", "客户档案", 9, 72.5)
    assert (half.text("zh"), half.text("en")) == ("C009（72.5分）", "C009 (72.5 points)")


def test_months_later_clamps_to_the_end_of_the_month() -> None:
    """The policy's "N months later" (review, survey, cooperation years) on calendar months."""
    import datetime as dt

    import polars as pl

    from xlcrm.workdays import months_later

    days = [dt.date(2025, 8, 31), dt.date(2024, 2, 29), dt.date(2025, 1, 15), None]
    got = pl.DataFrame({"d": days}).select(months_later("d", 6))["d"].to_list()
    assert got == [dt.date(2026, 2, 28), dt.date(2024, 8, 29), dt.date(2025, 7, 15), None]
    got = pl.DataFrame({"d": days}).select(months_later("d", 12))["d"].to_list()
    assert got == [dt.date(2026, 8, 31), dt.date(2025, 2, 28), dt.date(2026, 1, 15), None]


def test_the_visit_expense_cap_is_unset_until_a_policy_file_sets_it(tmp_path: Path) -> None:
    assert default_policy()["expenses.visit_cap"] is None
    _, out, _ = run("policy")
    line = next(x for x in out.splitlines() if x.startswith("expenses.visit_cap"))
    assert "未设置 (off)" in line and "默认值" in line
    _, out, _ = run("policy", "--lang", "en")
    assert "unset (off)" in next(x for x in out.splitlines() if x.startswith("expenses.visit_cap"))
    path = write_case(
        tmp_path / "c.xlsx",
        {"客户档案": [{}], "费用报销": [{"客户编码": "C001", "费用类型": "回访", "金额(元)": 1200}]},
    )
    _, out, _ = run("check", str(path), "--format", "json", "--as-of", "2025-12-31")
    assert codes(out) == []  # E602 is not checked without a cap
    cap = tmp_path / "cap.toml"
    cap.write_text("[expenses]\nvisit_cap = 1000\n", encoding="utf-8")
    code, out, _ = run("policy", "--policy", str(cap))
    assert code == 0 and "1000" in next(x for x in out.splitlines() if x.startswith("expenses.visit_cap"))
    _, out, _ = run("check", str(path), "--format", "json", "--as-of", "2025-12-31", "--policy", str(cap))
    assert codes(out) == ["E602"]
    assert "1000" in json.loads(out)["diagnostics"][0]["message"]
    bad = tmp_path / "bad.toml"
    bad.write_text("[expenses]\nvisit_cap = '一千'\n", encoding="utf-8")
    code, _, err = run("policy", "--policy", str(bad))
    assert code == 2 and "visit_cap" in err and "类型不对" in err


def test_a_policy_copied_to_a_worker_finds_the_cached_schemas() -> None:
    """A worker unpickles the policy of every task: equal values must be the same cache key."""
    import pickle

    from xlcrm.forms import forms
    from xlcrm.schema import form_schema

    policy = default_policy()
    copy = pickle.loads(pickle.dumps(policy))
    assert copy is not policy and copy == policy and hash(copy) == hash(policy)
    assert form_schema(forms()["archive"], copy) is form_schema(forms()["archive"], policy)
    changed = Policy({**policy.values, "tiers.vip_min_total": 90})
    assert changed != policy


_PICKLE_IN_ONE_PROCESS = """
import pickle, sys
from xlcrm.policy import default_policy
policy = default_policy()
hash(policy)  # cached here, under this process's hash seed
assert "_hash" in policy.__dict__
sys.stdout.buffer.write(pickle.dumps(policy))
"""
_UNPICKLE_IN_ANOTHER = """
import pickle, sys
from xlcrm.forms import forms
from xlcrm.policy import default_policy
from xlcrm.schema import form_schema
copy = pickle.loads(sys.stdin.buffer.read())
assert "_hash" not in copy.__dict__, "the cached hash travelled in the pickle"
own = default_policy()
built = form_schema(forms()["archive"], own)
assert hash(copy) == hash(own)
assert form_schema(forms()["archive"], copy) is built
print("found")
"""


def test_a_cached_hash_never_travels_to_another_process() -> None:
    """Policy caches its hash, but a str's hash depends on PYTHONHASHSEED: the pickle leaves it out.

    Pickled under one seed and unpickled under another (as a worker process does), the copy
    still finds the schema the worker built for its own default policy.
    """
    import os
    import subprocess
    import sys

    def python(code: str, seed: str, data: bytes = b"") -> bytes:
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", code], input=data, capture_output=True, env=env, check=False
        )
        assert done.returncode == 0, done.stderr.decode()
        return done.stdout

    pickled = python(_PICKLE_IN_ONE_PROCESS, "1")
    assert python(_UNPICKLE_IN_ANOTHER, "2", pickled).strip() == b"found"


def test_a_decided_grade_and_tier_give_only_the_conditions_that_failed(tmp_path: Path) -> None:
    """A blank condition is unknown: where another fails, the B grade (合格 tier) is stated by the
    failing one alone, never by the blank one taken as failed."""
    path = write_case(
        tmp_path / "blank.xlsx",
        {
            "客户档案": [{"客户类型": "医疗机构", "医院等级": "三级甲等", "客户等级": "VIP客户"}, *[{}] * 7],
            "客户评价": [{"客户编码": "C001", "业务合作量得分": None, "滞期付款次数": 2}],
            "信用评定": [
                {"近两年经营状况": "一般", "资金实力": "雄厚", "守法经营信守承诺": None, "信用等级": "A"}
            ],
        },
    )
    code, out, _ = run("check", str(path), "--format", "json", "--select", "C301,T201")
    found = {d["code"]: d["values"] for d in json.loads(out)["diagnostics"]}
    assert code == 1 and set(found) == {"C301", "T201"}
    assert (found["C301"]["computed"], found["C301"]["why"]) == (
        "B",
        [{"zh": "近两年经营状况一般", "en": "operations 一般"}],
    )
    assert found["T201"]["computed"] == "合格类客户"
    assert [p["zh"] for p in found["T201"]["why"]] == ["滞期付款 2 次、逾期未提货 0 次"]


def test_a_cap_with_a_fraction_of_a_percent_is_shown_as_set(tmp_path: Path) -> None:
    """vip_share = 0.155 was shown rounded (“超过上限 16%”; 7 VIP of 45 read “15.6%，超过上限 16%”)."""
    path = write_case(
        tmp_path / "q.xlsx",
        {
            "客户档案": [_VIP, {}],
            "客户评价": [{"客户编码": "C001", "业务合作量得分": 25, **_SCORES, "总分": 90}, {}],
        },
    )
    policy = tmp_path / "p.toml"
    policy.write_text("[quotas]\nvip_share = 0.155\n", encoding="utf-8")
    _, out, _ = run("check", str(path), "--format", "json", "--as-of", "2025-12-31", "--policy", str(policy))
    quota = next(d for d in json.loads(out)["diagnostics"] if d["code"] == "T202")
    assert "超过上限 15.5%" in quota["message"]
