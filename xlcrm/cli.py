"""The ``xlcrm`` command: parse options, call one function, pick a renderer, return the exit code."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import os
import re
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from xlcrm import __version__
from xlcrm.normalize import INVALID, to_date
from xlcrm.policy import Policy
from xlcrm.registry import Lang

LANG = click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default="zh",
    envvar="XLCRM_LANG",
    show_default=True,
    help="Message language / 输出语言.",
)


PASSWORD = click.option(
    "--password",
    envvar="XLCRM_PASSWORD",
    help="Password of password-protected workbooks (decrypted in memory; process keeps it on the copy).",
)

POLICY = click.option(
    "--policy",
    "policy_file",
    type=click.Path(path_type=Path),
    envvar="XLCRM_POLICY",
    help="Company policy file (TOML) overriding the shipped defaults; see `xlcrm policy`.",
)


class _Date(click.ParamType):  # type: ignore[type-arg]
    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dt.date:
        parsed = to_date(value)
        if parsed is None or parsed is INVALID:
            self.fail(
                f"“{value}”不是日期；请写成 2025-06-30 / not a date, write it like 2025-06-30", param, ctx
            )
        assert isinstance(parsed, dt.date)
        return parsed


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="xlcrm")
def cli() -> None:
    """xlcrm：把客户管理制度变成对 Excel 台账的检查。 Customer-management policy checks for Excel."""


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "html", "csv"]),
    default="text",
    show_default=True,
    help="text for the terminal, json per POLICY §4, html for a browser, csv for Excel (write those to a file).",
)
@LANG
@click.option("--as-of", type=_Date(), help="Base date for date rules (default: 参数!基准日期, else today).")
@click.option("--select", default="", help="Only these codes or prefixes, e.g. S00,A102.")
@click.option("--ignore", default="", help="Skip these codes or prefixes, e.g. S009.")
@click.option("--blacklist", type=click.Path(path_type=Path), help="The company blacklist workbook.")
@PASSWORD
@POLICY
def check(
    files: tuple[Path, ...],
    fmt: str,
    lang: Lang,
    as_of: dt.date | None,
    select: str,
    ignore: str,
    blacklist: Path | None,
    password: str | None,
    policy_file: Path | None,
) -> None:
    """检查一个部门提交的工作簿（可分多个文件）。 Check one department's submission.

    Exit status: 0 no errors, 1 errors found, 2 an input could not be used.
    """
    from xlcrm.engine import Options
    from xlcrm.engine import check as run_check
    from xlcrm.selection import parse_codes, unknown_prefixes

    selected, ignored = parse_codes(select), parse_codes(ignore)
    unknown = unknown_prefixes(selected + ignored)
    if unknown:
        raise click.BadParameter(f"不是规则代码 / no such rule code: {', '.join(unknown)}")
    policy = _load_policy(policy_file, lang)
    result = run_check(list(files), Options(as_of, selected, ignored, blacklist, policy, password))
    if fmt == "json":
        from xlcrm.render.json import render as render_json

        click.echo(render_json(result, lang))
    elif fmt == "csv":
        from xlcrm.render.csv import render as render_csv

        click.echo(render_csv(result, lang), nl=False)
    elif fmt == "html":
        from xlcrm.render.html import render as render_html

        click.echo(render_html(result, lang))
    else:
        from xlcrm.render.text import render as render_text

        render_text(result, Console(highlight=False, soft_wrap=True), lang)
    sys.exit(result.exit_code)


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-o", "--out", type=click.Path(path_type=Path), help="Output file (one input) or folder.")
@click.option("--in-place", is_flag=True, help="Replace the input itself, keeping a timestamped backup.")
@click.option("--force", is_flag=True, help="Overwrite an existing output file.")
@LANG
@click.option("--as-of", type=_Date(), help="Base date for date rules (default: 参数!基准日期, else today).")
@click.option("--blacklist", type=click.Path(path_type=Path), help="The company blacklist workbook.")
@PASSWORD
@POLICY
def process(
    files: tuple[Path, ...],
    out: Path | None,
    in_place: bool,
    force: bool,
    lang: Lang,
    as_of: dt.date | None,
    blacklist: Path | None,
    password: str | None,
    policy_file: Path | None,
) -> None:
    """检查并写出带标注的副本（填色、批注、问题清单、汇总、计算列）。 Check and write an annotated copy.

    The input is never changed unless --in-place. Exit status as for check.
    """
    from xlcrm.annotate.writer import annotate_all
    from xlcrm.engine import Options, without_cyclic_gc
    from xlcrm.engine import check as run_check
    from xlcrm.render.text import render as render_text

    if in_place and out is not None:
        raise click.BadParameter("--in-place 与 -o 不能同时使用 / use either --in-place or -o")
    policy = _load_policy(policy_file, lang)
    with without_cyclic_gc():  # the check's rows stay alive while the copy is written
        result = run_check(list(files), Options(as_of, (), (), blacklist, policy, password))
        console = Console(highlight=False, soft_wrap=True)
        render_text(result, console, lang)
        done = annotate_all(result, out, in_place=in_place, force=force)
    for path in done.copies:
        click.echo(("已写出：" if lang == "zh" else "Written: ") + str(path))
    for problem in done.refused + done.warnings:
        click.echo(problem.message(lang), err=True)
    sys.exit(2 if done.refused else result.exit_code)


_MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def _month(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not _MONTH.match(value):
        raise click.BadParameter(f"“{value}”不是月份；请写成 2026-11 / not a month, write it like 2026-11")
    return value


@cli.command()
@click.argument("inputs", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--month", callback=_month, help="The month, YYYY-MM (default: the as-of date's month).")
@click.option(
    "-o",
    "--out",
    type=click.Path(path_type=Path),
    help="The company workbook (default 公司汇总_<month>.xlsx).",
)
@click.option("--force", is_flag=True, help="Overwrite an existing company workbook.")
@click.option("--blacklist", type=click.Path(path_type=Path), help="The company blacklist workbook.")
@click.option(
    "--jobs", type=click.IntRange(min=0), help="Worker processes (default: the cores; 0 = in this process)."
)
@click.option("--scheduler", metavar="ADDRESS", help="Run on an existing Dask cluster, e.g. tcp://host:8786.")
@click.option(
    "--history",
    "history_file",
    type=click.Path(path_type=Path),
    help="History database (default beside the output).",
)
@click.option("--no-history", is_flag=True, help="Do not read or store the history (D106 is not checked).")
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=600,
    show_default=True,
    help="Seconds per file before it is given up.",
)
@click.option(
    "--as-of", type=_Date(), help="Base date for date rules (default: each 参数!基准日期, else today)."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text, or json per POLICY §6.",
)
@click.option(
    "--unmasked", is_flag=True, help="Show mobile numbers and e-mail addresses in full in the workbook."
)
@click.option("-q", "--quiet", is_flag=True, help="No progress on stderr.")
@LANG
@PASSWORD
@POLICY
def consolidate(
    inputs: tuple[Path, ...],
    month: str | None,
    out: Path | None,
    force: bool,
    blacklist: Path | None,
    jobs: int | None,
    scheduler: str | None,
    history_file: Path | None,
    no_history: bool,
    timeout: float,
    as_of: dt.date | None,
    fmt: str,
    unmasked: bool,
    quiet: bool,
    lang: Lang,
    password: str | None,
    policy_file: Path | None,
) -> None:
    """月度汇总：检查各部门提交的工作簿，写出公司汇总并存入历史库。 Consolidate a month's submissions.

    INPUTS are folders (searched recursively) or files. Exit status: 2 if any file was
    unusable (the workbook is still written), else 1 if any error finding, else 0.
    """
    from xlcrm.batch.consolidate import Settings, default_output
    from xlcrm.batch.consolidate import consolidate as run_consolidation
    from xlcrm.batch.history import default_path
    from xlcrm.engine import Options
    from xlcrm.errors import InputError
    from xlcrm.render.progress import FileProgress

    if history_file is not None and no_history:
        raise click.BadParameter(
            "--history 与 --no-history 不能同时使用 / use either --history or --no-history"
        )
    if scheduler and jobs is not None:
        raise click.BadParameter("--jobs 与 --scheduler 不能同时使用 / use either --jobs or --scheduler")
    month = month or (as_of or dt.date.today()).strftime("%Y-%m")
    output = out or default_output(month)
    history = None if no_history else history_file or default_path(output)
    recorded = {
        "month": month, "as_of": as_of, "blacklist": blacklist, "jobs": jobs, "scheduler": scheduler,
        "timeout": timeout, "history": history, "policy": policy_file, "force": force,
        "unmasked": unmasked, "password": "（已提供）" if password else None,
    }  # fmt: skip
    policy = _load_policy(policy_file, lang)
    settings = Settings(
        inputs=inputs,
        month=month,
        output=output,
        options=Options(as_of, (), (), blacklist, policy, password),
        force=force,
        history=history,
        jobs=(os.cpu_count() or 1) if jobs is None else jobs,
        scheduler=scheduler,
        timeout=timeout,
        unmasked=unmasked,
        recorded=recorded,
    )
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        with FileProgress(lang, quiet=quiet, console=err) as progress:
            done = run_consolidation(settings, on_start=progress.start, on_done=progress)
    except InputError as problem:
        click.echo(problem.message(lang), err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        click.echo(
            "已中断：没有写出公司汇总，历史库未改动。"
            if lang == "zh"
            else "Interrupted: no workbook written, the history unchanged.",
            err=True,
        )
        sys.exit(130)
    if fmt == "json":
        from xlcrm.render.consolidation import render_json

        click.echo(render_json(done, lang))
    else:
        from xlcrm.render.consolidation import render_text

        render_text(done, Console(highlight=False, soft_wrap=True), lang)
    sys.exit(done.company.exit_code)


@cli.command("history")
@click.option(
    "--history",
    "history_file",
    type=click.Path(path_type=Path),
    help="History database (default ./xlcrm-history.duckdb).",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@LANG
def show_history(history_file: Path | None, fmt: str, lang: Lang) -> None:
    """列出历史库中已汇总的月份及数量。 List the consolidated months in the history."""
    import json

    from xlcrm.batch.history import DEFAULT_NAME, months
    from xlcrm.errors import InputError

    try:
        rows = months(history_file or Path(DEFAULT_NAME))
    except InputError as problem:
        click.echo(problem.message(lang), err=True)
        sys.exit(2)
    if fmt == "json":
        click.echo(json.dumps(rows, ensure_ascii=False, default=str))
        return
    if not rows:
        click.echo("历史库中还没有月份。" if lang == "zh" else "No month stored yet.")
        return
    headers = (
        (
            "月份",
            "完成时间",
            "运行人",
            "找到",
            "已检查",
            "无法使用",
            "已跳过",
            "部门",
            "客户",
            "信用评定",
            "错误",
            "警告",
            "问题",
        )
        if lang == "zh"
        else (
            "month",
            "finished",
            "user",
            "found",
            "checked",
            "unusable",
            "skipped",
            "depts",
            "customers",
            "credit",
            "errors",
            "warnings",
            "findings",
        )
    )
    keys = (
        "month",
        "finished_at",
        "user",
        "files_found",
        "checked",
        "unusable",
        "skipped",
        "departments",
        "customers",
        "credit_rows",
        "errors",
        "warnings",
        "findings",
    )
    click.echo("  ".join(headers))
    for row in rows:
        click.echo("  ".join(str(row[k]) for k in keys))


@cli.command("policy")
@POLICY
@LANG
def show_policy(policy_file: Path | None, lang: Lang) -> None:
    """显示生效的策略参数及来源。 Show the effective policy values and where each came from."""
    policy = _load_policy(policy_file, lang)
    width = max(len(k) for k in policy.values)
    for key, value in policy.values.items():
        click.echo(f"{key.ljust(width)} = {value!r:<12} # {policy.sources[key]}")


def _load_policy(path: Path | None, lang: Lang) -> Policy:
    from xlcrm.errors import InputError
    from xlcrm.policy import load_policy

    try:
        return load_policy(path)
    except InputError as problem:
        click.echo(problem.message(lang), err=True)
        sys.exit(2)


@cli.command()
@click.argument("code", required=False)
@LANG
def rules(code: str | None, lang: Lang) -> None:
    """列出全部规则代码，或解释一个代码。 List every rule code, or explain one."""
    from xlcrm.docs import explain_rule, rule_lines

    if code is None:
        for line in rule_lines(lang):
            click.echo(line)
        return
    text = explain_rule(code.upper(), lang)
    if text is None:
        raise click.BadParameter(f"不是规则代码 / no such rule code: {code}")
    click.echo(text)


@cli.command()
@click.option(
    "--out", "out", type=click.Path(path_type=Path), default=Path("workbook_templates"), show_default=True
)
def templates(out: Path) -> None:
    """生成空白模板（每个表单一个，外加合并台账）。 Write the blank templates."""
    from xlcrm.templates import write_templates

    for path in write_templates(out):
        click.echo(str(path))


@cli.command()
@click.option("--out", "out", type=click.Path(path_type=Path), default=Path("xlcrm-demo"), show_default=True)
@LANG
def demo(out: Path, lang: Lang) -> None:
    """写出示例工作簿并检查它——新用户的第一次运行。 Write a sample workbook and check it."""
    from xlcrm.demo import run_demo

    sys.exit(run_demo(out, lang, Console(highlight=False, soft_wrap=True)))


def main() -> None:
    """Entry point: no traceback reaches the user unless XLCRM_DEBUG is set."""
    # A short-lived process holding millions of cell values: automatic cyclic collections
    # would walk them all, repeatedly, for garbage xlcrm hardly creates (~1 s per 100k rows).
    gc.disable()
    try:
        cli(standalone_mode=True)
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except Exception as exc:
        if os.environ.get("XLCRM_DEBUG"):
            raise
        click.echo(
            f"xlcrm 内部错误 / internal error: {type(exc).__name__}: {exc} (XLCRM_DEBUG=1 显示详情)", err=True
        )
        code = 2
    # Every output is written, closed and renamed into place by now. Leave without freeing
    # millions of cell objects one by one (~0.3 s at 100,000 rows): the system reclaims them.
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError):  # a closed pipe (… | head): nothing more to say
            stream.flush()
    os._exit(code)
