"""Run headless Chromium on a page: print it to PDF (A4 as the page's @page asks) or screenshot it.

A fresh user-data folder per call, so parallel runs never share a profile; no network is
needed (the pages under test are self-contained files).
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")


def chromium(page: Path, *args: str, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    """``chromium --headless --no-sandbox <args> file://page`` with a throw-away profile."""
    assert CHROMIUM is not None
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        return subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
             f"--user-data-dir={profile}", *args, page.resolve().as_uri()],
            capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
