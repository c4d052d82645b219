"""``--format html``: a self-contained report to open in a browser (jinja2, autoescaped).

Every value from a workbook is escaped by jinja2's autoescaping, so cell text can never
become markup or script in the report.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from itertools import groupby

from jinja2 import Environment, PackageLoader, select_autoescape

from xlcrm import __version__
from xlcrm.engine import Result
from xlcrm.registry import Lang, phrases, rules

_WORDS = {
    "zh": {
        "title": "xlcrm 检查报告", "generated": "生成于", "files": "文件", "unusable": "无法使用",
        "total": "问题总数", "error": "错误", "warning": "警告", "code": "代码", "rule": "规则",
        "count": "个数", "submission": "（整个提交）", "cell": "单元格", "severity": "级别",
        "customer": "客户编码", "message": "说明", "waived": "已豁免",
        "empty": "表单中没有任何数据行（0 个客户），没有可检查的内容；请先填写表单。",
    },
    "en": {
        "title": "xlcrm check report", "generated": "Generated", "files": "Files", "unusable": "Unusable",
        "total": "Problems", "error": "error", "warning": "warning", "code": "Code", "rule": "Rule",
        "count": "Count", "submission": "(whole submission)", "cell": "Cell", "severity": "Severity",
        "customer": "Customer", "message": "Message", "waived": "waived",
        "empty": "The forms hold no rows (0 customers): nothing to check; fill in the forms first.",
    },
}  # fmt: skip
_ENV = Environment(
    loader=PackageLoader("xlcrm", "render/templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(result: Result, lang: Lang = "zh") -> str:
    """The report as one HTML document."""
    groups = [
        (file, [(sheet, list(items)) for sheet, items in groupby(in_file, key=lambda d: d.sheet or "")])
        for file, in_file in groupby(result.diagnostics, key=lambda d: d.file or "")
    ]
    counts = [
        (code, rules()[code].title(lang), n)
        for code, n in sorted(Counter(d.code for d in result.diagnostics).items())
    ]
    return _ENV.get_template("report.html.j2").render(
        result=result,
        groups=groups,
        counts=counts,
        lang=lang,
        w=_WORDS[lang],
        version=__version__,
        notes=[phrases()[key][lang].format(**values) for key, values in result.notes],
        now=dt.datetime.now(),
    )
