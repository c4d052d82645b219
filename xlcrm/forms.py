"""The form declarations (validators/forms.toml) as typed, immutable objects.

Everything that knows about columns — the reader's header matching, the pandera schemas, the
templates, the 填写说明 sheet and the docs — reads them from here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from xlcrm.normalize import header_key
from xlcrm.resources import load_toml

ColumnType = Literal[
    "text", "integer", "number", "date", "datetime", "rate", "bool", "enum", "list", "period"
]
Required = Literal["yes", "no", "admitted", "unless_exempt", "when_scope_department"]

# Customer types outside admission and tiering (POLICY §1.1, 000 §1.1).
EXEMPT_TYPES = ("零售客户", "内部关联")
# Categories of admitted customers (POLICY §1.1).
ADMITTED_CATEGORIES = ("重点客户", "一般客户")
BOOL_VALUES = ("是", "否")
# The same two facts as polars expressions, for frame-wide rules and checks; made on first use
# (``__getattr__``), so that commands which never touch a frame do not import polars.
if TYPE_CHECKING:
    import polars as pl

    IS_EXEMPT: pl.Expr
    IS_ADMITTED: pl.Expr


def __getattr__(name: str) -> Any:
    if name not in ("IS_EXEMPT", "IS_ADMITTED"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import polars as pl

    exempt = pl.col("customer_type").is_in(EXEMPT_TYPES).fill_null(False)
    admitted = pl.col("category").is_in(ADMITTED_CATEGORIES).fill_null(False) & ~exempt
    globals().update(IS_EXEMPT=exempt, IS_ADMITTED=admitted)
    return globals()[name]


def is_admitted(row: dict[str, object]) -> bool:
    """客户类别 重点/一般客户 and 客户类型 not 零售客户/内部关联 (POLICY §1.1); as IS_ADMITTED."""
    return row.get("category") in ADMITTED_CATEGORIES and row.get("customer_type") not in EXEMPT_TYPES


@dataclass(frozen=True, slots=True)
class Column:
    """One declared column of a form."""

    key: str
    zh: str
    en: str
    type: ColumnType
    required: Required
    help: str
    width: int = 12
    allowed: tuple[str, ...] = ()
    none_value: str | None = None
    format: str | None = None
    min: float | None = None
    min_exclusive: bool = False  # the minimum itself is out of range (amounts "> 0")
    max: float | None = None
    max_policy: str | None = None
    ref: str | None = None
    blank_code: str = "S002"
    synonyms: tuple[str, ...] = ()  # other header words staff use for this column

    @property
    def must_exist(self) -> bool:
        """Whether a submission without this column gets S001."""
        return self.required != "no"

    @property
    def choices(self) -> tuple[str, ...]:
        """Every value a dropdown offers (是/否 for bool, the none value for lists)."""
        if self.type == "bool":
            return BOOL_VALUES
        if self.none_value:
            return (self.none_value, *self.allowed)
        return self.allowed


@dataclass(frozen=True, slots=True)
class Form:
    """One declared form (a sheet of the submission)."""

    key: str
    zh: str
    en: str
    clause: str
    description: str
    columns: tuple[Column, ...]
    signature: tuple[str, ...] = ()
    unique: tuple[tuple[str, ...], ...] = ()
    layout: Literal["table", "keyvalue"] = "table"
    optional: bool = False
    _by_key: dict[str, Column] = field(init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        # the first column declared under a key, looked up once per finding
        object.__setattr__(self, "_by_key", {})
        for col in self.columns:
            self._by_key.setdefault(col.key, col)

    def column(self, key: str) -> Column:
        """The column declared under ``key``."""
        try:
            return self._by_key[key]
        except KeyError:
            raise KeyError(f"{self.key}.{key}") from None

    @property
    def names(self) -> frozenset[str]:
        """Folded sheet names that identify this form."""
        return frozenset({header_key(self.zh), header_key(self.en), header_key(self.key)})


@dataclass(frozen=True, slots=True)
class Format:
    """A value format (regular expression plus what it means in both languages)."""

    key: str
    pattern: re.Pattern[str]
    zh: str
    en: str


def _column(raw: dict[str, object]) -> Column:
    data = dict(raw)
    for name in ("allowed", "synonyms"):
        if name in data:
            data[name] = tuple(data[name])  # type: ignore[arg-type]
    data["synonyms"] = _without_units(str(data["zh"]), data.get("synonyms", ()))  # type: ignore[arg-type]
    return Column(**data)  # type: ignore[arg-type]


def _without_units(zh: str, synonyms: tuple[str, ...]) -> tuple[str, ...]:
    """The synonyms, and each header's words without its unit: 信用额度 for 信用额度(元).

    Staff often leave the unit out of a header; the column is the same column (its values in
    the same unit). An optional column whose header is not recognised is silently left out,
    so each rule reading it would be skipped without a word.
    """
    stems = [text[: text.index("(")] for text in (zh, *synonyms) if text.endswith(")") and "(" in text]
    return tuple(dict.fromkeys((*synonyms, *(s for s in stems if s and s != zh and s not in synonyms))))


_FORM_KEYS = frozenset(
    {"zh", "en", "clause", "description", "columns", "signature", "unique", "layout", "optional"}
)


@cache
def forms() -> dict[str, Form]:
    """All declared forms by key, in declaration order."""
    result = {}
    for key, raw in load_toml("forms.toml").items():
        unknown = set(raw) - _FORM_KEYS
        if unknown:  # a misplaced column attribute would otherwise be ignored silently
            raise ValueError(f"forms.toml [{key}]: unknown keys {sorted(unknown)}")
        result[key] = Form(
            key=key,
            zh=raw["zh"],
            en=raw["en"],
            clause=raw["clause"],
            description=raw["description"],
            columns=tuple(_column(c) for c in raw["columns"]),
            signature=tuple(raw.get("signature", ())),
            unique=tuple(tuple(k) for k in raw.get("unique", ())),
            layout=raw.get("layout", "table"),
            optional=raw.get("optional", False),
        )
    return result


def table_forms() -> list[Form]:
    """The forms laid out as tables (everything but the key/value 参数 sheet)."""
    return [f for f in forms().values() if f.layout == "table"]


@cache
def formats() -> dict[str, Format]:
    """All declared value formats by key."""
    raw = load_toml("formats.toml")["formats"]
    return {
        k: Format(key=k, pattern=re.compile(v["pattern"]), zh=v["zh"], en=v["en"]) for k, v in raw.items()
    }


@cache
def type_names() -> dict[str, dict[str, str]]:
    """What each column type means, by type and language."""
    return dict(load_toml("formats.toml")["types"])
