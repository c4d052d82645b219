"""What a consolidation writes, and its confidentiality (POLICY §7).

The outputs: the company workbook (``-o``), the HTML report (``--html``), the company
customers as CSV (``--csv``) and, with ``--split-by-department``, one workbook per department
beside the company workbook (``公司汇总_2026-11_销售一部.xlsx``) holding only its rows.

Protection. ``--password`` encrypts the company workbook (and the department workbooks that
have no password of their own); a passwords file gives each department its own password. A
department workbook always needs a password. A month with a password-protected submission
writes no unprotected file holding its rows — not the company workbook without ``--password``,
not the HTML or CSV (which cannot be encrypted), not a department workbook without a password
— and its rows are not stored in the history (its manifest and 部门汇总 rows are) — unless
``--allow-unprotected``. Everything is decided before anything is written. An encrypted
workbook is assembled in memory and encrypted into its temporary file: only XlsxWriter's
staging file and its row files (the small sheets, without the bulk rows) lie on disk
unencrypted, for the seconds they are written, beside the target — removed on success, failure
or Ctrl-C, never in the system's temporary folder.

The passwords file: a CSV of two columns, 部门 and 密码, one department a line; an optional
header line (部门,密码); blank lines and lines starting with # are ignored; UTF-8 (with or
without BOM) or GBK/GB18030 as Excel saves it; spaces around each value are removed.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import msoffcrypto.format.ooxml
import polars as pl

from xlcrm.batch.company import Company
from xlcrm.errors import InputError
from xlcrm.normalize import to_text
from xlcrm.phrase import Phrase
from xlcrm.render.csv import FORMULA_START

WORKBOOK, DEPARTMENT, HTML, CSV = "workbook", "department_workbook", "html", "csv"
KIND_ZH = {WORKBOOK: "公司汇总工作簿", DEPARTMENT: "部门工作簿", HTML: "HTML 报告", CSV: "CSV"}
MAX_PASSWORDS_FILE = 1 << 20
HEADERS = ({"部门", "department"}, {"密码", "password"})
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]')
MAX_NAME = 200  # bytes of a department workbook's name: NAME_MAX is 255, its temporary adds ~30


@dataclass(frozen=True, slots=True)
class Target:
    """One file the run writes."""

    kind: str
    path: Path
    department: str | None = None  # a department workbook's
    password: str | None = None  # encrypted with it when set
    masked: bool = True

    @property
    def protected(self) -> bool:
        """Whether the file has an open password."""
        return self.password is not None


def read_passwords(path: Path) -> dict[str, str]:
    """部门 → 密码 from a passwords file; InputError naming the file and line when it cannot be used."""
    label = str(path)
    try:
        if path.exists() and not path.is_file():  # a FIFO would block, /dev/zero fill the memory
            raise InputError("not_a_file", label)
        with path.open("rb") as handle:
            data = handle.read(MAX_PASSWORDS_FILE + 1)  # bounded: the size stat gives may grow
        if len(data) > MAX_PASSWORDS_FILE:
            raise InputError("passwords", label, detail=Phrase("文件超过 1 MB", "larger than 1 MB"))
    except FileNotFoundError:
        raise InputError("not_found", label) from None
    except OSError as exc:
        raise InputError("passwords", label, detail=exc.strerror or str(exc)) from None
    text = _decode(data, label)
    passwords: dict[str, str] = {}
    for number, fields in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not fields or not "".join(fields).strip() or fields[0].lstrip().startswith("#"):
            continue
        values = [f.strip() for f in fields]
        if values:  # a department as its 参数!部门 or 所属部门 reads it (width-folded, spaces collapsed)
            values[0] = to_text(values[0]) or ""
        if len(values) != 2:
            raise InputError(
                "passwords",
                label,
                detail=Phrase(f"第 {number} 行应为两列“部门,密码”", f"line {number}: two columns"),
            )
        department, password = values
        if number == 1 and department.lower() in HEADERS[0] and password.lower() in HEADERS[1]:
            continue
        if not department or not password:
            raise InputError(
                "passwords",
                label,
                detail=Phrase(f"第 {number} 行部门或密码为空", f"line {number}: blank value"),
            )
        if passwords.get(department, password) != password:
            raise InputError(
                "passwords",
                label,
                detail=Phrase(
                    f"第 {number} 行：部门“{department}”重复",
                    f"line {number}: department “{department}” repeated",
                ),
            )
        passwords[department] = password
    if not passwords:
        raise InputError("passwords", label, detail=Phrase("没有任何密码", "no password in it"))
    return passwords


def _decode(data: bytes, label: str) -> str:
    if b"\x00" in data:
        raise InputError("passwords", label, detail=Phrase("不是文本文件", "not a text file"))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InputError("passwords", label, detail=Phrase("无法识别的编码", "unknown encoding"))


def department_path(output: Path, department: str, taken: Collection[str] = ()) -> Path:
    """``公司汇总_2026-11.xlsx`` + 销售一部 → ``公司汇总_2026-11_销售一部.xlsx``.

    Unsafe characters become _, a long name is shortened to fit a file name (255 bytes, with
    room for the temporary file's affixes), and a name already ``taken`` (another department's,
    compared without case) gets _2, _3, ….
    """
    safe = _UNSAFE.sub("_", department).strip(" .") or "_"
    room = max(MAX_NAME - len(os.fsencode(f"{output.stem}__99{output.suffix}")), 24)
    while len(os.fsencode(safe)) > room:  # a name's own bytes, UTF-8 or not
        safe = safe[:-1]
    safe = safe.rstrip(" .") or "_"
    name, number = f"{output.stem}_{safe}{output.suffix}", 1
    while name.casefold() in {t.casefold() for t in taken}:
        number += 1
        name = f"{output.stem}_{safe}_{number}{output.suffix}"
    return output.with_name(name)


def plan(
    company: Company,
    output: Path,
    *,
    password: str | None,
    html: Path | None = None,
    csv_path: Path | None = None,
    split: bool = False,
    passwords: dict[str, str] | None = None,
    masked: bool = True,
) -> list[Target]:
    """Every file the run will write, the company workbook first."""
    targets = [Target(WORKBOOK, output, password=password, masked=masked)]
    if html is not None:
        targets.append(Target(HTML, html, masked=masked))
    if csv_path is not None:
        targets.append(Target(CSV, csv_path, masked=masked))
    if split:
        taken = [t.path.name for t in targets]
        for department in departments_of(company):
            own = (passwords or {}).get(department, password)
            path = department_path(output, department, taken)
            taken.append(path.name)
            targets.append(Target(DEPARTMENT, path, department, own, masked))
    return targets


def departments_of(company: Company) -> list[str]:
    """The checked submissions' departments, in the order found, each once."""
    return list(dict.fromkeys(o.department for o in company.checked if o.department))


