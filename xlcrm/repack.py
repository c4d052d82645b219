"""A copy of a checked package that python-calamine reads in one pass instead of two.

python-calamine reads a worksheet twice: once for its cells, and then once more from the
start for its merged ranges (``<mergeCells>``, which comes after the cells), inflating and
tokenising the whole sheet again to find a few ranges at its end — about a third of its time.
When a sheet has no merged ranges at all, an empty ``<mergeCells></mergeCells>`` placed just
before ``<sheetData>`` ends that second pass at once, and python-calamine's cell reader skips
the elements before ``<sheetData>``: the cells read are the same.

**Halves.** A sheet that is most of the workbook (at least ``SPLIT_MIN`` bytes, more than
twice all the others together and four times the shared-string table, which each half's
python-calamine handle loads again) is split at a row's end near its middle into two packages,
which python-calamine parses at once in two threads (it parses without the GIL); the reader
(``xlcrm.reader``) joins the two grids. Only a sheet whose every cell carries its reference
(the pre-flight's fast or measuring scan), whose ``<sheetData>`` tag is plain, and whose cell
data — up to the first end tag named ``sheetData`` of any prefix, where python-calamine stops —
holds no comment, CDATA section or processing instruction is split, and only at a ``</row>``
after a closed cell: then each half's cells, positions and values are exactly the whole
sheet's, and the joined grid is the whole grid. Halves whose rows overlap (cells out of row
order), or a half that fails to parse, are not joined: the reader parses the input whole
instead (its rows, or its error, exactly as without the split).

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

import functools
import io
import re
import tempfile
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from xlcrm.interrupts import held
from xlcrm.preflight import Limits, Source, inflate
from xlcrm.sheetscan import HEAD_MAX, SHEET_DATA

_MERGE = b"mergeCell"
_COPY = 4 << 20
SPLIT_MIN = 8 << 20  # a sheet's XML worth parsing in two halves (~7,500 rows of 20 columns)
_MARKS = 10_000  # ``!`` or ``?`` characters in a sheet's cells beyond which it is not split
_WINDOW = 1 << 20  # how far past the middle a row's end is looked for
_NAME = b"sheetData"
_END_TAG = re.compile(rb"</(?:[^\s<>/:!?]+:)?")  # before "sheetData": its end tag, prefixed or not
_LOOK_BACK = 256
_DECLARATION = re.compile(rb"(?:\xef\xbb\xbf)?<\?xml[^<>]*\?>")
_ROOT = re.compile(rb"<([^\s<>/!?][^\s<>/]*)")  # the first element: the part's root


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
        self.closes = -1  # where ``</sheetData`` starts
        self.odd = False  # a comment, CDATA section or processing instruction among the cells
        self._tail = b""
        self._marks = 0  # ``!`` and ``?`` looked at
        self.failed = False  # the temporary folder could not take it (a full disk): read the input

    def restart(self) -> None:
        """Start again from the part's first byte (the pre-flight reads a part more than once)."""
        self.close()
        self.complete, self.head, self.prefix, self.merges = False, -1, b"", False
        self._prelude, self._last, self._size = b"", b"", 0
        self.closes, self.odd, self._tail, self._marks = -1, False, b"", 0
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
        if self.head >= 0 and self.closes < 0 and not self.merges and not self.odd:
            self._watch(chunk)
        self._size += len(chunk)
        if self._handle is not None:
            try:
                self._handle.write(chunk)
            except OSError:  # the copy is only a speed-up: never a reason to refuse the input
                self.failed = True
                self.close()

    def _watch(self, chunk: bytes) -> None:
        """Where the cell data ends, and whether a comment, CDATA section or PI comes before it.

        The data ends at the first end tag named ``sheetData`` with any prefix or none (where
        python-calamine stops). ``!`` and ``?`` are rare in sheet XML and found at memory speed;
        each is looked at for a ``<`` before it (a sheet with too many is simply not split).
        """
        offset = self._size  # the chunk's first byte in the part
        low = max(0, self.head - offset)
        at, keep = -1, len(self._tail)
        if not low:  # a name that began in the previous chunk
            joint = self._tail + chunk[: len(_NAME) - 1]
            found = joint.find(_NAME, max(0, keep - len(_NAME) + 1))
            if found >= 0:
                at = self._end_tag(joint, found, offset - keep)
        found = chunk.find(_NAME, low)
        while at < 0 and found >= 0 and not self.odd:
            if found >= _LOOK_BACK:
                at = self._end_tag(chunk, found, offset)
            else:
                joint = self._tail + chunk[:found]
                at = self._end_tag(joint, keep + found, offset - keep)
            found = chunk.find(_NAME, found + 1)
        end = max(0, at - offset) if at >= 0 else len(chunk)
        for mark in (b"!", b"?"):
            i = chunk.find(mark, low, end)
            while i >= 0 and not self.odd:
                self._marks += 1
                if (chunk[i - 1 : i] if i else self._tail[-1:]) == b"<" or self._marks > _MARKS:
                    self.odd = True
                i = chunk.find(mark, i + 1, end)
        self.closes = at
        self._tail = chunk[-_LOOK_BACK:] if len(chunk) >= _LOOK_BACK else (self._tail + chunk)[-_LOOK_BACK:]

    def _end_tag(self, data: bytes, name: int, offset: int) -> int:
        """Where the end tag whose name ends at ``sheetData`` (at ``name``) starts, or -1 if none."""
        opening = data.rfind(b"<", max(0, name - _LOOK_BACK), name)
        if opening < 0:  # a prefix longer than looked back at: not worth telling
            self.odd = True
            return -1
        if _END_TAG.fullmatch(data, opening, name) is None:
            return -1  # the start tag, or text that says "sheetData"
        return offset + opening

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
    def size(self) -> int:
        """Bytes of the part spooled so far."""
        return self._size

    @property
    def usable(self) -> bool:
        """Whether the copy may put the empty marker into this sheet: all of it, no merged ranges."""
        return self.complete and self.head >= 0 and not self.merges

    def marker(self) -> bytes:
        """The empty ``<mergeCells>`` placed before ``<sheetData>`` (none if not usable)."""
        return b"<%smergeCells></%smergeCells>" % (self.prefix, self.prefix) if self.usable else b""

    def halves(self) -> tuple[int, int, bytes] | None:
        """Where a split can go: (end of the ``<sheetData>`` tag, the cut, what closes the first half).

        Only where nothing can be mistaken: a plain ``<sheetData>`` tag after nothing but the
        declaration and elements, and a ``</row>`` right after a closed cell (``_row_end``).
        Should a half still fail to parse, the reader parses the input whole (xlcrm.reader).
        """
        if not self.usable or self.odd or self.closes < 0:
            return None
        start_tag = b"<" + self.prefix + b"sheetData>"
        with self.path.open("rb") as spooled:
            head = spooled.read(self.head + len(start_tag))
            declared = _DECLARATION.match(head)
            after = declared.end() if declared else 0
            root = _ROOT.search(head, after, self.head)
            if head[self.head :] != start_tag or root is None or b"<!" in head[: self.head]:
                return None
            if b"<?" in head[after : self.head]:
                return None
            start = self.head + len(start_tag)
            middle = (start + self.closes) // 2
            low = max(start, middle - 65536)
            spooled.seek(low)
            window = spooled.read(min(self.closes, middle + _WINDOW) - low)
        cut = _row_end(window, middle - low, self.prefix)
        if cut < 0:
            return None
        closing = b"</" + self.prefix + b"sheetData></" + root.group(1) + b">"
        return start, low + cut, closing

    def copy_into(
        self, archive: zipfile.ZipFile, name: str, pieces: list[bytes | tuple[int, int]] | None = None
    ) -> None:
        """The part (or ``pieces`` of it: bytes, and spans of the spool) as a stored member."""
        if pieces is None:
            pieces = [(0, max(self.head, 0)), self.marker(), (max(self.head, 0), self._size)]
        info = _stored(name)
        info.file_size = sum(len(p) if isinstance(p, bytes) else p[1] - p[0] for p in pieces)
        with self.path.open("rb") as spooled, archive.open(info, "w") as member:
            for piece in pieces:
                if isinstance(piece, bytes):
                    member.write(piece)
                    continue
                spooled.seek(piece[0])
                left = piece[1] - piece[0]
                while left > 0:
                    block = spooled.read(min(_COPY, left))
                    if not block:
                        raise OSError("the spool is shorter than it was")
                    member.write(block)
                    left -= len(block)


