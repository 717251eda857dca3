"""Read a landed settlement back from the warehouse in its canonical shape."""

from __future__ import annotations

from typing import Any

import polars as pl

from mlc_assets.domain.errors import MlcError
from mlc_assets.domain.settlement_schema import LINE_SCHEMA, SettlementHeader
from mlc_assets.storage.tables import SETTLEMENT_LINES, SETTLEMENT_REPORTS
from mlc_assets.storage.warehouse import Warehouse, WarehouseSession


class SettlementNotLanded(MlcError):
    """The settlement report of this partition is not in the warehouse yet."""


def read_header(warehouse: Warehouse | WarehouseSession, settlement_id: str) -> SettlementHeader:
    """The settlement's summary row alone (a stage that needs no lines reads none)."""
    headers = warehouse.read_partition(SETTLEMENT_REPORTS.name, settlement_id)
    if headers.is_empty():
        raise SettlementNotLanded(
            f"settlement {settlement_id} has no report in the warehouse; "
            "materialize amazon_settlement_report first"
        )
    row = headers.row(0, named=True)
    return SettlementHeader(
        settlement_id=row["settlement_id"],
        start=row["start"],
        end=row["end"],
        deposit_date=row["deposit_date"],
        total_amount=row["total_amount"],
        currency=row["currency"],
        file_format=row["file_format"],
        column_count=0,
    )


def read_settlement(
    warehouse: Warehouse | WarehouseSession, settlement_id: str
) -> tuple[SettlementHeader, pl.DataFrame]:
    """The header and every line, in file order, typed as the parser produced them."""
    header = read_header(warehouse, settlement_id)
    lines = warehouse.read_partition(SETTLEMENT_LINES.name, settlement_id)
    lines = lines.select([pl.col(name).cast(dtype) for name, dtype in LINE_SCHEMA.items()])
    # Rows come back in the order they were inserted, which is file order: checking that is
    # one pass over a column, sorting regardless would gather all 21 columns again.
    if not lines["line_no"].is_sorted():
        lines = lines.sort("line_no")
    return header, lines


def report_version(warehouse: Warehouse | WarehouseSession, settlement_id: str) -> str:
    """Which landing of the report the lines are: its file hash and when it was landed."""
    rows = warehouse.read_partition(SETTLEMENT_REPORTS.name, settlement_id)
    if rows.is_empty():
        return ""
    return f"{rows['raw_sha256'][0]}@{rows['loaded_at'][0]}"


def settlement_context(
    warehouse: Warehouse | WarehouseSession, settlement_id: str
) -> dict[str, str]:
    """What every stage's metadata and check results say they are about."""
    rows = warehouse.read_partition(SETTLEMENT_REPORTS.name, settlement_id)
    if rows.is_empty():
        return {"settlement_id": settlement_id}
    r = rows.row(0, named=True)
    return describe(
        settlement_id,
        r["marketplace"] or "",
        r["currency"],
        r["start"],
        r["end"],
        r["total_amount"],
    )


def describe(
    settlement_id: str, marketplace: str, currency: str, start: Any, end: Any, total: Any
) -> dict[str, str]:
    return {
        "settlement_id": settlement_id,
        "marketplace": marketplace,
        "currency": currency,
        "period": f"{start.date()}..{end.date()}",
        "deposit": f"{total:.2f} {currency}",
    }