def refuse_unprotected(
    targets: list[Target], company: Company, *, allow: bool, passwords_file: Path | None
) -> frozenset[int]:
    """InputError when a target would break POLICY §7; the submissions whose rows the history withholds."""
    protected = [o for o in company.checked if o.protected]
    if allow:
        return frozenset()
    missing = [t.department for t in targets if t.kind == DEPARTMENT and not t.protected]
    if missing:
        raise InputError(
            "no_department_password",
            str(passwords_file) if passwords_file else "--split-by-department",
            departments="、".join(str(d) for d in missing),
        )
    if not protected:
        return frozenset()
    departments = {o.department for o in protected}
    exposed = [
        t for t in targets if not t.protected and (t.kind != DEPARTMENT or t.department in departments)
    ]
    if exposed:
        raise InputError(
            "unprotected",
            "、".join(o.file for o in protected),
            outputs="、".join(f"{KIND_ZH[t.kind]} {t.path}" for t in exposed),
        )
    return frozenset(o.position for o in protected)


def existing(targets: list[Target]) -> list[Target]:
    """The targets that exist already (refused without --force)."""
    return [t for t in targets if exists(t.path)]


def exists(path: Path) -> bool:
    """Whether ``path`` exists; InputError naming it when it cannot be one (a name too long…)."""
    try:
        return path.exists()
    except OSError as exc:
        raise InputError("output", str(path), detail=exc.strerror or str(exc)) from None


def encrypt(plain: BinaryIO, target: Path, password: str) -> None:
    """``plain`` (an .xlsx package) encrypted with ``password`` into ``target`` (msoffcrypto-tool, ECMA-376 agile)."""
    plain.seek(0)
    with target.open("wb") as sink:
        msoffcrypto.format.ooxml.OOXMLFile(plain).encrypt(password, sink)


def write_csv(frame: pl.DataFrame, target: Path) -> None:
    """A table as CSV for Excel: UTF-8 with BOM, text that Excel would run as a formula behind an apostrophe."""
    safe = frame.with_columns(
        pl.when(pl.col(name).str.contains(FORMULA_START))
        .then(pl.concat_str(pl.lit("'"), pl.col(name)))
        .otherwise(pl.col(name))
        .alias(name)
        for name, dtype in frame.schema.items()
        if dtype == pl.Utf8
    )
    with target.open("wb") as sink:
        sink.write("\ufeff".encode())
        safe.write_csv(sink, datetime_format="%Y-%m-%d %H:%M:%S", date_format="%Y-%m-%d")
