"""Shapes several rules share."""

from __future__ import annotations

from collections.abc import Iterator

from xlcrm.context import INDEX, Context
from xlcrm.diagnostics import Diagnostic
from xlcrm.submission import TABLE, FormData
from xlcrm.workdays import months_later


def older_than(
    ctx: Context, code: str, form_key: str, column: str, months_key: str, value_name: str
) -> Iterator[Diagnostic]:
    """``code`` on every ``column`` date more than the policy's ``months_key`` before as-of."""
    if (found := ctx.indexed(form_key)) is None:
        return
    form, frame = found
    months = int(ctx.policy[months_key])
    stale = frame.filter(months_later(column, months) < ctx.as_of)
    for index, day in stale.select(INDEX, column).iter_rows():
        yield form.at(code, index, column, **{value_name: day}, as_of=ctx.as_of, months=months)


def names_customers(form: FormData) -> bool:
    """Whether every sheet of ``form`` has its 客户编码 column, so each row names its customer.

    A sheet without it is S001, reported once; "this customer has no row in ``form``" (T209,
    C315, V103) would only follow from that and is not reported again (POLICY §5).
    """
    return all("customer_code" in table.columns for table in form.tables)


def cell_key(form: FormData, index: int, *keys: str) -> str:
    """Where a finding about frame row ``index`` goes: the first of ``keys`` its sheet has.

    Optional columns may be absent from a sheet; the finding then sits on the next column
    named (a required one), so it still has a cell to mark.
    """
    columns = form.tables[form.frame[TABLE][index]].columns
    return next((key for key in keys if key in columns), keys[-1])


def percent(value: float) -> str:
    """A rate as staff write it: 0.125 → ``12.5%``."""
    return f"{value * 100:.6g}%"


def amount(value: float) -> str:
    """A computed amount without float noise: 30.000000000000004 → ``30``."""
    return f"{value:.10g}"
