"""The mapping's schema: rules, finance rules, accounts and overrides, validated as one model."""

from __future__ import annotations

from functools import cached_property
from typing import Any, Literal

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from mlc_assets.domain.categories import Category
from mlc_assets.domain.mapping.globs import Pattern, _check_pattern, _Glob, _specificity
from mlc_assets.domain.mapping.keys import (
    _KEY_RE,
    CLEARING,
    COMPUTED_KEYS,
    IN_TRANSIT,
    PAYABLE,
    SPECIAL_KEYS,
)

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
