"""``xlcrm consolidate --html``: the month's report as one self-contained HTML page.

The sections of the company workbook (总览, 部门汇总, 授信执行, 大客户分析, 变化, 趋势) from
the same ``Report``, as tables and inline SVG charts (``svg``): no script or style from the
network, A4 landscape when printed, tables sortable by a click on their header (a few lines
of inline script; without it they read in their original order). Long lists show their first
``tables.LIMIT`` rows and say where the rest is (the workbook). Values from workbooks are escaped by
jinja2's autoescaping; contacts are masked upstream (POLICY §7).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from xlcrm import __version__
from xlcrm.batch.report import FAMILY_NAMES, Report, by_family
from xlcrm.batch.trends import MIN_MONTHS, families_of
from xlcrm.batch.workbook import RunInfo
from xlcrm.registry import Lang
from xlcrm.render import svg, tables
from xlcrm.render.tables import Words

CHART_DEPARTMENTS = 30
_ENV = Environment(
    loader=PackageLoader("xlcrm", "render/templates"),
    autoescape=select_autoescape(default=True),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render(
    report: Report, run: RunInfo, lang: Lang = "zh", *, files: Sequence[tuple[str, str, str]] = ()
) -> str:
    """The page. ``files``: (file, status, SHA-256) of every file found, for the record of the run."""
    w = Words(lang)
    o = report.overview
    sections = [
        ("overview", w("总览", "Overview"), tables.overview(report, w), []),
        (
            "departments",
            w("部门汇总", "Departments"),
            tables.departments(report, w),
            _department_charts(report, w),
        ),
        ("credit", w("授信执行", "Credit execution"), tables.credit(report, w), []),
        ("accounts", w("大客户分析", "Key accounts"), tables.accounts(report, w), []),
        ("changes", w("变化", "Changes"), tables.changes(report, w), []),
        ("trends", w("趋势", "Trends"), tables.trends(report, w), _trend_charts(report, w)),
    ]
    return _ENV.get_template("company.html.j2").render(
        w=w,
        lang=lang,
        o=o,
        sections=sections,
        run=run,
        files=files,
        masked=report.masked,
        version=__version__,
        now=dt.datetime.now().replace(microsecond=0),
    )


def _top(
    rows: list[dict[str, Any]], key: Callable[[dict[str, Any]], float]
) -> tuple[list[dict[str, Any]], bool]:
    if len(rows) <= CHART_DEPARTMENTS:
        return rows, False
    chosen = sorted(rows, key=lambda r: -key(r))[:CHART_DEPARTMENTS]
    return [r for r in rows if r in chosen], True


def _department_charts(report: Report, w: Words) -> list[Markup]:
    frame = report.departments
    if frame.is_empty():
        return []
    rows = list(frame.iter_rows(named=True))
    vip, preferred = report.vip_cap, report.preferred_cap
    shown, cut = _top(
        rows, lambda r: max((r["vip_share"] or 0) / vip, (r["preferred_share"] or 0) / preferred)
    )
    shares = svg.bars(
        w("VIP与优选类客户占比（对比上限）", "VIP and 优选 shares against the caps") + (w("（超限风险最高的部门）", " (closest to the caps)") if cut else ""),
        [r["department"] for r in shown],
        [
            svg.Series(w("VIP占比", "VIP share"), [r["vip_share"] for r in shown], "#C00000"),
            svg.Series(w("优选占比", "优选 share"), [r["preferred_share"] for r in shown], "#2E75B6"),
        ],
        lines=[svg.Line(w("VIP上限", "VIP cap"), vip, "#C00000"), svg.Line(w("优选上限", "优选 cap"), preferred, "#2E75B6")],
        percent=True,
    )  # fmt: skip
    counts = {r["department"]: by_family(r) for r in rows}
    shown, cut = _top(rows, lambda r: sum(counts.get(r["department"], {}).values()))
    families = [f for f in FAMILY_NAMES if any(f in c for c in counts.values())]
    findings = svg.bars(
        w("各部门问题（按类别）", "Findings per department, by family") + (w("（问题最多的部门）", " (most findings)") if cut else ""),
        [r["department"] for r in shown],
        [svg.Series(f"{f} {FAMILY_NAMES[f]}", [counts.get(r["department"], {}).get(f, 0) for r in shown]) for f in families],
        stacked=True,
    )  # fmt: skip
    shown, cut = _top(rows, lambda r: r["utilisation"] or 0)
    used = svg.bars(
        w("信用额度使用率（占用额÷额度）", "Credit utilisation (exposure / limit)") + (w("（使用率最高的部门）", " (highest)") if cut else ""),
        [r["department"] for r in shown],
        [svg.Series(w("使用率", "Utilisation"), [r["utilisation"] for r in shown], "#548235")],
        lines=[svg.Line(w("额度", "Limit"), 1.0, "#7F7F7F")],
        percent=True,
    )  # fmt: skip
    limited = any(r["utilisation"] is not None for r in rows)
    return [shares, *([findings] if families else []), *([used] if limited else [])]


def _trend_charts(report: Report, w: Words) -> list[Markup]:
    frame = report.trends
    if frame.height < MIN_MONTHS:
        return []
    months = frame["month"].to_list()
    families = families_of(frame)
    return [
        svg.lines(w("客户数", "Customers"), months, [svg.Series(w("客户", "Customers"), frame["customers"].to_list()),
                                                     svg.Series(w("已准入", "Admitted"), frame["admitted"].to_list())]),
        svg.lines(w("VIP与优选类客户占比", "VIP and 优选 shares"), months,
                  [svg.Series(w("VIP占比", "VIP share"), frame["vip_share"].to_list(), "#C00000"),
                   svg.Series(w("优选占比", "优选 share"), frame["preferred_share"].to_list(), "#2E75B6")],
                  percent=True, refs=[svg.Line(w("VIP上限", "VIP cap"), report.vip_cap, "#C00000"),
                                      svg.Line(w("优选上限", "优选 cap"), report.preferred_cap, "#2E75B6")]),
        svg.lines(w("信用额度与占用额（元）", "Limits and exposure"), months,
                  [svg.Series(w("信用额度", "Limits"), frame["limit_total"].to_list()),
                   svg.Series(w("占用额", "Exposure"), frame["exposure_total"].to_list())]),
        *([svg.lines(w("问题按类别（不含已豁免）", "Findings by family (not waived)"), months,
                     [svg.Series(f"{f} {FAMILY_NAMES[f]}", frame[f].to_list()) for f in families])] if families else []),
    ]  # fmt: skip
