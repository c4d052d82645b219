"""Annotate one input file of a checked submission and write the copy safely.

Marks: a conditional-format fill per finding cell by severity (the user's own cell styles are
never changed), one xlcrm note (批注) per finding cell, computed columns at the right of
客户档案 and 信用评定, and the sheets 问题清单 and 汇总. Re-processing an annotated copy first
removes xlcrm's earlier marks, so they never stack.
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
import os
import posixpath
import re
import shutil
import tempfile
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import python_calamine
from lxml import etree

from xlcrm.annotate.charts import add_charts
from xlcrm.annotate.inventory import lost, package_features
from xlcrm.annotate.package import (
    CT_COMMENTS,
    CT_STYLES,
    CT_VML,
    CT_WORKSHEET,
    STRICT,
    Names,
    Package,
    kind,
    minimal_styles,
    parse,
    rels_path,
    serialize,
)
from xlcrm.annotate.parts import (
    HEADER,
    MARKER,
    PRINT_TITLES,
    WRAP,
    Look,
    comments_part,
    extend_styles,
    fitted_width,
    grid_sheet,
    table_sheet,
    used_vml_blocks,
    vml_part,
)
from xlcrm.annotate.sheet import SheetPatch, patch_sheet
from xlcrm.annotate.summary import TITLE_TEXT, Figures, build, drawer, figures
from xlcrm.computed import ComputedColumns, computed_columns, computed_place
from xlcrm.diagnostics import Diagnostic
from xlcrm.engine import Result
from xlcrm.errors import InputError
from xlcrm.interrupts import held
from xlcrm.phrase import Phrase
from xlcrm.preflight import calamine_at
from xlcrm.sheetscan import EXCEL_COLS

ISSUES, SUMMARY = "问题清单", "汇总"
ISSUE_HEADERS = ("位置", "代码", "级别", "客户编码", "工作表", "单元格", "列", "说明", "已豁免")
# What identifies an earlier run's 汇总: its title (the dashboard), or the headers it had before.
SUMMARY_SIGNATURES = ((TITLE_TEXT,), ("项目", "类别", "数量", "级别/占比", "信用额度(元)", "当前占用额(元)"))
OWN_SUFFIX = "(xlcrm)"  # xlcrm's sheet name when the user already has a sheet of that name
_SEVERITY = {"error": "错误", "warning": "警告"}


NAME_MAX = 255  # bytes in a file name on the usual file systems


def output_path(source: Path, out: Path | None, many: bool, folder: bool = False) -> Path:
    """Where the annotated copy of ``source`` goes (default ``<name>.checked.<ext>``).

    An annotated copy (``X.checked.xlsx``) is written as itself again, never
    ``X.checked.checked.xlsx``. ``-o`` names a folder when several files are given, when it
    is one, or when it ends with a path separator (``folder``).
    """
    stem = source.stem if source.stem.endswith(".checked") else f"{source.stem}.checked"
    name = fitted(stem, source.suffix)
    if out is None:
        return source.with_name(name)
    if many or folder or out.is_dir():
        return out / name
    return out


def fitted(stem: str, rest: str) -> str:
    """``stem + rest`` shortened (the stem, by characters) to fit a file name's 255 bytes."""
    while len(os.fsencode(stem + rest)) > NAME_MAX and stem:  # a name's own bytes, UTF-8 or not
        stem = stem[:-1]
    return stem + rest


@dataclass(frozen=True)
class Shared:
    """What every annotated file of one result shares: computed once, before any file is written."""

    computed: dict[str, ComputedColumns]
    figures: Figures | None  # the policy part of 汇总 (tiers against quotas, credit by grade, statistics)

    @classmethod
    def of(cls, result: Result) -> Shared:
        """Compute the shared values, then free the rules' row caches (hundreds of MB at 100k rows)."""
        ctx = result.context
        if ctx is None:
            return cls({}, None)
        shared = cls(computed_columns(ctx), figures(result, result.files[0] if result.files else ""))
        ctx.cache.clear()
        return shared


