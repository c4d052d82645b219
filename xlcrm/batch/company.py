"""The company view of a month, reduced on the client from the workers' outcomes (polars).

Merges every checked submission's forms into company tables (each row tagged with its
submission, department and file), applies the company blacklist — the ``--blacklist`` file
plus every submission's 范围 = 公司 rows — to every department through the B401 rule itself,
runs the D1xx rules (``cross``), lists the customers with a major loss that no company
blacklist entry covers, and sums each department up for 部门汇总.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import polars as pl

from xlcrm.batch import cross, figures
from xlcrm.batch.cross import DEPT, FILE, SUB, Claim, Finding
from xlcrm.batch.discover import CHECKED, SKIPPED, UNUSABLE, Found
from xlcrm.batch.mask import free_text, mask_columns
from xlcrm.batch.worker import COMPUTED, ROW, SHEET, SHIPPED, Outcome
from xlcrm.compute import PREFERRED, VIP
from xlcrm.context import Context
from xlcrm.diagnostics import Diagnostic, counted
from xlcrm.forms import IS_ADMITTED, forms
from xlcrm.policy import Policy
from xlcrm.registry import rule_functions, rules
from xlcrm.rules.blacklist import COMPANY, MATCHED_BY
from xlcrm.submission import DTYPES, POSITION, TABLE, FormData, Submission

STATUSES = (CHECKED, UNUSABLE, SKIPPED)


@dataclass(slots=True)
class Company:
    """Everything a month's outputs show: manifest, findings, company tables, department sums."""

    month: str
    found: list[Found]
    outcomes: list[Outcome]  # one per file found, in order
    findings: list[Finding] = field(default_factory=list)
    tables: dict[str, pl.DataFrame] = field(default_factory=dict)  # form key -> merged frame
    departments: pl.DataFrame = field(default_factory=pl.DataFrame)
    major_losses: pl.DataFrame = field(default_factory=pl.DataFrame)
    previous: tuple[str, list[str]] | None = None  # the month D106 compared with, and its departments
    _by_position: dict[int | None, list[Finding]] | None = field(default=None, repr=False)
    _masked: dict[str, pl.DataFrame] = field(default_factory=dict, repr=False)

    @property
    def checked(self) -> list[Outcome]:
        """The outcomes of the submissions that were checked."""
        return [o for o in self.outcomes if o.status == CHECKED]

    def count(self, status: str) -> int:
        """How many files have ``status``."""
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def errors(self) -> int:
        """Counted error findings of the month."""
        return counted(f.diagnostic for f in self.findings)["error"]

    @property
    def warnings(self) -> int:
        """Counted warning findings of the month."""
        return counted(f.diagnostic for f in self.findings)["warning"]

    @property
    def exit_code(self) -> int:
        """2 if any file was unusable, else 1 if any error finding, else 0 (POLICY §6)."""
        if self.count(UNUSABLE):
            return 2
        return 1 if self.errors else 0

    def _rows(self) -> Counter[str]:
        """Rows the workers read, per form, summed over the checked submissions."""
        total: Counter[str] = Counter()
        for outcome in self.checked:
            total.update(outcome.rows)
        return total

    def rows_read(self) -> dict[str, int]:
        """Rows read of the shipped forms (those of the company tables), every one listed."""
        total = self._rows()
        return {key: total.get(key, 0) for key in SHIPPED}

    def rows_checked_only(self) -> dict[str, int]:
        """Rows read of the forms checked but in no company table (投诉记录 …, 豁免), never left out.

        Per form, in declaration order, where any checked submission had that form.
        """
        total = self._rows()
        return {key: total[key] for key in forms() if key in total and key not in SHIPPED}

    def only(self, department: str) -> Company:
        """The month as one department's own workbook shows it: its submissions and rows only, no other department named."""
        positions = {o.position for o in self.checked if o.department == department}
        keep = sorted(positions)
        return Company(
            self.month,
            [f for f in self.found if f.position in positions],
            [o for o in self.outcomes if o.position in positions],
            [cross.for_department(f, department) for f in self.findings if f.position in positions],
            {key: frame.filter(pl.col(SUB).is_in(keep)) for key, frame in self.tables.items()},
            self.departments.filter(pl.col(SUB).is_in(keep))
            if not self.departments.is_empty()
            else self.departments,
            self.major_losses.filter(pl.col(DEPT) == department),
            self.previous,
        )

    def masked(self, key: str) -> pl.DataFrame:
        """``tables[key]`` with its free text masked (POLICY §7): made once for every output that shows it."""
        if key not in self._masked:
            self._masked[key] = mask_columns(self.tables[key], free_text(key))
        return self._masked[key]

    def findings_of(self, position: int) -> list[Finding]:
        """A submission's findings: check's, the company blacklist's and its D1xx."""
        if self._by_position is None:
            grouped: dict[int | None, list[Finding]] = {}
            for finding in self.findings:
                grouped.setdefault(finding.position, []).append(finding)
            self._by_position = grouped
        return self._by_position.get(position, [])

    def counts_of(self, outcome: Outcome) -> tuple[int | None, int | None]:
        """A checked file's (errors, warnings) not waived; None for a file not checked.

        Check's findings and the company blacklist's B401 (POLICY §6, "a submission's findings").
        """
        if outcome.status != CHECKED:
            return None, None
        counts = counted(
            f.diagnostic for f in self.findings_of(outcome.position) if f.origin != "consolidation"
        )
        return counts["error"], counts["warning"]

    def consolidation_count_of(self, outcome: Outcome) -> int:
        """The consolidation's own findings (D1xx) on a file's rows, not waived: outside ``counts_of``."""
        return sum(
            1
            for f in self.findings_of(outcome.position)
            if f.origin == "consolidation" and not f.diagnostic.waived
        )


