"""Big parts deflated with ISA-L through zipfile: the one place for the hook this needs.

zipfile deflates with zlib. ISA-L writes the same raw deflate format about six times faster
at its level 1 (a little larger than zlib's level 1). zipfile has no public way to choose the
compressor of a member being written, so the member's compressor is swapped right after the
member is opened, before any byte is written; zipfile still computes the CRC and the sizes.
The hook is CPython's private ``_compressor``: should a release rename it, nothing is swapped
and zlib deflates the member as before — the output stays right, only slower.
"""

from __future__ import annotations

import zlib
from typing import IO

from isal import isal_zlib

_ZLIB = type(zlib.compressobj())


def deflate_fast(member: IO[bytes]) -> None:
    """Have ISA-L (level 1) deflate a zip member just opened for writing with ZIP_DEFLATED."""
    if isinstance(getattr(member, "_compressor", None), _ZLIB):
        member._compressor = isal_zlib.compressobj(1, isal_zlib.DEFLATED, -15)  # type: ignore[attr-defined]
