"""What every rule function receives: the submission, the policy, the as-of date, the calendar.

Rows are offered as plain dicts (one conversion per form, shared by all rules), each with
``__index``, its position in the form's frame, so a rule can place a finding on its cell.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from xlcrm.policy import Policy
from xlcrm.submission import FormData, Submission
from xlcrm.workdays import WorkCalendar

Row = dict[str, Any]
INDEX = "__index"


@dataclass
class Context:
    """The inputs of every rule."""

    submission: Submission
    policy: Policy
    as_of: dt.date
    calendar: WorkCalendar = field(default_factory=WorkCalendar)
    company_blacklist: list[Row] = field(default_factory=list)

    def form(self, key: str) -> FormData | None:
        """A form of the submission, if present."""
        return self.submission.forms.get(key)

    def rows(self, key: str) -> list[Row]:
        """The rows of a form as dicts (empty if the form is absent)."""
        return self._rows.get(key, [])

    @cached_property
    def _rows(self) -> dict[str, list[Row]]:
        result = {}
        for key, data in self.submission.forms.items():
            rows = data.frame.to_dicts()
            for index, row in enumerate(rows):
                row[INDEX] = index
            result[key] = rows
        return result

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