def annotate(
    result: Result,
    label: str,
    source: Path,
    target: Path,
    *,
    backup: bool = False,
    replace: bool = False,
    shared: Shared | None = None,
    warnings: list[InputError] | None = None,
) -> Path:
    """Write ``source`` with ``result``'s marks to ``target`` (atomically); return ``target``.

    The copy is written to a temporary file beside the target, then put in place: with
    ``replace`` (``--force``, ``--in-place``) by renaming over the target; otherwise linked to
    the target's name, which fails if the name exists — so two runs never replace each
    other's copy. ``backup`` first copies the target to a new ``<name>.<time>.bak`` (never
    over an earlier backup). A password-protected input (decrypted in memory by the
    pre-flight) gives a copy protected with the same password; the unprotected package never
    touches the disk. Anything in the input that cannot be rewritten is one InputError.
    """
    checked = result.sources.get(label)
    password = checked.password if checked else None
    try:
        package = Package(source, checked.data if checked else None)
    except (OSError, zipfile.BadZipFile) as exc:
        raise InputError("unprocessable", label, detail=_short(exc)) from None
    try:
        try:
            patches = _annotate(package, result, label, shared or Shared.of(result))
        except (InputError, OSError):
            raise
        except Exception as exc:  # a part the writer must rewrite is damaged
            raise InputError("unprocessable", label, detail=_short(exc)) from None
        target.parent.mkdir(parents=True, exist_ok=True)
        temporary: Path | None = None
        try:
            with held():  # made and remembered together: the except below removes it
                handle, name = tempfile.mkstemp(prefix=".xlcrm-", suffix=target.suffix, dir=target.parent)
                os.close(handle)
                temporary = Path(name)
            try:
                if password is None:
                    package.save(temporary)
                    written: Path | io.BytesIO = temporary
                else:
                    written = _save_encrypted(package, temporary, password)
            except (InputError, OSError):
                raise
            except Exception as exc:  # a part copied or patched while saving is damaged
                raise InputError("unprocessable", label, detail=_short(exc)) from None
            missing = lost(
                package_features(package.file(), MARKER, package.own), package_features(written, MARKER)
            )
            missing += [f"{sheet}: {item}" for sheet, patch in patches.items() for item in patch.lost]
            if missing and warnings is not None:
                warnings.append(InputError("lost", label, items="；".join(missing)))
            os.chmod(temporary, source.stat().st_mode & 0o777)
            if backup and target.exists():
                _backup(target)
            _place(temporary, target, replace=replace or backup)
        except BaseException:  # also Ctrl-C or SIGTERM: no temporary file is left behind
            if temporary is not None:
                temporary.unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise InputError("output", str(target), detail=_why(exc)) from None
    finally:
        package.close()
    return target


def _place(temporary: Path, target: Path, *, replace: bool) -> None:
    """Put the finished copy at ``target``: over it if ``replace``, else only if the name is free."""
    if replace:
        os.replace(temporary, target)
        return
    try:
        os.link(temporary, target)  # atomic: fails if the name exists, whoever took it meanwhile
    except FileExistsError:
        raise InputError("exists", str(target)) from None
    except OSError:  # no hard links here (FAT, some network drives): claim the name exclusively
        try:
            os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            raise InputError("exists", str(target)) from None
        try:
            os.replace(temporary, target)
        except BaseException:
            target.unlink(missing_ok=True)
            raise
        return
    temporary.unlink()


def _backup(target: Path) -> Path:
    """Copy ``target`` to ``<name>.<time>.bak<ext>`` (``-2``, ``-3`` … if taken): never over a backup."""
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    for n in itertools.count(1):
        suffix = f".{stamp}{'' if n == 1 else f'-{n}'}.bak{target.suffix}"
        backup = target.with_name(fitted(target.stem, suffix))
        try:
            with target.open("rb") as original, backup.open("xb") as copy:  # "x": only a new file
                shutil.copyfileobj(original, copy, 1 << 20)
        except FileExistsError:
            continue
        shutil.copystat(target, backup)
        return backup
    raise AssertionError("unreachable")


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}"[:160] if text else type(exc).__name__


