"""What every rule function receives: the submission, the policy, the as-of date, the calendar.

Rows are offered as plain dicts (one conversion per form, shared by all rules), each with
``__index``, its position in the form's frame, so a rule can place a finding on its cell.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from itertools import repeat
from typing import Any

import polars as pl

from xlcrm.compute import (
    EVALUATED,
    GRADE_COLUMNS,
    SCALE_FACTS,
    TIER_COLUMNS,
    GradeResult,
    TierResult,
    grade_exprs,
    invalid_flag,
    tier_exprs,
    tier_result,
)
from xlcrm.policy import Policy
from xlcrm.submission import FormData, Submission
from xlcrm.workdays import WorkCalendar

Row = dict[str, Any]
INDEX = "__index"
# A customer's evaluations, oldest first: by 期间, then 评价日期, then row (the last is the latest).
EVALUATION_ORDER = [
    pl.col("period").fill_null(""),
    pl.col("evaluated_on").fill_null(dt.date.min),
    pl.col(INDEX),
]


@dataclass
class Context:
    """The inputs of every rule."""

    submission: Submission
    policy: Policy
    as_of: dt.date
    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    cache: dict[str, Any] = field(default_factory=dict)  # results rules share (computed once)

    def form(self, key: str) -> FormData | None:
        """A form of the submission, if present."""
        return self.submission.forms.get(key)

    def indexed(self, key: str) -> tuple[FormData, pl.DataFrame] | None:
        """A form and its typed frame with each row's index in ``__index`` (None if absent)."""
        data = self.form(key)
        return None if data is None else (data, data.frame.with_row_index(INDEX))

    def rows(self, key: str) -> list[Row]:
        """The rows of a form as dicts (empty if the form is absent; converted once, on demand)."""
        memo = self.cache.setdefault("rows", {})
        if key not in memo:
            data = self.submission.forms.get(key)
            if data is None:
                memo[key] = []
            else:  # column lists zipped into dicts: faster than DataFrame.to_dicts
                frame = data.frame.with_row_index(INDEX)
                columns = [series.to_list() for series in frame.iter_columns()]
                memo[key] = list(map(dict, map(zip, repeat(frame.columns), zip(*columns, strict=True))))
        return memo[key]  # type: ignore[no-any-return]

    def tier(self, archive: Row, evaluation: Row) -> TierResult | None:
        """The computed tier of an archive row with its latest evaluation (which ``evaluation`` is)."""
        return tier_result(self.tiers()[archive[INDEX]], archive, evaluation, self.policy)

    def tier_of(self, archive: Row) -> str | None:
        """The computed tier of an archive row (None where it cannot be computed)."""
        return self.tiers()[archive[INDEX]][0]  # type: ignore[no-any-return]

    def tiers(self) -> list[tuple[Any, ...]]:
        """Per 客户档案 row: its tier and each condition's outcome, all at once in polars.

        With the customer's latest 客户评价: latest 期间, then 评价日期, then row.
        """
        if "tiers" not in self.cache:
            archive, evaluation = self.form("archive"), self.form("evaluation")
            if archive is None or evaluation is None:
                self.cache["tiers"] = []
                return self.cache["tiers"]  # type: ignore[no-any-return]
            latest = (
                evaluation.frame.with_row_index(INDEX)
                .filter(pl.col("customer_code").is_not_null())
                .sort(EVALUATION_ORDER)
                .group_by("customer_code", maintain_order=True)
                .last()
                .drop(INDEX)
                .with_columns(pl.lit(True).alias(EVALUATED))
            )
            facts = archive.frame.select(
                "customer_code",
                *SCALE_FACTS,
                *(archive.invalid(key).alias(invalid_flag(key)) for key in SCALE_FACTS),
            )
            joined = facts.join(
                latest.drop(set(facts.columns) - {"customer_code"}, strict=False),
                on="customer_code",
                how="left",
                maintain_order="left",
            )
            out = joined.select(tier_exprs(self.policy))
            self.cache["tiers"] = list(zip(*(out[c].to_list() for c in TIER_COLUMNS), strict=True))
        return self.cache["tiers"]  # type: ignore[no-any-return]

    def grades(self) -> list[tuple[Any, ...]]:
        """Per 信用评定 row: (computed grade or None, each condition's outcome), all at once in polars."""
        if "grades" not in self.cache:
            data = self.form("credit")
            frame = data.frame.select(grade_exprs(self.policy, self.as_of)) if data is not None else None
            self.cache["grades"] = (
                [] if frame is None else list(zip(*(frame[c].to_list() for c in GRADE_COLUMNS), strict=True))
            )
        return self.cache["grades"]  # type: ignore[no-any-return]

    def grade_of(self, credit: Row) -> str | None:
        """The computed grade letter of a 信用评定 row (None where a condition is blank)."""
        return self.grades()[credit[INDEX]][0]  # type: ignore[no-any-return]

    def grade(self, credit: Row) -> GradeResult | None:
        """The computed grade of a 信用评定 row with its reasons (put into words on demand)."""
        grade, *outcomes = self.grades()[credit[INDEX]]
        if grade is None:
            return None
        return GradeResult(grade, tuple(outcomes), credit, self.policy["credit.min_cooperation_years"])

    @cached_property
    def department(self) -> str | None:
        """The submitting department: 参数!部门, else the archive's most common 所属部门."""
        for row in self.rows("parameters"):
            if row.get("department"):
                return str(row["department"])
        counts: dict[str, int] = {}
        for row in self.rows("archive"):
            if row.get("department"):
                counts[row["department"]] = counts.get(row["department"], 0) + 1
        return max(counts, key=lambda k: counts[k]) if counts else None
