"""Human-readable views of the declarations: `xlcrm rules`, the 填写说明 sheet, README tables.

Everything here is derived from validators/*.toml; nothing is retyped.
"""

from __future__ import annotations

import re
import string

from xlcrm.clizh import display_width
from xlcrm.forms import Column, Form, formats, forms, type_names
from xlcrm.phrase import Phrase
from xlcrm.policy import DEFAULT_SOURCE, Policy, default_policy
from xlcrm.policy import labels as policy_labels
from xlcrm.ranges import range_phrase, value_range
from xlcrm.registry import Lang, rules
from xlcrm.resources import load_toml

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


def documents() -> dict[str, dict[str, str]]:
    """The company documents clause references point into, by prefix (validators/documents.toml)."""
    return dict(load_toml("documents.toml"))


def clause_titles(clause: str, lang: Lang = "zh") -> str:
    """The titles of the documents a clause reference names, e.g. "（000 = 《客户管理制度》…）"."""
    named = [p for p in documents() if re.search(rf"(?<!\d){p}(?!\d)", clause)]
    if not named:
        return ""
    titles = "；".join(f"{p} = {documents()[p][lang]}" for p in named)
    return f"（{titles}）" if lang == "zh" else f" ({titles})"


def unset_text(lang: Lang = "zh") -> str:
    """How a value without a default shows: its rule is not checked until a policy file sets it."""
    return "未设置 (off)" if lang == "zh" else "unset (off)"


def policy_lines(policy: Policy, lang: Lang = "zh") -> list[str]:
    """`xlcrm policy`: each value with its name, unit and source (default or the file)."""
    width = max(len(k) for k in policy.values)
    lines = []
    for key, value in policy.values.items():
        label = policy_labels()[key]
        unit = label["unit"] if lang == "zh" else label["unit_en"]
        unit = (f"（{unit}）" if lang == "zh" else f" ({unit})") if unit else ""
        source = policy.sources[key]
        if source == DEFAULT_SOURCE:
            source = "默认值" if lang == "zh" else "default"
        text = unset_text(lang) if value is None else repr(value)
        shown = text + " " * max(12 - display_width(text), 0)
        lines.append(
            f"{key.ljust(width)} = {shown} # {label[lang]}{unit}{'；' if lang == 'zh' else '; '}{source}"
        )
    return lines


def rule_lines(lang: Lang = "zh") -> list[str]:
    """One line per code: code, severity, title, clause."""
    return [
        f"{r.code}  {_SEVERITY[lang][r.severity]:<8} {r.title(lang)}  ({r.clause})"
        for r in rules().values()
        if not r.retired
    ]


def columns_enforcing(code: str) -> list[tuple[Form, Column]]:
    """The declared columns a code applies to: a rule's own list, or the schema's checks."""
    from xlcrm.schema import column_checks

    found: list[tuple[Form, Column]] = []
    for place in rules()[code].columns:
        form_key, key = place.split(".")
        found.append((forms()[form_key], forms()[form_key].column(key)))
    if found:
        return found
    for form in forms().values():
        for column in form.columns:
            if (
                (code == "S001" and column.must_exist)
                or (code == "S003" and column.type in ("integer", "number", "date", "datetime", "rate"))
                or (code == "S008" and column.ref == "archive")
                or any(spec.code == code for spec in column_checks(column))
            ):
                found.append((form, column))
    return found


def explain_rule(code: str, lang: Lang = "zh") -> str | None:
    """A rule's full explanation, or None if there is no such code."""
    rule = rules().get(code)
    if rule is None:
        return None
    labels = (
        ("级别", "出处", "消息模板", "其中", "适用于", "可豁免", "是", "否")
        if lang == "zh"
        else ("severity", "clause", "message", "where", "applies to", "waivable", "yes", "no")
    )
    lines = [
        f"{rule.code}  {rule.title(lang)}",
        f"  {labels[0]}: {_SEVERITY[lang][rule.severity]}",
        f"  {labels[1]}: {rule.clause}{clause_titles(rule.clause, lang)}",
        f"  {labels[2]}: {rule.template(lang)}",
    ]
    names = [n for n in _in_order(rule.template(lang))]
    if names:
        lines.append(f"  {labels[3]}:")
        lines.extend(f"    {{{name}}} = {rule.meaning(name, lang)}" for name in names)
    columns = columns_enforcing(code)
    if columns:
        lines.append(f"  {labels[4]}:")
        lines.extend(f"    {form.zh}.{column.zh}  ({column.en})" for form, column in columns)
    lines.append(f"  {labels[5]}: {labels[6] if rule.waivable and rule.source != 'waiver' else labels[7]}")
    return "\n".join(lines)


