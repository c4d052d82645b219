"""The pre-flight check every input passes before any parser reads it (issue 4).

A submission comes from many desks: old .xls files, renamed CSVs, half-copied or
password-protected workbooks, Excel's lock files, and now and then something hostile. Here
each is recognised from its bytes and refused with one clear line (an ``InputError``), with
bounded memory: the zip directory is checked (sizes, ratio, count) before any part is
inflated, parts are inflated in chunks against those limits (a CRC mismatch means a damaged
file), and no XML part may declare a DTD or entities (entity bombs), wherever its prolog
puts one. What a sheet will make the reader allocate, and its S010 cells, are measured next,
by ``xlcrm.sheetscan``, before python-calamine parses any sheet.

The workbook's own XML (workbook.xml and its relationships) is parsed with defusedxml, and
each sheet is mapped to the part exactly as python-calamine will look it up (the workbook's
folder from the package relationships, wherever it is; upper or lower case; Strict or
transitional namespaces), so the part measured is the part read.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

import python_calamine
from defusedxml import ElementTree as SafeTree
from isal import isal_zlib

from xlcrm.errors import InputError
from xlcrm.phrase import Phrase
from xlcrm.policy import Policy

SUFFIXES = (".xlsx", ".xlsm")
LEGACY_SUFFIXES = (".xls", ".et", ".wps")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
CHUNK = 4 << 20
_RAW_BLOCK = 1 << 20  # compressed bytes read at a time
_ISAL_ERROR = cast("type[Exception]", isal_zlib.error)  # its stubs call it an instance
_LOCAL_HEADER = struct.Struct("<4s5H3L2H")  # a zip entry's local header (PKWARE APPNOTE 4.3.7)
_MB = 1 << 20
_RATIO_FLOOR = 16 * _MB  # small parts may compress as well as they like
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_RAW_ESCAPE = re.compile(rb"""=\s*(?:"[^"]*[&\t\n\r][^"]*"|'[^']*[&\t\n\r][^']*')""")


class Skipped(InputError):
    """An input that is not a submission at all (Excel's lock file): noted, not an error."""


@dataclass
class Source:
    """An input that passed the file-level checks: where its bytes are and what its sheets are."""

    path: Path
    label: str
    data: bytes | None = None  # the decrypted package of a password-protected workbook
    password: str | None = None
    sheet_parts: dict[str, str | None] = field(
        default_factory=dict
    )  # worksheet name -> its part (None: absent)
    date1904: bool = False  # the workbook counts dates from 1904 (workbookPr date1904, as calamine reads it)
    spelled: dict[str, str] = field(
        default_factory=dict
    )  # sheet -> how it was measured (fast, measure, exact)
    spools: dict[str, Any] = field(default_factory=dict)  # sheet -> xlcrm.repack.Spool, while reading
    repacked: Path | None = None  # the copy python-calamine reads instead (xlcrm.repack), while reading
    readable: bytes | None = None  # a copy with error values calamine knows (xlcrm.repack.known_errors)
    halves: dict[str, Path] = field(
        default_factory=dict
    )  # sheet -> the package with its second half (xlcrm.repack)

    def open(self) -> IO[bytes]:
        """The package's bytes as a file."""
        return io.BytesIO(self.data) if self.data is not None else self.path.open("rb")

    def zip(self) -> zipfile.ZipFile:
        """The package as a zip archive."""
        return zipfile.ZipFile(io.BytesIO(self.data) if self.data is not None else self.path)

    def calamine(self, *, original: bool = False) -> python_calamine.CalamineWorkbook:
        """A python-calamine handle on the package, or on its repacked copy (one per thread)."""
        if self.readable is not None and not original:
            return python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(self.readable))
        if self.repacked is not None and not original:
            return python_calamine.CalamineWorkbook.from_path(str(self.repacked))
        if self.data is not None:
            return python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(self.data))
        return calamine_at(self.path)


def calamine_at(path: Path) -> python_calamine.CalamineWorkbook:
    """python-calamine on the file at ``path``, whatever bytes its name holds.

    A name that is not UTF-8 (a GBK name from a zip made on Windows: Python holds its bytes as
    surrogates) is "No such file" to python-calamine's ``from_path``: such a file is read
    through an open handle (python-calamine reads it whole before returning).
    """
    try:
        str(path).encode()
    except UnicodeEncodeError:
        with path.open("rb") as handle:
            return python_calamine.CalamineWorkbook.from_filelike(handle)
    return python_calamine.CalamineWorkbook.from_path(str(path))


