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
@click.option(
    "-o",
    "--out",
    type=click.Path(),
    help="Output file (one input) or folder (several inputs, or ending in /).",
)
@click.option("--in-place", is_flag=True, help="Replace the input itself, keeping a timestamped backup.")
@click.option("--force", is_flag=True, help="Overwrite an existing output file.")
@LANG
@click.option("--as-of", type=_Date(), help="Base date for date rules (default: 参数!基准日期, else today).")
@click.option("--blacklist", type=click.Path(path_type=Path), help="The company blacklist workbook.")
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

    The input is never changed unless --in-place. Exit status as for check.
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
@click.option("--force", is_flag=True, help="Overwrite template files that exist (a filled-in copy is lost).")
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


@cli.command()
@click.option("--out", "out", type=click.Path(path_type=Path), default=Path("xlcrm-demo"), show_default=True)
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
