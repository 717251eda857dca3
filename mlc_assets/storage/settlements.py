"""Read a landed settlement back from the warehouse in its canonical shape."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from mlc_assets.domain.errors import MlcError
from mlc_assets.domain.settlement_schema import LINE_SCHEMA, SettlementHeader
from mlc_assets.storage.tables import SETTLEMENT_LINES, SETTLEMENT_REPORTS
from mlc_assets.storage.warehouse import Warehouse, WarehouseSession


class SettlementNotLanded(MlcError):
    """The settlement report of this partition is not in the warehouse yet."""


@dataclass(frozen=True)
class LandedReport:
    """The settlement's ``settlement_reports`` row, read once, and what stages derive from it."""

    header: SettlementHeader
    # What every stage's metadata and check results say they are about.
    about: dict[str, str]
    # Which landing of the report the lines are: its file hash and when it was landed.
    version: str


def read_landed(warehouse: Warehouse | WarehouseSession, settlement_id: str) -> LandedReport:
    """The summary row alone (a stage that needs no lines reads none)."""
    rows = warehouse.read_partition(SETTLEMENT_REPORTS.name, settlement_id)
    if rows.is_empty():
        raise SettlementNotLanded(
            f"settlement {settlement_id} has no report in the warehouse; "
            "materialize amazon_settlement_report first"
        )
    r = rows.row(0, named=True)
    header = SettlementHeader(
        settlement_id=r["settlement_id"],
        start=r["start"],
        end=r["end"],
        deposit_date=r["deposit_date"],
        total_amount=r["total_amount"],
        currency=r["currency"],
        file_format=r["file_format"],
        column_count=0,
    )
    about = describe(
        settlement_id,
        r["marketplace"] or "",
        r["currency"],
        r["start"],
        r["end"],
        r["total_amount"],
    )
    return LandedReport(header, about, f"{r['raw_sha256']}@{r['loaded_at']}")


def read_lines(warehouse: Warehouse | WarehouseSession, settlement_id: str) -> pl.DataFrame:
    """Every line, in file order, typed as the parser produced them."""
    lines = warehouse.read_partition(SETTLEMENT_LINES.name, settlement_id)
    lines = lines.select([pl.col(name).cast(dtype) for name, dtype in LINE_SCHEMA.items()])
    # Rows come back in the order they were inserted, which is file order: checking that is
    # one pass over a column, sorting regardless would gather all 21 columns again.
    if not lines["line_no"].is_sorted():
        lines = lines.sort("line_no")
    return lines


def read_settlement(
    warehouse: Warehouse | WarehouseSession, settlement_id: str
) -> tuple[SettlementHeader, pl.DataFrame]:
    """The header and every line."""
    return read_landed(warehouse, settlement_id).header, read_lines(warehouse, settlement_id)


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
