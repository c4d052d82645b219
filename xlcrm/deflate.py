"""Big parts deflated with ISA-L through zipfile: the one place for the hook this needs.

zipfile deflates with zlib. ISA-L writes the same raw deflate format about six times faster
at its level 1 (a little larger than zlib's level 1). zipfile has no public way to choose the
compressor of a member being written, so the member's compressor is swapped right after the
member is opened, before any byte is written; zipfile still computes the CRC and the sizes.
The hook is CPython's private ``_compressor``: should a release rename it, nothing is swapped
and zlib deflates the member as before — the output stays right, only slower.

zipfile also checksums every byte with ``zlib.crc32`` (0.17 s for the 680 MB of a big company
sheet); ISA-L's ``crc32`` computes the same CRC-32 about six times faster. Importing this module
points zipfile's module-level ``crc32`` at it, for every member written or read: the values
are the same, so nothing else changes.
"""

from __future__ import annotations

import zipfile
import zlib
from typing import IO

from isal import isal_zlib

_ZLIB = type(zlib.compressobj())
if getattr(zipfile, "crc32", None) is zlib.crc32:  # the name zipfile checksums each member with
    zipfile.crc32 = isal_zlib.crc32  # type: ignore[attr-defined]


def deflate_fast(member: IO[bytes]) -> None:
    """Have ISA-L (level 1) deflate a zip member just opened for writing with ZIP_DEFLATED."""
    if isinstance(getattr(member, "_compressor", None), _ZLIB):
        member._compressor = isal_zlib.compressobj(1, isal_zlib.DEFLATED, -15)  # type: ignore[attr-defined]
