"""The D1xx rules (POLICY §6): what only the month's submissions together show.

Each rule is a function of the merged company frames (every row tagged with its submission's
``__position`` and ``__department``) that returns findings placed on the cell they are about,
through the same ``FormData.diagnostic`` the per-submission rules use. The same customer in
two departments is the same 统一社会信用代码, else the same normalised name (``identity``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import polars as pl

from xlcrm.batch.order import natural_key
from xlcrm.batch.worker import DEPARTMENT_SOURCES
from xlcrm.compute import Phrase
from xlcrm.diagnostics import Diagnostic
from xlcrm.forms import IS_ADMITTED
from xlcrm.submission import POSITION, TABLE

SUB, DEPT, FILE = "__position", "__department", "__file"
IDENTITY, MATCHED = "identity", "matched_by"
MATCHED_BY = {"uscc": Phrase("统一社会信用代码", "credit code"), "name": Phrase("客户名称", "name")}
GRANT = pl.col("credit_type").is_in(("临时", "长期")).fill_null(False)
IN_BUSINESS = GRANT | (pl.col("limit").fill_null(0) > 0) | (pl.col("exposure").fill_null(0) > 0)

# (submission position, form key, table, position in table, column key, code, values) -> finding
Place = Callable[..., Diagnostic]


@dataclass(frozen=True, slots=True)
class Finding:
    """A finding of the month: the diagnostic, its department and where it came from."""

    diagnostic: Diagnostic
    department: str | None
    position: int | None  # the submission's manifest position (None: the month as a whole)
    origin: str  # "check" (xlcrm check's), "company_blacklist" (B401 added) or "consolidation" (D1xx)


OTHER = Phrase("其他部门", "another department")  # as a department's own workbook names it (POLICY §7)
_LISTING = {"D101": "grades", "D102": "parts"}  # the placeholders that list departments with their values


def for_department(finding: Finding, department: str) -> Finding:
    """The finding as ``department``'s own workbook shows it: no other department named (POLICY §7).

    D101's grades and D102's exposures keep every value but name only ``department``; D103
    does not say whose blacklist holds the customer.
    """
    diagnostic = finding.diagnostic
    args = dict(diagnostic.args)
    if diagnostic.code in _LISTING:
        key = _LISTING[diagnostic.code]
        args[key] = tuple(
            f"{name} {value}" if name == department else Phrase(f"{OTHER.zh} {value}", f"{OTHER.en} {value}")
            for name, value in _items(args.get(key))
        )
    elif diagnostic.code == "D103":
        args["department"] = OTHER
    else:
        return finding
    return replace(finding, diagnostic=replace(diagnostic, args=args))


def _items(listing: object) -> list[tuple[str, str]]:
    """The (department, value) items of a D101/D102 listing (``_listing``), department names whole.

    A value (a grade, an amount) has no space; a department name may ("销售 二部").
    """
    items = listing if isinstance(listing, (list, tuple)) else ()
    return [
        (name, value)
        for item in items
        for name, _, value in [(item.zh if isinstance(item, Phrase) else str(item)).rpartition(" ")]
    ]


def involves(finding: Finding, departments: set[str], entries: set[str]) -> bool:
    """Whether a finding quotes rows of the given departments (withheld, POLICY §7).

    D101 and D102 list each department with its grade or exposure (their totals include it);
    D103 names the department whose blacklist holds the customer and quotes its entry; a B401
    the company blacklist added quotes the entry it matched (``entries``: those departments'
    entries, as the rule describes them).
    """
    diagnostic = finding.diagnostic
    args = diagnostic.args
    if diagnostic.code in _LISTING:
        return any(name in departments for name, _ in _items(args.get(_LISTING[diagnostic.code])))
    if diagnostic.code == "D103":
        return str(args.get("department")) in departments
    return finding.origin == "company_blacklist" and str(args.get("entry")) in entries


def with_identity(archive: pl.DataFrame) -> pl.DataFrame:
    """Each archive row's company-wide identity: its credit code, else one its name has elsewhere.

    A row without a 统一社会信用代码 takes the code its normalised name has in other rows when
    that name has exactly one; otherwise the name itself identifies it.
    """
    named = (
        archive.filter(pl.col("uscc").is_not_null() & pl.col("name").is_not_null())
        .group_by("name")
        .agg(pl.col("uscc").unique())
        .filter(pl.col("uscc").list.len() == 1)
        .select("name", pl.col("uscc").list.first().alias("__named_uscc"))
    )
    joined = archive.join(named, on="name", how="left", maintain_order="left")
    uscc = pl.coalesce("uscc", "__named_uscc")
    return joined.with_columns(
        pl.when(uscc.is_not_null())
        .then(pl.concat_str(pl.lit("uscc:"), uscc))
        .when(pl.col("name").is_not_null())
        .then(pl.concat_str(pl.lit("name:"), pl.col("name")))
        .alias(IDENTITY),
        pl.when(uscc.is_not_null())
        .then(pl.lit("uscc"))
        .when(pl.col("name").is_not_null())
        .then(pl.lit("name"))
        .alias(MATCHED),
    ).drop("__named_uscc")


def credit_identities(credit: pl.DataFrame, archive: pl.DataFrame) -> pl.DataFrame:
    """信用评定 rows with their customer's identity (from the same submission's 客户档案)."""
    ids = archive.filter(pl.col("customer_code").is_not_null()).unique(
        [SUB, "customer_code"], keep="first", maintain_order=True
    )
    return credit.join(
        ids.select(
            SUB,
            "customer_code",
            IDENTITY,
            MATCHED,
            pl.col("name").alias("__name"),
            pl.col("uscc").alias("__uscc"),
        ),
        on=[SUB, "customer_code"],
        how="left",
        maintain_order="left",
    )


def _customer(row: dict[str, Any]) -> tuple[Phrase, str]:
    matched = row[MATCHED] or "name"
    return MATCHED_BY[matched], str(row[IDENTITY]).split(":", 1)[1]


def _listing(pairs: list[tuple[str, Any]]) -> tuple[str, ...]:
    """Each department with its value ("销售一部 A"), a list the message joins in its language."""
    return tuple(f"{department} {value}" for department, value in pairs)


def _amount(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def different_grades(credit: pl.DataFrame, place: Place) -> list[Finding]:
    """D101: the same customer has different computed credit grades in different departments."""
    rated = credit.filter(pl.col(IDENTITY).is_not_null() & pl.col("computed_grade").is_not_null())
    groups = (
        rated.group_by(IDENTITY)
        .agg(pl.col(DEPT).n_unique().alias("n"), pl.col("computed_grade").n_unique().alias("grades"))
        .filter((pl.col("n") >= 2) & (pl.col("grades") >= 2))
    )
    rows = rated.join(groups.select(IDENTITY), on=IDENTITY, how="semi", maintain_order="left")
    findings = []
    for identity, members in rows.group_by(IDENTITY, maintain_order=True):
        pairs = sorted(
            {(r[DEPT], r["computed_grade"]) for r in members.iter_rows(named=True)},
            key=lambda pair: (natural_key(pair[0] or ""), pair[1] or ""),
        )
        for row in members.iter_rows(named=True):
            matched, customer = _customer(row)
            diagnostic = place(
                row[SUB], "credit", row[TABLE], row[POSITION], "customer_code", "D101",
                matched=matched, customer=customer, grades=_listing(pairs),
            )  # fmt: skip
            findings.append(Finding(diagnostic, row[DEPT], row[SUB], "consolidation"))
        del identity
    return findings


def exposure_above_limit(credit: pl.DataFrame, place: Place) -> list[Finding]:
    """D102: total exposure across departments above the highest 信用额度 any department granted."""
    known = credit.filter(pl.col(IDENTITY).is_not_null())
    groups = (
        known.group_by(IDENTITY)
        .agg(
            pl.col(DEPT).n_unique().alias("n"),
            pl.col("exposure").fill_null(0).sum().alias("total"),
            pl.col("limit").fill_null(0).max().alias("highest"),
        )
        .filter((pl.col("n") >= 2) & (pl.col("total") > pl.col("highest")))
    )
    rows = known.join(groups, on=IDENTITY, how="inner", maintain_order="left")
    findings = []
    for _, members in rows.group_by(IDENTITY, maintain_order=True):
        parts = [(r[DEPT], _amount(r["exposure"] or 0)) for r in members.iter_rows(named=True)]
        for row in members.iter_rows(named=True):
            matched, customer = _customer(row)
            diagnostic = place(
                row[SUB], "credit", row[TABLE], row[POSITION], "exposure", "D102",
                matched=matched, customer=customer, total=_amount(row["total"]),
                highest=_amount(row["highest"]), parts=_listing(parts),
            )  # fmt: skip
            findings.append(Finding(diagnostic, row[DEPT], row[SUB], "consolidation"))
    return findings


def in_business(archive: pl.DataFrame, credit: pl.DataFrame) -> pl.Expr:
    """Archive rows that do business: admitted, a declared tier, or a grant or exposure in 信用评定."""
    dealing = (
        credit.filter(IN_BUSINESS & pl.col("customer_code").is_not_null())
        .select(SUB, "customer_code")
        .unique()
    )
    keys = pl.concat_str(pl.col(SUB).cast(pl.Utf8), pl.lit("\x00"), pl.col("customer_code"))
    dealt = dealing.select(keys.alias("k"))["k"].implode()
    return IS_ADMITTED | pl.col("tier").is_not_null() | keys.is_in(dealt).fill_null(False)


def other_department_blacklist(
    archive: pl.DataFrame, credit: pl.DataFrame, blacklist: pl.DataFrame, place: Place
) -> list[Finding]:
    """D103: a customer on one department's blacklist (范围 = 部门) does business in another.

    The first entry that matches, by credit code before name, in the order the entries came.
    """
    entries = (
        blacklist.filter(pl.col("scope") == "部门")
        .with_row_index("__entry")
        .select(
            "__entry",
            pl.coalesce("department", DEPT).alias("__listed_by"),
            "uscc",
            "name",
            pl.col("name").alias("__entry_name"),
            pl.col("reason").alias("__entry_reason"),
        )
    )
    if entries.is_empty() or archive.is_empty():
        return []
    rows = archive.filter(in_business(archive, credit)).with_row_index("__r")
    hits = []
    for rank, key in enumerate(("uscc", "name")):
        matched = rows.filter(pl.col(key).is_not_null()).join(
            entries.filter(pl.col(key).is_not_null()).select(
                key, "__entry", "__listed_by", "__entry_name", "__entry_reason"
            ),
            on=key,
            how="inner",
        )
        hits.append(
            matched.filter(pl.col("__listed_by") != pl.col(DEPT)).with_columns(
                pl.lit(rank).alias("__rank"), pl.lit(key).alias("__key")
            )
        )
    first = (
        pl.concat(hits, how="diagonal_relaxed")
        .sort("__r", "__rank", "__entry")
        .unique("__r", keep="first", maintain_order=True)
    )
    findings = []
    for row in first.iter_rows(named=True):
        key = row["__key"]
        diagnostic = place(
            row[SUB], "archive", row[TABLE], row[POSITION], key, "D103",
            department=row["__listed_by"], matched=MATCHED_BY[key],
            entry=f"{row['__entry_name'] or ''}（{row['__entry_reason'] or ''}）",
        )  # fmt: skip
        findings.append(Finding(diagnostic, row[DEPT], row[SUB], "consolidation"))
    return findings


@dataclass(frozen=True, slots=True)
class Claim:
    """A checked submission's department and where it came from."""

    position: int
    file: str
    department: str
    source: str
    cell: tuple[str, str, int] | None


