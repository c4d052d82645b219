"""``--select`` / ``--ignore`` by code or prefix, as in flake8 and ruff.

The longest matching prefix decides; on a tie, ignore wins. Without ``--select`` every code
is selected.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from xlcrm.registry import rules


def parse_codes(text: str | None) -> tuple[str, ...]:
    """``"S00, a102"`` → ``("S00", "A102")``."""
    if not text:
        return ()
    return tuple(part.strip().upper() for part in text.replace(";", ",").split(",") if part.strip())


def unknown_prefixes(prefixes: Iterable[str]) -> list[str]:
    """The prefixes that match no declared code."""
    codes = list(rules())
    return [p for p in prefixes if not any(code.startswith(p) for code in codes)]


def is_selected(code: str, select: Sequence[str], ignore: Sequence[str]) -> bool:
    """Whether a finding with ``code`` is reported."""
    if not select and not ignore:  # the usual case: everything
        return True
    chosen = max((len(p) for p in select if code.startswith(p)), default=None if select else 0)
    if chosen is None:
        return False
    ignored = max((len(p) for p in ignore if code.startswith(p)), default=-1)
    return chosen > ignored
