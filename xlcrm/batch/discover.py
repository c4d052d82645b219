"""Find a month's files and account for each one before any is read (POLICY §6).

Folders are walked recursively in name order, linked folders followed (each real folder
once); files named on the command line keep their order. The same file reached twice under
one name is found once; under another name (a link) it is listed as skipped, a duplicate. Decided here, from names and bytes
alone: Excel's lock files (``~$…``), files in a folder whose suffix is not a workbook's,
xlcrm's annotated copies (``*.checked.xlsx``), the company workbook being written, and files
with the same bytes (SHA-256) as one found earlier are skipped, each with its reason. Every
other file goes to a worker, which may still find it unusable or an xlcrm output.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlcrm.batch.order import natural_key
from xlcrm.errors import InputError
from xlcrm.names import shown
from xlcrm.preflight import LEGACY_SUFFIXES, SUFFIXES, Limits, open_source
from xlcrm.registry import Lang

CHECKED, UNUSABLE, SKIPPED = "checked", "unusable", "skipped"
# Workbooks xlcrm reads, legacy ones it names, and other spreadsheet programs' (binary,
# OpenDocument, templates): in a folder each goes to a worker, which says why check refuses it.
WORKBOOK_SUFFIXES = frozenset((*SUFFIXES, *LEGACY_SUFFIXES, ".xlsb", ".ods", ".xltx", ".xltm", ".xlt"))
COMPANY_SHEETS = ("清单", "部门汇总", "问题明细")  # a company workbook's own sheets


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a file was skipped or unusable: an ``InputError`` reason key and its values."""

    key: str
    file: str
    values: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def of(cls, problem: InputError) -> Reason:
        """The reason of an ``InputError`` (which itself does not pickle)."""
        return cls(problem.reason, problem.file, tuple(problem.values.items()))

    def message(self, lang: Lang = "zh", *, masked: bool = False) -> str:
        """The one-line explanation, naming the file.

        ``masked``: contacts in its ``detail`` masked (POLICY §7) — a reader's error may quote a
        cell; the file names in it stay whole, as everywhere.
        """
        values = dict(self.values)
        if masked and isinstance(values.get("detail"), str):
            from xlcrm.batch.mask import mask_text

            values["detail"] = mask_text(values["detail"])
        return InputError(self.key, self.file, **values).message(lang)


@dataclass(slots=True)
class Found:
    """One file found: where, its bytes' digest, and whether it is already decided."""

    position: int
    file: str  # the path as found, as text every output holds (xlcrm.names): what findings name
    path: Path  # absolute
    size: int | None = None
    sha256: str | None = None
    skipped: Reason | None = None
    unusable: Reason | None = None  # a folder that could not be listed (its files are unknown)


@dataclass(slots=True)
class Discovery:
    """Every file found, in order."""

    found: list[Found] = field(default_factory=list)

    @property
    def to_check(self) -> list[Found]:
        """The files a worker must read."""
        return [f for f in self.found if f.skipped is None and f.unusable is None]


def discover(
    inputs: Iterable[Path],
    output: Path | None = None,
    password: str | None = None,
    passwords: Mapping[str, str] | None = None,
) -> Discovery:
    """Walk ``inputs`` and decide what can be decided without reading a workbook.

    ``password`` (``--password``) opens an encrypted file at the output path, or at a
    department workbook's name beside it, to tell whether it is an earlier company (or
    department) workbook; ``passwords`` (a department workbook's file name, case-folded → its
    department's own password) is tried first for the file of that name.
    """
    seen: dict[Path, Found] = {}
    names: set[Path] = set()  # every name listed (a link's too: a folder given twice walks it twice)
    digests: dict[str, str] = {}
    discovery = Discovery()
    own = output.resolve() if output is not None else None
    for given, in_folder, problem in _walk(inputs):
        absolute = Path(os.path.abspath(given))
        if problem is not None:  # a folder os.walk could not list: one row, never left out silently
            detail = problem.strerror or type(problem).__name__
            reason = Reason("unreadable_folder", shown(str(given)), (("detail", detail),))
            discovery.found.append(Found(len(discovery.found), shown(str(given)), absolute, unusable=reason))
            continue
        key = absolute.resolve() if absolute.exists() else absolute
        if absolute in names:  # the same name again: found once
            continue
        names.add(absolute)
        if key in seen:  # the same file under another name (a link): listed, skipped
            discovery.found.append(
                Found(
                    len(discovery.found),
                    shown(str(given)),
                    absolute,
                    skipped=Reason("duplicate", shown(str(given)), (("other", seen[key].file),)),
                )
            )
            continue
        found = Found(len(discovery.found), shown(str(given)), absolute)
        seen[key] = found
        discovery.found.append(found)
        own_password = (passwords or {}).get(absolute.name.casefold())
        tried = (own_password, password) if own_password is not None else (password,)
        found.skipped = _by_name(given, in_folder, _output_name(key, own), tried)
        if found.skipped is not None or not absolute.is_file():
            continue
        try:
            found.size = absolute.stat().st_size
            found.sha256 = sha256_of(absolute)
        except OSError:
            continue  # the worker reports it as check would
        first = digests.setdefault(found.sha256, found.file)
        if first != found.file:
            found.skipped = Reason("duplicate", found.file, (("other", first),))
    return discovery


