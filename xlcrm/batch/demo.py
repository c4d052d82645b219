"""A month of sample submissions for ``xlcrm demo`` and the tests: the sample as other departments.

Each department's workbook is the demo sample (``xlcrm.sample``) with its 所属部门 and
参数!部门 set to that department; 销售二部 rates 北京康达 (C001) differently (a D101), 销售三部
has no 参数 sheet (its department comes from 所属部门). The month also holds a CSV renamed to
.xlsx (unusable) and Excel's lock file (skipped).
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from xlcrm.sample import write_sample

DEPARTMENTS = ("销售一部", "销售二部", "销售三部")
LOCK, UNUSABLE = "~$销售一部_客户管理台账.xlsx", "销售四部_客户管理台账.xlsx"


def write_department(path: Path, name: str, *, parameters: bool = True, capital: str | None = None) -> Path:
    """The sample workbook as department ``name``'s (``capital``: C001's 资金实力)."""
    write_sample(path)
    book = load_workbook(path)
    if parameters:
        book["参数"]["B1"] = name
    else:
        del book["参数"]
    archive = book["客户档案"]
    archive["A1"] = str(archive["A1"].value).replace("销售一部", name)
    for row in range(4, archive.max_row + 1):
        archive.cell(row, 3).value = name
    if capital is not None:
        book["信用评定"]["G2"] = capital
    book.save(path)
    return path


def write_month(folder: Path) -> list[Path]:
    """The demo month in ``folder``: three departments, an unusable file and a lock file."""
    folder.mkdir(parents=True, exist_ok=True)
    written = [
        write_department(folder / f"{DEPARTMENTS[0]}_客户管理台账.xlsx", DEPARTMENTS[0]),
        write_department(folder / f"{DEPARTMENTS[1]}_客户管理台账.xlsx", DEPARTMENTS[1], capital="不足"),
        write_department(folder / f"{DEPARTMENTS[2]}_客户管理台账.xlsx", DEPARTMENTS[2], parameters=False),
    ]
    unusable = folder / UNUSABLE
    unusable.write_text("客户编码,客户名称\nC001,北京康达医疗器械有限公司\n", encoding="utf-8")
    lock = folder / LOCK
    lock.write_bytes(b"\x0cxlcrm" + b"\x00" * 150)  # what Excel leaves while the workbook is open
    return [*written, unusable, lock]
