"""The pre-flight check every input passes before any parser reads it (issue 4).

A submission comes from many desks: old .xls files, renamed CSVs, half-copied or
password-protected workbooks, Excel's lock files, and now and then something hostile. Here
each is recognised from its bytes and refused with one clear line (an ``InputError``), with
bounded memory: the zip directory is checked (sizes, ratio, count) before any part is
inflated, parts are inflated in chunks against those limits (a CRC mismatch means a damaged
file), no XML part may declare a DTD or entities (entity bombs), and a sheet whose used area
(last row × last column) would make the reader allocate billions of cells is refused before
python-calamine sees it. The same pass finds the cells the reader would show as blank but
are not: Excel error values and formulas without a computed value (S010).

The workbook's own XML (workbook.xml and its relationships) is parsed with defusedxml.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Generator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path, PurePosixPath
from typing import IO, Any

import msoffcrypto
import olefile
import python_calamine
from defusedxml import ElementTree as SafeTree

from xlcrm.errors import InputError
from xlcrm.layout import hidden_columns, hidden_rows
from xlcrm.policy import Policy

SUFFIXES = (".xlsx", ".xlsm")
LEGACY_SUFFIXES = (".xls", ".et", ".wps")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
CHUNK = 4 << 20
_MB = 1 << 20
_RATIO_FLOOR = 16 * _MB  # small parts may compress as well as they like
_MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_PKG = "{http://schemas.openxmlformats.org/package/2006/relationships}"
_ROW = re.compile(rb'row\b[^>]*?\br="(\d+)"')
_WIDE = re.compile(rb' r="([A-Z]{2,3})\d')  # cells beyond column Z (one letter is never too wide)
_ERROR = re.compile(rb't="e"')
_REF = re.compile(rb'\br="([A-Z]{1,3})(\d+)"')
_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")
_FORMULA = re.compile(rb"<(?:\w+:)?f\b[^>]*?(?:/>|>(.*?)</(?:\w+:)?f>)", re.S)


class Skipped(InputError):
    """An input that is not a submission at all (Excel's lock file): noted, not an error."""


@dataclass
class Source:
    """An input that passed the file-level checks: where its bytes are and what its sheets are."""

    path: Path
    label: str
    data: bytes | None = None  # the decrypted package of a password-protected workbook
    password: str | None = None
    sheet_parts: dict[str, str] = field(default_factory=dict)  # sheet name -> worksheet part

    def open(self) -> IO[bytes]:
        """The package's bytes as a file."""
        return io.BytesIO(self.data) if self.data is not None else self.path.open("rb")

    def zip(self) -> zipfile.ZipFile:
        """The package as a zip archive."""
        return zipfile.ZipFile(io.BytesIO(self.data) if self.data is not None else self.path)

    def calamine(self) -> python_calamine.CalamineWorkbook:
        """A python-calamine handle on the package (one per thread)."""
        if self.data is not None:
            return python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(self.data))
        return python_calamine.CalamineWorkbook.from_path(str(self.path))


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
        raise InputError("unsupported", label, suffix=path.suffix or "（无扩展名）")
    size = path.stat().st_size
    if size == 0:
        raise InputError("empty_file", label)
    if size > limits.max_file:
        raise InputError("too_big", label, size=_mb(size), limit=_mb(limits.max_file))
    with path.open("rb") as handle:
        head = handle.read(4096)
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
    try:
        with olefile.OleFileIO(str(path)) as ole:
            encrypted = ole.exists("EncryptionInfo") and ole.exists("EncryptedPackage")
            legacy = ole.exists("Workbook") or ole.exists("Book")
    except OSError as exc:
        raise InputError("damaged", label, detail=str(exc)) from None
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
    except Exception:  # msoffcrypto raises several types for a wrong password
        raise InputError("wrong_password", label) from None
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
        source.sheet_parts = _sheet_parts(archive, names, label)
        for info in infos:  # every other XML part's prolog (the sheets are scanned as they are read)
            if _is_xml(info.filename) and info.filename not in source.sheet_parts.values():
                chunks = _inflate(archive, info, label, limits)
                next(chunks, None)  # a DTD comes before the root element, in the first chunk
                chunks.close()


def _is_xml(name: str) -> bool:
    return name.endswith((".xml", ".rels", ".vml"))


