"""An Office Open XML package (zip) opened for patching: parts, relationships, content types."""

from __future__ import annotations

import io
import posixpath
import zipfile
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from lxml import etree

from xlcrm.ahead import ahead
from xlcrm.deflate import deflate_fast
from xlcrm.preflight import inflated

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
STRICT_MAIN = "http://purl.oclc.org/ooxml/spreadsheetml/main"
STRICT_REL = "http://purl.oclc.org/ooxml/officeDocument/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
CT_WORKSHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
CT_COMMENTS = "application/vnd.openxmlformats-officedocument.spreadsheetml.comments+xml"
CT_STYLES = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"
CT_VML = "application/vnd.openxmlformats-officedocument.vmlDrawing"


@dataclass(frozen=True, slots=True)
class Names:
    """The namespaces a workbook is written in: transitional (what Excel saves) or Strict."""

    main: str  # SpreadsheetML elements
    rel: str  # r:id attributes and relationship types

    @classmethod
    def of(cls, workbook: etree._Element) -> Names:
        """The namespaces of the workbook whose workbook.xml root is given."""
        return STRICT if etree.QName(workbook).namespace == STRICT_MAIN else TRANSITIONAL

    def q(self, name: str) -> str:
        """A SpreadsheetML element name: ``{main}name``."""
        return f"{{{self.main}}}{name}"

    @property
    def rid(self) -> str:
        """The ``r:id`` attribute's name."""
        return f"{{{self.rel}}}id"

    def type(self, kind: str) -> str:
        """A relationship type: ``…/relationships/worksheet``."""
        return f"{self.rel}/{kind}"


TRANSITIONAL = Names(MAIN, DOC_REL)
STRICT = Names(STRICT_MAIN, STRICT_REL)


def kind(relationship_type: str) -> str:
    """A relationship type's kind (``worksheet``, ``styles`` …), whichever namespace it is in."""
    for base in (DOC_REL, STRICT_REL):
        if relationship_type.startswith(base + "/"):
            return relationship_type[len(base) + 1 :]
    return ""


def minimal_styles(names: Names) -> bytes:
    """A styles part for a workbook that has none (one font, the two required fills, one xf)."""
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><styleSheet xmlns="{names.main}">'
        '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    ).encode()


# A staged part: its bytes, its bytes in chunks (a big sheet is never joined), or a function
# making the chunks when the package is saved (so only one big sheet is in memory at a time).
Staged = bytes | list[bytes] | Callable[[], list[bytes]]
ZIP64_SAFE = 1 << 30  # parts at least this big are written with zip64 sizes
AHEAD = 2  # patched sheets made ahead of the one being deflated

# Safe for every part xlcrm parses: no entities resolved, no network, no DTD loading.
PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_blank_text=False)


def parse(data: bytes) -> etree._Element:
    """Parse a (small) XML part safely."""
    return etree.fromstring(data, PARSER)


def serialize(root: etree._Element) -> bytes:
    """A part's bytes with its XML declaration."""
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True))


@dataclass(frozen=True, slots=True)
class Relationship:
    """One relationship of a part."""

    id: str
    type: str
    target: str  # resolved package path (no leading slash) for internal targets
    external: bool = False


def rels_path(part: str) -> str:
    """``xl/worksheets/sheet1.xml`` → ``xl/worksheets/_rels/sheet1.xml.rels``."""
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", f"{name}.rels")


