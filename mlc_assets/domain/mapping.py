"""GL mapping: which ledger account every settlement line (and every Finances line) belongs to.

The mapping is customer configuration (a YAML file, ``mlc_assets/default_mapping.yaml`` is the
shipped default). It is validated with pydantic so a typo stops at load time with a message
that points at the entry (``mapping.yaml: rules[7].match.amount_type (line 42): ...``) rather
than at posting time in an ERP.

Sections
--------
``rules``           report lines → category (+ account key). Match fields
                    ``transaction_type``, ``amount_type``, ``amount_description`` (all three
                    required), optional ``marketplace`` and ``currency``.
``finance_rules``   Finances lines → category. Match fields ``event_family`` (alias
                    ``event_list``), ``list``, ``type``.
``accounts``        account key → category, Workday ledger account/worktags, Deltek account/WBS.
                    Special keys: ``clearing`` (the deposit), ``payable`` (a negative settlement:
                    owed to Amazon), ``in_transit`` (month split), ``reserve`` (held by Amazon).
``overrides``       per marketplace and/or currency: replacement account codes for listed keys.
``journal``         posting date rule, month split, summarising, reference prefix.

Matching
--------
Every match field is a glob (``*`` any run, ``?`` one character; nothing else is special) or a
list of globs (any of them), compared case-insensitively after trimming. A missing cell
(null) is matched as the empty string. On report lines ``marketplace`` is the line's
``marketplace-name`` (or, when empty, the settlement's marketplace) and ``currency`` is the
settlement currency.

Precedence: when several rules match a line, the most specific wins:
1. more *literal* fields (a field is literal when none of its globs contains ``*`` or ``?``;
   set ``marketplace``/``currency`` fields count like the three type fields);
2. then more literal characters (sum over the fields; for a list, its shortest alternative);
3. then the earlier rule in the file.

No catch-all: a rule whose three type fields are all pure ``*`` is rejected, and the shipped
mapping names its types explicitly, because an unknown type must stop the settlement (with the
YAML to add, see :func:`suggest_yaml`) rather than be guessed into an account.

Account keys: a rule resolves to ``account_key`` if given, else to the key named like its
category (``principal``, ``shipping``...). Every key a rule can resolve to must exist under
``accounts``. Overrides are applied per settlement (its marketplace and currency), the more
specific override (marketplace *and* currency) last so it wins.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import polars as pl
import yaml
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from mlc_assets.domain.categories import Category
from mlc_assets.domain.errors import MlcError

CLEARING = "clearing"
PAYABLE = "payable"
IN_TRANSIT = "in_transit"
RESERVE = "reserve"
# Keys whose journal lines the builder computes itself; rules must not target them.
COMPUTED_KEYS = frozenset({CLEARING, PAYABLE, IN_TRANSIT})
SPECIAL_KEYS = COMPUTED_KEYS | {RESERVE}

DEFAULT_MAPPING_PATH = Path(__file__).resolve().parent.parent / "default_mapping.yaml"

_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class MappingError(MlcError):
    """The mapping file is not a valid mapping; the message names the entry (and line)."""


class UnmappedTypesError(MlcError):
    """Settlement lines whose type no rule maps; the message carries the YAML to add."""

    def __init__(self, settlement_id: str, unmapped: Sequence[UnmappedType]) -> None:
        self.settlement_id = settlement_id
        self.unmapped = list(unmapped)
        names = "; ".join(u.label for u in self.unmapped)
        super().__init__(
            f"settlement {settlement_id}: {len(self.unmapped)} unmapped type(s): {names}. "
            f"Add to the mapping's rules:\n{suggest_yaml(self.unmapped)}"
        )


# --------------------------------------------------------------------------------------
# Glob patterns


Pattern = str | list[str]


class _Glob:
    """A compiled any-of glob with its specificity measures."""

    def __init__(self, raw: Pattern) -> None:
        alts = [raw] if isinstance(raw, str) else list(raw)
        self.alternatives = tuple(a.strip() for a in alts)
        self.literal = all("*" not in a and "?" not in a for a in self.alternatives)
        self.literal_len = min(len(a.replace("*", "").replace("?", "")) for a in self.alternatives)
        self.is_star = all(set(a) <= {"*"} for a in self.alternatives)
        self._re = re.compile(
            "|".join(f"(?:{_glob_to_regex(a)})" for a in self.alternatives), re.IGNORECASE
        )

    def matches(self, value: str | None) -> bool:
        return self._re.fullmatch((value or "").strip()) is not None


def _glob_to_regex(glob: str) -> str:
    """Regex for a glob that cannot backtrack catastrophically.

    ``.*`` per star makes ``*a*a*a*b`` exponential on a long run of ``a``. Instead every
    segment between two stars is matched atomically at its leftmost place (``(?>.*?seg)``):
    for a glob, if any placement of the segments matches, the leftmost one does too, since
    an earlier segment placed further left only leaves more room for the later ones."""

    def segment(text: str) -> str:
        return "".join("." if ch == "?" else re.escape(ch) for ch in text)

    head, *rest = glob.split("*")
    if not rest:
        return segment(head)
    *middle, tail = rest
    inner = "".join(f"(?>.*?{segment(m)})" for m in middle if m)
    return f"{segment(head)}{inner}.*{segment(tail)}"


def _check_pattern(value: Any) -> Any:
    if isinstance(value, str):
        if not value.strip():
            raise ValueError("must not be empty (use '*' for any)")
    elif isinstance(value, list):
        if not value:
            raise ValueError("an empty list matches nothing")
        for v in value:
            if not isinstance(v, str) or not v.strip():
                raise ValueError("every alternative must be a non-empty string")
    return value


def _specificity(globs: Iterable[_Glob]) -> tuple[int, int]:
    gs = list(globs)
    return (sum(g.literal for g in gs), sum(g.literal_len for g in gs))


# --------------------------------------------------------------------------------------
# Models


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Match(_Strict):
    transaction_type: Pattern
    amount_type: Pattern
    amount_description: Pattern
    marketplace: Pattern | None = None
    currency: Pattern | None = None

    @field_validator("*", mode="before")
    @classmethod
    def _check(cls, value: Any) -> Any:
        return _check_pattern(value)

    @model_validator(mode="after")
    def _no_catch_all(self) -> Match:
        if all(
            _Glob(p).is_star
            for p in (self.transaction_type, self.amount_type, self.amount_description)
        ):
            raise ValueError(
                "transaction_type, amount_type and amount_description are all '*': a catch-all "
                "would silently map unknown types; name at least one"
            )
        return self

    @cached_property
    def globs(self) -> dict[str, _Glob]:
        fields = (
            "transaction_type",
            "amount_type",
            "amount_description",
            "marketplace",
            "currency",
        )
        return {f: _Glob(getattr(self, f)) for f in fields if getattr(self, f) is not None}

    def matches(
        self,
        transaction_type: str | None,
        amount_type: str | None,
        amount_description: str | None,
        marketplace: str | None,
        currency: str | None,
    ) -> bool:
        values = {
            "transaction_type": transaction_type,
            "amount_type": amount_type,
            "amount_description": amount_description,
            "marketplace": marketplace,
            "currency": currency,
        }
        return all(g.matches(values[f]) for f, g in self.globs.items())

    @property
    def specificity(self) -> tuple[int, int]:
        return _specificity(self.globs.values())


class Rule(_Strict):
    match: Match
    category: Category
    account_key: str | None = None

    @property
    def key(self) -> str:
        return self.account_key or self.category.value


class FinanceMatch(_Strict):
    event_family: Pattern = Field(validation_alias=AliasChoices("event_family", "event_list"))
    list: Pattern
    type: Pattern

    @field_validator("*", mode="before")
    @classmethod
    def _check(cls, value: Any) -> Any:
        return _check_pattern(value)

    @model_validator(mode="after")
    def _no_catch_all(self) -> FinanceMatch:
        if all(_Glob(p).is_star for p in (self.event_family, self.list, self.type)):
            raise ValueError("event_family, list and type are all '*': name at least one")
        return self

    @cached_property
    def globs(self) -> dict[str, _Glob]:
        fam = self.event_family
        fams = [fam] if isinstance(fam, str) else fam
        return {
            "event_family": _Glob([_family(f) for f in fams]),
            "list": _Glob(self.list),
            "type": _Glob(self.type),
        }

    @property
    def specificity(self) -> tuple[int, int]:
        return _specificity(self.globs.values())


def _family(name: str) -> str:
    """``ShipmentEventList`` and ``Shipment`` name the same family (Finances helper vocabulary)."""
    name = name.strip()
    return name[: -len("EventList")] if name.lower().endswith("eventlist") else name


class FinanceRule(_Strict):
    match: FinanceMatch
    category: Category


class WorkdayAccountRef(_Strict):
    """Where a line goes in Workday: ledger account (two-part key with its account set)."""

    ledger_account: str
    account_set: str = "Standard"
    spend_category: str | None = None
    worktags: dict[str, str] = Field(default_factory=dict)


class DeltekAccountRef(_Strict):
    """Where a line goes in Deltek Vantagepoint: GL account and optional project (WBS) / org."""

    account: str
    wbs1: str | None = None
    wbs2: str | None = None
    wbs3: str | None = None
    org: str | None = None


class AccountConfig(_Strict):
    category: Category | None = None
    name: str | None = None
    workday: WorkdayAccountRef | None = None
    deltek: DeltekAccountRef | None = None

    @model_validator(mode="after")
    def _some_target(self) -> AccountConfig:
        if self.workday is None and self.deltek is None:
            raise ValueError("an account needs a 'workday' or a 'deltek' section (or both)")
        return self


class WorkdayOverride(_Strict):
    ledger_account: str | None = None
    account_set: str | None = None
    spend_category: str | None = None
    worktags: dict[str, str] | None = None


class DeltekOverride(_Strict):
    account: str | None = None
    wbs1: str | None = None
    wbs2: str | None = None
    wbs3: str | None = None
    org: str | None = None


class AccountOverride(_Strict):
    workday: WorkdayOverride | None = None
    deltek: DeltekOverride | None = None


class Override(_Strict):
    marketplace: str | None = None
    currency: str | None = None
    accounts: dict[str, AccountOverride]

    @model_validator(mode="after")
    def _selector(self) -> Override:
        if self.marketplace is None and self.currency is None:
            raise ValueError("an override needs 'marketplace' and/or 'currency'")
        return self

    def applies(self, marketplace: str | None, currency: str | None) -> bool:
        if self.marketplace is not None and not _Glob(self.marketplace).matches(marketplace):
            return False
        return self.currency is None or _Glob(self.currency).matches(currency)


class JournalSettings(_Strict):
    posting_date: Literal["settlement_end", "deposit_date"] = "settlement_end"
    split_by_month: bool = False
    summarise: bool = True
    reference_prefix: str = Field(default="AMZ", pattern=r"^[A-Za-z0-9]{1,8}$")


class GlMapping(_Strict):
    version: int = 1
    rules: list[Rule]
    finance_rules: list[FinanceRule] = Field(default_factory=list)
    accounts: dict[str, AccountConfig]
    overrides: list[Override] = Field(default_factory=list)
    journal: JournalSettings = Field(default_factory=JournalSettings)

    @model_validator(mode="before")
    @classmethod
    def _drop_extensions(cls, data: Any) -> Any:
        # Top-level ``x-…`` keys hold YAML anchors (shared type lists), not configuration.
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if not str(k).startswith("x-")}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> GlMapping:
        problems: list[str] = []
        for key, acc in self.accounts.items():
            if not _KEY_RE.match(key):
                problems.append(f"accounts.{key}: keys are lower_snake_case")
            if key not in SPECIAL_KEYS and acc.category is None:
                problems.append(f"accounts.{key}.category: required (one of {_categories()})")
        for key in (CLEARING, PAYABLE):
            if key not in self.accounts:
                problems.append(f"accounts.{key}: required special account is missing")
        if self.journal.split_by_month and IN_TRANSIT not in self.accounts:
            problems.append(f"accounts.{IN_TRANSIT}: required when journal.split_by_month")
        for i, rule in enumerate(self.rules):
            where = f"rules[{i}]"
            field = "account_key" if rule.account_key else "category"
            if rule.key in COMPUTED_KEYS:
                problems.append(f"{where}.{field}: '{rule.key}' is computed, not a rule target")
            elif rule.key not in self.accounts:
                problems.append(f"{where}.{field}: no account '{rule.key}' under accounts")
        for i, ov in enumerate(self.overrides):
            for key in ov.accounts:
                if key not in self.accounts:
                    problems.append(f"overrides[{i}].accounts.{key}: no such account key")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    # -- resolution -----------------------------------------------------------------------

    @cached_property
    def _ranked_rules(self) -> list[Rule]:
        order = sorted(
            range(len(self.rules)),
            key=lambda i: (
                -self.rules[i].match.specificity[0],
                -self.rules[i].match.specificity[1],
                i,
            ),
        )
        return [self.rules[i] for i in order]

    @cached_property
    def _ranked_finance_rules(self) -> list[FinanceRule]:
        order = sorted(
            range(len(self.finance_rules)),
            key=lambda i: (
                -self.finance_rules[i].match.specificity[0],
                -self.finance_rules[i].match.specificity[1],
                i,
            ),
        )
        return [self.finance_rules[i] for i in order]

    def rule_for(
        self,
        transaction_type: str | None,
        amount_type: str | None,
        amount_description: str | None,
        *,
        marketplace: str | None = None,
        currency: str | None = None,
    ) -> Rule | None:
        """The winning rule for one type triple (see module docstring), or None."""
        for rule in self._ranked_rules:
            if rule.match.matches(
                transaction_type, amount_type, amount_description, marketplace, currency
            ):
                return rule
        return None

    def finance_rule_for(
        self, event_family: str | None, charge_list: str | None, charge_type: str | None
    ) -> FinanceRule | None:
        fam = _family(event_family or "")
        for rule in self._ranked_finance_rules:
            g = rule.match.globs
            if (
                g["event_family"].matches(fam)
                and g["list"].matches(charge_list)
                and g["type"].matches(charge_type)
            ):
                return rule
        return None

    def account(
        self, key: str, *, marketplace: str | None = None, currency: str | None = None
    ) -> AccountConfig:
        """The account of ``key`` with the overrides for this marketplace/currency applied."""
        if key not in self.accounts:
            raise KeyError(f"no account '{key}' in the mapping")
        acc = self.accounts[key]
        applicable = [
            (bool(o.marketplace) + bool(o.currency), i, o)
            for i, o in enumerate(self.overrides)
            if key in o.accounts and o.applies(marketplace, currency)
        ]
        for _, _, ov in sorted(applicable, key=lambda t: (t[0], t[1])):
            acc = _apply_override(acc, ov.accounts[key])
        return acc


def _apply_override(acc: AccountConfig, ov: AccountOverride) -> AccountConfig:
    update: dict[str, Any] = {}
    if ov.workday is not None:
        base = acc.workday.model_dump() if acc.workday else {}
        changes = ov.workday.model_dump(exclude_none=True)
        if "worktags" in changes:
            changes["worktags"] = {**base.get("worktags", {}), **changes["worktags"]}
        update["workday"] = WorkdayAccountRef.model_validate({**base, **changes})
    if ov.deltek is not None:
        base = acc.deltek.model_dump() if acc.deltek else {}
        update["deltek"] = DeltekAccountRef.model_validate(
            {**base, **ov.deltek.model_dump(exclude_none=True)}
        )
    return acc.model_copy(update=update)


def _categories() -> str:
    return ", ".join(c.value for c in Category)


# --------------------------------------------------------------------------------------
# Loading


# An alias bomb ("billion laughs") composes to a few nodes but expands to billions; pydantic
# would walk every one. No real mapping comes near this many nodes once aliases are expanded.
_MAX_EXPANDED_NODES = 200_000


_MAX_NESTING = 64


class _Loader(yaml.SafeLoader):
    """Safe loader that refuses absurd nesting before Python's recursion limit does (the
    composer recurses per level; a RecursionError is slow and says nothing about where)."""

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > _MAX_NESTING:
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"nested deeper than {_MAX_NESTING} levels",
                    self.peek_event().start_mark,
                )
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self._depth -= 1


def _walk(root: yaml.Node) -> Iterable[yaml.Node]:
    """Every distinct node once (aliases share node objects), without recursion."""
    seen: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        yield node
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                stack.extend((k, v))


def _expanded_size(root: yaml.Node) -> int:
    """Node count with aliases expanded, memoised per node so the count itself stays cheap."""
    size: dict[int, int] = {}
    order = list(_walk(root))
    for node in reversed(order):  # children are walked after parents: sum them first
        if isinstance(node, yaml.SequenceNode):
            children: list[yaml.Node] = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        else:
            children = []
        size[id(node)] = 1 + sum(size.get(id(c), 1) for c in children)
    return size[id(root)]


def _check_structure(root: yaml.Node, source: str) -> None:
    """Refuse what YAML accepts but a mapping must not: duplicate keys (YAML silently keeps
    the last one, so an entry would vanish) and alias bombs."""
    for node in _walk(root):
        if isinstance(node, yaml.MappingNode):
            seen: dict[str, int] = {}
            for k, _ in node.value:
                if not isinstance(k, yaml.ScalarNode) or k.value == "<<":
                    continue
                line = k.start_mark.line + 1
                if k.value in seen:
                    raise MappingError(
                        f"{source}: line {line}: duplicate key {k.value!r} "
                        f"(first at line {seen[k.value]})"
                    )
                seen[k.value] = line
    if _expanded_size(root) > _MAX_EXPANDED_NODES:
        raise MappingError(
            f"{source}: aliases expand to more than {_MAX_EXPANDED_NODES} entries "
            "(an alias bomb?); refused"
        )


def _bad_scalar_line(root: yaml.Node | None) -> int | None:
    """Line of the first scalar the safe constructor cannot build (e.g. ``2026-02-30``)."""
    if root is None:
        return None
    constructor = yaml.constructor.SafeConstructor()
    for node in _walk(root):
        if isinstance(node, yaml.ScalarNode):
            try:
                constructor.construct_object(node, deep=True)
            except Exception:  # looking for the culprit of an error already raised
                return node.start_mark.line + 1
    return None


def _yaml_problem(exc: yaml.YAMLError, source: str, text: str) -> str:
    """One line: file, line and column of the problem, then what YAML objects to."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    at = f": line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    if isinstance(exc, yaml.reader.ReaderError):  # a character YAML does not allow
        at = f": line {text.count(chr(10), 0, exc.position) + 1}"
    parts = [getattr(exc, "context", None), getattr(exc, "problem", None)]
    what = "; ".join(str(p) for p in parts if p) or str(exc).splitlines()[0]
    return f"{source}{at}: not valid YAML: {' '.join(what.split())}"