def _row_end(window: bytes, begin: int, prefix: bytes) -> int:
    """Where the first ``</row>`` from ``begin`` that follows a closed cell ends, or -1.

    Closed: ``</c>``, or a self-closing ``<c r="B7" s="1"/>`` (LibreOffice's styled empty cells)
    whose attribute values hold no ``<`` or ``>``.
    """
    row_end, cell_end = b"</" + prefix + b"row>", b"</" + prefix + b"c>"
    empty = _empty_cell(prefix)
    at = window.find(row_end, begin)
    while at >= 0:
        if window.endswith(cell_end, 0, at):
            return at + len(row_end)
        cell = window.rfind(b"<" + prefix + b"c ", max(0, at - 1024), at)
        if cell >= 0 and empty.fullmatch(window, cell, at):
            return at + len(row_end)
        at = window.find(row_end, at + 1)
    return -1


@functools.cache
def _empty_cell(prefix: bytes) -> re.Pattern[bytes]:
    return re.compile(
        rb"<" + re.escape(prefix) + rb'c r="[A-Z]{1,3}[0-9]{1,7}"(?: [A-Za-z][\w:.-]*="[^"<>]*")*/>'
    )


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
            source.spools, source.repacked, source.halves = {}, None, {}
    finally:
        if made is not None:
            with held():  # removed whole, even when a signal comes meanwhile
                made.cleanup()