def _why(exc: OSError) -> str | Phrase:
    """An OS error in words staff can act on (a file open in Excel is locked on Windows)."""
    if isinstance(exc, PermissionError):
        return Phrase(
            "没有写入权限，或文件正在 Excel 中打开；请关闭后重试",
            "permission denied or open in Excel; close it and retry",
        )
    return exc.strerror or str(exc)


def _save_encrypted(package: Package, target: Path, password: str) -> io.BytesIO:
    """Save with the input's password (msoffcrypto-tool, ECMA-376 agile encryption).

    Returns the unprotected copy (in memory) for the inventory check.
    """
    import msoffcrypto.format.ooxml  # only for a protected input (not at every start-up)

    plain = io.BytesIO()
    package.save(plain)
    plain.seek(0)
    with target.open("wb") as sink:
        msoffcrypto.format.ooxml.OOXMLFile(plain).encrypt(password, sink)
    plain.seek(0)
    return plain


def _annotate(package: Package, result: Result, label: str, shared: Shared) -> dict[str, SheetPatch]:
    offices = [
        r.target for r in package.relationships("") if r.type.endswith("/relationships/officeDocument")
    ]
    if not offices:
        raise InputError("not_workbook", label)
    workbook = offices[-1]  # the one python-calamine reads
    folder = posixpath.dirname(workbook)
    book = parse(package.read(workbook))
    names = Names.of(book)
    rels = {r.id: r for r in package.relationships(workbook)}
    own = _own_sheets(package, {ISSUES: (ISSUE_HEADERS,), SUMMARY: SUMMARY_SIGNATURES})
    _drop_sheets(package, workbook, book, rels, own, names)
    rels = {r.id: r for r in package.relationships(workbook)}
    parts = {
        s.get("name"): rels[s.get(names.rid, "")].target
        for s in book.iter(names.q("sheet"))
        if s.get(names.rid, "") in rels
    }
    styles = next((r.target for r in rels.values() if kind(r.type) == "styles"), None)
    if styles is None or not package.exists(styles):  # a workbook without styles gets the minimum
        styles = package.free_name(posixpath.join(folder, "styles{}.xml"))
        package.write(styles, minimal_styles(names))
        package.set_content_type(styles, CT_STYLES)
        package.add_relationship(workbook, names.type("styles"), styles)
    style_bytes, look = extend_styles(package.read(styles), names)
    package.write(styles, style_bytes)
    dxf = look.dxf

    findings = [d for d in result.diagnostics if d.file == label or d.file is None]
    own_styles = frozenset(look.xf.values())
    patches: dict[str, SheetPatch] = defaultdict(lambda: SheetPatch(names=names, own_styles=own_styles))
    notes: dict[str, dict[str, list[Diagnostic]]] = defaultdict(lambda: defaultdict(list))
    for d in findings:
        if d.sheet is not None and d.sheet in parts and d.cell and d.row:
            severity = "warning" if d.waived else d.severity
            patches[d.sheet].marks.setdefault(dxf[severity], []).append(d.cell)
            notes[d.sheet][d.cell].append(d)
    _computed(result, label, shared.computed, patches, look)

    checked = result.sources.get(label)
    odd = [sheet for sheet in patches if checked is not None and checked.spelled.get(sheet) == "exact"]
    if odd:  # rows are patched by their bytes: only the spelling spreadsheet programs write
        raise InputError(
            "unprocessable",
            label,
            detail=Phrase(
                f"工作表“{odd[0]}”的 XML 写法少见", f"sheet “{odd[0]}” has an unusual XML spelling"
            ),
        )
    vml_block = used_vml_blocks([package.read(n) for n in package.names if n.endswith(".vml")])
    for sheet, part in parts.items():
        sheet_notes = {ref: note_text(items) for ref, items in notes.get(sheet, {}).items()}
        vml_block = _comments(package, part, sheet_notes, patches, sheet, vml_block, names, folder)
        if sheet in patches:  # patched while saving: one big sheet in memory at a time
            package.write(part, partial(_patched, package, part, patches[sheet], label))

    issues = [issue_row(d) for d in findings]
    links = {
        i: f"{sheet_reference(d.sheet)}!{d.cell or 'A1'}"
        for i, d in enumerate(findings)
        if d.sheet is not None and d.sheet in parts
    }
    taken = {s.get("name") for s in book.iter(names.q("sheet"))}
    widths = _issue_widths(issues)
    issues_part = _sheet_part(package, workbook)
    package.write(
        issues_part,
        table_sheet(ISSUE_HEADERS, issues, widths, look, links, names, wrap=(7,)),
    )
    _register_sheet(
        package, workbook, book, ISSUES if ISSUES not in taken else ISSUES + OWN_SUFFIX, issues_part, names
    )
    summary_name = SUMMARY if SUMMARY not in taken else SUMMARY + OWN_SUFFIX
    grid, charts = build(findings, label, shared.figures)
    summary_part = _sheet_part(package, workbook)
    drawing = None
    if charts and names is not STRICT:  # charts in a Strict package would need Strict DrawingML: none there
        drawing = add_charts(package, summary_part, summary_name, grid.widths, drawer(summary_name, charts))
    package.write(summary_part, grid_sheet(grid, look, names, drawing))
    _register_sheet(package, workbook, book, summary_name, summary_part, names)
    package.write(workbook, serialize(book))
    return patches


