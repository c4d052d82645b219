"""Shapes several rules share."""

from __future__ import annotations

from collections.abc import Iterator

from xlcrm.context import INDEX, Context
from xlcrm.diagnostics import Diagnostic
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