def _in_order(template: str) -> list[str]:
    """A template's placeholders, each once, in the order they appear."""
    return list(dict.fromkeys(name for _, name, _, _ in string.Formatter().parse(template) if name))


def cite(clause: str) -> str:
    """A clause reference with the short title of each company document it names."""

    def titled(match: re.Match[str]) -> str:
        return f"{match.group(0)}{documents()[match.group(0)]['short']}"

    return re.sub(
        r"(?<!\d)00\d(?!\d)", lambda m: titled(m) if m.group(0) in documents() else m.group(0), clause
    )


def documents_markdown() -> str:
    """The company documents clause references point into."""
    lines = ["| 编号 | 文件 | document |", "|---|---|---|"]
    lines += [f"| {prefix} | {doc['zh']} | {doc['en']} |" for prefix, doc in documents().items()]
    return "\n".join(lines)


def rules_markdown() -> str:
    """The rule table: every code with its severity, titles and clause (its document named)."""
    lines = ["| 代码 code | 级别 severity | 规则 | rule | 出处 clause |", "|---|---|---|---|---|"]
    for r in rules().values():
        lines.append(f"| {r.code} | {r.severity} | {r.title_zh} | {r.title_en} | {cite(r.clause)} |")
    return "\n".join(lines)


def forms_markdown() -> str:
    """The form tables: every column with its header words, requirement and rule."""
    out = []
    for form in forms().values():
        out.append(f"#### {form.zh} ({form.en}) — {cite(form.clause)}\n")
        out.append("| 表头 | header alias | 也认作 synonyms | key | 必填 | 规则 |")
        out.append("|---|---|---|---|---|---|")
        for c in form.columns:
            synonyms = "、".join(c.synonyms)
            out.append(f"| {c.zh} | {c.en} | {synonyms} | `{c.key}` | {required_text(c)} | {rule_text(c)} |")
        out.append("")
    return "\n".join(out).rstrip()


def values_markdown() -> str:
    """The policy values: key, shipped default, what it is and its unit."""
    lines = ["| 参数 key | 默认值 default | 含义 | meaning | 单位 unit |", "|---|---|---|---|---|"]
    policy = default_policy()
    for key, value in policy.values.items():
        label = policy_labels()[key]
        shown = "未设置 (off)" if value is None else value
        lines.append(f"| `{key}` | {shown} | {label['zh']} | {label['en']} | {label['unit']} |")
    return "\n".join(lines)


def generated_sections() -> dict[str, str]:
    """The documentation sections generated from the declarations, by marker name."""
    from xlcrm.batch.history import schema_markdown

    return {
        "documents": documents_markdown(),
        "rules": rules_markdown(),
        "forms": forms_markdown(),
        "values": values_markdown(),
        "history": schema_markdown(),
    }


def update_generated(text: str) -> str:
    """``text`` with every generated section it holds replaced by its current content."""
    for name, body in generated_sections().items():
        start = f"<!-- BEGIN GENERATED: {name} (make docs) -->"
        end = f"<!-- END GENERATED: {name} -->"
        if start not in text:
            continue
        head, _, rest = text.partition(start)
        _, _, tail = rest.partition(end)
        text = f"{head}{start}\n{body}\n{end}{tail}"
    return text


if __name__ == "__main__":
    import sys
    from pathlib import Path

    for name in sys.argv[1:] or ["README.md", "docs/policy.md"]:
        path = Path(name)
        path.write_text(update_generated(path.read_text(encoding="utf-8")), encoding="utf-8")
