"""Run LibreOffice headless with a private profile, so parallel runs never share one.

Two soffice processes with the same user profile hand their work to each other (or wait on
the profile's lock); a fresh ``-env:UserInstallation`` per call keeps each run independent.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

HAVE_SOFFICE = shutil.which("soffice") is not None
needs_soffice = pytest.mark.skipif(not HAVE_SOFFICE, reason="LibreOffice (soffice) is not installed")


def soffice(*args: str, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    """``soffice --headless --norestore <args>`` with a throw-away profile."""
    with tempfile.TemporaryDirectory(prefix="lo-profile-") as profile:
        return subprocess.run(
            [
                "soffice",
                f"-env:UserInstallation={Path(profile).as_uri()}",
                "--headless",
                "--norestore",
                *args,
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
