"""The ``xlcrm`` command: parse options, call one function, pick a renderer, return the exit code."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import os
import re
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from xlcrm import __version__, clizh
from xlcrm.interrupts import SIGNALS, Late
from xlcrm.names import guard_streams
from xlcrm.normalize import INVALID, to_date
from xlcrm.policy import AS_OF_RANGE, Policy
from xlcrm.registry import Lang

# A file's time limit, in seconds: a week is past any workbook; the watchdog's timer overflows
# beyond threading.TIMEOUT_MAX (inf was an internal error).
MAX_TIMEOUT = 7 * 86_400

if TYPE_CHECKING:
    from rich.console import Console

clizh.install()  # click's own words (usage, errors) in Chinese first


def _console(**options: Any) -> Console:
    """A rich console (rich is imported only by the commands that print through it)."""
    from rich.console import Console

    return Console(**options)


def _write_json(text: str) -> None:
    """Write JSON to stdout as it is.

    click.echo would search the megabytes for ANSI escapes when piped; JSON holds none (json.dumps
    writes every character below U+0020, ESC included, as an escape).
    """
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


# Every command's usage line: [选项/OPTIONS] instead of click's [OPTIONS].
COMMAND: dict[str, Any] = {"options_metavar": "[选项/OPTIONS]"}

LANG = click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default="zh",
    envvar="XLCRM_LANG",
    show_default=True,
    help="输出语言（也可用环境变量 XLCRM_LANG）。 Message language.",
)


PASSWORD = click.option(
    "--password",
    envvar="XLCRM_PASSWORD",
    metavar="密码/TEXT",
    help="加密工作簿的打开密码（只在内存中解密；process 写出的副本同样加密）。"
    " Password of protected workbooks (decrypted in memory; process keeps it on the copy).",
)

POLICY = click.option(
    "--policy",
    "policy_file",
    type=click.Path(path_type=Path),
    metavar="文件/FILE",
    envvar="XLCRM_POLICY",
    help="公司策略文件（TOML），覆盖默认参数；见 xlcrm policy。"
    " Company policy file overriding the shipped defaults; see `xlcrm policy`.",
)


UNMASK = click.option(
    "--unmask",
    is_flag=True,
    help="报告、CSV 和工作簿中不遮蔽手机号与电子邮箱。 Show mobile numbers and e-mail addresses in full.",
)
ALLOW_UNPROTECTED = click.option(
    "--allow-unprotected",
    is_flag=True,
    help="即使有加密的提交，也允许写出未加密的文件（HTML、CSV、工作簿）。"
    " Allow unprotected outputs even when a submission is password-protected.",
)


class _Date(click.ParamType):  # type: ignore[type-arg]
    name = "日期/DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dt.date:
        parsed = to_date(value)
        if parsed is None or parsed is INVALID:
            self.fail(
                f"“{value}”不是日期；请写成 2025-06-30 / not a date, write it like 2025-06-30", param, ctx
            )
        assert isinstance(parsed, dt.date)
        low, high = AS_OF_RANGE
        if not low <= parsed <= high:
            self.fail(f"“{value}”超出可用范围 {low} 至 {high} / outside {low} to {high}", param, ctx)
        return parsed


@click.group(
    context_settings={"help_option_names": ["-h", "--help"]},
    options_metavar="[选项/OPTIONS]",
    subcommand_metavar="命令/COMMAND [参数/ARGS]...",
)
@click.version_option(__version__, prog_name="xlcrm")
def cli() -> None:
    """xlcrm：把客户管理制度变成对 Excel 台账的检查。 Customer-management policy checks for Excel."""


AS_OF = click.option(
    "--as-of",
    type=_Date(),
    help="日期规则的基准日期（默认：参数!基准日期，否则今天）。 Base date for the date rules.",
)
BLACKLIST = click.option(
    "--blacklist",
    type=click.Path(path_type=Path),
    metavar="文件/FILE",
    help="公司黑名单工作簿（其中的黑名单表适用于本部门）。 The company blacklist workbook.",
)


@cli.command(**COMMAND)
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="文件/FILES...")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "html", "csv"]),
    default="text",
    show_default=True,
    help="输出格式：text 终端，json（字段见 docs/policy.md §6），html 浏览器报告，csv 给 Excel（后两种请重定向到文件）。"
    " text for the terminal, json, html for a browser, csv for Excel.",
)
@LANG
@AS_OF
@click.option(
    "--select",
    default="",
    metavar="代码/CODES",
    help="只报告这些代码或前缀，如 S00,A102。 Only these codes or prefixes.",
)
@click.option(
    "--ignore",
    default="",
    metavar="代码/CODES",
    help="不报告这些代码或前缀，如 S009。 Skip these codes or prefixes.",
)
@BLACKLIST
@PASSWORD
@POLICY
@UNMASK
@ALLOW_UNPROTECTED
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
    unmask: bool,
    allow_unprotected: bool,
) -> None:
    """检查一个部门提交的工作簿（可分多个文件）。 Check one department's submission.

    html 与 csv 中的手机号和电子邮箱默认遮蔽（--unmask 显示全文）；加密的工作簿只在加 --allow-unprotected
    时才写出 html 或 csv。 html and csv mask contacts unless --unmask; a password-protected
    input gives them only with --allow-unprotected.

    退出码：0 没有错误，1 发现错误，2 有输入无法使用。 Exit status: 0 no errors, 1 errors, 2 unusable input.
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
    protected = [label for label, source in result.sources.items() if source.password is not None]
    if fmt in ("html", "csv") and protected and not allow_unprotected:
        from xlcrm.errors import InputError

        click.echo(InputError("unprotected_report", "、".join(protected), format=fmt).message(lang), err=True)
        sys.exit(2)
    if fmt == "json":
        from xlcrm.render.json import render as render_json

        _write_json(render_json(result, lang))
    elif fmt == "csv":
        from xlcrm.render.csv import render as render_csv

        click.echo(render_csv(result, lang, masked=not unmask), nl=False)
    elif fmt == "html":
        from xlcrm.render.html import render as render_html

        click.echo(render_html(result, lang, masked=not unmask))
    else:
        from xlcrm.render.text import render as render_text

        render_text(result, _console(highlight=False, soft_wrap=True), lang)
    sys.exit(result.exit_code)


