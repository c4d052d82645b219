"""Data-driven rule tests: each tests/cases/CODE.yaml states rows and the exact findings.

Every case builds a workbook holding all four form sheets (unless it omits some), puts the
stated cells on valid base rows (tests/workbooks.py), checks it, and compares the complete,
ordered list of [code, sheet, cell] with the case's ``expect``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.workbooks import write_case
from xlcrm.engine import Options, check

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
    path = write_case(
        tmp_path / "case.xlsx",
        case.get("rows", {}),
        omit_sheets=case.get("omit_sheets", ()),
        drop_columns=case.get("drop_columns"),
        title_rows=case.get("title_rows", 0),
        extra_sheets=case.get("extra_sheets"),
        parameters=case.get("parameters"),
    )
    result = check([path], Options(select=tuple(case.get("select", ()))))
    found = [[d.code, d.sheet, d.cell] for d in result.diagnostics]
    assert found == case["expect"], "\n".join(
        f"{d.location} {d.code} {d.message()}" for d in result.diagnostics
    )
    expected_exit = 1 if any(d.severity == "error" for d in result.diagnostics) else 0
    assert result.exit_code == expected_exit
    for diagnostic in result.diagnostics:  # every message renders fully in both languages
        for lang in ("zh", "en"):
            message = diagnostic.message(lang)
            assert "{" not in message and message.strip()
