"""Does the ERP know every account, project and category the mapping posts to?

The ERP is the system of record for the GL structure: before anything is posted, every
reference the mapping uses must exist there and be active. Pure: the caller reads the ERP.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from mlc_assets.domain.mapping import DeltekAccountRef, GlMapping, WorkdayAccountRef


@dataclass
class WorkdayReference:
    ledger_accounts: dict[str, bool] = field(default_factory=dict)  # id -> active
    spend_categories: dict[str, bool] = field(default_factory=dict)
    companies: dict[str, bool] = field(default_factory=dict)
    supplier_active: bool | None = None


@dataclass
class DeltekReference:
    accounts: dict[str, bool] = field(default_factory=dict)
    # (wbs1, wbs2, wbs3) -> (active, chargeable: lowest level)
    projects: dict[tuple[str, str, str], tuple[bool, bool]] = field(default_factory=dict)


def _workday_refs(mapping: GlMapping) -> Iterator[tuple[str, WorkdayAccountRef]]:
    for key, acc in mapping.accounts.items():
        if acc.workday is not None:
            yield key, acc.workday
    for i, ov in enumerate(mapping.overrides):
        for key, acc in ov.accounts.items():
            if acc.workday is not None and acc.workday.ledger_account:
                base = mapping.accounts.get(key)
                account_set = acc.workday.account_set or (
                    base.workday.account_set if base and base.workday else "Standard"
                )
                yield (
                    f"overrides[{i}].{key}",
                    WorkdayAccountRef(
                        ledger_account=acc.workday.ledger_account,
                        account_set=account_set,
                        spend_category=acc.workday.spend_category,
                    ),
                )


def _deltek_refs(mapping: GlMapping) -> Iterator[tuple[str, DeltekAccountRef]]:
    for key, acc in mapping.accounts.items():
        if acc.deltek is not None:
            yield key, acc.deltek
    for i, ov in enumerate(mapping.overrides):
        for key, acc in ov.accounts.items():
            d = acc.deltek
            base = mapping.accounts.get(key)
            if d is None or base is None or base.deltek is None:
                continue
            merged = base.deltek.model_copy(
                update={k: v for k, v in d.model_dump().items() if v is not None}
            )
            yield f"overrides[{i}].{key}", merged


def _state(known: Mapping[str, bool], value: str) -> str | None:
    if value not in known:
        return "does not exist"
    return None if known[value] else "is inactive"


def workday_problems(
    mapping: GlMapping, ref: WorkdayReference, *, companies: list[str], supplier: str | None
) -> list[str]:
    problems: list[str] = []
    for where, wd in _workday_refs(mapping):
        if issue := _state(ref.ledger_accounts, wd.ledger_account):
            problems.append(
                f"accounts.{where}: ledger account {wd.ledger_account} "
                f"({wd.account_set}) {issue} in Workday"
            )
        if wd.spend_category and (issue := _state(ref.spend_categories, wd.spend_category)):
            problems.append(f"accounts.{where}: spend category {wd.spend_category} {issue}")
    for company in companies:
        if issue := _state(ref.companies, company):
            problems.append(f"company {company} {issue} in Workday")
    if supplier is not None and ref.supplier_active is not True:
        problems.append(f"supplier {supplier} does not exist or is inactive in Workday")
    return problems


def deltek_problems(mapping: GlMapping, ref: DeltekReference) -> list[str]:
    problems: list[str] = []
    for where, dk in _deltek_refs(mapping):
        if issue := _state(ref.accounts, dk.account):
            problems.append(f"accounts.{where}: Deltek account {dk.account} {issue}")
        if dk.wbs1:
            key = (dk.wbs1, dk.wbs2 or "", dk.wbs3 or "")
            label = "/".join(k for k in key if k)
            if key not in ref.projects:
                problems.append(f"accounts.{where}: Deltek project {label} does not exist")
            else:
                active, chargeable = ref.projects[key]
                if not active:
                    problems.append(f"accounts.{where}: Deltek project {label} is not active")
                elif not chargeable:
                    problems.append(
                        f"accounts.{where}: Deltek project {label} has phases or tasks; "
                        "map to the lowest level"
                    )
    return problems
