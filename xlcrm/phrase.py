"""Values that read differently per language (no heavy imports: the start-up path uses it).

A finding's explaining values are data; these render themselves in the language asked for:
a short explanation (``Phrase``) and a customer named with its score (``Candidate``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Phrase:
    """A short explanation in both languages."""

    zh: str
    en: str

    def text(self, lang: str) -> str:
        """The phrase in ``lang``."""
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True, slots=True)
class Candidate:
    """A customer over a quota, with its latest total (T202–T205).

    ``customer`` is its 客户编码, else its 客户名称, else None (then the sheet and row name it);
    ``score`` is None when the customer has no latest total.
    """

    customer: str | None
    sheet: str
    row: int
    score: float | None

    def name(self, lang: str) -> str:
        """``C001``; without a code or a name, ``客户档案第7行`` (``客户档案 row 7``)."""
        if self.customer is not None:
            return self.customer
        return f"{self.sheet}第{self.row}行" if lang == "zh" else f"{self.sheet} row {self.row}"

    def text(self, lang: str) -> str:
        """``C001（73分）`` in Chinese, ``C001 (73 points)`` in English."""
        zh = lang == "zh"
        who = self.name(lang)
        if self.score is None:
            return f"{who}（—分）" if zh else f"{who} (no total)"
        score = plain_number(self.score)
        return f"{who}（{score}分）" if zh else f"{who} ({score} points)"

    def data(self) -> dict[str, Any]:
        """The JSON form: the same values, no prose."""
        return {"customer": self.customer, "sheet": self.sheet, "row": self.row, "score": self.score}


def plain_number(value: float) -> str:
    """A number as a message shows it: ``73``, ``72.5``."""
    return str(int(value)) if value.is_integer() else f"{value:g}"
