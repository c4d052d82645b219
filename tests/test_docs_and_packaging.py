"""The README's generated tables are current; the wheel ships validators/ inside xlcrm."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from xlcrm.docs import update_readme

ROOT = Path(__file__).resolve().parent.parent


def test_readme_tables_are_generated_from_the_declarations() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert update_readme(text) == text, "run `make docs`"
    assert "| S005 | error |" in text and "| 联系电话 | Phone | `phone` |" in text


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