def sheet_reference(sheet: str) -> str:
    """A sheet's name as a formula or link writes it: quoted, an apostrophe doubled."""
    return "'" + sheet.replace("'", "''") + "'"


def note_text(items: list[Diagnostic]) -> str:
    """The text of xlcrm's note on a cell: one line per finding, each starting with MARKER.

    A message is kept on its line (a value quoted in it may hold a line break): a line of the
    note that does not start with MARKER is someone's own, and re-processing keeps it.
    """
    lines = [
        f"{MARKER} {d.code} {_SEVERITY[d.severity]}{'（已豁免）' if d.waived else ''}："
        + " ".join(d.message("zh").splitlines())
        for d in items
    ]
    return "\n".join(lines)


def issue_row(d: Diagnostic) -> list[Any]:
    """One 问题清单 row (ISSUE_HEADERS) for a finding."""
    place = f"{d.sheet}!{d.cell}" if d.sheet and d.cell else d.sheet or ""
    return [
        place,
        d.code,
        _SEVERITY[d.severity],
        d.customer_code,
        d.sheet,
        d.cell,
        d.column,
        d.message("zh"),
        "是" if d.waived else "",
    ]


def _patched(package: Package, part: str, patch: SheetPatch, label: str) -> list[bytes]:
    return patch_sheet(partial(package.original, part), patch, label)


WRAPPED = frozenset({"等级依据"})  # computed columns of long text: they wrap within their width


def _computed(
    result: Result,
    label: str,
    computed: dict[str, ComputedColumns],
    patches: dict[str, SheetPatch],
    look: Look,
) -> None:
    if result.submission is None:
        return
    for key, columns in computed.items():
        data = result.submission.forms[key]
        widths = _computed_widths(columns)
        for t, table in enumerate(data.tables):
            if table.file != label or not table.rows or table.header_row == 0:
                continue
            first, old = computed_place(table)
            start = first + 1  # 1-based, as the patch counts columns
            if start + len(columns.headers) - 1 > EXCEL_COLS:
                raise InputError("no_room", label, sheet=table.sheet, count=len(columns.headers))
            patch = patches[table.sheet]
            patch.drop_columns.update(col + 1 for col in old)
            patch.cells[table.header_row] = [
                (start + i, h, look[HEADER]) for i, h in enumerate(columns.headers)
            ]
            styles = [look[WRAP] if h in WRAPPED else None for h in columns.headers]
            for (table_index, position), values in columns.values.items():
                if table_index != t:
                    continue
                cells: list[tuple[int, Any, int | None]] = [
                    (start + i, v, styles[i]) for i, v in enumerate(values) if v is not None
                ]
                if cells:
                    patch.cells[table.rows[position]] = cells
            patch.last_column = max(patch.last_column, start + len(columns.headers) - 1)
            patch.widths.update({start + i: w for i, w in enumerate(widths)})