def repack(source: Source, limits: Limits) -> None:
    """Write the copy python-calamine reads (``source.repacked``) when a sheet gains by it.

    A sheet worth splitting (``_worth_splitting``) gets its second half in a package of its own
    (``source.halves``) and only its first half in the copy.
    """
    spools = source.spools
    if not any(spool.usable for spool in spools.values()):
        return
    target = next(iter(spools.values())).path.with_name("book.xlsx")
    split = _worth_splitting(source)
    try:
        if split is None or not _write_halves(source, limits, target, *split):
            _write(source, limits, target, {})
    except Exception:  # a damaged or encrypted part only a writer reads, a full disk: read the input
        target.unlink(missing_ok=True)
        source.halves.clear()
        return
    finally:
        for spool in spools.values():
            spool.path.unlink(missing_ok=True)
    source.repacked = target


def _write_halves(
    source: Source, limits: Limits, target: Path, name: str, cut: tuple[int, int, bytes]
) -> bool:
    """The copy with ``name``'s first half, and its second half's package, written at once.

    Copying a spool is reading, CRC and writing, each without the GIL: the two packages take
    about the time of one. False (the copy not written) when the second half could not be: the
    split is only a speed-up, and the copy is then written whole.
    """
    second = target.with_name("half.xlsx")
    with ThreadPoolExecutor(max_workers=1) as pool:
        written = pool.submit(_write, source, limits, second, {name: (cut, 2)})
        _write(source, limits, target, {name: (cut, 1)})
        try:
            written.result()
        except Exception:
            second.unlink(missing_ok=True)
            return False
    source.halves[name] = second
    return True


# The error values python-calamine reads; any other (#SPILL!, #CALC!, #FIELD!, #BLOCKED!,
# #GETTING_DATA … newer Excel's) makes it refuse the whole workbook.
READABLE_MAX = 256 << 20  # the uncompressed parts ``known_errors`` copies in memory, at most
CALAMINE_ERRORS = frozenset({"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!"})
_CELL = re.compile(rb"<((?:[\w.-]+:)?)c\b([^>]*)(?<!/)>(.*?)</\1c>", re.S)
_TYPED_ERROR = re.compile(rb"""\bt\s*=\s*["']e["']""")
_VALUE = re.compile(rb"(<(?:[\w.-]+:)?v>)([^<]*)(</(?:[\w.-]+:)?v>)")