def reduce(
    found: list[Found],
    outcomes: list[Outcome],
    *,
    month: str,
    policy: Policy,
    company_blacklist: pl.DataFrame | None = None,
    previous: tuple[str, list[str]] | None = None,
) -> Company:
    """The company view of ``outcomes`` (one per file of ``found``, in order)."""
    company = Company(month, found, outcomes, previous=previous)
    checked = company.checked
    tables = _merge(checked)
    archive = cross.with_identity(tables["archive"])
    credit = cross.credit_identities(tables["credit"], archive)
    places = _Places(checked)
    # every submission's 公司 entries, in one chunk: they are filtered per submission below. A
    # 客户编码 is its own department's (another department's C001 is another customer): across
    # departments an entry matches by 统一社会信用代码 or name only (POLICY §6)
    entries = (
        tables["blacklist"]
        .filter(pl.col("scope") == COMPANY)
        .with_columns(pl.lit(None, dtype=pl.Utf8).alias("customer_code"))
        .rechunk()
    )
    candidates = _could_match(tables, entries)
    parts = _matchable(tables, entries, candidates)
    findings: list[Finding] = []
    for outcome in checked:
        findings.extend(
            Finding(d, outcome.department, outcome.position, "check") for d in outcome.diagnostics
        )
        if outcome.position in candidates:
            findings.extend(_company_blacklisted(outcome, parts, entries, policy))
    claims = [
        Claim(o.position, o.file, o.department or "", o.department_source or "file_name", o.department_cell)
        for o in checked
    ]
    d_findings = (
        cross.different_grades(credit, places.place)
        + cross.exposure_above_limit(credit, places.place)
        + cross.other_department_blacklist(archive, credit, tables["blacklist"], places.place)
        + cross.same_department(claims)
        + cross.foreign_departments(archive, places.place)
        + cross.missing_departments({c.department for c in claims}, previous, month)
    )
    findings.extend(d_findings)
    company.findings = findings
    company.tables = {**tables, "archive": _with_credit(archive, credit), "credit": credit}
    company.departments = _departments(company, policy)
    company.major_losses = _major_losses(
        archive, tables["evaluation"], tables["blacklist"], company_blacklist
    )
    return company


@cache
def _empty(key: str) -> pl.DataFrame:
    """A form's merged frame with no rows (every column typed), so a month without it still works."""
    columns = {c.key: DTYPES[c.type] for c in forms()[key].columns}
    columns.update({TABLE: pl.Int32, POSITION: pl.Int32, SHEET: pl.Utf8, ROW: pl.Int64})
    columns.update({SUB: pl.Int64, DEPT: pl.Utf8, FILE: pl.Utf8})
    columns.update(dict(COMPUTED.get(key, ())))
    return pl.DataFrame(schema=columns)


