"""Read the ERPs' reference data (the system of record for the GL structure)."""

from __future__ import annotations

from mlc_assets.clients.deltek.client import DeltekClient
from mlc_assets.clients.workday.client import WorkdayClient
from mlc_assets.domain.reference_check import DeltekReference, WorkdayReference


def fetch_workday_reference(client: WorkdayClient, *, supplier: str | None) -> WorkdayReference:
    ref = WorkdayReference(
        ledger_accounts={a.id: a.active for a in client.list_ledger_accounts()},
        spend_categories={c.id: c.active for c in client.list_spend_categories()},
        companies={c.id: c.active for c in client.list_companies()},
    )
    if supplier is not None:
        found = client.find_supplier(supplier)
        ref.supplier_active = bool(found and found.active)
    return ref


def fetch_deltek_reference(client: DeltekClient) -> DeltekReference:
    return DeltekReference(
        accounts={a.account: a.active for a in client.list_accounts()},
        projects={
            (p.wbs1.strip(), p.wbs2.strip(), p.wbs3.strip()): (p.active, not p.sub_level)
            for p in client.list_projects()
        },
    )
