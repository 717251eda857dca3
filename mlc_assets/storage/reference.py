"""The ERPs' reference data (accounts, projects, categories) as the warehouse keeps it.

The reference assets write it once a day; the posting assets read it from here instead of
asking the ERP again before every settlement.
"""

from __future__ import annotations

import polars as pl

from mlc_assets.domain.reference_check import DeltekReference, WorkdayReference
from mlc_assets.storage.tables import ERP_REFERENCE
from mlc_assets.storage.warehouse import Warehouse, WarehouseSession

_SEP = "/"


def _rows(target: str, kind: str, items: dict[str, bool]) -> list[dict[str, object]]:
    return [
        {"target": target, "kind": kind, "id": key, "active": active, "chargeable": None}
        for key, active in items.items()
    ]


def workday_frame(ref: WorkdayReference, *, supplier: str | None) -> pl.DataFrame:
    rows = (
        _rows("workday", "ledger_account", ref.ledger_accounts)
        + _rows("workday", "spend_category", ref.spend_categories)
        + _rows("workday", "company", ref.companies)
    )
    if supplier is not None and ref.supplier_active is not None:
        rows += _rows("workday", "supplier", {supplier: ref.supplier_active})
    return pl.DataFrame(rows, schema=dict(ERP_REFERENCE.schema))


def deltek_frame(ref: DeltekReference) -> pl.DataFrame:
    rows = _rows("deltek", "account", ref.accounts) + [
        {
            "target": "deltek",
            "kind": "project",
            "id": _SEP.join(key),
            "active": active,
            "chargeable": chargeable,
        }
        for key, (active, chargeable) in ref.projects.items()
    ]
    return pl.DataFrame(rows, schema=dict(ERP_REFERENCE.schema))


def store_reference(
    warehouse: Warehouse | WarehouseSession, target: str, frame: pl.DataFrame
) -> int:
    warehouse.replace_partition({ERP_REFERENCE.name: frame}, key_column="target", key=target)
    return frame.height


def _read(warehouse: Warehouse | WarehouseSession, target: str) -> pl.DataFrame:
    frame = warehouse.read_partition(ERP_REFERENCE.name, target, key_column="target")
    if frame.height and "chargeable" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, pl.Boolean()).alias("chargeable"))
    return frame


def _kind(frame: pl.DataFrame, kind: str) -> dict[str, bool]:
    part = frame.filter(pl.col("kind") == kind)
    return dict(zip(part["id"].to_list(), part["active"].to_list(), strict=True))


def stored_workday_reference(
    warehouse: Warehouse | WarehouseSession, *, supplier: str | None
) -> WorkdayReference | None:
    """The stored Workday reference data, or None when none is stored (or not the supplier's)."""
    frame = _read(warehouse, "workday")
    if frame.is_empty():
        return None
    ref = WorkdayReference(
        ledger_accounts=_kind(frame, "ledger_account"),
        spend_categories=_kind(frame, "spend_category"),
        companies=_kind(frame, "company"),
    )
    if supplier is not None:
        suppliers = _kind(frame, "supplier")
        if supplier not in suppliers:
            return None  # stored before supplier invoices were configured: read it afresh
        ref.supplier_active = suppliers[supplier]
    return ref


def stored_deltek_reference(warehouse: Warehouse | WarehouseSession) -> DeltekReference | None:
    frame = _read(warehouse, "deltek")
    if frame.is_empty():
        return None
    projects = frame.filter(pl.col("kind") == "project")
    if projects.height and projects["chargeable"].null_count():
        return None  # stored by a version that did not keep chargeability: read it afresh
    return DeltekReference(
        accounts=_kind(frame, "account"),
        projects={
            tuple(pid.split(_SEP, 2)): (bool(active), bool(chargeable))  # type: ignore[misc]
            for pid, active, chargeable in projects.select("id", "active", "chargeable").iter_rows()
        },
    )