def parse_mapping(text: str, *, source: str = "mapping.yaml") -> GlMapping:
    """Validate mapping YAML; errors name ``source``, the entry path and its line."""
    node: yaml.Node | None = None
    loader: _Loader | None = None
    try:
        loader = _Loader(text)  # the reader already refuses control characters
        # One parse: the node tree gives lines for messages, the data is constructed from it.
        node = loader.get_single_node()
        data = None
        if node is not None:
            _check_structure(node, source)
            data = loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise MappingError(_yaml_problem(exc, source, text)) from exc
    except RecursionError as exc:
        raise MappingError(f"{source}: nested too deeply to be a mapping") from exc
    except (ValueError, TypeError, OverflowError) as exc:
        # The safe constructor raises plain Python errors for scalars that look typed but
        # are not (a timestamp such as 2026-02-30); find the line to name it.
        line = _bad_scalar_line(node)
        at = f": line {line}" if line else ""
        raise MappingError(f"{source}{at}: invalid value: {exc}") from exc
    finally:
        if loader is not None:
            loader.dispose()
    if not isinstance(data, dict):
        raise MappingError(f"{source}: the mapping must be a YAML mapping with a 'rules' key")
    try:
        return GlMapping.model_validate(data)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = [p for p in err["loc"] if not _is_pydantic_tag(p)]
            path = _format_loc(loc)
            line = _line_of(node, loc)
            at = f" (line {line})" if line else ""
            lines.append(f"{source}: {path}{at}: {_clean_msg(err['msg'])}")
        raise MappingError("\n".join(lines)) from None


