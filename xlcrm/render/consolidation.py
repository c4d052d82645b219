"""What ``xlcrm consolidate`` prints: the JSON contract of POLICY §6, or a terminal report.

The terminal report accounts for every file (found = checked + unusable + skipped, and rows
read = rows in the company tables), sums up each department, and lists the cross-department
findings, the company-blacklist hits and the major losses for 营销事业部; every finding of
every department is in the workbook and the JSON.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.console import Console

from xlcrm.batch.company import statuses
from xlcrm.batch.consolidate import Consolidation
from xlcrm.batch.discover import CHECKED, SKIPPED, UNUSABLE
from xlcrm.batch.mask import mask_text, mask_value
from xlcrm.batch.outputs import KIND_ZH
from xlcrm.batch.worker import DEPARTMENT_SOURCES, SHIPPED
from xlcrm.forms import forms
from xlcrm.registry import Lang, phrases
from xlcrm.render.json import dumps
from xlcrm.render.text import Line, _emit, _line

_WORDS = {
    "zh": {
        "title": "公司汇总 {month}",
        "files": "文件：找到 {files_found} 个 = 已检查 {checked} + 无法使用 {unusable} + 已跳过 {skipped}",
        "rows": "  {form}：读入 {read} 行 = 公司表 {company} 行",
        "rows_checked": "  {form}：读入 {read} 行（只检查，不进公司表）",
        "status": {CHECKED: "已检查", UNUSABLE: "无法使用", SKIPPED: "已跳过"},
        "department": "{department}（按{source}）  错误 {errors}  警告 {warnings}",
        "department_cross": "  另有跨部门问题（D1xx）{n} 条",
        "cross": "跨部门问题与公司黑名单命中（{n} 条）：",
        "losses": "造成重大损失但未列入公司黑名单的客户（报营销事业部）：{n} 位",
        "loss": "  {department} {file} [{code}] {name}",
        "summary": "共 {total} 个问题：{errors} 个错误，{warnings} 个警告，{waived} 个已豁免。",
        "previous": "对比月份（D106）：{month}",
        "no_previous": "历史库中没有更早的月份，D106 未比较。",
        "no_history": "未使用历史库（--no-history），D106 未检查，本月未存入历史。",
        "written": "已写出：{path}",
        "written_as": "已写出：{path}（{kind}{protected}）",
        "protected": "，已加密",
        "stored": "历史库：{path}（{month} 已保存）",
        "withheld": "※ {files} 设有打开密码：其客户明细未存入历史库（只存清单与部门汇总的数字）；确需存入时加 --allow-unprotected。",
        "unmasked": "※ 未遮蔽联系方式（--unmask）：输出中含完整手机号与电子邮箱。",
    },
    "en": {
        "title": "Company consolidation {month}",
        "files": "Files: {files_found} found = {checked} checked + {unusable} unusable + {skipped} skipped",
        "rows": "  {form}: {read} rows read = {company} rows in the company table",
        "rows_checked": "  {form}: {read} rows read (checked only, no company table)",
        "status": {CHECKED: "checked", UNUSABLE: "unusable", SKIPPED: "skipped"},
        "department": "{department} (by {source})  errors {errors}  warnings {warnings}",
        "department_cross": "  plus {n} cross-department finding(s) (D1xx)",
        "cross": "Cross-department findings and company-blacklist hits ({n}):",
        "losses": "Customers with a major loss not on the company blacklist (for 营销事业部): {n}",
        "loss": "  {department} {file} [{code}] {name}",
        "summary": "{total} problem(s): {errors} error(s), {warnings} warning(s), {waived} waived.",
        "previous": "Compared with (D106): {month}",
        "no_previous": "No earlier month in the history: D106 not compared.",
        "no_history": "No history (--no-history): D106 not checked, the month not stored.",
        "written": "Written: {path}",
        "written_as": "Written: {path} ({kind}{protected})",
        "protected": ", password-protected",
        "stored": "History: {path} ({month} stored)",
        "withheld": "※ {files} password-protected: their customer rows were not stored in the history (the manifest and department figures were); add --allow-unprotected to store them.",
        "unmasked": "※ Contacts not masked (--unmask): the outputs hold full mobile numbers and e-mail addresses.",
    },
}


def to_json(done: Consolidation, lang: Lang = "zh") -> dict[str, Any]:
    """``{"manifest": [...], "diagnostics": [...], "summary": {...}}`` (POLICY §6)."""
    company = done.company
    found = {f.position: f for f in company.found}
    manifest = [
        {
            "file": o.file,
            "status": o.status,
            "reason": o.reason.message(lang, masked=done.masked) if o.reason else None,
            "reason_code": o.reason.key if o.reason else None,
            "department": o.department,
            "department_source": o.department_source,
            "sha256": found[o.position].sha256,
            "size": found[o.position].size,
            "sheets": list(o.sheets),
            "rows": dict(o.rows) if o.status == CHECKED else {},  # every form read, shipped or not
            **dict(
                zip(
                    ("errors", "warnings"),
                    company.counts_of(o) if o.status == CHECKED else (o.errors, o.warnings),
                    strict=True,
                )
            ),
        }
        for o in company.outcomes
    ]
    diagnostics = [
        {**f.diagnostic.to_dict(lang), "department": f.department, "origin": f.origin}
        for f in company.findings
    ]
    losses = [_jsonable(row) for row in company.major_losses.iter_rows(named=True)]
    if done.masked:  # POLICY §7: contacts masked in what people read, this JSON included
        diagnostics = [
            {**d, "message": mask_text(d["message"]), "values": mask_value(d["values"])} for d in diagnostics
        ]
        # as 跨部门 masks them: the name is free text; 客户编码, credit code and file stay whole
        losses = [{**row, "name": mask_value(row.get("name"))} for row in losses]
    run = done.run
    summary = {
        "month": company.month,
        **statuses(company),
        "errors": company.errors,
        "warnings": company.warnings,
        "waived": sum(1 for f in company.findings if f.diagnostic.waived),
        "departments": [o.department for o in company.checked],
        "rows_read": company.rows_read(),
        "rows_company": {key: company.tables[key].height for key in SHIPPED},
        "rows_checked_only": company.rows_checked_only(),
        "by_code": dict(sorted(Counter(f.diagnostic.code for f in company.findings).items())),
        "previous_month": company.previous[0] if company.previous else None,
        "major_losses": losses,
        "as_of": run.as_of.isoformat() if run.as_of else None,
        "output": str(done.output),
        "history": str(done.history) if done.history else None,
        "run": {
            "id": run.run_id,
            "user": run.user,
            "host": run.host,
            "started_at": run.started_at.isoformat(),
            "finished_at": run.finished_at.isoformat(),
            "version": run.version,
            "executor": done.executor,
            "options": {k: _jsonable(v) for k, v in run.options.items()},
        },
        "outputs": [
            {
                "kind": w.kind, "path": str(w.path), "department": w.department, "sha256": w.sha256,
                "size": w.size, "protected": w.protected, "masked": w.masked,
            }
            for w in done.written
        ],
        "masked": done.masked,
        "withheld": done.withheld,
        "exit_code": company.exit_code,
    }  # fmt: skip
    return {"manifest": manifest, "diagnostics": diagnostics, "summary": summary}


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def render_json(done: Consolidation, lang: Lang = "zh") -> str:
    """The JSON text (compact, Chinese kept readable)."""
    return dumps(to_json(done, lang))


def render_text(done: Consolidation, console: Console, lang: Lang = "zh") -> None:
    """The terminal report."""
    _emit(console, report_lines(done, lang))


def report_lines(done: Consolidation, lang: Lang) -> list[Line]:
    """The report as styled lines."""
    words: dict[str, Any] = _WORDS[lang]
    company = done.company
    lines: list[Line] = [[(words["title"].format(month=company.month), "bold underline")]]
    lines.append([(words["files"].format(**statuses(company)), "bold")])
    for outcome in company.outcomes:
        status = words["status"][outcome.status]
        style = {CHECKED: "green", UNUSABLE: "bold red", SKIPPED: "dim"}[outcome.status]
        line: Line = [(f"  {status}  ", style), (outcome.file, "")]
        if outcome.status == CHECKED:
            source = DEPARTMENT_SOURCES[outcome.department_source or "file_name"].text(lang)
            errors, warnings = company.counts_of(outcome)  # the manifest's (POLICY §6)
            text = words["department"].format(
                department=outcome.department, source=source, errors=errors, warnings=warnings
            )
            if own := company.consolidation_count_of(outcome):
                text += words["department_cross"].format(n=own)
            line.append((f"  {text}", "dim"))
        elif outcome.reason is not None:
            line = [(f"  {status}  ", style), (outcome.reason.message(lang, masked=done.masked), "")]
        lines.append(line)
    named = {key: form.zh if lang == "zh" else form.en for key, form in forms().items()}
    read = company.rows_read()
    for key in SHIPPED:
        lines.append(
            [
                (
                    words["rows"].format(form=named[key], read=read[key], company=company.tables[key].height),
                    "dim",
                )
            ]
        )
    for key, rows in company.rows_checked_only().items():
        lines.append([(words["rows_checked"].format(form=named[key], read=rows), "dim")])
    cross = [f for f in company.findings if f.origin != "check"]
    lines.append([])
    lines.append([(words["cross"].format(n=len(cross)), "bold")])
    lines.extend(_finding_line(f.diagnostic, f.department, lang, masked=done.masked) for f in cross)
    losses = company.major_losses
    lines.append([(words["losses"].format(n=losses.height), "bold" if losses.height else "dim")])
    for row in losses.iter_rows(named=True):
        lines.append(
            [
                (
                    words["loss"].format(
                        department=row["__department"],
                        file=row["__file"],
                        code=row["customer_code"],
                        name=mask_text(row["name"] or "") if done.masked else row["name"] or "",
                    ),
                    "",
                )
            ]
        )
    lines.append([])
    total = len(company.findings)
    waived = sum(1 for f in company.findings if f.diagnostic.waived)
    lines.append(
        [
            (
                words["summary"].format(
                    total=total, errors=company.errors, warnings=company.warnings, waived=waived
                ),
                "bold",
            )
        ]
    )
    counts = Counter(f.diagnostic.code for f in company.findings)
    if counts:
        lines.append([("  " + "  ".join(f"{c}×{n}" for c, n in sorted(counts.items())), "dim")])
    notes = Counter((key, tuple(sorted(values.items()))) for o in company.checked for key, values in o.notes)
    lines.extend([("※ " + phrases()[key][lang].format(**dict(values)), "dim")] for key, values in notes)
    if done.history is None:
        lines.append([("※ " + words["no_history"], "dim")])
    elif company.previous:
        lines.append([("※ " + words["previous"].format(month=company.previous[0]), "dim")])
    else:
        lines.append([("※ " + words["no_previous"], "dim")])
    if done.withheld:
        lines.append([(words["withheld"].format(files="、".join(done.withheld)), "dim")])
    if not done.masked:
        lines.append([(words["unmasked"], "dim")])
    if not done.written:
        lines.append([(words["written"].format(path=done.output), "bold")])
    for w in done.written:
        kind = KIND_ZH[w.kind] if lang == "zh" else w.kind.replace("_", " ")
        protected = words["protected"] if w.protected else ""
        lines.append([(words["written_as"].format(kind=kind, path=w.path, protected=protected), "bold")])
    if done.history is not None:
        lines.append([(words["stored"].format(path=done.history, month=company.month), "")])
    return lines


def _finding_line(diagnostic: Any, department: str | None, lang: Lang, *, masked: bool = True) -> Line:
    """A finding as the text report shows it, its message masked as the JSON's (POLICY §7)."""
    place = " ".join(x for x in (diagnostic.file, diagnostic.location) if x)
    pieces = _line(diagnostic, 0, lang)[1:]
    if masked:
        message = diagnostic.message(lang)
        pieces = [(mask_text(text), style) if text == message else (text, style) for text, style in pieces]
    return [
        (f"  {department or ''} ", "bold"),
        *([(place + " ", "")] if place else []),
        *pieces,
    ]
