"""The policy's configurable values: shipped defaults (validators/policy.toml) plus overrides.

``load_policy(path)`` returns the effective values and where each came from. An override file
may set any subset of the shipped keys; an unknown key, a wrong type or a malformed file is an
``InputError`` (exit 2) naming the file and the key.

Keys listed in policy.toml's ``[unset]`` table have no default (the seeds name no number): their
value is ``None`` — 未设置, the rule that needs it is off — until an override file sets them.
"""

from __future__ import annotations

import datetime as dt
import math
import tomllib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from xlcrm.errors import InputError
from xlcrm.phrase import Phrase
from xlcrm.resources import load_toml

# The as-of dates the rules can count from (their deadlines, months back and working days stay
# within Python's dates); --as-of or 参数!基准日期 outside them is refused in one line.
AS_OF_RANGE = (dt.date(1901, 1, 1), dt.date(2999, 12, 31))
DEFAULT_SOURCE = "default"
LABELS = "labels"  # the section of policy.toml naming the values (not a setting)
UNSET_TABLE = "unset"  # the section listing the values shipped without a default (not a setting)


@dataclass(frozen=True, eq=False)
class Policy:
    """Effective policy values by dotted key (``tiers.vip_min_total``) and their sources."""

    values: dict[str, Any]
    sources: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def __eq__(self, other: object) -> bool:
        """Equal values are the same policy (a copy a worker unpickled finds the cached schemas)."""
        return isinstance(other, Policy) and self.values == other.values

    def __hash__(self) -> int:
        """Hashed once (the values never change after construction); the cache keys use it often."""
        cached: int | None = self.__dict__.get("_hash")
        if cached is None:
            cached = hash(repr(sorted(self.values.items())))
            object.__setattr__(self, "_hash", cached)
        return cached

    def __getstate__(self) -> dict[str, Any]:
        """The fields without the cached hash: a str's hash differs between processes (PYTHONHASHSEED)."""
        state = dict(self.__dict__)
        state.pop("_hash", None)
        return state