def load_mapping(path: str | Path | None = None) -> GlMapping:
    """Read and validate a mapping file (the shipped default when ``path`` is None)."""
    p = Path(path) if path is not None else DEFAULT_MAPPING_PATH
    source = p.name if path is None else str(p)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise MappingError(f"{p}: cannot read mapping: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise MappingError(
            f"{source}: line {line}: not UTF-8 (byte {raw[exc.start]:#04x} at offset {exc.start})"
        ) from exc
    return parse_mapping(text, source=source)


def _is_pydantic_tag(part: object) -> bool:
    # Union branches show up in loc as 'str' / 'list[str]'; they are not YAML keys.
    return isinstance(part, str) and part in {"str", "list[str]", "function-after[_check()]"}


def _format_loc(loc: Sequence[object]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            # A key from the file is shown as written unless it holds a character that
            # would break the message (a newline or other control character): then quoted.
            name = str(part)
            out += ("." if out else "") + (name if name.isprintable() else repr(name))
    return out or "(top level)"


def _clean_msg(msg: str) -> str:
    return msg.removeprefix("Value error, ")


def _line_of(node: yaml.Node | None, loc: Sequence[object]) -> int | None:
    """1-based line of the deepest YAML node on ``loc`` (cheap: walks the composed tree)."""
    line = None
    for part in loc:
        if node is None:
            break
        line = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            nxt = None
            for k, v in node.value:
                if getattr(k, "value", None) == str(part) or (
                    part == "event_family" and getattr(k, "value", None) == "event_list"
                ):
                    nxt = v
                    line = k.start_mark.line + 1
                    break
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            node = node.value[part] if part < len(node.value) else None
        else:
            node = None
    if node is not None:
        line = node.start_mark.line + 1
    return line


# --------------------------------------------------------------------------------------
# Classification (vectorised: resolve the few distinct triples in Python, join back)

_TRIPLE = ("transaction_type", "amount_type", "amount_description")


def settlement_marketplace(lines: pl.DataFrame) -> str | None:
    """The settlement's marketplace: the most frequent Amazon marketplace name on its lines.

    MCF lines say ``Non-Amazon …``; they ride on the seller's marketplace settlement, so they
    are ignored here (ties broken alphabetically for determinism).

    Counted first, filtered after: the filter then looks at a handful of distinct names
    instead of lower-casing a million cells (same answer, ≈6× faster at 1M lines)."""
    if lines.height == 0 or "marketplace_name" not in lines.columns:
        return None
    counts = (
        lines.group_by("marketplace_name")
        .len()
        .filter(
            pl.col("marketplace_name").is_not_null()
            & (pl.col("marketplace_name").str.strip_chars() != "")
            & ~pl.col("marketplace_name").str.to_lowercase().str.starts_with("non-amazon")
        )
        .sort(["len", "marketplace_name"], descending=[True, False])
    )
    return counts["marketplace_name"][0] if counts.height else None


# Joins the four key cells of a line into one string; the unit separator cannot occur in a
# cell of the distinct key rows (checked), so the joined key is as exact as the four cells.
_KEY_SEP = "\x1f"


def classify_lines(
    lines: pl.DataFrame,
    mapping: GlMapping,
    *,
    marketplace: str | None = None,
    currency: str,
) -> pl.DataFrame:
    """Add ``category`` and ``account_key`` (both null when no rule matches) to report lines.

    ``marketplace`` fills in for lines without a marketplace-name.

    A million lines hold a few dozen distinct (type triple, marketplace) keys: each line's
    key is one joined string, the rules are looked up once per distinct key, and the
    answers are gathered back by key index — no join over four string columns."""
    mp_expr = (
        pl.when(pl.col("marketplace_name").is_null() | (pl.col("marketplace_name") == ""))
        .then(pl.lit(marketplace or "", dtype=pl.Utf8))
        .otherwise(pl.col("marketplace_name"))
    )
    parts = [*(pl.col(c).fill_null("") for c in _TRIPLE), mp_expr.fill_null("")]
    key = lines.select(pl.concat_str(parts, separator=_KEY_SEP).alias("key"))["key"]
    firsts = key.is_first_distinct()
    distinct = lines.filter(firsts).select(
        pl.concat_str(parts, separator=_KEY_SEP).alias("key"), *parts
    )
    if distinct.select(
        pl.any_horizontal(pl.all().exclude("key").str.contains(_KEY_SEP, literal=True)).any()
    ).item():
        return _classify_by_join(lines, mapping, mp_expr, currency=currency)
    cats: list[str | None] = []
    keys: list[str | None] = []
    for _, tt, at, ad, mp in distinct.iter_rows():
        rule = mapping.rule_for(tt, at, ad, marketplace=mp, currency=currency)
        cats.append(rule.category.value if rule else None)
        keys.append(rule.key if rule else None)
    index = (
        key.replace_strict(
            distinct["key"],
            pl.int_range(distinct.height, dtype=pl.UInt32, eager=True),
            return_dtype=pl.UInt32,
        )
        if key.len()
        else pl.Series(dtype=pl.UInt32)
    )
    base = lines.drop([c for c in ("category", "account_key") if c in lines.columns])
    return base.with_columns(
        pl.Series("category", cats, dtype=pl.Utf8).gather(index),
        pl.Series("account_key", keys, dtype=pl.Utf8).gather(index),
    )


def _classify_by_join(
    lines: pl.DataFrame, mapping: GlMapping, mp_expr: pl.Expr, *, currency: str
) -> pl.DataFrame:
    """classify_lines for cells that hold the key separator: join on the four columns."""
    keyed = lines.with_columns(
        *(pl.col(c).fill_null("").alias(f"__{c}") for c in _TRIPLE),
        mp_expr.fill_null("").alias("__mp"),
    )
    key_cols = [f"__{c}" for c in _TRIPLE] + ["__mp"]
    distinct = keyed.select(key_cols).unique()
    cats: list[str | None] = []
    keys: list[str | None] = []
    for tt, at, ad, mp in distinct.iter_rows():
        rule = mapping.rule_for(tt, at, ad, marketplace=mp, currency=currency)
        cats.append(rule.category.value if rule else None)
        keys.append(rule.key if rule else None)
    resolved = distinct.with_columns(
        pl.Series("category", cats, dtype=pl.Utf8),
        pl.Series("account_key", keys, dtype=pl.Utf8),
    )
    base = keyed.drop([c for c in ("category", "account_key") if c in keyed.columns])
    return base.join(resolved, on=key_cols, how="left", maintain_order="left").drop(key_cols)


class UnmappedType(BaseModel):
    """One distinct unmapped type triple, with where it occurs (for the error message)."""

    model_config = ConfigDict(frozen=True)

    transaction_type: str
    amount_type: str
    amount_description: str
    count: int
    line_nos: list[int] = Field(default_factory=list)  # first few, for finding it in the file
    settlement_ids: list[str] = Field(default_factory=list)

    @property
    def label(self) -> str:
        return (
            f"transaction-type '{self.transaction_type}', amount-type '{self.amount_type}', "
            f"amount-description '{self.amount_description}' ({self.count} line(s)"
            + (f", e.g. line {self.line_nos[0]}" if self.line_nos else "")
            + ")"
        )

    def yaml_snippet(self) -> str:
        return suggest_yaml([self])


def unmapped_types(classified: pl.DataFrame, *, sample: int = 5) -> list[UnmappedType]:
    """The distinct type triples of lines no rule maps, most frequent first."""
    missing = classified.filter(pl.col("account_key").is_null())
    if missing.height == 0:
        return []
    has_sid = "settlement_id" in missing.columns
    has_no = "line_no" in missing.columns
    grouped = (
        missing.with_columns(*(pl.col(c).fill_null("") for c in _TRIPLE))
        .group_by(list(_TRIPLE))
        .agg(
            pl.len().alias("count"),
            (pl.col("line_no").sort().head(sample) if has_no else pl.lit(None)).alias("nos"),
            (pl.col("settlement_id").unique().sort() if has_sid else pl.lit(None)).alias("sids"),
        )
        .sort(["count", *_TRIPLE], descending=[True, False, False, False])
    )
    out = []
    for row in grouped.iter_rows(named=True):
        out.append(
            UnmappedType(
                transaction_type=row["transaction_type"],
                amount_type=row["amount_type"],
                amount_description=row["amount_description"],
                count=row["count"],
                line_nos=[n for n in (row["nos"] or []) if n is not None] if has_no else [],
                settlement_ids=[s for s in (row["sids"] or []) if s] if has_sid else [],
            )
        )
    return out


def suggest_yaml(unmapped: Iterable[UnmappedType]) -> str:
    """YAML rule entries to paste under ``rules:``; the category must be chosen by a human."""
    blocks = []
    for u in unmapped:
        blocks.append(
            "- match:\n"
            f"    transaction_type: {_yaml_scalar(u.transaction_type)}\n"
            f"    amount_type: {_yaml_scalar(u.amount_type)}\n"
            f"    amount_description: {_yaml_scalar(u.amount_description)}\n"
            f"  category: other  # choose one of: {_categories()}\n"
            "  # account_key: <a key under accounts>  (optional; defaults to the category)"
        )
    return "\n".join(blocks)


def _yaml_scalar(value: str) -> str:
    # json-style double quoting is valid YAML and survives any characters.
    import json

    return json.dumps(value, ensure_ascii=False)


# --------------------------------------------------------------------------------------
# Finances side

FINANCE_KEY_COLUMNS = ("event_family", "charge_list", "charge_type")


def classify_finance_lines(frame: pl.DataFrame, mapping: GlMapping) -> pl.DataFrame:
    """Add ``category`` (null when unmapped) to Finances lines.

    Expects the Finances helper's columns ``event_family`` (v0 list name without
    ``EventList``, e.g. ``Shipment``; the suffixed form is accepted too), ``charge_list``
    (``ItemChargeList``, ``ItemFeeList``, ``PromotionList``, ``ItemTaxWithheldList``,
    ``FeeList``, or the amount field of single-amount events such as ``AdjustmentAmount``),
    ``charge_type`` (ChargeType / FeeType / AdjustmentType / breakdownType) and ``amount``."""
    tmp = [f"__{c}" for c in FINANCE_KEY_COLUMNS]
    keyed = frame.with_columns(
        *(pl.col(c).fill_null("").alias(t) for c, t in zip(FINANCE_KEY_COLUMNS, tmp, strict=True))
    )
    distinct = keyed.select(tmp).unique()
    cats = []
    for fam, lst, typ in distinct.iter_rows():
        rule = mapping.finance_rule_for(fam, lst, typ)
        cats.append(rule.category.value if rule else None)
    resolved = distinct.with_columns(pl.Series("category", cats, dtype=pl.Utf8))
    base = keyed.drop([c for c in ("category",) if c in keyed.columns])
    return base.join(resolved, on=tmp, how="left", maintain_order="left").drop(tmp)


class UnmappedFinanceType(BaseModel):
    model_config = ConfigDict(frozen=True)

    event_family: str
    charge_list: str
    charge_type: str
    count: int

    def yaml_snippet(self) -> str:
        return (
            "- match:\n"
            f"    event_family: {_yaml_scalar(self.event_family)}\n"
            f"    list: {_yaml_scalar(self.charge_list)}\n"
            f"    type: {_yaml_scalar(self.charge_type)}\n"
            f"  category: other  # choose one of: {_categories()}"
        )


def unmapped_finance_types(classified: pl.DataFrame) -> list[UnmappedFinanceType]:
    missing = classified.filter(pl.col("category").is_null())
    if missing.height == 0:
        return []
    cols = list(FINANCE_KEY_COLUMNS)
    grouped = (
        missing.with_columns(*(pl.col(c).fill_null("") for c in cols))
        .group_by(cols)
        .len()
        .sort(["len", *cols], descending=[True, False, False, False])
    )
    return [
        UnmappedFinanceType(
            event_family=r["event_family"],
            charge_list=r["charge_list"],
            charge_type=r["charge_type"],
            count=r["len"],
        )
        for r in grouped.iter_rows(named=True)
    ]