def _computed_widths(columns: ComputedColumns) -> list[float]:
    """Each computed column's width: its header and its widest value; 等级依据 at most 40, then it wraps."""
    distinct: list[set[Any]] = [set() for _ in columns.headers]
    for values in columns.values.values():
        for i, v in enumerate(values):
            distinct[i].add(v)
    return [
        fitted_width(h, list(d), most=40 if h in WRAPPED else 60)
        for h, d in zip(columns.headers, distinct, strict=True)
    ]


def _issue_widths(rows: list[list[Any]]) -> list[float]:
    """问题清单's widths: each column's header and content (说明 at most 80 and wrapped)."""
    return [
        fitted_width(h, [r[i] for r in rows[:5000]], most=80 if h == "说明" else 40)
        for i, h in enumerate(ISSUE_HEADERS)
    ]


def _comments(
    package: Package,
    part: str,
    sheet_notes: dict[str, str],
    patches: dict[str, SheetPatch],
    sheet: str,
    vml_block: int,
    names: Names,
    folder: str,
) -> int:
    """Write the sheet's xlcrm notes (replacing earlier ones); return the next free VML block.

    New parts go into the workbook's own folder (``xl/`` or wherever the package keeps it).
    """
    rels = package.relationships(part)
    comments = next((r for r in rels if kind(r.type) == "comments" and not r.external), None)
    drawings = [r for r in rels if kind(r.type) == "vmlDrawing" and not r.external]
    if comments is None and not sheet_notes:
        return vml_block
    drawing = None
    if drawings:  # the notes' drawing is the sheet's legacyDrawing, not a page header's picture (…HF)
        legacy = _legacy_drawing_id(package, part)
        drawing = next((r for r in drawings if r.id == legacy), None)
    existing = package.read(comments.target) if comments else None
    data, dropped, added = comments_part(existing, sheet_notes, names)
    if comments is None:
        target = package.free_name(posixpath.join(folder, "comments{}.xml"))
        package.add_relationship(part, names.type("comments"), target)
        package.set_content_type(target, CT_COMMENTS)
    else:
        target = comments.target
    package.write(target, data)
    if drawing is None:
        vml = package.free_name(posixpath.join(folder, "drawings", "vmlDrawing{}.vml"))
        package.ensure_default("vml", CT_VML)
        patches[sheet].legacy_drawing = package.add_relationship(part, names.type("vmlDrawing"), vml)
        package.write(vml, vml_part(None, dropped, added, vml_block))
    else:
        package.write(drawing.target, vml_part(package.read(drawing.target), dropped, added, vml_block))
    return vml_block + max(1, -(-len(added) // 1024))


_LEGACY_DRAWING = re.compile(rb'<(?:\w+:)?legacyDrawing\s[^>]*?\b(?:\w+:)?id\s*=\s*["\']([^"\']*)')


def _legacy_drawing_id(package: Package, part: str) -> str | None:
    """The relationship id of the sheet's ``<legacyDrawing>`` (notes, controls), if it has one.

    Read as a stream (a big sheet is never held whole): the element follows ``</sheetData>``.
    """
    if package.exists(part) and part in package.changed:
        found = _LEGACY_DRAWING.search(package.read(part))
        return found.group(1).decode() if found else None
    with zipfile.ZipFile(package.file()) as source, source.open(part) as stream:
        carry = b""
        while chunk := stream.read(1 << 20):
            text = carry + chunk
            if found := _LEGACY_DRAWING.search(text):
                return found.group(1).decode()
            carry = text[-512:]
    return None


def _own_sheets(package: Package, headers: dict[str, tuple[tuple[str, ...], ...]]) -> list[str]:
    """The sheets an earlier xlcrm run wrote: its names (or suffixed names) with one of its header rows.

    A user's own sheet that happens to be called 汇总 is never dropped.
    """
    book = (
        python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(package.data))
        if package.data is not None
        else calamine_at(package.path)
    )
    own = []
    for name in book.sheet_names:
        expected = headers.get(name) or headers.get(name.removesuffix(OWN_SUFFIX))
        if expected is None:
            continue
        first = book.get_sheet_by_name(name).to_python(skip_empty_area=False, nrows=1)
        if first and any(tuple(str(v) for v in first[0][: len(e)]) == e for e in expected):
            own.append(name)
    return own


def _drop_drawings(package: Package, part: str) -> None:
    """Remove the charts of an earlier run's sheet: its drawing, the drawing's charts, their relationships."""
    for rel in package.relationships(part):
        if kind(rel.type) != "drawing" or rel.external:
            continue
        for chart in package.relationships(rel.target):
            if not chart.external:
                package.remove(chart.target)
                package.own.add(chart.target)
                package.set_content_type(chart.target, None)
        package.remove(rel.target)
        package.own.add(rel.target)
        package.remove(rels_path(rel.target))
        package.set_content_type(rel.target, None)


def _drop_sheets(
    package: Package,
    workbook: str,
    book: etree._Element,
    rels: dict[str, Any],
    dropped: Sequence[str],
    names: Names,
) -> None:
    """Remove xlcrm's sheets of an earlier run, keeping sheet-scoped names consistent."""
    sheets = book.find(names.q("sheets"))
    if sheets is None:
        return
    for name in dropped:
        for index, sheet in enumerate(list(sheets)):
            if sheet.get("name") != name:
                continue
            rel_id = sheet.get(names.rid, "")
            sheets.remove(sheet)
            if rel_id in rels:
                part = rels[rel_id].target
                _drop_drawings(package, part)
                package.own.add(part)  # its sheet-scoped names (filter, print titles) go with it
                package.remove(part)
                package.remove(rels_path(part))
                package.set_content_type(part, None)
                package.remove_relationship(workbook, rel_id)
            for defined in list(book.iter(names.q("definedName"))):
                local = defined.get("localSheetId")
                if local is not None and int(local) == index:
                    defined.getparent().remove(defined)
                elif local is not None and int(local) > index:
                    defined.set("localSheetId", str(int(local) - 1))
            for view in book.iter(names.q("workbookView")):
                for attribute in ("activeTab", "firstSheet"):
                    if view.get(attribute) is not None and int(view.get(attribute, "0")) >= len(sheets):
                        view.set(attribute, "0")
            break


def _sheet_part(package: Package, workbook: str) -> str:
    """A free name for a new worksheet part beside the workbook's."""
    return package.free_name(posixpath.join(posixpath.dirname(workbook), "worksheets", "sheet{}.xml"))


def _register_sheet(
    package: Package, workbook: str, book: etree._Element, name: str, part: str, names: Names
) -> None:
    """Add the written sheet ``part`` to the workbook as ``name``, its first row repeated on printed pages."""
    package.set_content_type(part, CT_WORKSHEET)
    rel_id = package.add_relationship(workbook, names.type("worksheet"), part)
    sheets = book.find(names.q("sheets"))
    if sheets is None:
        raise InputError("not_workbook", str(package.path))
    ids = [int(s.get("sheetId", "0")) for s in sheets if s.get("sheetId", "").isdigit()]
    # r:id, declared here when nothing above binds it (openpyxl declares it on each <sheet>): lxml
    # would make up a prefix of its own (ns0, ns5 …), different from one run to the next
    nsmap = {} if names.rel in sheets.nsmap.values() else {"r": names.rel}
    element = etree.SubElement(
        sheets, names.q("sheet"), nsmap=nsmap, name=name, sheetId=str(max(ids, default=0) + 1)
    )
    element.set(names.rid, rel_id)
    defined = book.find(names.q("definedNames"))
    if defined is None:
        defined = etree.Element(names.q("definedNames"))
        after = [
            c for c in book if etree.QName(c).localname in ("sheets", "functionGroups", "externalReferences")
        ]
        book.insert(book.index(after[-1]) + 1, defined)
    title = etree.SubElement(
        defined, names.q("definedName"), name=PRINT_TITLES, localSheetId=str(len(sheets) - 1)
    )
    title.text = f"{sheet_reference(name)}!$1:$1"


@dataclass
class Written:
    """What ``process`` did with each usable input."""

    copies: list[Path] = field(default_factory=list)
    refused: list[InputError] = field(default_factory=list)  # targets that exist or cannot be written
    warnings: list[InputError] = field(default_factory=list)  # what a copy holds fewer of (never expected)
    renamed: dict[Path, str] = field(default_factory=dict)  # copy -> its input, where two inputs share a name


def annotate_all(
    result: Result,
    out: Path | None,
    *,
    in_place: bool,
    force: bool,
    folder: bool = False,
    keep: Iterable[str] = (),
) -> Written:
    """Annotate every usable input file of ``result``.

    A refused target (it exists without --force, it cannot be written, or it would change
    the input's type) does not stop the other files. Inputs whose copies would share a name
    in one folder (``一部/台账.xlsx`` and ``二部/台账.xlsx`` with ``-o out``) get the name of
    their folder in front (``一部_台账.checked.xlsx``), so no copy replaces another.
    ``--in-place`` on a link writes through to the file it points to.
    """
    unusable = {p.file for p in result.problems}
    files = [f for f in result.files if f not in unusable]
    done = Written()
    shared = Shared.of(result)
    # The policy part of 汇总 (tiers, quota candidates with their scores, credit by grade) is
    # computed from every file of the submission: an unprotected copy in a submission with a
    # password-protected file goes without it (POLICY §7: no unprotected file with its rows).
    protected = any(s.password is not None for s in result.sources.values())
    unprotected = Shared(shared.computed, None)
    targets = _targets(files, out, many=len(files) > 1, folder=folder, in_place=in_place)
    inputs = {os.path.realpath(label) for label in (*result.files, *keep)}  # keep: --blacklist, --policy
    for label in files:
        source = Path(label)
        target, renamed = targets[label]
        try:
            if not in_place and os.path.realpath(target) in inputs and not _own_copy(source, target):
                raise InputError(
                    "output",
                    str(target),
                    detail=Phrase(
                        "是输入文件；要改写原文件请用 --in-place（会留备份）",
                        "is an input; --in-place replaces it and keeps a backup",
                    ),
                )
            if not in_place and target.suffix.lower() != source.suffix.lower():
                raise InputError("output_type", label, target=str(target), suffix=source.suffix)
            if not in_place and not force and target.exists():  # early; placing the copy checks again
                raise InputError("exists", str(target))
            written = annotate(
                result,
                label,
                source,
                target,
                backup=in_place,
                replace=force,
                shared=unprotected if protected and _unprotected(result, label) else shared,
                warnings=done.warnings,
            )
            done.copies.append(written)
            if renamed:
                done.renamed[written] = label
        except InputError as problem:
            done.refused.append(problem)
    return done


def _unprotected(result: Result, label: str) -> bool:
    """Whether the copy of ``label`` is written without a password (its input has none)."""
    checked = result.sources.get(label)
    return checked is None or checked.password is None


def _own_copy(source: Path, target: Path) -> bool:
    """Whether ``target`` is ``source`` itself and an annotated copy xlcrm wrote (``*.checked``).

    Such a copy is written again (with ``--force``) when processed; any other input is never
    replaced by its copy, even with ``--force`` (``--in-place`` replaces it, keeping a backup).
    """
    return os.path.realpath(target) == os.path.realpath(source) and source.stem.endswith(".checked")


def _targets(
    files: list[str], out: Path | None, *, many: bool, folder: bool, in_place: bool
) -> dict[str, tuple[Path, bool]]:
    """Each input's copy, made unique within the run (case-insensitively, as Windows names are)."""
    if in_place:
        return {label: (Path(label).resolve(), False) for label in files}
    chosen = {label: output_path(Path(label), out, many, folder) for label in files}

    def key(path: Path) -> str:
        return os.path.normcase(os.path.abspath(path)).casefold()

    counts = Counter(key(t) for t in chosen.values())
    result: dict[str, tuple[Path, bool]] = {}
    used: set[str] = set()
    for label, target in chosen.items():
        if counts[key(target)] == 1:
            result[label] = (target, False)
            used.add(key(target))
    for label, target in chosen.items():
        if label in result:
            continue
        prefix = Path(label).resolve().parent.name or "input"
        candidate = target.with_name(fitted(f"{prefix}_{Path(target.stem).name}", target.suffix))
        for n in itertools.count(2):
            if key(candidate) not in used:
                break
            candidate = target.with_name(fitted(f"{prefix}_{target.stem}-{n}", target.suffix))
        used.add(key(candidate))
        result[label] = (candidate, True)
    return result
