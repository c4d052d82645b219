"""The rule catalogue (validators/rules.toml) and the rule functions bound to it.

A rule is declared once in rules.toml (code, severity, zh/en title and message template,
policy clause). Rules whose ``source`` is ``rule`` are pure functions over the normalised
submission, registered here with :func:`rule`; adding a rule is one declaration plus one
decorated function.
"""

from __future__ import annotations

import string
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Literal

from xlcrm.resources import load_toml

if TYPE_CHECKING:
    from xlcrm.context import Context
    from xlcrm.diagnostics import Diagnostic

Severity = Literal["error", "warning"]
Lang = Literal["zh", "en"]
RuleFunction = Callable[["Context"], Iterable["Diagnostic"]]


@dataclass(frozen=True, slots=True)
class Rule:
    """One declared rule code."""

    code: str
    severity: Severity
    title_zh: str
    title_en: str
    message_zh: str
    message_en: str
    clause: str
    source: Literal["schema", "reader", "rule", "waiver", "consolidation"]
    retired: bool = False
    waivable: bool = True
    columns: tuple[str, ...] = ()  # form.key of the columns a rule function reads or marks
    meanings: tuple[tuple[str, str, str], ...] = ()  # (placeholder, zh, en) said for this rule only
    on_blank: bool = False  # may fire on a blank cell: not reported where that cell is unreadable

    def title(self, lang: Lang) -> str:
        """The rule's title in ``lang``."""
        return self.title_zh if lang == "zh" else self.title_en

    def template(self, lang: Lang) -> str:
        """The message template in ``lang``."""
        return self.message_zh if lang == "zh" else self.message_en

    def placeholders(self, lang: Lang) -> set[str]:
        """The names a message template fills in."""
        return {name for _, name, _, _ in string.Formatter().parse(self.template(lang)) if name}

    def meaning(self, placeholder: str, lang: Lang) -> str | None:
        """What ``placeholder`` stands for in this rule's message (None if undeclared)."""
        for name, zh, en in self.meanings:
            if name == placeholder:
                return zh if lang == "zh" else en
        shared = load_toml("rules.toml")["placeholders"].get(placeholder)
        return None if shared is None else str(shared[lang])


@cache
def rules() -> dict[str, Rule]:
    """Every declared rule by code, in declaration order."""
    data = load_toml("rules.toml")
    found = {}
    for code, fields in data.items():
        if code in ("phrases", "placeholders"):
            continue
        fields = dict(fields)
        meanings = fields.pop("placeholders", {})
        fields["columns"] = tuple(fields.get("columns", ()))
        fields["meanings"] = tuple((name, m["zh"], m["en"]) for name, m in meanings.items())
        found[code] = Rule(code=code, **fields)
    return found


@cache
def phrases() -> dict[str, dict[str, str]]:
    """Phrases that messages insert by key (e.g. the reason a cell is required)."""
    return dict(load_toml("rules.toml")["phrases"])


_FUNCTIONS: dict[str, RuleFunction] = {}


def rule(*codes: str) -> Callable[[RuleFunction], RuleFunction]:
    """Register ``function`` as the implementation of the declared rules ``codes``.

    A function reports several codes only where the policy ties them together (e.g. the
    precedence of C302/C303/C314 over C304–C306 for one grant).
    """

    def register(function: RuleFunction) -> RuleFunction:
        for code in codes:
            declared = rules().get(code)
            if declared is None or declared.source != "rule":
                raise ValueError(f"{code} is not declared with source = 'rule' in rules.toml")
            if code in _FUNCTIONS:
                raise ValueError(f"{code} is registered twice")
            _FUNCTIONS[code] = function
        return function

    return register


def rule_functions() -> dict[str, RuleFunction]:
    """The registered rule function of each code (importing the rule modules registers them)."""
    import xlcrm.rules  # noqa: F401  (registers every rule module)

    return dict(_FUNCTIONS)
