"""Departments and files in counting order: 一部 二部 三部 … 十部 十一部, 2 before 10."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from xlcrm.batch.discover import discover
from xlcrm.batch.order import natural, natural_key

COUNTED = ["华东区", "销售1部", "销售一部", "销售2部", "销售二部", "销售三部", "销售10部", "销售十部",
           "销售十一部", "销售二十部", "销售一百零五部", "销售２０２５部"]  # fmt: skip


def test_numbers_in_names_count_as_numbers() -> None:
    shuffled = sorted(COUNTED)  # code-point order: 三部 before 二部, 10部 before 2部
    assert shuffled != COUNTED
    assert sorted(shuffled, key=natural_key) == COUNTED
    assert sorted(reversed(COUNTED), key=natural_key) == COUNTED  # ties (1部, 一部): by the text


def test_any_text_has_a_key() -> None:
    """A department name is user text: 5,000 digits or numerals must not stop the report."""
    names = ["1" * 5000, "一二三" * 2000, "销售" + "9" * 40 + "部", "销售9部"]
    assert sorted(names, key=natural_key)[0] == "1" * 5000


def test_polars_sorts_a_column_the_same_way() -> None:
    frame = pl.DataFrame({"部门": [*sorted(COUNTED), None], "n": range(len(COUNTED) + 1)})
    assert frame.sort(natural("部门"), nulls_last=True)["部门"].to_list() == [*COUNTED, None]


def test_files_are_found_in_counting_order(tmp_path: Path) -> None:
    names = [
        "销售十部.xlsx",
        "销售二部.xlsx",
        "销售一部.xlsx",
        "销售三部.xlsx",
        "销售10部.xlsx",
        "销售2部.xlsx",
    ]
    for number, name in enumerate(names):
        (tmp_path / name).write_bytes(b"PK" + bytes([number]))  # distinct bytes: no duplicates
    (tmp_path / "十一部").mkdir()
    (tmp_path / "二部").mkdir()
    (tmp_path / "十一部" / "台账.xlsx").write_bytes(b"PK11")
    (tmp_path / "二部" / "台账.xlsx").write_bytes(b"PK02")
    found = [
        Path(f.file).relative_to(tmp_path).as_posix()
        for f in discover([tmp_path], tmp_path / "out.xlsx").found
    ]
    assert found == [
        "销售一部.xlsx", "销售2部.xlsx", "销售二部.xlsx", "销售三部.xlsx", "销售10部.xlsx", "销售十部.xlsx",
        "二部/台账.xlsx", "十一部/台账.xlsx",
    ]  # fmt: skip