def _walk(inputs: Iterable[Path]) -> Iterator[tuple[Path, bool, OSError | None]]:
    """(path, whether it was found inside a folder, None) for every file, folders recursively.

    A folder that could not be listed comes as (folder, True, the error).
    """
    for given in inputs:
        if not given.is_dir():
            yield given, False, None
            continue
        visited: set[str] = set()  # linked folders are followed, each real folder's subfolders once
        errors: list[OSError] = []  # os.walk skips a folder it cannot list: onerror tells
        for folder, folders, files in os.walk(given, followlinks=True, onerror=errors.append):
            yield from _unlisted(errors, given)
            real = os.path.realpath(folder)
            if real in visited:  # reached again through a link: its files are listed, no deeper (loops)
                folders.clear()
            visited.add(real)
            folders.sort(key=natural_key)
            for name in sorted(files, key=natural_key):
                yield Path(folder) / name, True, None
        yield from _unlisted(errors, given)


def _unlisted(errors: list[OSError], given: Path) -> Iterator[tuple[Path, bool, OSError | None]]:
    while errors:
        error = errors.pop(0)
        yield Path(error.filename) if error.filename else given, True, error


def _output_name(path: Path, output: Path | None) -> bool:
    """Whether ``path`` is the output, or named as one of its department workbooks (``<output>_…``)."""
    if output is None:
        return False
    return path == output or (
        path.parent == output.parent
        and path.suffix.lower() == output.suffix.lower()
        and path.name.startswith(f"{output.stem}_")
    )


def _by_name(
    path: Path, in_folder: bool, is_output: bool, passwords: Collection[str | None] = ()
) -> Reason | None:
    """What a file's name alone says (None: a worker must read it)."""
    label = shown(str(path))
    if path.name.startswith("~$"):
        return Reason("lock_file", label)
    if is_output and _company_workbook(path, passwords):
        return Reason("company_workbook", label)
    suffix = path.suffix.lower()
    if in_folder and suffix not in WORKBOOK_SUFFIXES:
        return Reason("other_file", label, (("suffix", shown(path.suffix) or "—"),))
    if path.stem.endswith(".checked") and suffix in SUFFIXES:
        return Reason("annotated_copy", label, (("why", "*.checked" + suffix),))
    return None


def _company_workbook(path: Path, passwords: Collection[str | None] = ()) -> bool:
    """Whether the file at an output path is a company (or department) workbook xlcrm wrote earlier.

    The hardened reader opens it (one of ``passwords`` opens the encrypted one a run wrote) and
    its sheets include 清单, 部门汇总 and 问题明细. Anything else there — an encrypted file no
    password opens, a legacy .xls — is read as a submission, and the run refuses to write over it.
    """
    from xlcrm.policy import default_policy

    limits = Limits.of(default_policy())
    for password in dict.fromkeys(passwords or (None,)):
        try:
            source = open_source(path, str(path), limits, password)
        except InputError:
            continue
        return all(name in source.sheet_parts for name in COMPANY_SHEETS)
    return False


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in chunks."""
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
