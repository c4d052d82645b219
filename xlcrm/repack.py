"""A copy of a checked package that python-calamine reads in one pass instead of two.

python-calamine reads a worksheet twice: once for its cells, and then once more from the
start for its merged ranges (``<mergeCells>``, which comes after the cells), inflating and
tokenising the whole sheet again to find a few ranges at its end — about a third of its time.
When a sheet has no merged ranges at all, an empty ``<mergeCells></mergeCells>`` placed just
before ``<sheetData>`` ends that second pass at once, and python-calamine's cell reader skips
the elements before ``<sheetData>``: the cells read are the same.

The pre-flight (``xlcrm.sheetscan``) spools each worksheet's bytes to a private temporary
folder as it scans them, so they are inflated once; the copy is written there with every part
stored (not compressed), and python-calamine reads it: exactly the bytes the pre-flight
measured. A sheet that mentions ``mergeCell`` anywhere goes into the copy unchanged (python-calamine
then reads its merged ranges itself); one the pre-flight did not read to its end is inflated
again from the input. Without a sheet to gain, or when any part fails, the input is read as it
is. The folder (private to the user) is removed when reading ends; a password-protected
input is never written there.
"""

from __future__ import annotations

import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from xlcrm.interrupts import held
from xlcrm.preflight import Limits, Source, inflate
from xlcrm.sheetscan import HEAD_MAX, SHEET_DATA

_MERGE = b"mergeCell"
_COPY = 4 << 20


class Spool:
    """One worksheet's bytes as the pre-flight inflates them, and whether the copy may use them."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.complete = False  # every byte of the part went through
        self.head = -1  # where <sheetData> starts
        self.prefix = b""
        self.merges = False  # "mergeCell" appears somewhere (or the head was not found)
        self._prelude = b""
        self._last = b""
        self._size = 0
        self._handle: Any = None
        self.failed = False  # the temporary folder could not take it (a full disk): read the input

    def restart(self) -> None:
        """Start again from the part's first byte (the pre-flight reads a part more than once)."""
        self.close()
        self.complete, self.head, self.prefix, self.merges = False, -1, b"", False
        self._prelude, self._last, self._size = b"", b"", 0
        if not self.failed:
            try:
                self._handle = self.path.open("wb")
            except OSError:
                self.failed = True

    def write(self, chunk: bytes) -> None:
        """The next chunk of the part."""
        if _MERGE in self._last + chunk[: len(_MERGE)] or _MERGE in chunk:
            self.merges = True
        self._last = chunk[-len(_MERGE) :]
        if self.head < 0 and not self.merges:
            self._prelude += chunk
            found = SHEET_DATA.search(self._prelude)
            if found is not None:
                self.head, self.prefix = found.start(), found.group(1) or b""
                self._prelude = b""
            elif len(self._prelude) > HEAD_MAX:
                self.merges = True
        self._size += len(chunk)
        if self._handle is not None:
            try:
                self._handle.write(chunk)
            except OSError:  # the copy is only a speed-up: never a reason to refuse the input
                self.failed = True
                self.close()

    def finish(self) -> None:
        """The part ended: the spool holds all of it (unless writing it failed)."""
        self.close()
        self.complete = not self.failed

    def close(self) -> None:
        """Close the spool file (it stays for the copy)."""
        if self._handle is not None:
            handle, self._handle = self._handle, None
            try:
                handle.close()
            except OSError:  # the last bytes did not fit
                self.failed = True

    @property
    def usable(self) -> bool:
        """Whether the copy may put the empty marker into this sheet: all of it, no merged ranges."""
        return self.complete and self.head >= 0 and not self.merges

    def copy_into(self, archive: zipfile.ZipFile, name: str) -> None:
        """The part as a stored member, with the empty ``<mergeCells>`` before ``<sheetData>`` if usable."""
        marker = b"<%smergeCells></%smergeCells>" % (self.prefix, self.prefix) if self.usable else b""
        info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_STORED
        info.file_size = self._size + len(marker)
        with self.path.open("rb") as spooled, archive.open(info, "w") as member:
            member.write(spooled.read(max(self.head, 0)))
            member.write(marker)
            shutil.copyfileobj(spooled, member, _COPY)
        self.path.unlink()


@contextmanager
def spooling(source: Source, sheets: list[str]) -> Iterator[None]:
    """Spool ``sheets`` while the pre-flight scans them; the folder goes when the block ends.

    A password-protected input is never spooled: its decrypted bytes stay in memory only.
    """
    if source.password is not None or source.data is not None:
        yield
        return
    made: tempfile.TemporaryDirectory[str] | None = None
    try:
        # made and remembered together (a signal in between would leave the folder); without a
        # usable temporary folder the input is read as it is
        with held(), suppress(OSError):
            made = tempfile.TemporaryDirectory(prefix="xlcrm-read-", ignore_cleanup_errors=True)
        if made is None:
            yield
            return
        source.spools = {name: Spool(Path(made.name) / f"sheet{i}.xml") for i, name in enumerate(sheets)}
        try:
            yield
        finally:
            for spool in source.spools.values():
                spool.close()
            source.spools, source.repacked = {}, None
    finally:
        if made is not None:
            with held():  # removed whole, even when a signal comes meanwhile
                made.cleanup()


def repack(source: Source, limits: Limits) -> None:
    """Write the copy python-calamine reads (``source.repacked``) when a sheet gains by it."""
    spools = source.spools
    if not any(spool.usable for spool in spools.values()):
        return
    target = next(iter(spools.values())).path.with_name("book.xlsx")
    try:
        _write(source, limits, target)
    except Exception:  # a damaged or encrypted part only a writer reads, a full disk: read the input
        target.unlink(missing_ok=True)
        return
    source.repacked = target


def _write(source: Source, limits: Limits, target: Path) -> None:
    parts = {source.sheet_parts[name]: spool for name, spool in source.spools.items() if spool.complete}
    with source.zip() as original, zipfile.ZipFile(target, "w", zipfile.ZIP_STORED, allowZip64=True) as copy:
        for name in dict.fromkeys(original.namelist()):  # a name twice: the entry getinfo (and calamine) uses
            spool = parts.get(name)
            if spool is not None:
                spool.copy_into(copy, name)
                continue
            info = original.getinfo(name)
            stored = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            stored.file_size = info.file_size
            with copy.open(stored, "w") as member:
                for chunk in inflate(original, info, source.label, limits):
                    member.write(chunk)