@dataclass(frozen=True)
class Limits:
    """The pre-flight limits (policy keys ``limits.*``)."""

    max_file: int
    max_unzipped: int
    max_ratio: float
    max_parts: int
    max_cells: int

    @classmethod
    def of(cls, policy: Policy) -> Limits:
        """The limits a policy sets."""
        return cls(
            int(policy["limits.max_file_mb"] * _MB),
            int(policy["limits.max_unzipped_mb"] * _MB),
            float(policy["limits.max_ratio"]),
            int(policy["limits.max_parts"]),
            int(policy["limits.max_cells"]),
        )


def open_source(path: Path, label: str, limits: Limits, password: str | None = None) -> Source:
    """Check a file before any parser reads it; InputError (or Skipped) says why it is unusable."""
    if path.name.startswith("~$"):
        raise Skipped("lock_file", label)
    if not path.exists():
        raise InputError("not_found", label)
    if not path.is_file():
        raise InputError("not_a_file", label)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES and suffix not in LEGACY_SUFFIXES:
        raise InputError("unsupported", label, suffix=path.suffix or Phrase("（无扩展名）", "(no extension)"))
    try:
        size = path.stat().st_size
        if size == 0:
            raise InputError("empty_file", label)
        if size > limits.max_file:
            raise InputError("too_big", label, size=_mb(size), limit=_mb(limits.max_file))
        with path.open("rb") as handle:
            head = handle.read(4096)
    except OSError as exc:  # no permission, a file vanishing, a broken network drive
        raise InputError("unreadable_file", label, detail=exc.strerror or type(exc).__name__) from None
    source = Source(path, label)
    if head.startswith(OLE_MAGIC):
        source = _ole(path, label, password)
    elif not head.startswith(ZIP_MAGIC):
        raise InputError("text_renamed" if _looks_like_text(head) else "not_workbook", label)
    elif suffix in LEGACY_SUFFIXES:
        raise InputError("unsupported", label, suffix=path.suffix)
    _check_package(source, limits)
    return source


def _mb(size: int) -> str:
    return f"{size / _MB:.0f} MB"


def _looks_like_text(head: bytes) -> bool:
    """CSV or text saved under an Excel name: decodable, no NUL bytes."""
    if b"\x00" in head:
        return False
    head = head[:-3] if len(head) >= 4096 else head  # a character cut at the end is no evidence
    for encoding in ("utf-8", "gb18030"):
        try:
            head.decode(encoding)
            return True
        except UnicodeDecodeError:
            continue
    return False


def _ole(path: Path, label: str, password: str | None) -> Source:
    """An OLE compound file: a legacy .xls, or a password-protected .xlsx/.xlsm."""
    import msoffcrypto  # only for these (not at every start-up)
    import msoffcrypto.exceptions
    import olefile

    try:
        with olefile.OleFileIO(str(path)) as ole:
            encrypted = ole.exists("EncryptionInfo") and ole.exists("EncryptedPackage")
            legacy = ole.exists("Workbook") or ole.exists("Book")
    except Exception as exc:  # olefile raises OSError, ValueError, struct.error … for damage
        raise InputError("damaged", label, detail=str(exc)[:120] or type(exc).__name__) from None
    if legacy and not encrypted:
        raise InputError("legacy_xls", label)
    if not encrypted:
        raise InputError("not_workbook", label)
    if not password:
        raise InputError("encrypted", label)
    plain = io.BytesIO()
    try:
        with path.open("rb") as handle:
            office = msoffcrypto.OfficeFile(handle)
            office.load_key(password=password)
            office.decrypt(plain)
    except (msoffcrypto.exceptions.InvalidKeyError, msoffcrypto.exceptions.DecryptionError):
        raise InputError("wrong_password", label) from None
    except Exception as exc:  # a damaged encryption header or package
        raise InputError("damaged", label, detail=str(exc)[:120] or type(exc).__name__) from None
    return Source(path, label, data=plain.getvalue(), password=password)


def _check_package(source: Source, limits: Limits) -> None:
    """The zip directory against the limits, then every other XML part's prolog for a DTD."""
    label = source.label
    try:
        archive = source.zip()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise InputError("damaged", label, detail=str(exc) or type(exc).__name__) from None
    with archive:
        infos = archive.infolist()
        if len(infos) > limits.max_parts:
            raise InputError("zip_bomb", label, detail=f"{len(infos)} parts")
        total = sum(i.file_size for i in infos)
        if total > limits.max_unzipped:
            raise InputError("zip_bomb", label, detail=f"{_mb(total)} uncompressed")
        for info in infos:
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > _RATIO_FLOOR and ratio > limits.max_ratio:
                raise InputError("zip_bomb", label, detail=f"{info.filename}: {ratio:.0f}:1")
        names = {i.filename for i in infos}
        if "[Content_Types].xml" not in names:
            raise InputError("not_workbook", label)
        source.sheet_parts, source.date1904 = _sheet_parts(archive, label)
        sheets = set(source.sheet_parts.values())
        for info in infos:  # every other XML part's prolog (the sheets are scanned as they are read)
            if _is_xml(info.filename) and info.filename not in sheets:
                chunks = inflate(archive, info, label, limits)
                next(chunks, None)  # a DTD comes before the root element, in the first chunk
                chunks.close()


