"""Data-driven rule tests: each tests/cases/CODE.yaml states rows and the exact findings.

Every case builds a workbook holding all four form sheets (unless it omits some), puts the
stated cells on valid base rows (tests/workbooks.py), checks it as of 2025-12-31 (or its
``as_of``) under the default policy (plus its ``policy`` overrides), and compares the
complete, ordered list of [code, sheet, cell] (plus "waived" for a waived finding) with the
case's ``expect``.

A consolidation case (the D1xx rules, and B401 across departments) states ``departments``
instead of ``rows``: one workbook each (``write_departments``), consolidated for the month
2025-12 in this process, after the months of its ``history`` (each a list of departments
with one valid customer) were stored in a fresh history. Its ``expect`` lists every finding
of the month as [code, department, sheet, cell].
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.workbooks import AS_OF, write_case, write_departments
from xlcrm.engine import Options, check
from xlcrm.policy import Policy, default_policy

CASES_DIR = Path(__file__).parent / "cases"


def load_cases() -> list[tuple[str, dict[str, Any]]]:
    cases = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for case in data["cases"]:
            cases.append((f"{path.stem}: {case['name']}", {"file_code": path.stem, **case}))
    return cases


CASES = load_cases()


@pytest.mark.parametrize(("name", "case"), CASES, ids=[name for name, _ in CASES])
def test_case(name: str, case: dict[str, Any], tmp_path: Path) -> None:
    if "departments" in case:
        consolidation_case(case, tmp_path)
        return
    path = write_case(
        tmp_path / "case.xlsx",
        case.get("rows", {}),
        omit_sheets=case.get("omit_sheets", ()),
        drop_columns=case.get("drop_columns"),
        title_rows=case.get("title_rows", 0),
        extra_sheets=case.get("extra_sheets"),
        parameters=case.get("parameters"),
        auto_evaluations=case.get("auto_evaluations", True),
        auto_credit=case.get("auto_credit", True),
        layout=case.get("layout"),
    )
    blacklist = None
    if "company_blacklist" in case:
        blacklist = write_case(
            tmp_path / "公司黑名单.xlsx",
            {"黑名单": case["company_blacklist"]},
            omit_sheets=("客户档案", "客户评价", "信用评定"),
            drop_columns={"黑名单": case.get("company_blacklist_drop_columns", ())},
        )
    policy = default_policy()
    if "policy" in case:
        policy = Policy({**policy.values, **case["policy"]})
    options = Options(
        as_of=case.get("as_of", AS_OF),
        select=tuple(case.get("select", ())),
        blacklist=blacklist,
        policy=policy,
    )
    result = check([path], options)
    found = [[d.code, d.sheet, d.cell] + (["waived"] if d.waived else []) for d in result.diagnostics]
    assert found == case["expect"], "\n".join(
        f"{d.location} {d.code} {d.message()}" for d in result.diagnostics
    )
    expected_exit = 1 if any(d.severity == "error" and not d.waived for d in result.diagnostics) else 0
    assert result.exit_code == expected_exit
    for diagnostic in result.diagnostics:  # every message renders fully in both languages
        for lang in ("zh", "en"):
            message = diagnostic.message(lang)
            assert "{" not in message and "None" not in message and message.strip()


def consolidation_case(case: dict[str, Any], tmp_path: Path) -> None:
    from xlcrm.batch.consolidate import Settings, consolidate

    history = tmp_path / "history.duckdb"
    blacklist = None
    if "company_blacklist" in case:
        blacklist = write_case(
            tmp_path / "公司黑名单.xlsx",
            {"黑名单": case["company_blacklist"]},
            omit_sheets=("客户档案", "客户评价", "信用评定"),
        )
    options = Options(as_of=case.get("as_of", AS_OF), blacklist=blacklist)
    for earlier in case.get("history", ()):
        month = str(earlier["month"])
        folder = write_departments(
            tmp_path / month,
            [{"department": name, "rows": {"客户档案": [{}]}} for name in earlier["departments"]],
        )[0].parent
        consolidate(Settings((folder,), month, tmp_path / f"{month}.xlsx", options, history=history))
    folder = tmp_path / "month"
    write_departments(folder, case["departments"])
    done = consolidate(Settings((folder,), "2025-12", tmp_path / "out.xlsx", options, history=history))
    found = [
        [f.diagnostic.code, f.department, f.diagnostic.sheet, f.diagnostic.cell]
        for f in done.company.findings
    ]
    assert found == case["expect"], "\n".join(
        f"{f.department} {f.diagnostic.location} {f.diagnostic.code} {f.diagnostic.message()}"
        for f in done.company.findings
    )
    assert all(o.status == "checked" for o in done.company.outcomes)
    if "manifest_errors" in case:  # a submission's counts: check's findings plus the company blacklist's
        from xlcrm.render.consolidation import to_json

        manifest = {m["department"]: m["errors"] for m in to_json(done)["manifest"]}
        assert manifest == case["manifest_errors"]
    for finding in done.company.findings:
        for lang in ("zh", "en"):
            message = finding.diagnostic.message(lang)
            assert "{" not in message and "None" not in message and message.strip()