def _inflate(archive: zipfile.ZipFile, info: zipfile.ZipInfo, label: str, limits: Limits) -> Generator[bytes]:
    """A part's bytes in chunks, refusing a DTD in XML and more bytes than declared."""
    seen = 0
    try:
        with archive.open(info) as part:
            while chunk := part.read(CHUNK):
                if seen == 0 and _is_xml(info.filename) and _declares_entities(chunk):
                    raise InputError("xml_entities", label, part=info.filename)
                seen += len(chunk)
                if seen > info.file_size or seen > limits.max_unzipped:
                    raise InputError("zip_bomb", label, detail=f"{info.filename} inflates beyond its size")
                yield chunk
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:  # CRC, truncation
        raise InputError("damaged", label, detail=f"{info.filename}: {exc}") from None


def _declares_entities(first: bytes) -> bool:
    """Whether an XML part's prolog has a DTD (OOXML never does; entity bombs need one)."""
    root = re.search(rb"<[A-Za-z_]", first)
    prolog = first[: root.start()] if root else first
    return b"<!DOCTYPE" in prolog or b"<!ENTITY" in prolog


def _sheet_parts(archive: zipfile.ZipFile, names: set[str], label: str) -> dict[str, str]:
    """Sheet name -> worksheet part, from workbook.xml and its relationships (defusedxml)."""
    try:
        rels = _parse(archive, "_rels/.rels", names)
        workbook = next(
            (r.get("Target", "") for r in rels if r.get("Type", "").endswith("/officeDocument")), ""
        ).lstrip("/")
        book = _parse(archive, workbook, names)
        folder = PurePosixPath(workbook).parent
        book_rels = _parse(archive, str(folder / "_rels" / f"{PurePosixPath(workbook).name}.rels"), names)
    except InputError:
        raise
    except Exception as exc:  # defusedxml refuses DTDs and entities; anything else is damage
        if "Forbidden" in type(exc).__name__:
            raise InputError("xml_entities", label, part="workbook.xml") from None
        raise InputError("not_workbook", label) from None
    targets = {r.get("Id"): r.get("Target", "") for r in book_rels if r.get("TargetMode") != "External"}
    parts = {}
    for sheet in book.iter(f"{_MAIN}sheet"):
        target = targets.get(sheet.get(f"{_REL}id"))
        if target:
            path = target.lstrip("/") if target.startswith("/") else str(folder / target)
            parts[sheet.get("name", "")] = str(PurePosixPath(path))
    return parts


def _parse(archive: zipfile.ZipFile, name: str, names: set[str]) -> Any:
    if name not in names:
        raise KeyError(name)
    return SafeTree.fromstring(archive.read(name), forbid_dtd=True)


@dataclass
class SheetScan:
    """What the pre-flight found in one worksheet part."""

    last_row: int = 0
    last_col: int = 0
    errors: dict[tuple[int, int], str] = field(default_factory=dict)  # (row, col) 1-based -> shown text
    formula: Any = None  # a formula's start tag (with the sheet's namespace prefix, if any)
    far: bool = False  # a cell lies right of the column that keeps any sheet within the limit
    rows_seen: int = 0  # chunks of whole rows scanned so far
    hidden_rows: set[int] = field(default_factory=set)  # 1-based
    hidden_cols: frozenset[int] = frozenset()  # 1-based

    def __post_init__(self) -> None:
        self.formula = _formula_tag(b"")


def scan_sheet(source: Source, sheet: str, limits: Limits) -> SheetScan:
    """Bounds and S010 cells of one sheet; InputError if its used area is beyond the limit.

    Measuring the used area exactly needs every row number and cell reference. Usually one
    search suffices: if no cell lies right of column ``max_cells // 1,048,576`` (AU for the
    default), even Excel's last row keeps the area within the limit. Only a sheet with such a
    cell is scanned again, exactly.
    """
    scan = _scan(source, sheet, limits, exact=False)
    if scan.far:
        scan = _scan(source, sheet, limits, exact=True)
    if scan.last_row * scan.last_col > limits.max_cells:
        raise InputError(
            "too_many_cells",
            source.label,
            sheet=sheet,
            rows=scan.last_row,
            cols=scan.last_col,
            limit=limits.max_cells,
        )
    return scan