class Package:
    """The parts of a workbook package: read originals, stage replacements and new parts."""

    def __init__(self, path: Path, data: bytes | None = None) -> None:
        self.path = path
        self.data = data  # the decrypted package of a password-protected workbook
        self._zip = zipfile.ZipFile(self.file())
        self.names = self._zip.namelist()
        self.changed: dict[str, Staged] = {}
        self.removed: set[str] = set()
        self.own: set[str] = set()  # parts of xlcrm's own earlier sheets, removed: never the user's

    def close(self) -> None:
        """Release the source file."""
        self._zip.close()

    def exists(self, name: str) -> bool:
        """Whether the (possibly staged) part exists."""
        return name in self.changed or (name in self.names and name not in self.removed)

    def read(self, name: str) -> bytes:
        """A part's current bytes (staged if changed)."""
        if name in self.changed:
            return b"".join(_chunks(self.changed[name]))
        return self._zip.read(name)

    def original(self, name: str) -> bytes:
        """A part's bytes as in the source file, whatever is staged (safe from another thread)."""
        with zipfile.ZipFile(self.file()) as source:
            return b"".join(inflated(source, source.getinfo(name)))  # ISA-L: twice zlib's speed

    def file(self) -> Path | io.BytesIO:
        """The source package (the decrypted bytes of a protected workbook)."""
        return io.BytesIO(self.data) if self.data is not None else self.path

    def write(self, name: str, data: Staged) -> None:
        """Stage new bytes for a part (new or replaced): whole, as chunks, or made when saving."""
        self.changed[name] = data
        self.removed.discard(name)

    def remove(self, name: str) -> None:
        """Stage a part's removal."""
        self.changed.pop(name, None)
        if name in self.names:
            self.removed.add(name)

    def relationships(self, part: str) -> list[Relationship]:
        """The relationships of ``part`` ("" for the package's own)."""
        path = rels_path(part) if part else "_rels/.rels"
        if not self.exists(path):
            return []
        base = posixpath.dirname(part)
        found = []
        for rel in parse(self.read(path)):
            external = rel.get("TargetMode") == "External"
            target = rel.get("Target", "")
            if not external:
                target = (
                    target.lstrip("/")
                    if target.startswith("/")
                    else posixpath.normpath(posixpath.join(base, target))
                )
            found.append(Relationship(rel.get("Id", ""), rel.get("Type", ""), target, external))
        return found

    def add_relationship(self, part: str, rel_type: str, target: str) -> str:
        """Add a relationship from ``part`` to the package path ``target``; return its id."""
        path = rels_path(part)
        root = (
            parse(self.read(path))
            if self.exists(path)
            else etree.Element(f"{{{PKG_REL}}}Relationships", nsmap={None: PKG_REL})
        )
        ids = {rel.get("Id") for rel in root}
        number = 1
        while f"rIdX{number}" in ids:
            number += 1
        rel_id = f"rIdX{number}"
        relative = posixpath.relpath(target, posixpath.dirname(part) or ".")
        etree.SubElement(root, f"{{{PKG_REL}}}Relationship", Id=rel_id, Type=rel_type, Target=relative)
        self.write(path, serialize(root))
        return rel_id

    def remove_relationship(self, part: str, rel_id: str) -> None:
        """Drop one relationship of ``part``."""
        path = rels_path(part)
        root = parse(self.read(path))
        for rel in list(root):
            if rel.get("Id") == rel_id:
                root.remove(rel)
        self.write(path, serialize(root))

    def set_content_type(self, part: str, content_type: str | None) -> None:
        """Register (or, with None, unregister) an override content type for a part."""
        root = parse(self.read("[Content_Types].xml"))
        for item in list(root):
            if item.tag == f"{{{CONTENT_TYPES}}}Override" and item.get("PartName") == f"/{part}":
                root.remove(item)
        if content_type is not None:
            etree.SubElement(
                root, f"{{{CONTENT_TYPES}}}Override", PartName=f"/{part}", ContentType=content_type
            )
        self.write("[Content_Types].xml", serialize(root))

    def ensure_default(self, extension: str, content_type: str) -> None:
        """Register a default content type for an extension, if missing."""
        root = parse(self.read("[Content_Types].xml"))
        if any(
            item.get("Extension", "").lower() == extension
            for item in root
            if item.tag == f"{{{CONTENT_TYPES}}}Default"
        ):
            return
        etree.SubElement(root, f"{{{CONTENT_TYPES}}}Default", Extension=extension, ContentType=content_type)
        self.write("[Content_Types].xml", serialize(root))

    def free_name(self, pattern: str) -> str:
        """The first ``pattern.format(n)`` (n = 1, 2, …) not used by any part."""
        number = 1
        while self.exists(pattern.format(number)):
            number += 1
        return pattern.format(number)

    def entries(self) -> Iterator[tuple[zipfile.ZipInfo | None, str]]:
        """Every part to write, originals first in their order, then new parts."""
        for info in self._zip.infolist():
            if info.filename not in self.removed:
                yield info, info.filename
        for name in self.changed:
            if name not in self.names:
                yield None, name

    def save(self, target: Path | IO[bytes]) -> None:
        """Write the patched package to ``target`` (unchanged parts copied as they are).

        Parts made while saving (the patched sheets) are made ahead in a worker thread:
        patching the next sheets (Python) overlaps deflating this one (deflating releases the GIL),
        and at most ``AHEAD + 1`` big sheets are in memory at once.
        """
        entries = list(self.entries())
        made = [self.changed[name] for _, name in entries if callable(self.changed.get(name))]
        with (
            closing(ahead(_chunks, made, depth=AHEAD, workers=1)) as patched,
            zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out,
        ):
            for info, name in entries:
                if callable(self.changed.get(name)):
                    chunks = next(patched)
                elif name in self.changed:
                    chunks = _chunks(self.changed[name])
                else:
                    assert info is not None
                    with self._zip.open(info) as source, out.open(_copy_info(info), "w") as sink:
                        while chunk := source.read(1 << 20):
                            sink.write(chunk)
                    continue
                size = sum(len(c) for c in chunks)
                with out.open(name, "w", force_zip64=size > ZIP64_SAFE) as sink:
                    if size > 1 << 20:  # big rewritten sheets: ISA-L's fast deflate (a little larger)
                        deflate_fast(sink)
                    for chunk in chunks:
                        sink.write(chunk)
                del chunks


def _chunks(staged: Staged) -> list[bytes]:
    if isinstance(staged, bytes):
        return [staged]
    return staged() if callable(staged) else staged


def _copy_info(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    copy = zipfile.ZipInfo(info.filename, date_time=info.date_time)
    copy.compress_type = info.compress_type
    copy.external_attr = info.external_attr
    copy.file_size = info.file_size  # lets zipfile choose zip64 correctly
    return copy
