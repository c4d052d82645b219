"""click's own words — usage lines, help headings, usage errors — in Chinese first, English after.

click marks every text it shows with gettext (``_("Usage:")``, ``ngettext(...)``) and looks
the function up in its modules at call time, so installing a translation is giving those
modules a ``_`` and an ``ngettext`` that know Chinese. A text missing here stays English, as
gettext leaves an unknown text (a test lists the ones a user meets).
"""

from __future__ import annotations

import importlib
import unicodedata

# click's English text -> the same in Chinese, English after (placeholders kept).
CATALOGUE: dict[str, str] = {
    "Usage:": "用法 / Usage:",
    "Options": "选项 / Options",
    "Commands": "命令 / Commands",
    "Positional arguments": "参数 / Positional arguments",
    "Show this message and exit.": "显示本帮助并退出。 Show this message and exit.",
    "Show the version and exit.": "显示版本并退出。 Show the version and exit.",
    "%(prog)s, version %(version)s": "%(prog)s，版本 / version %(version)s",
    "Error: {message}": "错误 / Error: {message}",
    "Try '{command} {option}' for help.": "用“{command} {option}”查看帮助 / Try '{command} {option}' for help.",
    "Missing argument": "缺少参数 / Missing argument",
    "Missing option": "缺少选项 / Missing option",
    "Missing parameter": "缺少参数 / Missing parameter",
    "Missing {param_type}": "缺少 / Missing {param_type}",
    "Missing parameter: {param_name}": "缺少参数 / Missing parameter: {param_name}",
    "Missing command.": "缺少命令 / Missing command.",
    "No such command {name!r}.": "没有这个命令 / No such command {name!r}.",
    "No such option {name!r}.": "没有这个选项 / No such option {name!r}.",
    "Option {name!r} does not take a value.": "选项 {name!r} 不带值 / Option {name!r} does not take a value.",
    "Invalid value for {param_hint}: {message}": "{param_hint} 的值无效 / Invalid value for {param_hint}: {message}",
    "Invalid value: {message}": "值无效 / Invalid value: {message}",
    "Choose from:\n\t{choices}": "可选 / Choose from:\n\t{choices}",
    "{name} {filename!r} does not exist.": "{name} {filename!r} 不存在 / does not exist.",
    "{name} {filename!r} is a directory.": "{name} {filename!r} 是文件夹 / is a directory.",
    "{name} {filename!r} is a file.": "{name} {filename!r} 是文件 / is a file.",
    "{name} {filename!r} is not readable.": "{name} {filename!r} 不可读 / is not readable.",
    "{name} {filename!r} is not writable.": "{name} {filename!r} 不可写 / is not writable.",
    "{value!r} is not a valid {number_type}.": "{value!r} 不是有效的数 / is not a valid {number_type}.",
    "{value} is not in the range {range}.": "{value} 不在范围 {range} 内 / is not in the range {range}.",
    "default: {default}": "默认 / default: {default}",
    "env var: {var}": "环境变量 / env var: {var}",
    "Aborted!": "已中止 / Aborted!",
}
# Texts with a singular and a plural: (singular, plural) -> Chinese first, for any number.
PLURALS: dict[tuple[str, str], str] = {
    (
        "Got unexpected extra argument ({args})",
        "Got unexpected extra arguments ({args})",
    ): "多余的参数 / unexpected extra argument(s) ({args})",
    (
        "Option {name!r} requires an argument.",
        "Option {name!r} requires {nargs} arguments.",
    ): "选项 {name!r} 需要一个值 / Option {name!r} requires {nargs} argument(s).",
    (
        "{value!r} is not {choice}.",
        "{value!r} is not one of {choices}.",
    ): "{value!r} 不是可选值 / is not one of {choices}.",
    (
        "Did you mean {possibility}?",
        "(Did you mean one of: {possibilities}?)",
    ): "（是否指 / did you mean: {possibilities}？）",
}
_MODULES = (
    "click.core",
    "click.exceptions",
    "click.types",
    "click.parser",
    "click.decorators",
    "click.formatting",
)


def gettext(message: str) -> str:
    """The Chinese-first text of one of click's messages (unknown ones unchanged)."""
    return CATALOGUE.get(message, message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """The Chinese-first text of a message with a plural (one text serves every number)."""
    found = PLURALS.get((singular, plural))
    if found is not None:
        return found
    return singular if count == 1 else plural


def display_width(text: str) -> int:
    """Terminal columns ``text`` takes: Chinese characters take two (click counts one)."""
    from click._compat import strip_ansi

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in strip_ansi(text))


def install() -> None:
    """Give click's modules the Chinese-first ``_`` and ``ngettext`` (idempotent).

    Help columns are also measured in terminal columns, so Chinese option names line up.
    """
    setattr(importlib.import_module("click.formatting"), "term_len", display_width)  # noqa: B010
    for name in _MODULES:
        module = importlib.import_module(name)
        if hasattr(module, "_"):
            setattr(module, "_", gettext)  # noqa: B010
        if hasattr(module, "ngettext"):
            setattr(module, "ngettext", ngettext)  # noqa: B010
