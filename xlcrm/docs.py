"""Human-readable views of the declarations: `xlcrm rules`, the 填写说明 sheet, README tables.

Everything here is derived from validators/*.toml; nothing is retyped.
"""

from __future__ import annotations

from xlcrm.compute import Phrase
from xlcrm.forms import Column, Form, formats, forms, type_names
from xlcrm.registry import Lang, rules
from xlcrm.schema import range_phrase, value_range

_REQUIRED_TEXT = {
    "zh": {
        "yes": "必填",
        "no": "选填",
        "admitted": "已准入客户必填",
        "unless_exempt": "除零售/内部关联外必填",
        "when_scope_department": "范围为部门时必填",
    },
    "en": {
        "yes": "required",
        "no": "optional",
        "admitted": "required for admitted customers",
        "unless_exempt": "required except 零售客户/内部关联",
        "when_scope_department": "required when 范围 = 部门",
    },
}
_SEVERITY = {"zh": {"error": "错误", "warning": "警告"}, "en": {"error": "error", "warning": "warning"}}


def required_text(column: Column, lang: Lang = "zh") -> str:
    """必填 / 选填 / … for a column."""
    return _REQUIRED_TEXT[lang][column.required]


def rule_text(column: Column, lang: Lang = "zh") -> str:
    """The value rule of a column in one phrase: type, allowed values, format, range."""
    sep = "、" if lang == "zh" else ", "
    parts = [type_names()[column.type][lang]]
    if column.choices and column.type != "bool":
        label = "可选：" if lang == "zh" else "one of: "
        parts = [label + sep.join(column.choices)]
    fmt = column.format or ("period" if column.type == "period" else None)
    if fmt:
        parts.append(getattr(formats()[fmt], lang))
    low, high = value_range(column)
    if low is not None or high is not None:
        bounds = range_phrase(column)
        parts.append(bounds.text(lang) if isinstance(bounds, Phrase) else bounds)
    if column.ref == "archive":
        parts.append("须在客户档案中" if lang == "zh" else "must exist in 客户档案")
    return ("；" if lang == "zh" else "; ").join(parts)


def rule_lines(lang: Lang = "zh") -> list[str]:
    """One line per code: code, severity, title, clause."""
    return [
        f"{r.code}  {_SEVERITY[lang][r.severity]:<8} {r.title(lang)}  ({r.clause})"
        for r in rules().values()
        if not r.retired
    ]


def columns_enforcing(code: str) -> list[tuple[Form, Column]]:
    """The declared columns a schema-level code applies to."""
    from xlcrm.schema import column_checks

    found: list[tuple[Form, Column]] = []
    for form in forms().values():
        for column in form.columns:
            if (
                (code == "S001" and column.must_exist)
                or (code == "S003" and column.type in ("integer", "number", "date", "datetime", "rate"))
                or (code == "S008" and column.ref == "archive")
                or any(spec.code == code for spec, _ in column_checks(column))
            ):
                found.append((form, column))
    return found


def explain_rule(code: str, lang: Lang = "zh") -> str | None:
    """A rule's full explanation, or None if there is no such code."""
    rule = rules().get(code)
    if rule is None:
        return None
    labels = (
        ("级别", "出处", "消息模板", "适用于")
        if lang == "zh"
        else ("severity", "clause", "message", "applies to")
    )
    lines = [
        f"{rule.code}  {rule.title(lang)}",
        f"  {labels[0]}: {_SEVERITY[lang][rule.severity]}",
        f"  {labels[1]}: {rule.clause}",
        f"  {labels[2]}: {rule.template(lang)}",
    ]
    columns = columns_enforcing(code)
    if columns:
        lines.append(f"  {labels[3]}:")
        lines.extend(f"    {form.zh}.{column.zh}  ({column.en})" for form, column in columns)
    return "\n".join(lines)


def rules_markdown() -> str:
    """The README's rule table."""
    lines = ["| code | severity | 规则 | rule | clause |", "|---|---|---|---|---|"]
    for r in rules().values():
        lines.append(f"| {r.code} | {r.severity} | {r.title_zh} | {r.title_en} | {r.clause} |")
    return "\n".join(lines)


def forms_markdown() -> str:
    """The README's form tables."""
    out = []
    for form in forms().values():
        out.append(f"#### {form.zh} ({form.en}) — {form.clause}\n")
        out.append("| 表头 | header alias | key | 必填 | 规则 |")
        out.append("|---|---|---|---|---|")
        for c in form.columns:
            out.append(f"| {c.zh} | {c.en} | `{c.key}` | {required_text(c)} | {rule_text(c)} |")
        out.append("")
    return "\n".join(out).rstrip()


def generated_sections() -> dict[str, str]:
    """The README sections generated from the declarations, by marker name."""
    return {"rules": rules_markdown(), "forms": forms_markdown()}


def update_readme(text: str) -> str:
    """``text`` with every generated section replaced by its current content."""
    for name, body in generated_sections().items():
        start = f"<!-- BEGIN GENERATED: {name} (make docs) -->"
        end = f"<!-- END GENERATED: {name} -->"
        head, _, rest = text.partition(start)
        _, _, tail = rest.partition(end)
        text = f"{head}{start}\n{body}\n{end}{tail}"
    return text


if __name__ == "__main__":
    import sys
    from pathlib import Path

    readme = Path(sys.argv[1] if len(sys.argv) > 1 else "README.md")
    readme.write_text(update_readme(readme.read_text(encoding="utf-8")), encoding="utf-8")