def _merge(checked: list[Outcome]) -> dict[str, pl.DataFrame]:
    """Each shipped form of every checked submission in one frame, tagged with its submission.

    A form's Parquet parts are decoded in one call (each part alone costs ~1 ms of set-up,
    a thousand of them more than their rows); parts whose schemas differ are decoded apart.
    """
    merged: dict[str, pl.DataFrame] = {}
    for key in SHIPPED:
        having = [o for o in checked if key in o.forms and o.forms[key].height]
        parts = [o.forms[key] for o in having]
        frames = [_empty(key)]
        if parts:
            try:
                frame = pl.read_parquet([p.parquet for p in parts])
            except pl.exceptions.PolarsError:  # schemas differ (a column another submission lacks)
                frame = pl.concat([p.frame() for p in parts], how="diagonal_relaxed")
            tags = pl.DataFrame(
                {
                    SUB: [o.position for o in having],
                    DEPT: [o.department for o in having],
                    FILE: [o.file for o in having],
                },
                schema={SUB: pl.Int64, DEPT: pl.Utf8, FILE: pl.Utf8},
            )
            heights = pl.Series([p.height for p in parts], dtype=pl.UInt32)
            frames.append(
                frame.with_columns(tags.select(pl.all().repeat_by(heights).explode()).get_columns())
            )
        merged[key] = pl.concat(frames, how="diagonal_relaxed")
    return merged


class _Places:
    """Each submission's forms as ``FormData`` without rows, to place findings on cells."""

    def __init__(self, checked: list[Outcome]) -> None:
        self.by_position = {o.position: o for o in checked}
        self.memo: dict[tuple[int, str], FormData] = {}

    def form(self, position: int, key: str) -> FormData:
        if (position, key) not in self.memo:
            outcome = self.by_position[position]
            self.memo[position, key] = outcome.forms[key].form_data(key, outcome.file, pl.DataFrame())
        return self.memo[position, key]

    def place(
        self, position: int, key: str, table: int, row: int, column: str | None, code: str, **args: Any
    ) -> Diagnostic:
        return self.form(position, key).diagnostic(code, table, row, column, **args)


def _could_match(tables: dict[str, pl.DataFrame], entries: pl.DataFrame) -> set[int]:
    """The submissions sharing a 客户编码, credit code or name with another's 公司 entry.

    Only these can get a B401 from another submission's entries (the rule matches by those keys).
    """
    found: set[int] = set()
    for key in MATCHED_BY:
        values = entries.filter(pl.col(key).is_not_null()).select(key, pl.col(SUB).alias("__from")).unique()
        for form in ("archive", "credit"):
            if key not in tables[form].columns:
                continue
            rows = tables[form].filter(pl.col(key).is_not_null()).select(SUB, key).unique()
            joined = rows.join(values, on=key).filter(pl.col(SUB) != pl.col("__from"))
            found.update(joined[SUB].unique().to_list())
    return found


def _matchable(
    tables: dict[str, pl.DataFrame], entries: pl.DataFrame, candidates: set[int]
) -> dict[str, dict[Any, pl.DataFrame]]:
    """Each candidate submission's rows the B401 rule could match, by form and submission.

    Archive rows sharing a 客户编码, credit code or name with a 公司 entry; credit rows whose
    客户编码 is one of those rows' or an entry's of another submission; the other forms whole.
    Filtered once for all submissions (each frame keeps its rows' order).
    """
    chosen = {key: tables[key].filter(pl.col(SUB).is_in(sorted(candidates))) for key in SHIPPED}
    shares = pl.any_horizontal(
        pl.col(key).is_in(entries[key].drop_nulls().implode()).fill_null(False) for key in MATCHED_BY
    )
    chosen["archive"] = chosen["archive"].filter(shares)
    codes = pl.col("customer_code")
    listed = entries.select(codes, pl.col(SUB).alias("__from")).drop_nulls()
    allowed = pl.concat(
        [
            chosen["archive"].select(SUB, codes).drop_nulls(),
            chosen["credit"]
            .select(SUB, codes)
            .join(listed, on="customer_code")
            .filter(pl.col(SUB) != pl.col("__from"))
            .select(SUB, codes),
        ]
    ).unique()
    chosen["credit"] = chosen["credit"].join(
        allowed, on=[SUB, "customer_code"], how="semi", maintain_order="left"
    )
    return {key: frame.partition_by(SUB, as_dict=True) for key, frame in chosen.items()}