@cli.command(**COMMAND)
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="文件/FILES...")
@click.option(
    "-o",
    "--out",
    type=click.Path(),
    metavar="路径/PATH",
    help="输出文件（一个输入时）或文件夹（多个输入，或以 / 结尾）。 Output file (one input) or folder "
    "(several inputs, or ending in /).",
)
@click.option(
    "--in-place",
    is_flag=True,
    help="直接替换原文件，并保留带时间的备份。 Replace the input, keeping a backup.",
)
@click.option("--force", is_flag=True, help="覆盖已存在的输出文件。 Overwrite an existing output file.")
@LANG
@AS_OF
@BLACKLIST
@PASSWORD
@POLICY
def process(
    files: tuple[Path, ...],
    out: str | None,
    in_place: bool,
    force: bool,
    lang: Lang,
    as_of: dt.date | None,
    blacklist: Path | None,
    password: str | None,
    policy_file: Path | None,
) -> None:
    """检查并写出带标注的副本（填色、批注、问题清单、汇总、计算列）。 Check and write an annotated copy.

    除非用 --in-place，原文件从不改动；退出码同 check。 The input is never changed unless --in-place.
    """
    from xlcrm.annotate.writer import annotate_all
    from xlcrm.engine import Options, without_cyclic_gc
    from xlcrm.engine import check as run_check
    from xlcrm.render.text import render as render_text

    if in_place and out is not None:
        raise click.BadParameter("--in-place 与 -o 不能同时使用 / use either --in-place or -o")
    from xlcrm.errors import printable

    folder = out is not None and out.endswith(("/", os.sep))  # "-o 已检查/" names a folder
    policy = _load_policy(policy_file, lang)
    with without_cyclic_gc():  # the check's rows stay alive while the copy is written
        result = run_check(list(files), Options(as_of, (), (), blacklist, policy, password))
        console = _console(highlight=False, soft_wrap=True)
        render_text(result, console, lang)
        target = Path(out) if out is not None else None
        given = [str(p) for p in (blacklist, policy_file) if p is not None]  # never written over either
        done = annotate_all(result, target, in_place=in_place, force=force, folder=folder, keep=given)
    for path in done.copies:
        line = ("已写出：" if lang == "zh" else "Written: ") + str(path)
        if path in done.renamed:  # two inputs of the same name: say which is which
            line += ("（输入 {}）" if lang == "zh" else " (input {})").format(done.renamed[path])
        click.echo(printable(line))
    for problem in done.refused + done.warnings:
        click.echo(problem.message(lang), err=True)
    sys.exit(2 if done.refused else result.exit_code)


_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")  # ASCII digits only, the whole value (no newline)


