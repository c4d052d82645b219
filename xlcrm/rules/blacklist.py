"""Blacklists: B401 (company), B402 (department) (000 §3.5b). B403 is a schema check.

An entry matches a customer by 客户编码, by 统一社会信用代码, or by the normalised name (the
same normalisation as everywhere: trimmed, full-width folded, spaces collapsed); the finding
says which matched and sits on that cell of the customer's archive row.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import polars as pl

from xlcrm.compute import Phrase
from xlcrm.context import INDEX, Context, Row
from xlcrm.diagnostics import Diagnostic
from xlcrm.registry import rule

_KEYS = (
    ("customer_code", Phrase("客户编码", "customer code")),
    ("uscc", Phrase("统一社会信用代码", "credit code")),
    ("name", Phrase("客户名称", "name")),
)
MATCHED_BY = tuple(key for key, _ in _KEYS)  # the columns an entry matches a customer by
COMPANY, DEPARTMENT = "公司", "部门"


def blacklist_match(ctx: Context, customer: Row, scope: str | None = None) -> list[tuple[Row, str, Phrase]]:
    """The entries (of ``scope``, or any) that match ``customer``, with the key that matched."""
    index = _index(ctx)
    found: dict[int, tuple[Row, str, Phrase]] = {}
    for key, phrase in _KEYS:
        value = customer.get(key)
        if value is None:
            continue
        for position in index.get((key, value), ()):
            entry = ctx.rows("blacklist")[position]
            if (scope is None or entry.get("scope") == scope) and position not in found:
                found[position] = (entry, key, phrase)
    return [found[p] for p in sorted(found)]


def _index(ctx: Context) -> dict[tuple[str, Any], list[int]]:
    """Blacklist entries by (key, value), built once per check."""
    cached = ctx.cache.get("blacklist_index")
    if cached is None:
        cached = {}
        for position, entry in enumerate(ctx.rows("blacklist")):
            for key in MATCHED_BY:
                if entry.get(key) is not None:
                    cached.setdefault((key, entry[key]), []).append(position)
        ctx.cache["blacklist_index"] = cached
    return cached  # type: ignore[no-any-return]


# 信用评定 rows with a grant, a limit or an exposure.
_BUSINESS = (
    pl.col("credit_type").is_in(("临时", "长期")).fill_null(False)
    | (pl.col("limit").fill_null(0) > 0)
    | (pl.col("exposure").fill_null(0) > 0)
)


def _blacklisted(ctx: Context, code: str, scope: str) -> Iterator[Diagnostic]:
    """The customers an entry of ``scope`` matches.

    Every archive row, whatever its 客户类型 or 客户类别 (000 §3.3 says clear it from every
    department); and 信用评定 rows with a grant or exposure whose customer the archive does not
    hold but an entry names by 客户编码.
    """
    entries = [e for e in ctx.rows("blacklist") if e.get("scope") == scope]
    if not entries:
        return

    def applies(entry: Row, department: Any) -> bool:
        return scope != DEPARTMENT or entry.get("department") in (department, ctx.department)

    filed: set[Any] = set()
    if (found := ctx.indexed("archive")) is not None:
        archive, frame = found
        filed = set(frame["customer_code"].drop_nulls().to_list())
        could_match = pl.lit(False)
        for key in MATCHED_BY:
            values = [e[key] for e in entries if e.get(key) is not None]
            if values:
                could_match = could_match | pl.col(key).is_in(values).fill_null(False)
        for row in frame.filter(could_match).to_dicts():
            for entry, key, phrase in blacklist_match(ctx, row, scope):
                if applies(entry, row.get("department")):
                    yield archive.at(code, row[INDEX], key, matched=phrase, entry=described(entry))
                    break
    if (credit := ctx.indexed("credit")) is not None:
        form, frame = credit
        codes = [e["customer_code"] for e in entries if e.get("customer_code") is not None]
        business = frame.filter(
            _BUSINESS
            & pl.col("customer_code").is_in(codes).fill_null(False)
            & ~pl.col("customer_code").is_in(list(filed)).fill_null(False)
        )
        for row in business.to_dicts():
            for entry, key, phrase in blacklist_match(ctx, {"customer_code": row["customer_code"]}, scope):
                if applies(entry, None):
                    yield form.at(code, row[INDEX], key, matched=phrase, entry=described(entry))
                    break


def described(entry: Row) -> str:
    """A blacklist entry as findings quote it: its name and, in brackets, its reason."""
    return f"{entry.get('name') or ''}（{entry.get('reason') or ''}）"


@rule("B401")
def company_blacklist(ctx: Context) -> Iterator[Diagnostic]:
    """B401: a customer in 客户档案, or with a grant or exposure, is on the company blacklist."""
    yield from _blacklisted(ctx, "B401", COMPANY)


@rule("B402")
def department_blacklist(ctx: Context) -> Iterator[Diagnostic]:
    """B402: the same for this department's blacklist."""
    yield from _blacklisted(ctx, "B402", DEPARTMENT)
