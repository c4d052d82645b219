"""Cross-form references: rows that name a customer must name one filed in 客户档案."""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl

from xlcrm.context import Context
from xlcrm.diagnostics import Diagnostic
from xlcrm.registry import rule


@rule("S008")
def unknown_customer(ctx: Context) -> Iterator[Diagnostic]:
    """S008: a row of another form whose 客户编码 is not in 客户档案.

    Not reported while the archive's codes are not all known: without its 客户编码 column, or
    with a 客户编码 cell that cannot be read (an Excel error value, S010) — no cascades.
    """
    submission = ctx.submission
    archive = submission.forms.get("archive")
    if archive is None or not any("customer_code" in t.columns for t in archive.tables):
        return  # the missing sheet (S009) or column (S001) is reported once; nothing to compare with
    if any(key == "customer_code" and archive.codes[t][i] is None for t, i, key in archive.unreadable):
        return  # a code cell that cannot be read (S010) is reported; any unknown code may be its row's
    known = archive.frame["customer_code"].drop_nulls().unique()
    for form in submission.forms.values():
        for column in form.form.columns:
            if column.ref != "archive":  # only declared references (not 豁免's customer)
                continue
            unknown = form.frame.with_row_index("__i").filter(
                pl.col(column.key).is_not_null() & ~pl.col(column.key).is_in(known.implode())
            )
            for index, value in zip(unknown["__i"], unknown[column.key], strict=True):
                yield form.at("S008", index, column.key, value=value)
