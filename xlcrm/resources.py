"""Locate the declarative data shipped from the repository's ``validators/`` folder.

In a wheel the folder is installed as ``xlcrm/validators`` (see ``pyproject.toml``); in a
source checkout (editable install, tests) it is read from the repository root. It is data,
never an importable package, so it cannot shadow the PyPI package named ``validators``.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

_PACKAGE_DIR = Path(__file__).resolve().parent


def validators_dir() -> Path:
    """The folder holding forms.toml, formats.toml and rules.toml."""
    for candidate in (_PACKAGE_DIR / "validators", _PACKAGE_DIR.parent / "validators"):
        if (candidate / "forms.toml").is_file():
            return candidate
    raise FileNotFoundError("xlcrm installation is incomplete: validators/forms.toml not found")


@cache
def load_toml(name: str) -> dict[str, Any]:
    """Parse one of the shipped TOML declaration files (cached)."""
    with (validators_dir() / name).open("rb") as fh:
        return tomllib.load(fh)