def _company_blacklisted(
    outcome: Outcome, parts: dict[str, dict[Any, pl.DataFrame]], blacklist: pl.DataFrame, policy: Policy
) -> list[Finding]:  # blacklist: every submission's 范围 = 公司 rows
    """B401 for entries of other submissions' company blacklists, through the B401 rule itself.

    The submission's own 公司 rows and the ``--blacklist`` file were applied by its check; a
    row that check already reported is not reported twice. The rule runs on the rows that share
    a 客户编码, credit code or name with one of those entries (no other row can match;
    ``_matchable``), taken from the merged frames: findings are placed through the tables'
    layout, no raw cells needed.
    """
    others = blacklist.filter(pl.col(SUB) != outcome.position)
    rows = parts["archive"].get((outcome.position,))
    if others.is_empty() or rows is None:  # no archive row shares a key: the rule finds nothing
        return []
    submission = Submission(files=[outcome.file])
    for key, shipped in outcome.forms.items():
        frame = parts[key].get((outcome.position,))
        if frame is not None:
            submission.forms[key] = shipped.form_data(key, outcome.file, frame)
    mine = pl.any_horizontal(
        pl.col(k).is_in(rows[k].drop_nulls().implode()).fill_null(False) for k in MATCHED_BY
    )
    submission.forms["blacklist"] = FormData(forms()["blacklist"], [], others.filter(mine), [])
    as_of = outcome.as_of if isinstance(outcome.as_of, dt.date) else dt.date.today()
    context = Context(submission, policy, as_of)
    reported = {(d.sheet, d.row) for d in outcome.diagnostics if d.code == "B401"}
    found = []
    for diagnostic in rule_functions()["B401"](context):
        if diagnostic.code == "B401" and (diagnostic.sheet, diagnostic.row) not in reported:
            reported.add((diagnostic.sheet, diagnostic.row))
            found.append(Finding(diagnostic, outcome.department, outcome.position, "company_blacklist"))
    return found


def _with_credit(archive: pl.DataFrame, credit: pl.DataFrame) -> pl.DataFrame:
    """The archive with each customer's computed grade, limit, exposure and grant from 信用评定."""
    first = credit.filter(pl.col("customer_code").is_not_null()).unique(
        [SUB, "customer_code"], keep="first", maintain_order=True
    )
    return archive.join(
        first.select(
            SUB,
            "customer_code",
            "computed_grade",
            pl.col("credit_type").alias("credit_type"),
            pl.col("limit").alias("credit_limit"),
            pl.col("exposure").alias("credit_exposure"),
        ),
        on=[SUB, "customer_code"],
        how="left",
        maintain_order="left",
    )


