"""A short explanation in both languages (no heavy imports: the start-up path uses it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Phrase:
    """A short explanation in both languages."""

    zh: str
    en: str

    def text(self, lang: str) -> str:
        """The phrase in ``lang``."""
        return self.zh if lang == "zh" else self.en
