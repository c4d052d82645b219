"""Waivers (豁免 sheet, POLICY §1.6): documented exceptions applied after every rule ran.

A valid waiver marks the findings it matches (same code; same 客户编码, or a blank 客户编码
for department-level findings) as waived: still reported, not counted in the exit code. An
expired waiver leaves them standing (X901); one that matches nothing is X902; one without
理由 or 批准人, or naming a rule that cannot be waived, is X903 and waives nothing.
"""

from __future__ import annotations

import dataclasses

from xlcrm.context import INDEX, Context
from xlcrm.diagnostics import Diagnostic
from xlcrm.registry import rules


def apply_waivers(ctx: Context, findings: list[Diagnostic]) -> list[Diagnostic]:
    """``findings`` with waived ones marked, plus the X901–X903 findings about the waivers."""
    form = ctx.form("waivers")
    if form is None:
        return findings
    findings = list(findings)
    for row in ctx.rows("waivers"):
        index = row[INDEX]
        code = (row.get("rule_code") or "").upper()
        if not code:  # S002 says the 规则代码 is blank; an X903 would only follow from it
            continue
        invalid = [
            form.at("X903", index, key, problem=problem)
            for key, problem in (("reason", "waiver_no_reason"), ("approved_by", "waiver_no_approver"))
            if not row.get(key)
        ]
        declared = rules().get(code)
        if declared is None or not declared.waivable or declared.source == "waiver":
            invalid.append(form.at("X903", index, "rule_code", problem="waiver_unwaivable"))
        if invalid:
            findings.extend(invalid)
            continue
        customer = row.get("customer_code")
        matched = [i for i, d in enumerate(findings) if d.code == code and d.customer_code == customer]
        expires = row.get("expires_on")
        if not matched:
            findings.append(form.at("X902", index, "rule_code", code=code, customer=customer or "—"))
        elif expires is not None and expires < ctx.as_of:
            findings.append(form.at("X901", index, "expires_on", expires=expires, code=code))
        else:
            for i in matched:
                findings[i] = dataclasses.replace(findings[i], waived=True)
    return findings