def known_errors(source: Source, limits: Limits, scans: dict[str, Any]) -> None:
    """A copy python-calamine can read (``source.readable``) when a sheet holds an error value it does not know.

    The pre-flight read every error cell's own text (S010 shows it: ``#SPILL!``); in the copy each
    unknown error value reads ``#N/A``, an error too, so the cell reads as it would otherwise.
    Nothing else changes. The copy is in memory and holds every part whole (no halves); a
    package of more than ``READABLE_MAX`` uncompressed is not copied (refused as before).
    """
    if all(
        not text.startswith("#") or text in CALAMINE_ERRORS
        for scan in scans.values()
        for text in scan.errors.values()
    ):
        return
    sheets = {part for part in source.sheet_parts.values() if part}
    buffer = io.BytesIO()
    with source.zip() as original, zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED, allowZip64=True) as copy:
        if sum(info.file_size for info in original.infolist()) > READABLE_MAX:
            return  # too big to copy in memory: python-calamine refuses it as before (one line)
        for member in dict.fromkeys(original.namelist()):
            info = original.getinfo(member)
            data = b"".join(inflate(original, info, source.label, limits))
            copy.writestr(info, _CELL.sub(_known, data) if member in sheets else data, zipfile.ZIP_STORED)
    source.readable, source.repacked = buffer.getvalue(), None
    source.halves.clear()


def _known(cell: re.Match[bytes]) -> bytes:
    if not _TYPED_ERROR.search(cell[2]):
        return cell[0]
    inner = _VALUE.sub(
        lambda v: v[0] if v[2].decode("utf-8", "replace") in CALAMINE_ERRORS else v[1] + b"#N/A" + v[3],
        cell[3],
    )
    return b"<" + cell[1] + b"c" + cell[2] + b">" + inner + b"</" + cell[1] + b"c>"


def _worth_splitting(source: Source) -> tuple[str, tuple[int, int, bytes]] | None:
    """The sheet to parse in two halves, and where; None when no sheet gains by it.

    The sheet must be most of the workbook and four times its shared strings (which each
    half's handle loads again), with every cell referenced.
    """
    spools = source.spools
    if len(spools) > 1 and not all(spool.complete for spool in spools.values()):
        return None  # the sizes of all the sheets are not known
    name = max(spools, key=lambda n: spools[n].size)
    size = spools[name].size
    if size < SPLIT_MIN or size <= 2 * sum(s.size for s in spools.values() if s is not spools[name]):
        return None
    if source.spelled.get(name) not in ("fast", "measure"):  # cells without references: order decides
        return None
    with source.zip() as archive:  # each half's handle loads the shared strings again
        strings = sum(
            i.file_size for i in archive.infolist() if i.filename.lower().endswith("sharedstrings.xml")
        )
    if strings * 4 > size:
        return None
    cut = spools[name].halves()
    return None if cut is None else (name, cut)


def _write(
    source: Source, limits: Limits, target: Path, split: dict[str, tuple[tuple[int, int, bytes], int]]
) -> None:
    """The stored copy; a sheet in ``split`` holds only its first or its second half.

    A second half's package holds no other sheet's cells (they are read from the copy).
    """
    parts = {source.sheet_parts[name]: name for name, spool in source.spools.items() if spool.complete}
    second = any(half == 2 for _, half in split.values())
    with source.zip() as original, zipfile.ZipFile(target, "w", zipfile.ZIP_STORED, allowZip64=True) as copy:
        # a name twice: the entry getinfo (and calamine) uses
        for member in dict.fromkeys(original.namelist()):
            sheet = parts.get(member)
            if sheet is not None and sheet in split:
                spool = source.spools[sheet]
                (start, cut, closing), half = split[sheet]
                marker = spool.marker()
                if half == 1:
                    pieces: list[bytes | tuple[int, int]] = [
                        (0, spool.head),
                        marker,
                        (spool.head, cut),
                        closing,
                    ]
                else:
                    pieces = [(0, spool.head), marker, (spool.head, start), (cut, spool.size)]
                spool.copy_into(copy, member, pieces)
                continue
            if second and (sheet is not None or member in source.sheet_parts.values()):
                copy.writestr(_stored(member), _EMPTY_SHEET)  # the half's package reads one sheet only
                continue
            if sheet is not None:
                source.spools[sheet].copy_into(copy, member)
                continue
            info = original.getinfo(member)
            stored = _stored(member)
            stored.file_size = info.file_size
            with copy.open(stored, "w") as out:
                for chunk in inflate(original, info, source.label, limits):
                    out.write(chunk)


_EMPTY_SHEET = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData/></worksheet>'
)


def _stored(name: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    return info