def same_department(claims: list[Claim]) -> list[Finding]:
    """D104: two (or more) submissions belong to the same department."""
    by_department: dict[str, list[Claim]] = {}
    for claim in claims:
        by_department.setdefault(claim.department, []).append(claim)
    findings = []
    for department, group in by_department.items():
        if len(group) < 2:
            continue
        for claim in group:
            others = tuple(c.file for c in group if c is not claim)  # joined in the message's language
            sheet, cell, row = claim.cell or (None, None, None)
            diagnostic = Diagnostic(
                "D104",
                file=claim.file,
                sheet=sheet,
                cell=cell,
                row=row,
                column="部门" if claim.source == "parameters" else "所属部门" if claim.cell else None,
                args={"others": others, "department": department, "source": DEPARTMENT_SOURCES[claim.source]},
            )
            findings.append(Finding(diagnostic, department, claim.position, "consolidation"))
    return sorted(findings, key=lambda f: f.position or 0)


def foreign_departments(archive: pl.DataFrame, place: Place) -> list[Finding]:
    """D105: 所属部门 names departments other than the submission's own."""
    foreign = archive.filter(pl.col("department").is_not_null() & (pl.col("department") != pl.col(DEPT)))
    groups = (
        foreign.group_by(SUB, "department", maintain_order=True)
        .agg(pl.len().alias("count"), pl.col(TABLE).first(), pl.col(POSITION).first(), pl.col(DEPT).first())
        .sort(SUB, maintain_order=True)
    )
    findings = []
    for row in groups.iter_rows(named=True):
        diagnostic = place(
            row[SUB], "archive", row[TABLE], row[POSITION], "department", "D105",
            value=row["department"], count=row["count"], department=row[DEPT],
        )  # fmt: skip
        findings.append(Finding(diagnostic, row[DEPT], row[SUB], "consolidation"))
    return findings


def missing_departments(
    departments: set[str], previous: tuple[str, list[str]] | None, month: str
) -> list[Finding]:
    """D106: departments of the latest earlier month in the history without a submission now."""
    if previous is None:
        return []
    earlier, listed = previous
    return [
        Finding(
            Diagnostic("D106", args={"department": name, "previous": earlier, "month": month}),
            name,
            None,
            "consolidation",
        )
        for name in sorted(set(listed) - departments, key=natural_key)
    ]
