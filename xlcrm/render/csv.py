"""``--format csv``: one row per diagnostic, for staff who open the list in Excel.

A CSV has no cell types: Excel runs any cell starting with ``=``, ``+``, ``-``, ``@`` (also after
leading spaces, and in full width), a tab or a carriage return as a formula (CSV injection, e.g. ``=HYPERLINK(...)`` in a 客户名称). Every
such value is written with a leading apostrophe, which Excel shows as text. The file starts
with a UTF-8 byte-order mark so Excel reads the Chinese correctly. Mobile numbers and e-mail
local parts are masked (POLICY §7) unless ``masked=False`` (``--unmask``); 客户编码 is an
identifier and stays whole.
"""

from __future__ import annotations

import csv
import io
import re

from xlcrm.batch.mask import mask_text
from xlcrm.engine import Result
from xlcrm.normalize import UNSEEN_CHARS
from xlcrm.registry import Lang

COLUMNS = ("code", "severity", "file", "sheet", "cell", "row", "column", "customer_code", "message", "waived")
HEADERS = {
    "zh": ("代码", "级别", "文件", "工作表", "单元格", "行", "列", "客户编码", "说明", "已豁免"),
    "en": COLUMNS,
}
# What Excel runs as a formula: a text starting with = + - @ (also full width, as a Chinese
# input method types them), after any leading spaces or invisible characters (Excel skips them),
# or starting with a tab or a carriage return. One pattern, valid in Python's re and in the Rust
# regex polars uses (the company CSVs, ``xlcrm/batch/outputs.py``), so both escape alike.
_LEADING = "".join(f"\\u{ord(c):04x}" for c in UNSEEN_CHARS)  # every space or invisible character
FORMULA_START = rf"^(?:[\t\r]|[{_LEADING}]*[=+\-@\uff1d\uff0b\uff0d\uff20\ufe66\ufe62\ufe63])"
_FORMULA_START = re.compile(FORMULA_START)
# What staff read in the 级别 and 已豁免 columns, by language.
WORDS = {
    "zh": {"error": "错误", "warning": "警告", True: "是", False: "否"},
    "en": {"error": "error", "warning": "warning", True: "yes", False: "no"},
}


def as_text(value: object) -> str:
    """A cell's text that Excel will never run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if _FORMULA_START.match(text) else text


def render(result: Result, lang: Lang = "zh", *, masked: bool = True) -> str:
    """The CSV text (with a BOM), a header row then one row per diagnostic."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADERS[lang])
    for d in result.diagnostics:
        row = d.to_dict(lang)
        row["severity"], row["waived"] = WORDS[lang][d.severity], WORDS[lang][d.waived]
        cells = [as_text(row[key]) for key in COLUMNS]
        if masked:
            cells = [
                c if key == "customer_code" else mask_text(c) for key, c in zip(COLUMNS, cells, strict=True)
            ]
        writer.writerow(cells)
    return out.getvalue()