def _month(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value is not None and not _MONTH.fullmatch(value):
        raise click.BadParameter(f"“{value}”不是月份；请写成 2026-11 / not a month, write it like 2026-11")
    return value


@cli.command(**COMMAND)
@click.argument("inputs", nargs=-1, required=True, type=click.Path(), metavar="文件夹或文件/INPUTS...")
@click.option(
    "--month",
    callback=_month,
    metavar="年-月/YYYY-MM",
    help="汇总的月份（默认：基准日期所在月）。 The month (default: the as-of date's month).",
)
@click.option(
    "-o",
    "--out",
    type=click.Path(path_type=Path),
    metavar="文件/FILE",
    help="公司汇总工作簿（默认 公司汇总_<月份>.xlsx）。 The company workbook.",
)
@click.option(
    "--force", is_flag=True, help="覆盖已有的公司汇总工作簿。 Overwrite an existing company workbook."
)
@BLACKLIST
@click.option(
    "--jobs",
    type=click.IntRange(min=0),
    metavar="个数/N",
    help="工作进程数（默认：CPU 核数；0 = 在本进程内，无超时与隔离）。 Worker processes (default: the cores; 0: this "
    "process, without --timeout or isolation).",
)
@click.option(
    "--scheduler",
    metavar="地址/ADDRESS",
    help="在已有的 Dask 集群上运行，如 tcp://主机:8786。 Run on an existing Dask cluster.",
)
@click.option(
    "--history",
    "history_file",
    type=click.Path(path_type=Path),
    metavar="文件/FILE",
    help="历史库（DuckDB，默认在输出旁）。 The history database (default beside the output).",
)
@click.option(
    "--no-history",
    is_flag=True,
    help="不读也不写历史库（D106 不检查）。 Neither read nor store the history (no D106).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=1, max=MAX_TIMEOUT),
    callback=lambda _ctx, _param, value: _finite(value, "--timeout"),
    default=600,
    show_default=True,
    metavar="秒/SECONDS",
    help="每个文件最长检查时间，超时即标为无法使用（--jobs 0 时不适用）。 Seconds per file before it is given up "
    "(not with --jobs 0).",
)
@AS_OF
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="输出格式：text 终端，json（字段见 docs/policy.md）。 text for the terminal, or json.",
)
@click.option(
    "--html",
    "html",
    type=click.Path(path_type=Path),
    metavar="文件/FILE",
    help="另写出一份 HTML 报告（单个文件，离线可看，可打印 A4 横向）。 Also write the HTML report.",
)
@click.option(
    "--csv",
    "csv_file",
    type=click.Path(path_type=Path),
    metavar="文件/FILE",
    help="另把公司客户写成 CSV（UTF-8，供 Excel 打开）。 Also write the company customers as CSV.",
)
@click.option(
    "--split-by-department",
    "split",
    is_flag=True,
    help="另为每个部门写一个只含本部门行的工作簿（在公司汇总旁，各自加密）。"
    " Also write one workbook per department, holding only its rows, each password-protected.",
)
@click.option(
    "--passwords",
    "passwords",
    type=click.Path(path_type=Path),
    metavar="文件/FILE",
    help="各部门工作簿的密码：CSV，每行“部门,密码”（无此部门时用 --password）。"
    " Per-department passwords: a CSV of “department,password” lines.",
)
@ALLOW_UNPROTECTED
@UNMASK
@click.option("--unmasked", "unmasked_alias", is_flag=True, hidden=True)  # the earlier spelling
@click.option("-q", "--quiet", is_flag=True, help="不显示进度。 No progress on stderr.")
@LANG
@click.option(
    "--password",
    envvar="XLCRM_PASSWORD",
    metavar="密码/TEXT",
    help="加密提交的打开密码；公司汇总（及没有单独密码的部门工作簿）也用它加密。"
    " Password of protected submissions; the company workbook (and department workbooks without"
    " their own) is encrypted with it.",
)
@POLICY
def consolidate(
    inputs: tuple[str, ...],
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
    html: Path | None,
    csv_file: Path | None,
    split: bool,
    passwords: Path | None,
    allow_unprotected: bool,
    unmask: bool,
    unmasked_alias: bool,
    quiet: bool,
    lang: Lang,
    password: str | None,
    policy_file: Path | None,
) -> None:
    """月度汇总：检查各部门提交的工作簿，写出公司汇总并存入历史库。 Consolidate a month's submissions.

    输入为文件夹（递归查找）或文件。退出码：有文件无法使用为 2（仍写出工作簿），否则有错误为 1，否则 0。
    INPUTS are folders (searched recursively) or files. Exit status: 2 if a file was unusable
    (the workbook is still written), else 1 if any error, else 0.
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
    if any(not given.strip() for given in inputs):  # Path("") would be the current folder
        raise click.BadParameter("输入路径不能为空 / an input path cannot be empty")
    if passwords is not None and not split:
        raise click.BadParameter(
            "--passwords 只用于 --split-by-department / --passwords goes with --split-by-department"
        )
    if password == "":  # an unset variable: the workbooks would be "encrypted" with no password
        raise click.BadParameter("--password 不能为空 / --password cannot be empty")
    unmask = unmask or unmasked_alias
    month = month or (as_of or dt.date.today()).strftime("%Y-%m")
    output = out or default_output(month)
    history = None if no_history else history_file or default_path(output)
    recorded = {
        "month": month, "as_of": as_of, "blacklist": blacklist, "jobs": jobs, "scheduler": scheduler,
        "timeout": timeout, "history": history, "policy": policy_file, "force": force,
        "unmask": unmask, "password": "（已提供）" if password else None, "html": html, "csv": csv_file,
        "split_by_department": split, "passwords": passwords, "allow_unprotected": allow_unprotected,
    }  # fmt: skip
    policy = _load_policy(policy_file, lang)
    settings = Settings(
        inputs=tuple(Path(given) for given in inputs),
        month=month,
        output=output,
        options=Options(as_of, (), (), blacklist, policy, password),
        force=force,
        history=history,
        jobs=(os.cpu_count() or 1) if jobs is None else jobs,
        scheduler=scheduler,
        timeout=timeout,
        unmask=unmask,
        recorded=recorded,
        html=html,
        csv=csv_file,
        split=split,
        passwords=passwords,
        encrypt=password,
        allow_unprotected=allow_unprotected,
        lang=lang,
    )
    err = _console(stderr=True, highlight=False, soft_wrap=True)
    try:
        with FileProgress(lang, quiet=quiet, console=err, masked=not unmask) as progress:
            done = run_consolidation(settings, on_start=progress.start, on_done=progress)
    except InputError as problem:
        click.echo(problem.message(lang), err=True)
        sys.exit(2)
    except Late as late:  # the signal came while the finished outputs were put in place
        click.echo(late.message(lang), err=True)
        sys.exit(late.code)
    except (KeyboardInterrupt, Interrupted) as stop:  # Ctrl-C, or SIGTERM (main installs both)
        click.echo(
            "已中断：没有写出公司汇总，历史库未改动。"
            if lang == "zh"
            else "Interrupted: no workbook written, the history unchanged.",
            err=True,
        )
        sys.exit(stop.code if isinstance(stop, Interrupted) else 130)
    if fmt == "json":
        from xlcrm.render.consolidation import render_json

        _write_json(render_json(done, lang))
    else:
        from xlcrm.render.consolidation import render_text

        render_text(done, _console(highlight=False, soft_wrap=True), lang)
    sys.exit(done.company.exit_code)


@cli.command("history", **COMMAND)
@click.option(
    "--history",
    "history_file",
    type=click.Path(path_type=Path),
    metavar="文件/FILE",
    help="历史库（默认 ./xlcrm-history.duckdb）。 The history database.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="输出格式。 Output format.",
)
@LANG
def show_history(history_file: Path | None, fmt: str, lang: Lang) -> None:
    """列出历史库中已汇总的月份及数量。 List the consolidated months in the history."""
    import json

    from xlcrm.batch.history import DEFAULT_NAME, months
    from xlcrm.errors import InputError

    try:
        rows = months(history_file or Path(DEFAULT_NAME))
    except InputError as problem:
        if problem.reason == "history":  # consolidate's wording suggests --no-history
            problem = InputError("history_listing", problem.file, **problem.values)
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


@cli.command("policy", **COMMAND)
@POLICY
@LANG
def show_policy(policy_file: Path | None, lang: Lang) -> None:
    """显示生效的策略参数及来源。 Show the effective policy values and where each came from."""
    from xlcrm.docs import policy_lines

    for line in policy_lines(_load_policy(policy_file, lang), lang):
        click.echo(line)


def _finite(value: float, name: str) -> float:
    """``value`` unless it is NaN (FloatRange lets it through: every comparison with it is false)."""
    if value != value:
        raise click.BadParameter(f"{name} 须为秒数 / {name} must be a number of seconds")
    return value


def _load_policy(path: Path | None, lang: Lang) -> Policy:
    from xlcrm.errors import InputError
    from xlcrm.policy import load_policy

    try:
        return load_policy(path)
    except InputError as problem:
        click.echo(problem.message(lang), err=True)
        sys.exit(2)


@cli.command(**COMMAND)
@click.argument("code", required=False, metavar="[代码/CODE]")
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


@cli.command(**COMMAND)
@click.option(
    "-o",
    "--out",
    "out",
    type=click.Path(path_type=Path),
    default=Path("workbook_templates"),
    metavar="文件夹/DIR",
    show_default=True,
    help="模板写到这个文件夹。 Folder to write the templates to.",
)
@click.option(
    "--force",
    is_flag=True,
    help="覆盖已存在的模板文件（已填写的内容会丢失）。 Overwrite template files that exist.",
)
def templates(out: Path, force: bool) -> None:
    """生成空白模板（每个表单一个，外加合并台账）。 Write the blank templates."""
    from xlcrm.errors import InputError, printable
    from xlcrm.templates import write_templates

    try:
        paths = write_templates(out, force=force)
    except InputError as problem:
        click.echo(problem.message(), err=True)
        sys.exit(2)
    except OSError as exc:
        click.echo(InputError("output", str(out), detail=exc.strerror or str(exc)).message(), err=True)
        sys.exit(2)
    for path in paths:
        click.echo(printable(str(path)))


@cli.command(**COMMAND)
@click.option(
    "-o",
    "--out",
    "out",
    type=click.Path(path_type=Path),
    default=Path("xlcrm-demo"),
    metavar="文件夹/DIR",
    show_default=True,
    help="示例与模板写到这个文件夹。 Folder for the sample and the templates.",
)
@LANG
def demo(out: Path, lang: Lang) -> None:
    """写出示例工作簿并检查它——新用户的第一次运行。 Write a sample workbook and check it."""
    from xlcrm.demo import run_demo
    from xlcrm.errors import InputError

    try:
        code = run_demo(out, lang, _console(highlight=False, soft_wrap=True))
    except OSError as exc:
        click.echo(InputError("output", str(out), detail=exc.strerror or str(exc)).message(lang), err=True)
        code = 2
    sys.exit(code)


class Interrupted(BaseException):
    """Ctrl-C or SIGTERM: unwind (files being written remove their temporaries), then exit."""

    def __init__(self, signal_number: int) -> None:
        super().__init__(signal_number)
        self.code = 128 + signal_number  # 130 for SIGINT, 143 for SIGTERM, as shells report them


_RECEIVED: list[int] = []  # the signals that interrupted this run


def _interrupt(signal_number: int, _frame: Any) -> None:
    _RECEIVED.append(signal_number)
    raise Interrupted(signal_number)


def _stopped(code: int) -> int:
    """Say that a signal stopped the run; its exit status (130 for SIGINT, 143 for SIGTERM)."""
    for number in SIGNALS:  # a second signal ends it at once
        signal.signal(number, signal.SIG_DFL)
    click.echo(
        f"xlcrm 已中断（{signal.Signals(code - 128).name}），未写完的文件已删除，原文件未改动。"
        " / interrupted; unfinished files removed, inputs unchanged.",
        err=True,
    )
    return code


def main() -> None:
    """Entry point: no traceback reaches the user unless XLCRM_DEBUG is set.

    Ctrl-C (SIGINT) and SIGTERM unwind the run — a copy being written removes its temporary
    file, nothing is left half-written — and exit with 130 or 143 and one line saying so.
    """
    # A short-lived process holding millions of cell values: automatic cyclic collections
    # would walk them all, repeatedly, for garbage xlcrm hardly creates (~1 s per 100k rows).
    gc.disable()
    guard_streams()
    for number in SIGNALS:
        signal.signal(number, _interrupt)
    try:
        cli(standalone_mode=True)
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except Interrupted as stop:
        code = _stopped(stop.code)
    except Late as late:  # xlcrm demo's consolidation: the signal came once its outputs were in place
        for number in SIGNALS:
            signal.signal(number, signal.SIG_DFL)
        click.echo(f"{late.message('zh')} / {late.message('en')}", err=True)
        code = late.code
    except Exception as exc:
        if os.environ.get("XLCRM_DEBUG"):
            raise
        if _RECEIVED:
            # Raised while the interrupt unwound the run: the signal can land inside a lock's
            # acquire or release (threading, concurrent.futures), which then fails with its own
            # error in place of Interrupted. The run was stopped all the same, and cleaned up.
            code = _stopped(128 + _RECEIVED[0])
        else:
            click.echo(
                f"xlcrm 内部错误 / internal error: {type(exc).__name__}: {exc} (XLCRM_DEBUG=1 显示详情)",
                err=True,
            )
            code = 2
    # Every output is written, closed and renamed into place by now. Leave without freeing
    # millions of cell objects one by one (~0.3 s at 100,000 rows): the system reclaims them.
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(OSError):  # a closed pipe (… | head): nothing more to say
            stream.flush()
    os._exit(code)
