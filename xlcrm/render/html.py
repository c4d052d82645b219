"""``--format html``: a self-contained report to open in a browser (jinja2, autoescaped).

Every value from a workbook is escaped by jinja2's autoescaping, so cell text can never
become markup or script in the report. The report opens with the submission (department,
as-of date, files) and an overview (findings by family and severity, with an inline SVG chart
from ``xlcrm.render.svg``), then the details. Mobile numbers and e-mail local parts are
masked (POLICY §7) unless ``masked=False`` (``--unmask``): in the messages and also in the
file, sheet and department names the report shows, as the CSV masks them.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from itertools import groupby

from jinja2 import Environment, PackageLoader, select_autoescape

from xlcrm import __version__
from xlcrm.annotate.summary import family_of
from xlcrm.batch.mask import mask_text
from xlcrm.engine import Result
from xlcrm.registry import Lang, phrases, rules
from xlcrm.render import svg

_WORDS = {
    "zh": {
        "title": "xlcrm 检查报告", "generated": "生成于", "files": "文件", "unusable": "无法使用",
        "total": "问题总数", "error": "错误", "warning": "警告", "code": "代码", "rule": "规则",
        "count": "个数", "submission": "（整个提交）", "cell": "单元格", "severity": "级别",
        "customer": "客户编码", "message": "说明", "waived": "已豁免",
        "empty": "表单中没有任何数据行（0 个客户），没有可检查的内容；请先填写表单。",
        "department": "部门", "as_of": "基准日期", "overview": "概览（按类别与级别）", "family": "类别",
        "name": "名称", "sum": "合计", "details": "明细", "by_code": "按代码", "by": "依据",
        "masked": "手机号与电子邮箱已遮蔽（--unmask 显示全文）。", "unmasked": "未遮蔽联系方式（--unmask）。",
        "chart": "问题按类别与级别",
    },
    "en": {
        "title": "xlcrm check report", "generated": "Generated", "files": "Files", "unusable": "Unusable",
        "total": "Problems", "error": "error", "warning": "warning", "code": "Code", "rule": "Rule",
        "count": "Count", "submission": "(whole submission)", "cell": "Cell", "severity": "Severity",
        "customer": "Customer", "message": "Message", "waived": "waived",
        "empty": "The forms hold no rows (0 customers): nothing to check; fill in the forms first.",
        "department": "Department", "as_of": "As-of date", "overview": "Overview (by family and severity)",
        "family": "Family", "name": "Name", "sum": "Total", "details": "Details", "by_code": "By code",
        "by": "from", "masked": "Mobile numbers and e-mail addresses masked (--unmask shows them).",
        "unmasked": "Contacts not masked (--unmask).", "chart": "Findings by family and severity",
    },
}  # fmt: skip
_ENV = Environment(
    loader=PackageLoader("xlcrm", "render/templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(result: Result, lang: Lang = "zh", *, masked: bool = True) -> str:
    """The report as one HTML document."""
    from xlcrm.batch.report import FAMILIES

    shown = mask_text if masked else str
    groups = [
        (file, [(sheet, list(items)) for sheet, items in groupby(in_file, key=lambda d: d.sheet or "")])
        for file, in_file in groupby(result.diagnostics, key=lambda d: d.file or "")
    ]
    counts = [
        (code, rules()[code].title(lang), n)
        for code, n in sorted(Counter(d.code for d in result.diagnostics).items())
    ]
    tally: Counter[tuple[str, str]] = Counter(
        (family_of(d.code), "waived" if d.waived else d.severity) for d in result.diagnostics
    )
    families = [
        (f, names[0 if lang == "zh" else 1], tally[(f, "error")], tally[(f, "warning")], tally[(f, "waived")])
        for f, names in FAMILIES.items()
        if any(k[0] == f for k in tally)
    ]
    chart = (
        svg.bars(
            _WORDS[lang]["chart"],
            [f"{f} {name}" for f, name, *_ in families],
            [
                svg.Series(_WORDS[lang]["error"], [e for *_, e, _, _ in families], "#C00000"),
                svg.Series(_WORDS[lang]["warning"], [w for *_, w, _ in families], "#BF8F00"),
            ],
            stacked=True,
            width=720,
            height=260,
        )
        if families
        else None
    )
    return _ENV.get_template("report.html.j2").render(
        result=result,
        groups=groups,
        counts=counts,
        families=families,
        chart=chart,
        submission=_submission(result),
        shown=shown,
        masked=masked,
        lang=lang,
        w=_WORDS[lang],
        version=__version__,
        notes=[shown(phrases()[key][lang].format(**values)) for key, values in result.notes],
        now=dt.datetime.now(),
    )


def _submission(result: Result) -> tuple[str, str, str] | None:
    """(department, how it was found, as-of date) of a checked submission."""
    if result.submission is None or result.context is None:
        return None
    from xlcrm.batch.worker import DEPARTMENT_SOURCES, department_of

    department, source, _ = department_of(result.submission, result.files[0] if result.files else "")
    return department, DEPARTMENT_SOURCES[source].zh, result.context.as_of.isoformat()
