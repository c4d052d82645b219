"""The ``xlcrm`` command: parse options, call one function, pick a renderer, return the exit code."""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import os
import signal
import sys
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from xlcrm import __version__, clizh
from xlcrm.normalize import INVALID, to_date
from xlcrm.policy import Policy
from xlcrm.registry import Lang

clizh.install()  # click's own words (usage, errors) in Chinese first

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


class _Date(click.ParamType):  # type: ignore[type-arg]
    name = "日期/DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> dt.date:
        parsed = to_date(value)
        if parsed is None or parsed is INVALID:
            self.fail(
                f"“{value}”不是日期；请写成 2025-06-30 / not a date, write it like 2025-06-30", param, ctx
            )
        assert isinstance(parsed, dt.date)
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
        console = Console(highlight=False, soft_wrap=True)
        render_text(result, console, lang)
        target = Path(out) if out is not None else None
        done = annotate_all(result, target, in_place=in_place, force=force, folder=folder)
    for path in done.copies:
        line = ("已写出：" if lang == "zh" else "Written: ") + str(path)
        if path in done.renamed:  # two inputs of the same name: say which is which
            line += ("（输入 {}）" if lang == "zh" else " (input {})").format(done.renamed[path])
        click.echo(printable(line))
    for problem in done.refused + done.warnings:
        click.echo(problem.message(lang), err=True)
    sys.exit(2 if done.refused else result.exit_code)


@cli.command("policy", **COMMAND)
@POLICY
@LANG
def show_policy(policy_file: Path | None, lang: Lang) -> None:
    """显示生效的策略参数及来源。 Show the effective policy values and where each came from."""
    from xlcrm.docs import policy_lines

    for line in policy_lines(_load_policy(policy_file, lang), lang):
        click.echo(line)


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
        code = run_demo(out, lang, Console(highlight=False, soft_wrap=True))
    except OSError as exc:
        click.echo(InputError("output", str(out), detail=exc.strerror or str(exc)).message(lang), err=True)
        code = 2
    sys.exit(code)


class Interrupted(BaseException):
    """Ctrl-C or SIGTERM: unwind (files being written remove their temporaries), then exit."""

    def __init__(self, signal_number: int) -> None:
        super().__init__(signal_number)
        self.code = 128 + signal_number  # 130 for SIGINT, 143 for SIGTERM, as shells report them


def _interrupt(signal_number: int, _frame: Any) -> None:
    raise Interrupted(signal_number)


def main() -> None:
    """Entry point: no traceback reaches the user unless XLCRM_DEBUG is set.

    Ctrl-C (SIGINT) and SIGTERM unwind the run — a copy being written removes its temporary
    file, nothing is left half-written — and exit with 130 or 143 and one line saying so.
    """
    # A short-lived process holding millions of cell values: automatic cyclic collections
    # would walk them all, repeatedly, for garbage xlcrm hardly creates (~1 s per 100k rows).
    gc.disable()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, _interrupt)
    try:
        cli(standalone_mode=True)
        code = 0
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
    except Interrupted as stop:
        for number in (signal.SIGINT, signal.SIGTERM):  # a second signal ends it at once
            signal.signal(number, signal.SIG_DFL)
        click.echo(
            f"xlcrm 已中断（{signal.Signals(stop.code - 128).name}），未写完的文件已删除，原文件未改动。"
            " / interrupted; unfinished files removed, inputs unchanged.",
            err=True,
        )
        code = stop.code
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