def _scan(source: Source, sheet: str, limits: Limits, *, exact: bool) -> SheetScan:
    scan = SheetScan()
    part = source.sheet_parts.get(sheet)
    if part is None:
        return scan
    far = _far_columns(limits.max_cells // EXCEL_ROWS)
    with source.zip() as archive:
        info = archive.getinfo(part)
        carry = b""
        for chunk in _inflate(archive, info, source.label, limits):
            if scan.rows_seen == 0:
                prefix = re.search(rb"<(\w+:)?sheetData\b", chunk)
                if prefix and prefix.group(1):
                    scan.formula = _formula_tag(prefix.group(1))
                scan.hidden_cols = hidden_columns(chunk[: prefix.start()] if prefix else chunk)
            data = carry + chunk
            cut = _whole(data)  # whole rows only; the rest waits for the next chunk
            carry = data[cut:]
            if not _rows(data[:cut], scan, limits, far, exact=exact):
                return scan
        _rows(carry, scan, limits, far, exact=exact)
    return scan


def _rows(data: bytes, scan: SheetScan, limits: Limits, far: Any, *, exact: bool) -> bool:
    """Scan whole rows; False once the sheet is known to need measuring or to be too big."""
    scan.rows_seen += 1
    if exact:
        _measure(data, scan)
        if scan.last_row * scan.last_col > limits.max_cells:
            return False
    elif far is None or far.search(data):
        scan.far = True
        return False
    scan.hidden_rows |= hidden_rows(data)
    _find_errors(data, scan)
    return True


EXCEL_ROWS = 1_048_576


def _whole(data: bytes) -> int:
    """Where the last whole row ends, 0 if none yet (a cell never waits for its value).

    Before the first row ends, the sheet's head is carried along with it.
    """
    end = data.rfind(b"row>")  # </row> or </x:row>
    return end + 4 if end >= 0 else 0


@cache
def _far_columns(last: int) -> Any:
    """A search for a cell right of column ``last`` (None when every sheet needs measuring)."""
    if last < 1:
        return None
    letters = _letters(last)
    alternatives = [rf"[A-Z]{{{len(letters) + 1},}}"]  # more letters
    for i in range(len(letters)):  # same length, greater at position i
        higher = chr(ord(letters[i]) + 1)
        if higher <= "Z":
            rest = len(letters) - i - 1
            alternatives.append(letters[:i] + f"[{higher}-Z]" + (f"[A-Z]{{{rest}}}" if rest else ""))
    return re.compile(rb' r="(?:' + "|".join(alternatives).encode() + rb")\d")


def _letters(number: int) -> str:
    out = ""
    while number:
        number, rest = divmod(number - 1, 26)
        out = chr(65 + rest) + out
    return out


def _measure(data: bytes, scan: SheetScan) -> None:
    rows = _ROW.findall(data)
    if rows:
        scan.last_row = max(scan.last_row, max(map(int, rows)))
    if scan.last_col < 26 and b' r="' in data:
        scan.last_col = 26  # one-letter columns are never too wide: only A…Z is assumed
    wide = _WIDE.findall(data)
    if wide:
        scan.last_col = max(scan.last_col, max(_column(w) for w in set(wide)))


def _find_errors(data: bytes, scan: SheetScan) -> None:
    for pattern in (_ERROR, scan.formula):
        for found in pattern.finditer(data):
            _cell_at(data, found.start(), scan)


@cache
def _formula_tag(prefix: bytes) -> Any:
    return re.compile(rb"<" + re.escape(prefix) + rb"f[ >/]")


def _column(letters: bytes) -> int:
    number = 0
    for byte in letters:
        number = number * 26 + byte - 64
    return number


def _cell_at(data: bytes, position: int, scan: SheetScan) -> None:
    """Record the cell around ``position`` if it is an error or a formula without a value."""
    begin = data.rfind(b"<c ", 0, position + 1)
    prefixed = data.rfind(b":c ", 0, position + 1)
    if prefixed > begin:
        begin = data.rfind(b"<", 0, prefixed)
    if begin < 0:
        return
    ends = [e for e in (data.find(b"</c>", position), data.find(b":c>", position)) if e >= 0]
    cell = data[begin : min(ends) + 4] if ends else data[begin:]
    ref = _REF.search(cell, 0, cell.find(b">"))
    if ref is None:
        return
    key = (int(ref.group(2)), _column(ref.group(1)))
    value = _VALUE.search(cell)
    if b't="e"' in cell[: cell.find(b">")]:
        scan.errors[key] = (value.group(1) if value else b"#ERROR").decode("utf-8", "replace")
        return
    formula = _FORMULA.search(cell)
    if formula is not None and (value is None or not value.group(1)):
        text = (formula.group(1) or b"").decode("utf-8", "replace")
        scan.errors[key] = f"={text}" if text else "=…"
