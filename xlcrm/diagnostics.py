"""A diagnostic is data: where, which rule, and the values that explain it.

Messages are rendered from the rule's template only when output is written, in the language
asked for (frictionless-style); the record itself never holds prose.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any

from xlcrm.forms import formats, type_names
from xlcrm.phrase import Candidate, Phrase, plain_number
from xlcrm.registry import Lang, Rule, Severity, phrases, rules

# Arguments whose value is a key into a table of phrases rather than text to show as is.
_PHRASE_ARGS = frozenset({"reason", "problem"})
_CELL = re.compile(r"^([A-Z]+)(\d*)$")


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding: a rule code at a place in a submission, with its explaining values."""

    code: str
    file: str | None = None
    sheet: str | None = None
    cell: str | None = None
    row: int | None = None
    column: str | None = None
    customer_code: str | None = None
    # never changed once the diagnostic is made: its messages are kept once rendered
    args: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)
    waived: bool = False  # matched by a valid 豁免 row: reported, not counted
    hidden: str | None = None  # the cell is in a hidden sheet, row or column (the message says so)
    # the messages once rendered (zh, en): never an argument, so ``dataclasses.replace`` starts afresh
    _text: tuple[str | None, str | None] = field(
        default=(None, None), init=False, repr=False, compare=False, hash=False
    )

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        """Pickled as its values and the messages already rendered (a worker renders them for its client)."""
        return _restored, (
            self.code, self.file, self.sheet, self.cell, self.row, self.column, self.customer_code,
            self.args, self.waived, self.hidden, self._text,
        )  # fmt: skip

    @property
    def rule(self) -> Rule:
        """The declared rule behind this diagnostic."""
        return rules()[self.code]

    @property
    def severity(self) -> Severity:
        """Error or warning, from the rule's declaration."""
        return rules()[self.code].severity

    @property
    def location(self) -> str:
        """``客户档案!K7``, ``客户档案!K`` (a column) or ``客户档案`` (a sheet); '' if none."""
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        return self.sheet or ""

    def message(self, lang: Lang = "zh") -> str:
        """The rule's message template filled with this diagnostic's values.

        Kept on the diagnostic once rendered, and cached by code and values across diagnostics:
        a report, the notes, the issue sheet and the history all show it.
        """
        slot = 0 if lang == "zh" else 1
        kept = self._text[slot]
        if kept is not None:
            return kept
        text = self._render(lang)
        pair = (text, self._text[1]) if slot == 0 else (self._text[0], text)
        object.__setattr__(self, "_text", pair)  # two threads at once at worst render it twice
        return text

    def _render(self, lang: Lang) -> str:
        items = tuple(  # the class too: 1 ≠ True; a list as a tuple (same words), so it can be cached
            [
                (name, value.__class__, tuple(value) if value.__class__ is list else value)
                for name, value in self.args.items()
            ]
        )
        try:
            text = _message(self.code, lang, items)
        except TypeError:  # an unhashable value: render it uncached
            text = _message.__wrapped__(self.code, lang, items)
        return text + phrases()[f"hidden_{self.hidden}"][lang] if self.hidden else text

    def sort_key(self) -> tuple[str, str, int, int, str]:
        """Order: file, sheet, row, column, code."""
        return (self.file or "", self.sheet or "", self.row or 0, column_number(self.cell), self.code)

    def to_dict(self, lang: Lang = "zh") -> dict[str, Any]:
        """The JSON form (POLICY §4): the contract keys first, then the explaining values."""
        return {
            "code": self.code,
            "severity": self.severity,
            "file": self.file,
            "sheet": self.sheet,
            "cell": self.cell,
            "row": self.row,
            "column": self.column,
            "customer_code": self.customer_code,
            "message": self.message(lang),
            "waived": self.waived,
            "hidden": self.hidden,
            "title": self.rule.title(lang),
            "values": {k: _jsonable(v) for k, v in self.args.items()},
        }


def _restored(
    code: str,
    file: str | None,
    sheet: str | None,
    cell: str | None,
    row: int | None,
    column: str | None,
    customer_code: str | None,
    args: Mapping[str, Any],
    waived: bool,
    hidden: str | None,
    text: tuple[str | None, str | None],
) -> Diagnostic:
    """A pickled diagnostic again (``Diagnostic.__reduce__``)."""
    diagnostic = Diagnostic(code, file, sheet, cell, row, column, customer_code, args, waived, hidden)
    object.__setattr__(diagnostic, "_text", text)
    return diagnostic


class _Missing(dict[str, str]):
    """Leaves an unknown placeholder visible instead of raising."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


@lru_cache(maxsize=1 << 16)
def _message(code: str, lang: Lang, items: tuple[tuple[str, type, Any], ...]) -> str:
    values = {name: render_value(name, value, lang) for name, _, value in items}
    return rules()[code].template(lang).format_map(_Missing(values))


def render_value(name: str, value: Any, lang: Lang) -> str:
    """How one explaining value reads inside a message."""
    if value is None:
        return ""
    if name in _PHRASE_ARGS:
        return phrases()[value][lang]
    if name == "type":
        return type_names()[value][lang]
    if name == "format":
        fmt = formats()[value]
        return fmt.zh if lang == "zh" else fmt.en
    if isinstance(value, (Phrase, Candidate)):
        return value.text(lang)
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, Phrase) for v in value):  # reasons: clauses of a sentence
            return ("；" if lang == "zh" else "; ").join(v.text(lang) for v in value)
        return ("、" if lang == "zh" else ", ").join(render_value("", v, lang) for v in value)
    if isinstance(value, float):
        return plain_number(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    return shortened(str(value))


QUOTED_MAX = 200  # characters of a cell's value quoted in a message (a cell holds up to 32,767)


def shortened(text: str) -> str:
    """A value as a message quotes it: at most QUOTED_MAX characters, then an ellipsis."""
    return text if len(text) <= QUOTED_MAX else text[: QUOTED_MAX - 1] + "…"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Phrase):
        return {"zh": value.zh, "en": value.en}
    if isinstance(value, Candidate):
        return value.data()
    if isinstance(value, (tuple, list)):
        return [_jsonable(v) for v in value]
    return value


def counted(diagnostics: Iterable[Diagnostic]) -> Counter[str]:
    """How many of ``diagnostics`` count, by severity (waived ones do not): one pass, rules looked up per code."""
    by_code = Counter(d.code for d in diagnostics if not d.waived)
    declared = rules()
    tally: Counter[str] = Counter()
    for code, number in by_code.items():
        tally[declared[code].severity] += number
    return tally


@cache
def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def column_number(cell: str | None) -> int:
    """A7 → 1, AA → 27; 0 when there is no cell."""
    match = _CELL.match(cell or "")
    if not match:
        return 0
    number = 0
    for char in match[1]:
        number = number * 26 + ord(char) - 64
    return number
