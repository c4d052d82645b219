"""What a workbook holds that a careless writer would drop, counted before and after writing.

xlcrm patches only the package parts it changes, so charts, images, VBA, validations and the
rest stay byte for byte; this inventory is the proof it runs on every copy. Anything the copy
holds fewer of than the input (other than xlcrm's own marks) is reported as a warning naming
it — never dropped silently. Counted from the package's small parts only: the big sheet parts
are compared at the patch, where their head and tail are at hand (``sheet_features``).
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections import Counter
from collections.abc import Set
from pathlib import Path
from typing import IO

# Parts by kind: package path pattern (in the workbook's folder, xl/ or another) -> Chinese name.
_PARTS = {
    r"(?:[^/]*/)?charts/chart\d*\.xml": "图表 charts",
    r"(?:[^/]*/)?media/.+": "图片 images",
    r"(?:[^/]*/)?drawings/drawing\d*\.xml": "绘图 drawings",
    r"(?:[^/]*/)?vbaProject\.bin": "宏 VBA",
    r"(?:[^/]*/)?tables/.+\.xml": "表格 tables",
    r"(?:[^/]*/)?pivotTables/.+\.xml": "数据透视表 pivot tables",
    r"(?:[^/]*/)?embeddings/.+": "嵌入对象 embedded objects",
    r"(?:[^/]*/)?threadedComments/.+\.xml": "线程批注 threaded comments",
}
# Sheet elements outside <sheetData> (the head and tail of a worksheet part).
_SHEET_FEATURES = {
    rb"<(?:\w+:)?dataValidation\b": "数据验证 data validations",
    rb"<(?:\w+:)?mergeCell\b": "合并单元格 merged cells",
    rb"<(?:\w+:)?pane\b": "冻结窗格 frozen panes",
    rb"<(?:\w+:)?sheetProtection\b": "工作表保护 sheet protection",
    rb"<(?:\w+:)?hyperlink\b": "超链接 hyperlinks",
    rb"<(?:\w+:)?cfRule\b": "条件格式 conditional formats",
    rb"<(?:\w+:)?drawing\b": "绘图 drawings",
}


def _own_sheet_indices(archive: zipfile.ZipFile, workbook: str, xml: bytes, own: Set[str]) -> set[int]:
    """The positions (``localSheetId``) of the sheets whose parts are in ``own``."""
    if not own:
        return set()
    folder = workbook.rpartition("/")[0]
    rels_name = f"{folder}/_rels/{workbook.rpartition('/')[2]}.rels" if folder else f"_rels/{workbook}.rels"
    try:
        rels = archive.read(rels_name)
    except KeyError:
        return set()
    targets: dict[str, str] = {}
    for attributes in re.findall(rb"<(?:\w+:)?Relationship\b([^>]*)", rels):
        ident, goal = re.search(rb'\bId="([^"]*)"', attributes), re.search(rb'\bTarget="([^"]*)"', attributes)
        if ident and goal:
            targets[ident[1].decode()] = goal[1].decode()
    found = set()
    for index, attributes in enumerate(re.findall(rb"<(?:\w+:)?sheet\b([^>]*)", xml)):
        rid = re.search(rb'\b\w+:id="([^"]*)"', attributes)  # r:id, under whatever prefix
        target = targets.get(rid[1].decode(), "") if rid else ""
        part = target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"{folder}/{target}")
        if part in own:
            found.add(index)
    return found


def package_features(file: str | Path | IO[bytes], marker: str, own: Set[str] = frozenset()) -> Counter[str]:
    """Counts of the parts and workbook-level features of a package (notes but xlcrm's own).

    ``own``: parts known to be xlcrm's (an earlier run's 汇总 charts, whatever another program
    renamed them to), not counted.
    """
    counts: Counter[str] = Counter()
    with zipfile.ZipFile(file) as archive:
        names = [n for n in archive.namelist() if n not in own]
        for pattern, label in _PARTS.items():
            counts[label] += sum(1 for n in names if re.fullmatch(pattern, n))
        workbook = next((n for n in names if re.fullmatch(r"(?:[^/]*/)?workbook\d*\.xml", n)), None)
        if workbook:
            xml = archive.read(workbook)
            ours = _own_sheet_indices(archive, workbook, xml, own)
            counts["定义的名称 defined names"] += sum(
                1
                for scope in re.findall(rb"<(?:\w+:)?definedName\b([^>]*)", xml)
                if (local := re.search(rb'localSheetId="(\d+)"', scope)) is None or int(local[1]) not in ours
            )  # a name scoped to one of xlcrm's own sheets (its filter, its print titles) goes with it
            counts["隐藏的工作表 hidden sheets"] += len(re.findall(rb'state="(?:very)?[hH]idden"', xml))
        for name in names:
            if re.fullmatch(r"(?:[^/]*/)?comments\d*\.xml", name):
                # a user's note is a comment without xlcrm's marker (one of ours may hold
                # several findings, each line starting with the marker)
                comments = re.split(rb"<(?:\w+:)?comment\b", archive.read(name))[1:]
                counts["批注 notes"] += sum(1 for c in comments if marker.encode() not in c)
    return counts


def sheet_features(head_and_tail: bytes, mark: str) -> Counter[str]:
    """Counts of a worksheet's features outside its rows, xlcrm's own conditional formats aside."""
    counts: Counter[str] = Counter()
    for pattern, label in _SHEET_FEATURES.items():
        counts[label] = len(re.findall(pattern, head_and_tail))
    counts["条件格式 conditional formats"] -= head_and_tail.count(
        mark.encode("utf-8").replace(b'"', b"&quot;")
    )
    counts["条件格式 conditional formats"] -= head_and_tail.count(mark.encode("utf-8"))
    return counts


def lost(before: Counter[str], after: Counter[str]) -> list[str]:
    """What ``after`` holds fewer of, in words: ``图表 charts: 2 → 1``."""
    return [f"{label}: {before[label]} → {after[label]}" for label in before if after[label] < before[label]]