def _is_xml(name: str) -> bool:
    return name.endswith((".xml", ".rels", ".vml"))


def inflate(archive: zipfile.ZipFile, info: zipfile.ZipInfo, label: str, limits: Limits) -> Generator[bytes]:
    """A part's bytes in chunks, refusing a DTD in XML and more bytes than declared."""
    seen = 0
    prolog = _Prolog() if _is_xml(info.filename) else None
    try:
        for chunk in inflated(archive, info):
            if prolog is not None and not prolog.feed(chunk):
                raise InputError("xml_entities", label, part=info.filename)
            seen += len(chunk)
            if seen > info.file_size or seen > limits.max_unzipped:
                raise InputError("zip_bomb", label, detail=f"{info.filename} inflates beyond its size")
            yield chunk
    except (zipfile.BadZipFile, EOFError, OSError, ValueError, zlib.error, _ISAL_ERROR) as exc:
        raise InputError("damaged", label, detail=f"{info.filename}: {exc}") from None  # CRC, truncation


def inflated(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> Generator[bytes]:
    """A part's bytes, at most ``CHUNK`` at a time: deflated parts of a file with ISA-L.

    ISA-L inflates about twice as fast as zlib. The part is read as zipfile reads it: its
    local header (the same name as the directory's), the compressed bytes the directory
    declares, the deflate stream to its end, the CRC-32. Anything else (stored parts, an
    encrypted entry, a package in memory) goes through zipfile itself.
    """
    path = archive.filename
    if info.compress_type != zipfile.ZIP_DEFLATED or info.flag_bits & 0x1 or not isinstance(path, str):
        with archive.open(info) as part:
            while chunk := part.read(CHUNK):
                yield chunk
        return
    with open(path, "rb") as raw:
        raw.seek(info.header_offset)
        header = raw.read(_LOCAL_HEADER.size)
        if len(header) < _LOCAL_HEADER.size or header[:4] != ZIP_MAGIC:
            raise zipfile.BadZipFile(f"bad local header for {info.filename!r}")
        name_length, extra_length = _LOCAL_HEADER.unpack(header)[-2:]
        name = raw.read(name_length).decode("utf-8" if info.flag_bits & 0x800 else "cp437", "replace")
        if name != info.orig_filename:
            raise zipfile.BadZipFile(
                f"file name in directory {info.orig_filename!r} and header {name!r} differ"
            )
        raw.seek(extra_length, io.SEEK_CUR)
        left, crc = info.compress_size, 0
        inflater = isal_zlib.decompressobj(-15)
        while not inflater.eof:
            block = inflater.unconsumed_tail
            if not block and left > 0:
                block = raw.read(min(_RAW_BLOCK, left))
                if not block:
                    raise EOFError("the file ends early")
                left -= len(block)
            chunk = inflater.decompress(block, CHUNK)  # with no input: what it still holds
            if chunk:
                crc = isal_zlib.crc32(chunk, crc)
                yield chunk
            elif not block:
                raise EOFError("compressed data ends early")
        if crc != info.CRC:
            raise zipfile.BadZipFile(f"Bad CRC-32 for file {info.filename!r}")


class _Prolog:
    """Reads an XML part's prolog (declaration, comments, processing instructions) across chunks.

    ``feed`` is False once a DTD (``<!DOCTYPE``) appears before the root element: OOXML never
    has one, and entity bombs need one. Comments are skipped whole, so none hides a DTD.
    """

    _TOKENS = (b"<!DOCTYPE", b"<!ENTITY", b"<!--", b"<?")

    def __init__(self) -> None:
        self.pending = b""
        self.close: bytes | None = None  # inside a comment or instruction: the end awaited
        self.started = self.done = False

    def feed(self, chunk: bytes) -> bool:
        if self.done:
            return True
        data = self.pending + chunk
        at = 3 if not self.started and data.startswith(b"\xef\xbb\xbf") else 0
        self.started = True
        while True:
            if self.close is not None:
                end = data.find(self.close, at)
                if end < 0:
                    self.pending = data[len(data) - len(self.close) + 1 :]
                    return True
                at, self.close = end + len(self.close), None
            while at < len(data) and data[at] in b" \t\r\n":
                at += 1
            rest = data[at : at + 9]
            if len(rest) < 9 and any(token.startswith(rest) for token in self._TOKENS):
                self.pending = data[at:]  # too little to tell yet
                return True
            if rest.startswith((b"<!DOCTYPE", b"<!ENTITY")):
                return False
            if rest.startswith(b"<!--"):
                self.close, at = b"-->", at + 4
            elif rest.startswith(b"<?"):
                self.close, at = b"?>", at + 2
            else:  # the root element (or not XML: its parser will say so)
                self.done, self.pending = True, b""
                return True


def _sheet_parts(archive: zipfile.ZipFile, label: str) -> tuple[dict[str, str | None], bool]:
    """Worksheet name -> its part as python-calamine resolves it, and the 1904 date flag.

    calamine takes the workbook's folder from the package relationship of type
    ``…/relationships/officeDocument`` (the last one), reads ``workbook.xml`` and its
    relationships there, joins each sheet's target to that folder (or takes it from the
    root when it starts with ``/``), and looks parts up ignoring ASCII case. Elements and the
    ``id`` attribute are matched by local name, so Strict and transitional namespaces alike.
    """
    lookup = _PartLookup(archive.namelist(), label)
    try:
        rels = _parse(archive, lookup, "_rels/.rels", label)
        targets = [
            r.get("Target")
            for r in rels.iter()
            if _local(r.tag) == "Relationship" and r.get("Type", "").endswith("/relationships/officeDocument")
        ]
        target = next((t for t in reversed(targets) if t is not None), None)
        if target is None:
            raise InputError("not_workbook", label)
        folder = target[: target.rfind("/") + 1].removeprefix("/")
        if target.rsplit("/", 1)[-1] != "workbook.xml":  # calamine reads <folder>/workbook.xml only
            raise InputError("unreadable", label, detail=f"workbook part {target[:80]}")
        book_rels = _parse(archive, lookup, f"{folder}_rels/workbook.xml.rels", label, raw_check=True)
        book = _parse(archive, lookup, f"{folder}workbook.xml", label)
    except InputError:
        raise
    except Exception:  # anything but a DTD (``_parse`` names its part) is damage
        raise InputError("not_workbook", label) from None
    relationships = {
        r.get("Id"): (r.get("Target", ""), r.get("Type", ""))
        for r in book_rels.iter()
        if _local(r.tag) == "Relationship" and r.get("Id") is not None
    }
    parts: dict[str, str | None] = {}
    date1904 = False
    for element in book.iter():
        name = _local(element.tag)
        if name == "workbookPr":
            date1904 = element.get("date1904") in ("1", "true")
        if name != "sheet":
            continue
        ids = [value for key, value in element.attrib.items() if _local(key) == "id"]
        relationship = relationships.get(ids[-1] if ids else "")
        if relationship is None:
            raise InputError("not_workbook", label)
        sheet_target, kind = relationship
        if kind.rsplit("/", 1)[-1] != "worksheet":
            continue
        sheet = element.get("name", "")
        if sheet in parts:
            raise InputError(
                "unreadable", label, detail=Phrase(f"两个工作表同名“{sheet}”", f"two sheets named “{sheet}”")
            )
        path = sheet_target[1:] if sheet_target.startswith("/") else folder + sheet_target
        parts[sheet] = lookup.find(path)
    return parts, date1904


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


class _PartLookup:
    """Part names as python-calamine finds them: backslashes as slashes, ASCII case ignored.

    Names that would be ambiguous that way, or hold line breaks or tabs (which XML parsers
    and calamine read differently), make the package damaged.
    """

    def __init__(self, names: list[str], label: str) -> None:
        self.names = set(names)
        self.folded: dict[str, str] = {}
        for name in names:
            key = name.replace("\\", "/").translate(_ASCII_LOWER)
            if key in self.folded or any(c in name for c in "\t\n\r"):
                raise InputError("damaged", label, detail=f"part name {name[:80]!r}")
            self.folded[key] = name

    def find(self, path: str) -> str | None:
        """The part calamine reads for ``path`` (None if there is none)."""
        found = self.folded.get(path.translate(_ASCII_LOWER))
        return found if found is not None else path if path in self.names else None


def _parse(
    archive: zipfile.ZipFile, lookup: _PartLookup, path: str, label: str, *, raw_check: bool = False
) -> Any:
    name = lookup.find(path)
    if name is None:
        raise InputError("not_workbook", label)
    data = archive.read(name)
    if raw_check and _RAW_ESCAPE.search(data):  # calamine takes relationship targets unescaped
        raise InputError("damaged", label, detail=f"{name}: escaped relationship target")
    try:
        return SafeTree.fromstring(data, forbid_dtd=True)
    except Exception as exc:  # defusedxml refuses DTDs and entities: say in which part
        if "Forbidden" in type(exc).__name__:
            raise InputError("xml_entities", label, part=name) from None
        raise
