"""The generated docs are current and cite their documents; the wheel ships validators/ inside xlcrm."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

from xlcrm.docs import documents, update_generated

ROOT = Path(__file__).resolve().parent.parent


def test_the_generated_tables_are_current() -> None:
    for name in ("README.md", "docs/policy.md"):
        text = (ROOT / name).read_text(encoding="utf-8")
        assert update_generated(text) == text, f"run `make docs` ({name})"
    policy = (ROOT / "docs" / "policy.md").read_text(encoding="utf-8")
    assert "| S005 | error |" in policy and "| 联系电话 | Phone | 电话、联系方式" in policy
    assert "| `tiers.vip_min_total` | 85 | VIP客户最低总分 |" in policy


def test_every_clause_reference_in_the_policy_reference_names_its_document() -> None:
    """A reader with the repository and the company's rulebook can follow each reference."""
    text = (ROOT / "docs" / "policy.md").read_text(encoding="utf-8")
    prose = re.sub(r"<!-- BEGIN GENERATED: documents.*?END GENERATED: documents -->", "", text, flags=re.S)
    references = list(re.finditer(r"(?<![\d|])(00\d)(?: (?:篇.|中通|日常))? §[\d.a-z（）()、,，–-]+", prose))
    assert len(references) > 20
    for found in references:
        title = documents()[found.group(1)]["short"]
        around = prose[found.start() : found.end() + 40]
        assert title in around or re.match(r"[、，,–-]", prose[found.end() :]), found.group(0)
    assert "../shared" not in text and "../shared" not in (ROOT / "README.md").read_text(encoding="utf-8")


def test_wheel_ships_validators_inside_the_package(tmp_path: Path) -> None:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next(tmp_path.glob("xlcrm-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "xlcrm/validators/forms.toml" in names and "xlcrm/validators/rules.toml" in names
    assert not any(n.startswith("validators/") for n in names)
