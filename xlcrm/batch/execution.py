"""授信执行: 002 §40's 《客户授信额度执行评价表》 across the company.

One row per 信用评定 row in business — a grant (授信类型 临时/长期), a limit, or an exposure
now or last month (002 §29: 授信客户 and those with credit sales or prepayments without a
grant) — with its utilisation, the change of its exposure since last month, four flags and
the action the policy implies for each:

| flag | when | action | clause |
|---|---|---|---|
| 超额 | C307 on the row: exposure above the limit of a grant | 压缩至额度内 | 002 §33 |
| 无授信增长 | C308: exposure grew without a grant | 停止新增赊销 | 002 §34 |
| 合同到期 | C312: the contract ends within 30 days (or ended) with exposure | 续签/清收 | 002 §36 |
| 调查过期 | C313: the credit survey is older than 3 months | 重新调查 | 002 §12 |

A flag is the rule's finding on that row (waived ones too: the fact stands, the row says it is
waived), so the table and 问题明细 never disagree. The change since last month compares with
the exposure the history stored for the same customer (same department, same identity) in
the previous month, else with the row's own 上月占用额.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from xlcrm.batch.cross import DEPT, FILE, GRANT, IDENTITY, SUB, Finding
from xlcrm.batch.past import Past
from xlcrm.batch.worker import ROW, SHEET

# (flag column, rule code, label, action)
FLAGS = (
    ("over_limit", "C307", "超额", "压缩至额度内"),
    ("grew_ungranted", "C308", "无授信增长", "停止新增赊销"),
    ("contract_ending", "C312", "合同到期", "续签/清收"),
    ("survey_stale", "C313", "调查过期", "重新调查"),
)
CODES = {code: name for name, code, _, _ in FLAGS}
SOURCE_HISTORY, SOURCE_FORM = "历史库", "本表上月占用额"
COLUMNS = (
    (DEPT, "部门"), ("customer_code", "客户编码"), ("name", "客户名称"), ("computed_grade", "系统信用等级"),
    ("credit_type", "授信类型"), ("limit", "信用额度(元)"), ("exposure", "当前占用额(元)"),
    ("utilisation", "使用率"), ("last_exposure", "上月占用额(元)"), ("change", "较上月变化(元)"),
    ("change_source", "上月数来源"), *((name, label) for name, _, label, _ in FLAGS),
    ("waived", "已豁免"), ("action", "建议措施"), (FILE, "来源文件"), (SHEET, "工作表"), (ROW, "行"),
)  # fmt: skip


def flag_rows(findings: Iterable[Finding]) -> pl.DataFrame:
    """(submission, sheet, row, flag, waived) of every C307/C308/C312/C313 finding."""
    rows = [
        (f.position, f.diagnostic.sheet, f.diagnostic.row, CODES[f.diagnostic.code], f.diagnostic.waived)
        for f in findings
        if f.diagnostic.code in CODES and f.position is not None
    ]
    schema = {SUB: pl.Int64, SHEET: pl.Utf8, ROW: pl.Int64, "flag": pl.Utf8, "flag_waived": pl.Boolean}
    return pl.DataFrame(rows, schema=schema, orient="row")


def in_business() -> pl.Expr:
    """A grant, a limit, or an exposure now or last month."""
    return (
        GRANT
        | (pl.col("limit").fill_null(0) > 0)
        | (pl.col("exposure").fill_null(0) > 0)
        | (pl.col("prev_exposure").fill_null(0) > 0)
    )


def execution(credit: pl.DataFrame, findings: Iterable[Finding], past: Past) -> pl.DataFrame:
    """The table's rows (columns as in ``COLUMNS``), in the submissions' order."""
    rows = credit.filter(in_business())
    flags = flag_rows(findings)
    wide = (
        flags.group_by(SUB, SHEET, ROW).agg(
            *(pl.col("flag").eq(name).any().alias(name) for name, _, _, _ in FLAGS),
            pl.col("flag_waived").any().alias("waived"),
        )
        if not flags.is_empty()
        else pl.DataFrame(
            schema={SUB: pl.Int64, SHEET: pl.Utf8, ROW: pl.Int64}
            | {name: pl.Boolean for name, _, _, _ in FLAGS}
            | {"waived": pl.Boolean}
        )
    )
    last = (
        past.credit.filter(pl.col("identity").is_not_null())
        .group_by("department", "identity")
        .agg(pl.col("exposure").first().alias("__history"))
        .rename({"department": DEPT, "identity": IDENTITY})
    )
    joined = rows.join(wide, on=[SUB, SHEET, ROW], how="left", maintain_order="left").join(
        last, on=[DEPT, IDENTITY], how="left", maintain_order="left"
    )
    exposure = pl.col("exposure").fill_null(0)
    known = pl.col("__history").is_not_null()
    last_exposure = pl.when(known).then(pl.col("__history")).otherwise(pl.col("prev_exposure"))
    actions = pl.concat_str(
        [pl.when(pl.col(name)).then(pl.lit(action)) for name, _, _, action in FLAGS],
        separator="；",
        ignore_nulls=True,
    )
    return (
        joined.with_columns(
            pl.col("__name").alias("name"),
            pl.when(pl.col("limit").fill_null(0) > 0).then(exposure / pl.col("limit")).alias("utilisation"),
            last_exposure.alias("last_exposure"),
            (exposure - last_exposure).alias("change"),
            pl.when(known)
            .then(pl.lit(SOURCE_HISTORY))
            .when(pl.col("prev_exposure").is_not_null())
            .then(pl.lit(SOURCE_FORM))
            .alias("change_source"),
            *(pl.col(name).fill_null(False) for name, _, _, _ in FLAGS),
            pl.col("waived").fill_null(False),
        )
        .with_columns(pl.when(actions != "").then(actions).alias("action"))
        .select([c for c, _ in COLUMNS])
    )


def by_department(table: pl.DataFrame) -> pl.DataFrame:
    """Per department: rows in business, limits, exposure, utilisation and each flag's count."""
    return (
        table.group_by(DEPT, maintain_order=True)
        .agg(
            pl.len().alias("rows"),
            pl.col("limit").fill_null(0).sum().alias("limit"),
            pl.col("exposure").fill_null(0).sum().alias("exposure"),
            pl.col("change").fill_null(0).sum().alias("change"),
            *(pl.col(name).sum().alias(name) for name, _, _, _ in FLAGS),
            pl.any_horizontal(name for name, _, _, _ in FLAGS).sum().alias("flagged"),
        )
        .with_columns(
            pl.when(pl.col("limit") > 0).then(pl.col("exposure") / pl.col("limit")).alias("utilisation")
        )
    )


def flagged(table: pl.DataFrame) -> pl.DataFrame:
    """The flagged rows, most flags first, then the highest utilisation."""
    count = pl.sum_horizontal(pl.col(name).cast(pl.Int8) for name, _, _, _ in FLAGS)
    return (
        table.with_columns(count.alias("__flags"))
        .filter(pl.col("__flags") > 0)
        .sort(["__flags", "utilisation", "exposure"], descending=True, nulls_last=True, maintain_order=True)
        .drop("__flags")
    )