def _departments(company: Company, policy: Policy) -> pl.DataFrame:
    """部门汇总: one row per checked submission."""
    archive, credit = company.tables["archive"], company.tables["credit"]
    per_archive = archive.group_by(SUB).agg(
        pl.len().alias("customers"),
        IS_ADMITTED.sum().alias("admitted"),
        (IS_ADMITTED & (pl.col("tier") == VIP)).sum().alias("vip"),
        (IS_ADMITTED & (pl.col("tier") == PREFERRED)).sum().alias("preferred"),
        (pl.col("computed_tier") == VIP).sum().alias("vip_computed"),
        (pl.col("computed_tier") == PREFERRED).sum().alias("preferred_computed"),
    )
    per_credit = credit.group_by(SUB).agg(
        pl.len().alias("credit_rows"),
        pl.col("limit").fill_null(0).sum().alias("limit_total"),
        pl.col("exposure").fill_null(0).sum().alias("exposure_total"),
    )
    rows = []
    declared = rules()
    for outcome in company.checked:
        # counted per code, each code's severity looked up once; a Counter keeps first-seen order
        codes = Counter(
            f.diagnostic.code for f in company.findings_of(outcome.position) if not f.diagnostic.waived
        )
        families: Counter[tuple[str, str]] = Counter()
        for code, number in codes.items():
            families[(code[0], declared[code].severity)] += number
        rows.append(
            {
                SUB: outcome.position,
                "department": outcome.department,
                "department_source": outcome.department_source,
                "file": outcome.file,
                "as_of": outcome.as_of,
                "errors": sum(n for (_, severity), n in families.items() if severity == "error"),
                "warnings": sum(n for (_, severity), n in families.items() if severity == "warning"),
                **figures.row_of(outcome.stats),
                "by_family": {
                    f"{family}_{severity}": count for (family, severity), count in families.items()
                },
            }
        )
    base = (
        pl.DataFrame(rows, schema_overrides={"as_of": pl.Date}, infer_schema_length=None)
        if rows
        else pl.DataFrame(schema={SUB: pl.Int64})
    )
    if base.is_empty():
        return base
    frame = (
        base.join(per_archive, on=SUB, how="left")
        .join(per_credit, on=SUB, how="left")
        .with_columns(
            pl.col(c).fill_null(0)
            for c in (
                "customers",
                "admitted",
                "vip",
                "preferred",
                "vip_computed",
                "preferred_computed",
                "credit_rows",
            )
        )
        .with_columns(pl.col("limit_total", "exposure_total").fill_null(0.0))
        .with_columns(
            # no tier base, no share: NULL like utilisation without a limit (never NaN)
            pl.when(pl.col("admitted") > 0).then(pl.col("vip") / pl.col("admitted")).alias("vip_share"),
            pl.when(pl.col("admitted") > 0)
            .then(pl.col("preferred") / pl.col("admitted"))
            .alias("preferred_share"),
            pl.when(pl.col("limit_total") > 0)
            .then(pl.col("exposure_total") / pl.col("limit_total"))
            .alias("utilisation"),
            pl.lit(float(policy["quotas.vip_share"])).alias("vip_cap"),
            pl.lit(float(policy["quotas.preferred_share"])).alias("preferred_cap"),
        )
        .sort(SUB)
    )
    return frame


def _major_losses(
    archive: pl.DataFrame,
    evaluation: pl.DataFrame,
    blacklist: pl.DataFrame,
    company_blacklist: pl.DataFrame | None,
) -> pl.DataFrame:
    """Evaluations with 造成重大损失 = 是 whose customer no company blacklist entry covers (000 §3.3).

    Entries match by 统一社会信用代码 or normalised name from any submission or the
    ``--blacklist`` file, and by 客户编码 from the submission's own list or the file.
    """
    losses = evaluation.filter(pl.col("major_loss").fill_null(False))
    customers = archive.unique([SUB, "customer_code"], keep="first", maintain_order=True).select(
        SUB, "customer_code", "name", "uscc"
    )
    losses = losses.join(customers, on=[SUB, "customer_code"], how="left", maintain_order="left")
    entries = blacklist.filter(pl.col("scope") == COMPANY).select(SUB, "customer_code", "name", "uscc")
    if company_blacklist is not None and not company_blacklist.is_empty():
        file_entries = company_blacklist.filter(pl.col("scope") == COMPANY).select(
            pl.lit(None, dtype=pl.Int64).alias(SUB), "customer_code", "name", "uscc"
        )
        entries = pl.concat([entries, file_entries], how="vertical_relaxed")
    usccs = entries["uscc"].drop_nulls().implode()
    names = entries["name"].drop_nulls().implode()
    codes = entries.filter(pl.col("customer_code").is_not_null())
    own = losses.join(codes.select(SUB, "customer_code"), on=[SUB, "customer_code"], how="semi")
    everywhere = losses.join(
        codes.filter(pl.col(SUB).is_null()).select("customer_code"), on="customer_code", how="semi"
    )
    covered = pl.col("uscc").is_in(usccs).fill_null(False) | pl.col("name").is_in(names).fill_null(False)
    keys = [SUB, TABLE, POSITION]
    listed = (
        losses.filter(~covered)
        .join(own.select(keys), on=keys, how="anti")
        .join(everywhere.select(keys), on=keys, how="anti")
    )
    return listed.select(
        DEPT, FILE, SHEET, ROW, "customer_code", "name", "uscc", "period", "problems", "evaluated_on"
    )


def statuses(company: Company) -> dict[str, int]:
    """Files found and how many have each status: found = checked + unusable + skipped."""
    counts = {status: company.count(status) for status in STATUSES}
    return {"files_found": len(company.outcomes), **counts}
