"""The revenue plan: R701, R702 (001 中通 附表7).

实际收入 = 合同额 × 获取率 and 利润额 = 实际收入 × 利润率 (the declared 实际收入), each within a
tolerance of 0.01 万元 *(cfg)*: a difference of exactly the tolerance is accepted.
"""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl

from xlcrm.context import INDEX, Context
from xlcrm.diagnostics import Diagnostic
from xlcrm.registry import rule
from xlcrm.rules.common import amount, percent

# Float noise allowance (in 万元): 100 × 0.3 is 30.000000000000004, and "exactly the tolerance"
# must stay accepted whatever the binary rounding of the two amounts.
_NOISE = 1e-9


def _mismatch(ctx: Context, code: str, result: str, base: str, rate: str) -> Iterator[Diagnostic]:
    if (found := ctx.indexed("revenue_plan")) is None:
        return
    form, frame = found
    tolerance = float(ctx.policy["revenue.tolerance"])
    product = pl.col(base) * pl.col(rate)
    wrong = frame.filter((pl.col(result) - product).abs() > tolerance + _NOISE)
    for index, declared, value, share in wrong.select(INDEX, result, base, rate).iter_rows():
        args = {"declared": declared, "rate": percent(share), "expected": amount(value * share)}
        if code == "R701":
            args["contract"] = value
        else:
            args["revenue"] = value
        yield form.at(code, index, result, **args, tolerance=tolerance)


@rule("R701")
def revenue_mismatch(ctx: Context) -> Iterator[Diagnostic]:
    """R701: 实际收入 ≠ 合同额 × 获取率 beyond the tolerance."""
    yield from _mismatch(ctx, "R701", "expected_revenue", "contract_value", "win_rate")


@rule("R702")
def profit_mismatch(ctx: Context) -> Iterator[Diagnostic]:
    """R702: 利润额 ≠ 实际收入 × 利润率 beyond the tolerance."""
    yield from _mismatch(ctx, "R702", "profit", "expected_revenue", "margin")