def _flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Dotted keys to values; an empty table stays as ``{}`` (under a value's name it is an error)."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


_KINDS: dict[str, tuple[type, ...]] = {"number": (int, float), "integer": (int,)}


@cache
def unset_kinds() -> dict[str, str]:
    """The keys shipped without a default, with the kind of value each takes."""
    return dict(load_toml("policy.toml").get(UNSET_TABLE, {}))


@cache
def default_policy() -> Policy:
    """The shipped defaults (None for the keys without one)."""
    data = {k: v for k, v in load_toml("policy.toml").items() if k not in (LABELS, UNSET_TABLE)}
    values = _flatten(data) | dict.fromkeys(unset_kinds())
    return Policy(values, dict.fromkeys(values, DEFAULT_SOURCE))


@cache
def labels() -> dict[str, dict[str, str]]:
    """What each policy value is: its Chinese and English name and its unit, by dotted key."""
    return dict(load_toml("policy.toml")[LABELS])


def _same_kind(default: Any, value: Any, key: str = "") -> bool:
    if default is None:  # a key without a default: the kind policy.toml declares for it
        return not isinstance(value, bool) and isinstance(value, _KINDS[unset_kinds()[key]])
    if isinstance(default, bool) or isinstance(value, bool):
        return type(default) is type(value)
    if isinstance(default, (int, float)):
        return isinstance(value, (int, float))
    return type(default) is type(value)


MAX_POLICY_FILE = 1 << 20  # a policy file is a page of TOML


def load_policy(path: Path | None) -> Policy:
    """The defaults, overridden by the TOML file at ``path`` when given."""
    base = default_policy()
    if path is None:
        return base
    label = str(path)
    try:
        if path.exists() and not path.is_file():  # a FIFO would block, /dev/zero fill the memory
            raise InputError("not_a_file", label)
        with path.open("rb") as handle:
            data = handle.read(MAX_POLICY_FILE + 1)
        if len(data) > MAX_POLICY_FILE:
            raise InputError("policy", label, detail=Phrase("文件超过 1 MB", "larger than 1 MB"))
        overrides = _flatten(tomllib.loads(data.decode("utf-8")))
    except FileNotFoundError:
        raise InputError("not_found", label) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as exc:
        raise InputError("policy", label, detail=str(exc).splitlines()[0]) from None
    except RecursionError:  # tables or arrays nested thousands deep: tomllib and _flatten recurse
        raise InputError("policy", label, detail=Phrase("嵌套太深", "nested too deeply")) from None
    values, sources = dict(base.values), dict(base.sources)
    sections = {k.rpartition(".")[0] for k in values}
    for key, value in overrides.items():
        if value == {} and key in sections:  # an empty [expenses] is a section left to fill
            continue
        if (leaf := _value_above(key, value, values)) is not None:
            raise InputError(
                "policy",
                label,
                detail=Phrase(f"“{leaf}” 是一个值，不是一节", f"“{leaf}” is a value, not a section"),
            )
        if key not in values:
            raise InputError("policy", label, detail=Phrase(f"未知参数“{key}”", f"unknown key “{key}”"))
        if not _same_kind(base[key], value, key):
            raise InputError(
                "policy",
                label,
                detail=Phrase(f"“{key}” = {value!r}：类型不对", f"“{key}” = {value!r}: wrong type"),
            )
        if (problem := _out_of_range(key, value)) is not None:
            raise InputError(
                "policy",
                label,
                detail=Phrase(f"“{key}” = {value!r}：{problem.zh}", f"“{key}” = {value!r}: {problem.en}"),
            )
        if key.endswith("_hospital_level") and value not in _hospital_levels():
            raise InputError(
                "policy",
                label,
                detail=Phrase(
                    f"“{key}” = {value!r}：不是医院等级", f"“{key}” = {value!r}: not a hospital level"
                ),
            )
        values[key] = value
        sources[key] = label
    return Policy(values, sources)


def _value_above(key: str, value: Any, values: dict[str, Any]) -> str | None:
    """The policy value that ``key`` writes a table at or under (``[tiers.vip_min_total]``)."""
    if value == {} and key in values:
        return key
    parts = key.split(".")
    return next((p for end in range(1, len(parts)) if (p := ".".join(parts[:end])) in values), None)


# Upper bounds of the values that count time, by the key's ending: far beyond any policy, and
# within what dates and durations can hold (a deadline 10⁸ working days away took a minute,
# then overflowed).
_MOST = {"_days": 36_500, "_months": 1_200, "_years": 100, "_hours": 876_000}
# The spans the rules count in whole units (days on the calendar, working days, months).
_WHOLE = ("_days", "_months")


def _out_of_range(key: str, value: Any) -> Phrase | None:
    """Why a number cannot be a policy value (None: it can).

    Every value is a finite count, threshold or share, none negative (NaN would switch a
    pre-flight check off, a negative limit refuse every file); shares and rates are at most 1;
    days and months are whole; time spans are bounded by ``_MOST``.
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not math.isfinite(value):
        return Phrase("不是有限的数", "not a finite number")
    if value < 0:
        return Phrase("不能为负", "cannot be negative")
    if key.endswith(("_share", "_rate")) and value > 1:
        return Phrase("比例不能超过 1", "a share is at most 1")
    if key.endswith(_WHOLE) and value != int(value):  # int() in the rules would floor 2.5 days to 2
        return Phrase("须为整数", "must be a whole number")
    for ending, most in _MOST.items():
        if key.endswith(ending) and value > most:
            return Phrase(f"不能超过 {most}", f"at most {most}")
    return None


def _hospital_levels() -> tuple[str, ...]:
    from xlcrm.forms import forms

    return forms()["archive"].column("hospital_level").allowed
