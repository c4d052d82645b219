"""大客户分析 (004 §8): key accounts — 客户类别 = 重点客户 — now, last month and a year ago.

Per department: key accounts now, in the previous stored month and in the same month a year
before; their share of 年业务量(万元) (key accounts' sum over all customers' sum); their
collections (月均回款额 of their 信用评定 rows) now and last month. Company-wide: the product
mix of key accounts (经营品种, a customer counted once per product it lists), the key accounts
lost since last month — gone from the department's 客户档案, or no longer 重点客户 — with where
they are now, and the collections trend over the stored months.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import polars as pl

from xlcrm.batch.cross import DEPT, IDENTITY, SUB
from xlcrm.batch.order import natural
from xlcrm.batch.past import KEY, Past

IS_KEY = pl.col("category") == KEY


@dataclass(frozen=True)
class KeyAccounts:
    """The section's tables."""

    departments: (
        pl.DataFrame
    )  # DEPT, now, last_month, year_ago, business_share, collections, collections_last
    products: pl.DataFrame  # product, accounts, business
    lost: pl.DataFrame  # DEPT, customer_code, name, annual_business, reason
    collections: pl.DataFrame  # month, DEPT, collections (stored months and this one)


def key_accounts(
    archive: pl.DataFrame, credit: pl.DataFrame, past: Past, month: str, submitted: Collection[str]
) -> KeyAccounts:
    """The section from the month's merged 客户档案 and 信用评定 and the history.

    ``submitted``: the departments of the month's checked submissions (a department missing
    this month loses no key account: nothing is known of its 客户档案 now).
    """
    keyed = archive.filter(IS_KEY)
    collections = (
        credit.join(keyed.select(SUB, "customer_code").unique(), on=[SUB, "customer_code"], how="semi")
        .group_by(DEPT)
        .agg(pl.col("avg_monthly_collection").sum().alias("collections"))
    )
    business = archive.group_by(DEPT, maintain_order=True).agg(
        IS_KEY.sum().alias("now"),
        pl.col("annual_business").filter(IS_KEY).sum().alias("key_business"),
        pl.col("annual_business").sum().alias("business"),
    )
    history = past.keys.rename({"department": DEPT})
    last = history.filter(pl.col("month") == (past.previous or "")).select(
        DEPT, pl.col("key_accounts").alias("last_month"), pl.col("collections").alias("collections_last")
    )
    ago = history.filter(pl.col("month") == (past.year_ago or "")).select(
        DEPT, pl.col("key_accounts").alias("year_ago")
    )
    departments = (
        business.join(last, on=DEPT, how="left", maintain_order="left")
        .join(ago, on=DEPT, how="left", maintain_order="left")
        .join(collections, on=DEPT, how="left", maintain_order="left")
        .with_columns(
            pl.when(pl.col("business") > 0)
            .then(pl.col("key_business") / pl.col("business"))
            .alias("business_share"),
            # 0 where the department submitted (with its rows) that month, blank where it did not
            pl.when(past.present(past.previous)).then(pl.col("last_month").fill_null(0)),
            pl.when(past.present(past.year_ago)).then(pl.col("year_ago").fill_null(0)),
            pl.when(past.present(past.previous)).then(pl.col("collections_last").fill_null(0)),
        )
        .select(
            DEPT,
            "now",
            "last_month",
            "year_ago",
            "business_share",
            "key_business",
            "collections",
            "collections_last",
        )
    )
    products = (
        keyed.select("products", "annual_business")
        .explode("products")
        .filter(pl.col("products").is_not_null())
        .group_by("products")
        # to the cent: a parallel group sum adds in any order, and its last digits would vary
        .agg(pl.len().alias("accounts"), pl.col("annual_business").sum().round(2).alias("business"))
        .sort(["accounts", "business", "products"], descending=[True, True, False])
        .rename({"products": "product"})
    )
    collected = pl.concat(
        [
            history.filter(pl.col("month").is_in(past.recent)).select("month", DEPT, "collections"),
            collections.select(pl.lit(month).alias("month"), DEPT, "collections"),
        ],
        how="vertical_relaxed",
    )
    trend = _by_month(collected, past, month, submitted)
    return KeyAccounts(departments, products, _lost(archive, past, submitted), trend)


def _by_month(collected: pl.DataFrame, past: Past, month: str, submitted: Collection[str]) -> pl.DataFrame:
    """Collections per (month, department), for the departments with key accounts in any month.

    0 in a month the department submitted (its rows stored) without any; no row where it did not.
    """
    listed = collected[DEPT].unique().implode()
    withheld = past.withheld.select("month", pl.col("department").alias(DEPT))
    present = (
        pl.concat(
            [
                past.months.filter(pl.col("month").is_in(past.recent)).select(
                    "month", pl.col("department").alias(DEPT)
                ),
                pl.DataFrame(
                    {"month": [month] * len(submitted), DEPT: sorted(submitted)},
                    schema={"month": pl.Utf8, DEPT: pl.Utf8},
                ),
            ]
        )
        .unique()
        .join(withheld, on=["month", DEPT], how="anti")
        .filter(pl.col(DEPT).is_in(listed))
    )
    return (
        present.join(collected, on=["month", DEPT], how="left")
        .with_columns(pl.col("collections").fill_null(0.0))
        .select("month", DEPT, "collections")
        .sort("month", natural(DEPT))
    )


def _lost(archive: pl.DataFrame, past: Past, submitted: Collection[str]) -> pl.DataFrame:
    """Last month's key accounts that are not key accounts of the same department now.

    Only in departments that submitted this month: a missing one (D106) is not compared, as
    变化 does not count its customers as removed.
    """
    before = past.customers.filter(
        IS_KEY & pl.col("identity").is_not_null() & pl.col("department").is_in(sorted(submitted))
    ).rename({"department": DEPT, "identity": IDENTITY})
    withheld = past.withheld.filter(pl.col("month") == (past.previous or ""))["department"].implode()
    before = before.filter(~pl.col(DEPT).is_in(withheld))
    current = (  # only last month's key accounts are looked up (none: nothing to group)
        archive.filter(pl.col(IDENTITY).is_not_null())
        .select(DEPT, IDENTITY, "category")
        .join(before.select(IDENTITY).unique(), on=IDENTITY, how="semi")
    )
    here = current.group_by(DEPT, IDENTITY).agg(pl.col("category").first().alias("now_category"))
    elsewhere = current.filter(IS_KEY).group_by(IDENTITY).agg(pl.col(DEPT).unique().sort().alias("key_in"))
    lost = (
        before.join(here, on=[DEPT, IDENTITY], how="left")
        .filter(pl.col("now_category").is_null() | (pl.col("now_category") != KEY))
        .join(elsewhere, on=IDENTITY, how="left")
    )
    moved = pl.col("key_in").list.set_difference(pl.concat_list(pl.col(DEPT)))
    reason = (
        pl.when(pl.col("now_category").is_null())
        .then(pl.lit("已不在本部门客户档案中"))
        .otherwise(pl.concat_str(pl.lit("客户类别改为"), pl.col("now_category")))
    )
    where = pl.when(moved.list.len() > 0).then(
        pl.concat_str(pl.lit("；现为"), moved.list.join("、"), pl.lit("的重点客户"))
    )
    return lost.select(
        DEPT, "customer_code", "name", "annual_business",
        pl.concat_str(reason, where.fill_null("")).alias("reason"),
    ).sort(natural(DEPT), "customer_code")  # fmt: skip
