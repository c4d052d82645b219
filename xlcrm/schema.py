"""Pandera schemas derived from the form declarations, and their failures as diagnostics.

Each declared column becomes a pandera column (its type, whether it must exist) and its checks,
polars expressions run together as one pandera check per form, are tagged with the rule code
they enforce: S002 (blank where required; B403 for a blacklist entry's 原因/批准人), S004 (allowed
values), S005 (format), S006 (range), A102 (credit-code check digit, GB 32100-2015). A missing required
column is S001; duplicate keys are S007. Validation is lazy: every failure is collected in
one pass. Values have already been normalised and typed (S003) by ``xlcrm.submission``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import cache, partial
from typing import Any

import pandera.polars as pa
import polars as pl
from pandera.api.polars.types import PolarsData
from stdnum.cn import uscc

from xlcrm.diagnostics import Diagnostic
from xlcrm.forms import IS_ADMITTED, IS_EXEMPT, Column, Form, formats
from xlcrm.normalize import header_key
from xlcrm.phrase import Phrase
from xlcrm.policy import Policy, default_policy
from xlcrm.ranges import range_phrase as range_phrase  # re-exported (moved to xlcrm.ranges)
from xlcrm.ranges import range_text as range_text
from xlcrm.ranges import value_range as value_range
from xlcrm.reader import Table
from xlcrm.submission import DTYPES, POSITION, TABLE, FormData

# Values failing these checks are blanked for the policy rules (POLICY §5: rules that need the
# cell skip the row); identity columns stay, as the row still counts in references and matching.
UNUSABLE_CODES = frozenset({"S004", "S005", "S006"})
IDENTITY_KEYS = frozenset({"customer_code", "name", "uscc"})

# How alike (difflib's ratio) a header must be to a missing column's names to be suggested.
CLOSE_ENOUGH = 0.5
# Helper columns computed before validation, for checks that depend on other columns.
ADMITTED, EXEMPT, SCOPE_DEPARTMENT = "__admitted", "__exempt", "__scope_department"
# The name of the one pandera check that runs all of a form's value checks.
FORM_CHECKS = "form_checks"
# Which rows need a value, per kind of requirement (None: every row).
_NEEDS_VALUE: dict[str, pl.Expr | None] = {
    "yes": None,
    "admitted": pl.col(ADMITTED),
    "unless_exempt": ~pl.col(EXEMPT),
    "when_scope_department": pl.col(SCOPE_DEPARTMENT),
}


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """One check of a column: the code it reports, when a value passes, how to explain a failure."""

    code: str
    column: Column
    explain: Callable[[Any], dict[str, Any]]
    outcome: pl.Expr  # true where the row passes, false where it fails (never null)

    def __deepcopy__(self, memo: dict[int, Any]) -> CheckSpec:
        """Itself: it is immutable (pandera deep-copies each schema column on every validation).

        Copying the expression would serialise it and parse it again, milliseconds per table.
        """
        return self


# GB 32100-2015 check digit, vectorised: python-stdnum computes it one value at a time
# (0.4 s per 100,000 codes); tests/test_uscc.py proves both agree on any input.
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_USCC_VALUE = {char: index for index, char in enumerate(USCC_ALPHABET)}
_USCC_CHAR = dict(enumerate(USCC_ALPHABET))


def uscc_check_digit(code: pl.Expr) -> pl.Expr:
    """The check character of well-formed 18-character codes (null for other values)."""
    total = pl.sum_horizontal(
        code.str.slice(i, 1).replace_strict(_USCC_VALUE, default=None, return_dtype=pl.Int64) * weight
        for i, weight in enumerate(USCC_WEIGHTS)
    )
    return ((31 - total % 31) % 31).replace_strict(_USCC_CHAR, return_dtype=pl.Utf8)


def column_checks(column: Column, policy: Policy | None = None) -> list[CheckSpec]:
    """The checks of one declared column, each with its meaning.

    Each is a polars expression with pandera's own semantics for the built-in kinds (``isin``,
    ``str_matches`` anchored at the start, ``in_range``; a null outcome passes unless stated).
    """
    checks: list[CheckSpec] = []

    def add(
        code: str,
        passes: Callable[[str], pl.Expr],
        explain: Callable[[Any], dict[str, Any]],
        ignore_na: bool = True,
    ) -> None:
        # built once (the check digit's expression alone takes milliseconds to build)
        checks.append(CheckSpec(code, column, explain, passes(column.key).fill_null(ignore_na)))

    if column.required != "no":
        needed = _NEEDS_VALUE[column.required]
        reason = "required" if column.required == "yes" else column.required

        def filled(key: str) -> pl.Expr:
            present = pl.col(key).is_not_null()
            return present if needed is None else present | ~needed

        def blank(_value: Any) -> dict[str, Any]:
            return {"column": column.zh, "reason": reason}

        add(column.blank_code, filled, blank, ignore_na=False)
    if column.type == "enum" or (column.type == "list" and column.allowed):
        choices = list(column.choices)
        none = column.none_value

        def allowed(key: str) -> pl.Expr:
            if column.type == "enum":
                return pl.col(key).is_in(choices)
            ok = pl.col(key).list.eval(pl.element().is_in(choices)).list.all()
            if none:  # "无" stands alone
                ok = ok & ~(pl.col(key).list.contains(none) & (pl.col(key).list.len() > 1))
            return ok

        add("S004", allowed, lambda v: {"column": column.zh, "value": v, "allowed": choices})
    fmt = column.format or ("period" if column.type == "period" else None)
    if fmt is not None:
        pattern = formats()[fmt].pattern.pattern
        anchored = pattern if pattern.startswith("^") else f"^{pattern}"
        add(
            "S005",
            lambda key: pl.col(key).str.contains(anchored),
            lambda v: {"column": column.zh, "value": v, "format": fmt},
        )
    if fmt == "uscc":

        def check_digit_ok(key: str) -> pl.Expr:
            well_formed = pl.col(key).str.contains(pattern)
            return ~well_formed | (uscc_check_digit(pl.col(key)) == pl.col(key).str.slice(17, 1))

        add(
            "A102",
            check_digit_ok,
            lambda v: {"column": column.zh, "value": v, "check_digit": uscc.calc_check_digit(v)},
        )
    low, high = value_range(column, policy)
    if low is not None or high is not None:
        text = range_phrase(column, policy, hint=True)
        lowest = float("-inf") if low is None else low
        highest = float("inf") if high is None else high

        def in_range(key: str) -> pl.Expr:
            above = pl.col(key).gt(lowest) if column.min_exclusive else pl.col(key).ge(lowest)
            return above & pl.col(key).le(highest)

        add("S006", in_range, lambda v: {"column": column.zh, "value": v, "range": text})
    return checks


def _form_checks(checks: tuple[CheckSpec, ...], data: PolarsData) -> pl.LazyFrame:
    """Whether each row passes every check of the columns present: one polars query per table."""
    present = set(data.lazyframe.collect_schema().names())
    outcomes = [spec.outcome for spec in checks if spec.column.key in present]
    return data.lazyframe.select(pl.all_horizontal(pl.col(POSITION).is_not_null(), *outcomes))


@cache
def form_schema(form: Form, policy: Policy) -> tuple[pa.DataFrameSchema, dict[tuple[str, int], CheckSpec]]:
    """The pandera schema of a form under a policy and what each (column, check number) means.

    Pandera checks each declared column's type and presence (S001) and runs the form's value
    checks as one check over the rows (on the row position column, so its failure cases are
    the failing rows' positions): a form's dozens of checks cost one polars query, not three
    each. Which checks a failing row broke is worked out on those rows alone (``_failures``).
    """
    columns = {
        column.key: pa.Column(DTYPES[column.type], nullable=True, required=column.must_exist)
        for column in form.columns
    }
    meaning: dict[tuple[str, int], CheckSpec] = {}
    for column in form.columns:
        for number, spec in enumerate(column_checks(column, policy)):
            meaning[(column.key, number)] = spec
    rows = pa.Check(partial(_form_checks, tuple(meaning.values())), name=FORM_CHECKS, ignore_na=False)
    columns[POSITION] = pa.Column(pl.Int32, checks=[rows], nullable=True)
    return pa.DataFrameSchema(columns, strict=False), meaning


def _with_helpers(frame: pl.DataFrame) -> pl.DataFrame:
    """Add the helper columns the conditional-blank checks read."""
    absent = [c for c in ("customer_type", "category", "scope") if c not in frame.columns]
    frame = frame.with_columns(pl.lit(None, dtype=pl.Utf8).alias(c) for c in absent)
    return frame.with_columns(
        IS_EXEMPT.alias(EXEMPT),
        IS_ADMITTED.alias(ADMITTED),
        (pl.col("scope") == "部门").fill_null(False).alias(SCOPE_DEPARTMENT),
    )


def validate_form(data: FormData, policy: Policy | None = None) -> list[Diagnostic]:
    """Validate every table of a form lazily and return the coded findings."""
    schema, meaning = form_schema(data.form, policy or default_policy())
    findings: list[Diagnostic] = []
    frame = _with_helpers(data.frame)
    for t, table in enumerate(data.tables):
        present = [
            c.key
            for c in data.form.columns
            if c.key in table.columns or (table.company_list and c.key == "scope")  # set, not read
        ]
        part = frame.filter(pl.col(TABLE) == t)
        part = part.select(*present, TABLE, POSITION, ADMITTED, EXEMPT, SCOPE_DEPARTMENT)
        try:
            schema.validate(part, lazy=True)
        except pa.errors.SchemaErrors as errors:
            findings.extend(_failures(data, part, errors.failure_cases, meaning, t))
    findings.extend(_duplicates(data))
    return findings


def _failures(
    data: FormData,
    part: pl.DataFrame,
    cases: pl.DataFrame,
    meaning: dict[tuple[str, int], CheckSpec],
    table: int,
) -> list[Diagnostic]:
    """Turn pandera's failure cases into diagnostics, one check's failures at a time."""
    findings = []
    source = data.tables[table]
    missing = cases.filter(pl.col("check") == "column_in_dataframe")
    for key in missing["failure_case"]:
        column = data.form.column(key)
        closest = closest_header(column, source)
        suggestion = Phrase(f"是否指“{closest}”？", f"did you mean “{closest}”? ") if closest else ""
        findings.append(
            Diagnostic(
                "S001",
                file=source.file,
                sheet=source.sheet,
                column=column.zh,
                args={"column": column.zh, "alias": column.en, "suggestion": suggestion},
            )
        )
    failed = cases.filter(pl.col("check") != "column_in_dataframe")
    odd = failed.filter((pl.col("check") != FORM_CHECKS) | pl.col("index").is_null())
    if not odd.is_empty():
        raise RuntimeError(f"unexpected validation failure: {odd.head(1).to_dicts()}")
    if failed.is_empty():
        return findings
    # The failing rows only: which of the checks each one broke (one small query).
    rows = part[failed["index"].sort()]
    checks = [(key, spec) for (key, _number), spec in meaning.items() if key in rows.columns]
    broke = rows.select(POSITION, *(spec.outcome.not_().alias(str(i)) for i, (_, spec) in enumerate(checks)))
    for i, (key, spec) in enumerate(checks):
        failing = rows.filter(broke[str(i)]).select(POSITION, key)
        if spec.code in UNUSABLE_CODES and key not in IDENTITY_KEYS:
            data.unusable.extend((table, position, key) for position in failing[POSITION])
        for position, value in failing.iter_rows():
            findings.append(data.diagnostic(spec.code, table, position, key, **spec.explain(value)))
    return findings


def closest_header(column: Column, table: Table) -> str | None:
    """The header of ``table`` no form column took that reads most like ``column``, if any is close."""
    names = [header_key(n) for n in (column.zh, column.en, *column.synonyms)]
    taken = set(table.columns.values())
    best, score = None, CLOSE_ENOUGH
    for col, text in table.headers.items():
        if col in taken:
            continue
        folded = header_key(text)
        ratio = max(SequenceMatcher(None, folded, name).ratio() for name in names)
        if ratio >= score:
            best, score = text, ratio
    return best


def _place(earlier: Table, table: Table) -> Phrase:
    """Where the first of a duplicate key is, when not in the same sheet: its sheet (and file)."""
    if earlier.file != table.file:
        return Phrase(f"{earlier.file}“{earlier.sheet}”的", f"{earlier.file} “{earlier.sheet}” ")
    if earlier.sheet != table.sheet:
        return Phrase(f"“{earlier.sheet}”的", f"“{earlier.sheet}” ")
    return Phrase("", "")


def _duplicates(data: FormData) -> list[Diagnostic]:
    """S007: every occurrence of a unique key after its first (pandera finds them all)."""
    findings = []
    for key in data.form.unique:
        frame = data.frame.with_row_index("__i").drop_nulls(list(key))
        if frame.is_empty():
            continue
        schema = pa.DataFrameSchema(unique=list(key))
        try:
            schema.validate(frame.select(*key, "__i"), lazy=True)
        except pa.errors.SchemaErrors as errors:
            indices = sorted(i for i in errors.failure_cases["index"].to_list() if i is not None)
            first: dict[tuple[Any, ...], int] = {}
            for i in indices:
                values = tuple(frame[k][i] for k in key)
                if values not in first:
                    first[values] = i
                    continue
                original = frame["__i"][first[values]]
                index = frame["__i"][i]
                earlier = data.tables[data.frame[TABLE][original]]
                findings.append(
                    data.at(
                        "S007",
                        index,
                        key[0],
                        field="+".join(data.form.column(k).zh for k in key),
                        value="+".join(str(v) for v in values),
                        first_row=earlier.rows[data.frame[POSITION][original]],
                        first_place=_place(earlier, data.tables[data.frame[TABLE][index]]),
                    )
                )
    return findings
