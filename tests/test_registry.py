"""The rule catalogue is well-formed, bilingual and fully covered by cases."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from xlcrm.registry import rule_functions, rules

CASES = Path(__file__).parent / "cases"


def test_codes_are_well_formed_and_unique() -> None:
    codes = list(rules())
    assert codes, "no rules declared"
    assert len(codes) == len(set(codes))
    for code in codes:
        assert re.fullmatch(r"[SATCBXPERKVD]\d{3}", code), code
        assert rules()[code].severity in ("error", "warning")


def test_zh_and_en_templates_use_the_same_placeholders() -> None:
    for rule in rules().values():
        assert rule.placeholders("zh") == rule.placeholders("en"), rule.code
        assert rule.title_zh and rule.title_en and rule.clause


def test_every_code_has_cases_that_expect_it() -> None:
    for code, rule in rules().items():
        if rule.retired:
            continue
        path = CASES / f"{code}.yaml"
        assert path.is_file(), f"{code} has no tests/cases/{code}.yaml"
        cases = yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]
        expected = [item[0] for case in cases for item in case["expect"]]
        assert code in expected, f"no case of {code} expects {code}"


def test_every_case_file_names_a_declared_code() -> None:
    for path in CASES.glob("*.yaml"):
        assert path.stem in rules(), path.name
        assert yaml.safe_load(path.read_text(encoding="utf-8"))["code"] == path.stem


def test_rule_functions_match_declarations() -> None:
    functions = rule_functions()
    declared = {code for code, rule in rules().items() if rule.source == "rule"}
    assert set(functions) == declared


def test_cached_messages_keep_true_and_1_apart() -> None:
    """Messages are cached by their values; True == 1 in Python, but the cells differ."""
    from xlcrm.diagnostics import Diagnostic

    args = {"column": "床位数", "type": "integer", "allowed": ()}
    as_bool = Diagnostic("S003", sheet="客户档案", cell="K5", args={**args, "value": True})
    as_number = Diagnostic("S003", sheet="客户档案", cell="K6", args={**args, "value": 1})
    assert "True" in as_bool.message() and "True" not in as_number.message()
    assert "“1”" in as_number.message()


def test_a_rendered_message_travels_with_its_diagnostic_and_a_changed_copy_renders_afresh() -> None:
    """A worker renders a finding's messages once; its client shows them without rendering again.

    Input: one A102 diagnostic (credit code 91…, check digit T), rendered in both languages.
    Expected: the unpickled copy carries both texts; a copy with other values (``replace``) and
    a copy marked hidden say what their own values say, not the original's.
    """
    import dataclasses
    import pickle

    from xlcrm.diagnostics import Diagnostic

    args = {"column": "统一社会信用代码", "value": "91110108MA0000015Y", "check_digit": "T"}
    original = Diagnostic("A102", "a.xlsx", "客户档案", "H17", 17, "统一社会信用代码", "K1", args)
    zh, en = original.message("zh"), original.message("en")
    assert "91110108MA0000015Y" in zh and "91110108MA0000015Y" in en and zh != en
    copy = pickle.loads(pickle.dumps(original))
    assert copy == original and copy._text == (zh, en)  # kept: the client does not render it again
    assert copy.message("zh") == zh and copy.message("en") == en
    other = dataclasses.replace(original, args={**args, "value": "91330000MA0000027X"})
    assert "91330000MA0000027X" in other.message("zh") and "91110108MA0000015Y" not in other.message("zh")
    hidden = dataclasses.replace(original, hidden="row")
    assert hidden.message("zh").startswith(zh) and hidden.message("zh") != zh


def test_every_placeholder_has_a_meaning_and_every_listed_column_exists() -> None:
    """`xlcrm rules CODE` can explain every placeholder and name every column a rule reads."""
    from xlcrm.forms import forms

    for rule in rules().values():
        for name in rule.placeholders("zh"):
            assert rule.meaning(name, "zh") and rule.meaning(name, "en"), (rule.code, name)
        for place in rule.columns:
            form, key = place.split(".")
            assert forms()[form].column(key), (rule.code, place)
