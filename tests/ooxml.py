"""Raw OOXML packages for tests: a workbook written byte by byte, or an existing one rewritten.

Hostile and unusual spellings cannot be made with openpyxl; these helpers write the parts
themselves (minimal but complete: content types, relationships, workbook, sheets) or
transform the parts of a workbook written by openpyxl (Strict namespaces, another folder).
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
STRICT_MAIN = "http://purl.oclc.org/ooxml/spreadsheetml/main"
STRICT_REL = "http://purl.oclc.org/ooxml/officeDocument/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT_SHEET = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"


def sheet_xml(data: str, *, head: str = "", namespaces: str = "") -> str:
    """A worksheet part around the given ``<sheetData>`` content."""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}" xmlns:r="{DOC_REL}"{namespaces}>'
        f"{head}<sheetData>{data}</sheetData></worksheet>"
    )


def package(
    path: Path,
    sheets: Mapping[str, str],
    *,
    folder: str = "xl",
    strict: bool = False,
    date1904: bool = False,
) -> Path:
    """A workbook of the given worksheet parts (name -> whole part XML), nothing else."""
    main, rel = (STRICT_MAIN, STRICT_REL) if strict else (MAIN, DOC_REL)
    overrides = "".join(
        f'<Override PartName="/{folder}/worksheets/sheet{i}.xml" ContentType="{_CT_SHEET}"/>'
        for i in range(1, len(sheets) + 1)
    )
    types = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/{folder}/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        f"{overrides}</Types>"
    )
    root_rels = (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_REL}">'
        f'<Relationship Id="rId1" Type="{rel}/officeDocument" Target="{folder}/workbook.xml"/></Relationships>'
    )
    entries = "".join(
        f'<sheet name="{name}" sheetId="{i}" r:id="rId{i}"/>' for i, name in enumerate(sheets, start=1)
    )
    properties = '<workbookPr date1904="1"/>' if date1904 else ""
    workbook = (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main}" xmlns:r="{rel}">'
        f"{properties}<sheets>{entries}</sheets></workbook>"
    )
    book_rels = (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG_REL}">'
        + "".join(
            f'<Relationship Id="rId{i}" Type="{rel}/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, len(sheets) + 1)
        )
        + "</Relationships>"
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        out.writestr("[Content_Types].xml", types)
        out.writestr("_rels/.rels", root_rels)
        out.writestr(f"{folder}/workbook.xml", workbook)
        out.writestr(f"{folder}/_rels/workbook.xml.rels", book_rels)
        for i, xml in enumerate(sheets.values(), start=1):
            text = xml.replace(MAIN, main).replace(DOC_REL, rel) if strict else xml
            out.writestr(f"{folder}/worksheets/sheet{i}.xml", text)
    return path


def rewrite(source: Path, target: Path, change: Callable[[str, bytes], tuple[str, bytes] | None]) -> Path:
    """Copy a package part by part through ``change`` (new name and bytes, or None to drop it)."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        for name in old.namelist():
            changed = change(name, old.read(name))
            if changed is not None:
                new.writestr(*changed)
    return target


def to_strict(source: Path, target: Path) -> Path:
    """The workbook in Strict Open XML (ISO/IEC 29500 Strict namespaces), as Excel saves it."""

    def change(name: str, data: bytes) -> tuple[str, bytes]:
        text = data.replace(MAIN.encode(), STRICT_MAIN.encode()).replace(
            DOC_REL.encode(), STRICT_REL.encode()
        )
        return name, text

    return rewrite(source, target, change)


def moved(source: Path, target: Path, folder: str = "book") -> Path:
    """The workbook with its parts under ``folder/`` instead of ``xl/`` (valid OPC: any name)."""

    def change(name: str, data: bytes) -> tuple[str, bytes]:
        if name == "[Content_Types].xml" or name.endswith(".rels"):
            data = data.replace(b'"/xl/', f'"/{folder}/'.encode()).replace(b'"xl/', f'"{folder}/'.encode())
        return (f"{folder}/{name[3:]}" if name.startswith("xl/") else name), data

    return rewrite(source, target, change)


IMAGE = "xl/media/image1.png"  # a part only a writer reads: the check never opens it


def with_image(source: Path, target: Path, image: bytes) -> Path:
    """A copy of the workbook with a stored (uncompressed) ``IMAGE`` part added."""
    rewrite(source, target, lambda name, data: (name, data))
    with zipfile.ZipFile(target, "a") as package:
        package.writestr(IMAGE, image, compress_type=zipfile.ZIP_STORED)
    return target


def with_corrupt_image(source: Path, target: Path) -> Path:
    """A copy with an ``IMAGE`` part whose CRC fails when it is read."""
    with_image(source, target, b"\x89PNG" + bytes(range(256)) * 4)
    raw = bytearray(target.read_bytes())
    raw[raw.find(b"\x89PNG") + 100] ^= 0x01
    target.write_bytes(bytes(raw))
    return target
