"""A 客户档案 sheet with a two-row header, as staff draw one (POLICY §5, docs/policy.md §5).

A title row merged across the whole width; then group headings merged across the columns
they group — 准入条件 over 证照齐全 / 经营资质齐全 / 已签购销合同 / 有违法记录, 规模 over
医院等级 / 床位数 / 年业务量(万元) — whose headers sit on the second header row, and every other
header merged down over both header rows. Three planted mistakes, two under the groups.
``tests/data/make_fixtures.sh`` saves it with LibreOffice as ``two_row_libreoffice.xlsx``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.workbooks import write_case

GROUPS = {
    "准入条件": ["证照齐全", "经营资质齐全", "已签购销合同", "有违法记录"],
    "规模": ["医院等级", "床位数", "年业务量(万元)"],
}
TITLE = "A1:Z1"  # the title row, merged across the whole width of the 26 columns
# Row 1 the title, rows 2-3 the header, customers C001-C004 on rows 4-7.
ARCHIVE: list[dict[str, Any]] = [
    {},
    {"经营资质齐全": "也许"},  # S003 at R5: not a 是/否 value
    {"有违法记录": "是"},  # A101 at T6: an admitted customer with an illegal record
    {"联系电话": "12345"},  # S005 at K7: a column merged down over both header rows
]
EXPECTED = [("S003", "R5", 5, "C002"), ("A101", "T6", 6, "C003"), ("S005", "K7", 7, "C004")]


def write_two_row(path: Path, *, title: bool = True, sheet: str = "客户档案") -> Path:
    """The case's workbook (its 客户档案 named ``sheet``); without ``title`` its rows sit one higher."""
    path.parent.mkdir(parents=True, exist_ok=True)
    look = {"name": sheet, "groups": GROUPS, "merges": [TITLE] if title else []}
    return write_case(path, {"客户档案": ARCHIVE}, title_rows=int(title), layout={"客户档案": look})
