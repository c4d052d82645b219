"""趋势: the last 12 months from the history, this month included (drawn when ≥ 2 months exist).

Per month: customers, the company's VIP and 优选 shares of the admitted customers (declared
tiers, as the quotas count them), total exposure and limits, and the counted findings (waived
ones left out) per family. A month's departments are those stored for it; the history's months
are summed from its ``submissions`` and ``findings`` tables, this month from the company view.
"""

from __future__ import annotations

from collections import Counter

import polars as pl

from xlcrm.batch.cross import Finding
from xlcrm.batch.past import Past

MIN_MONTHS = 2
SERIES = ("customers", "admitted", "vip", "preferred", "limit_total", "exposure_total")


def trends(departments: pl.DataFrame, findings: list[Finding], past: Past, month: str) -> pl.DataFrame:
    """One row per month, oldest first: the sums, the shares, and a column per family."""
    stored = past.months.filter(pl.col("month").is_in(past.recent))
    current = (
        departments.select(pl.lit(month).alias("month"), *(pl.col(c) for c in SERIES))
        if not departments.is_empty()
        else pl.DataFrame({"month": [month], **{c: [0] for c in SERIES}})
    )
    sums = (
        pl.concat([stored.select("month", *SERIES), current], how="vertical_relaxed")
        .group_by("month")
        .agg(pl.col(c).sum() for c in SERIES)
    )
    counted = Counter(f.diagnostic.code[0] for f in findings if not f.diagnostic.waived)
    families = pl.concat(
        [
            past.families.filter(pl.col("month").is_in(past.recent)).select("month", "family", "n"),
            pl.DataFrame(
                [(month, family, n) for family, n in counted.items()],
                schema={"month": pl.Utf8, "family": pl.Utf8, "n": pl.Int64},
                orient="row",
            ),
        ]
    )
    wide = (
        families.group_by("month", "family").agg(pl.col("n").sum()).pivot("family", index="month", values="n")
        if not families.is_empty()
        else pl.DataFrame(schema={"month": pl.Utf8})
    )
    return (
        sums.join(wide, on="month", how="left")
        .with_columns(
            pl.when(pl.col("admitted") > 0).then(pl.col("vip") / pl.col("admitted")).alias("vip_share"),
            pl.when(pl.col("admitted") > 0)
            .then(pl.col("preferred") / pl.col("admitted"))
            .alias("preferred_share"),
        )
        .fill_null(0)
        .sort("month")
    )


def families_of(table: pl.DataFrame) -> list[str]:
    """The family columns of a trends table, in the families' order."""
    from xlcrm.batch.workbook import FAMILIES

    return [f for f in FAMILIES if f in table.columns]
