"""变化: this month against the previous stored month (POLICY §6: the latest earlier month).

A customer is the same from one month to the next when the same department files the same
company-wide identity (统一社会信用代码, else the normalised name: ``cross.with_identity``).
Departments new this month or missing from it are listed, and their customers are not counted
as new or removed (nothing about a customer changed because a file came or did not);
departments whose rows a month did not store (password-protected, POLICY §7) are not compared.

- new and removed customers per department;
- tier and grade transition matrices: last month's → this month's computed tier (系统等级) and
  computed credit grade (系统信用等级), for customers present in both months, with a
  （新增） row and a （减少） column for those that came and went;
- limit raises and cuts: the customer's 信用额度 (its first 信用评定 row) against last month's;
- new blacklist hits: B401/B402 findings on a customer that had none last month.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

import polars as pl

from xlcrm.batch.cross import DEPT, IDENTITY, Finding
from xlcrm.batch.mask import mask_text
from xlcrm.batch.order import natural, natural_key
from xlcrm.batch.past import Past
from xlcrm.compute import TIERS

NEW, GONE, NONE_TIER, NONE_GRADE = "（新增）", "（减少）", "无等级", "未评定"
GRADES = ("A", "B", "C")


@dataclass(frozen=True)
class Changes:
    """The section's tables (empty without a previous month)."""

    previous: str | None
    departments: pl.DataFrame  # DEPT, customers, last_customers, new, removed, raised, cut, new_hits
    tiers: pl.DataFrame  # 上月 \\ 本月 matrix
    grades: pl.DataFrame
    limits: pl.DataFrame  # DEPT, customer_code, name, computed_grade, last_limit, limit, change
    hits: pl.DataFrame  # DEPT, customer_code, code, message
    new_departments: list[str] = field(default_factory=list)
    missing_departments: list[str] = field(default_factory=list)
    not_compared: list[str] = field(default_factory=list)  # rows not stored in one of the months


def changes(
    archive: pl.DataFrame, findings: list[Finding], past: Past, submitted: Collection[str], *, masked: bool
) -> Changes:
    """The section from the month's merged 客户档案 (with identities and credit) and the history.

    ``submitted``: the departments of the month's checked submissions — those D106 does not
    miss, whether or not their 客户档案 has rows.
    """
    departments = sorted({d for d in submitted if d is not None}, key=natural_key)
    if past.previous is None:
        return Changes(None, pl.DataFrame(), pl.DataFrame(), pl.DataFrame(), pl.DataFrame(), pl.DataFrame())
    before_departments = set(past.departments)
    withheld = set(past.withheld.filter(pl.col("month") == past.previous)["department"].to_list())
    compared = [d for d in departments if d in before_departments and d not in withheld]
    now = _first(archive.filter(pl.col(DEPT).is_in(compared)))
    before = _first(
        past.customers.rename({"department": DEPT, "identity": IDENTITY}).filter(pl.col(DEPT).is_in(compared))
    )
    keys = [DEPT, IDENTITY]
    both = now.join(before, on=keys, how="inner", suffix="_last")
    added = now.join(before, on=keys, how="anti")
    removed = before.join(now, on=keys, how="anti")
    limits = _limits(both)
    hits = _new_hits(findings, past, compared, masked)
    counts = pl.DataFrame({DEPT: compared}, schema={DEPT: pl.Utf8})
    for name, frame in (
        ("customers", now),
        ("last_customers", before),
        ("new", added),
        ("removed", removed),
        ("raised", limits.filter(pl.col("change") > 0)),
        ("cut", limits.filter(pl.col("change") < 0)),
        ("new_hits", hits.unique([DEPT, "customer_code"])),
    ):
        counts = counts.join(frame.group_by(DEPT).agg(pl.len().alias(name)), on=DEPT, how="left")
    counts = counts.fill_null(0)
    return Changes(
        previous=past.previous,
        departments=counts,
        tiers=_matrix(both, added, removed, "computed_tier", (*TIERS, NONE_TIER), NONE_TIER),
        grades=_matrix(both, added, removed, "computed_grade", (*GRADES, NONE_GRADE), NONE_GRADE),
        limits=limits,
        hits=hits,
        new_departments=[d for d in departments if d not in before_departments],
        missing_departments=sorted(before_departments - set(departments), key=natural_key),
        not_compared=sorted(withheld & set(departments), key=natural_key),
    )


def _first(frame: pl.DataFrame) -> pl.DataFrame:
    """One row per (department, identity): the first (a duplicate is S007's business)."""
    columns = [DEPT, IDENTITY, "customer_code", "name", "computed_tier", "computed_grade"]
    if "credit_limit" in frame.columns:
        columns.append("credit_limit")
    return (
        frame.filter(pl.col(IDENTITY).is_not_null())
        .unique([DEPT, IDENTITY], keep="first", maintain_order=True)
        .select(columns)
    )


def _matrix(
    both: pl.DataFrame,
    added: pl.DataFrame,
    removed: pl.DataFrame,
    key: str,
    order: tuple[str, ...],
    none: str,
) -> pl.DataFrame:
    """Counts of last month's value (rows) → this month's (columns), with arrivals and departures."""
    pairs = pl.concat(
        [
            both.select(
                pl.col(f"{key}_last").fill_null(none).alias("from"), pl.col(key).fill_null(none).alias("to")
            ),
            added.select(pl.lit(NEW).alias("from"), pl.col(key).fill_null(none).alias("to")),
            removed.select(pl.col(key).fill_null(none).alias("from"), pl.lit(GONE).alias("to")),
        ]
    )
    counts = {(a, b): n for a, b, n in pairs.group_by("from", "to").len().iter_rows()}
    rows, columns = [*order, NEW], [*order, GONE]
    return pl.DataFrame(
        [{"上月 \\ 本月": a, **{b: counts.get((a, b), 0) for b in columns}} for a in rows],
        schema={"上月 \\ 本月": pl.Utf8, **dict.fromkeys(columns, pl.Int64)},
    )


def _limits(both: pl.DataFrame) -> pl.DataFrame:
    """Customers whose limit changed (a missing limit counts as 0)."""
    if "credit_limit" not in both.columns:
        return pl.DataFrame(schema={DEPT: pl.Utf8, "change": pl.Float64})
    return (
        both.with_columns(
            pl.col("credit_limit").fill_null(0).alias("limit"),
            pl.col("credit_limit_last").fill_null(0).alias("last_limit"),
        )
        .with_columns((pl.col("limit") - pl.col("last_limit")).alias("change"))
        .filter(pl.col("change") != 0)
        .select(DEPT, "customer_code", "name", "computed_grade", "last_limit", "limit", "change")
        .sort(natural(DEPT), "change", descending=[False, True])
    )


def _new_hits(findings: list[Finding], past: Past, compared: list[str], masked: bool) -> pl.DataFrame:
    """B401/B402 findings this month on customers without one last month (compared departments)."""
    rows = [
        (f.department, f.diagnostic.customer_code, f.diagnostic.code, f.diagnostic.message("zh"))
        for f in findings
        if f.diagnostic.code in ("B401", "B402") and f.department in compared and f.diagnostic.customer_code
    ]
    frame = pl.DataFrame(
        rows,
        schema={DEPT: pl.Utf8, "customer_code": pl.Utf8, "code": pl.Utf8, "message": pl.Utf8},
        orient="row",
    )
    if masked:
        frame = frame.with_columns(pl.col("message").map_elements(mask_text, return_dtype=pl.Utf8))
    last = past.hits.rename({"department": DEPT})
    return frame.join(last, on=[DEPT, "customer_code"], how="anti", maintain_order="left")
