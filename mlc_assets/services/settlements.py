"""Read a landed settlement back from the warehouse in its canonical shape."""

from __future__ import annotations

import polars as pl

from mlc_assets.domain.errors import MlcError
from mlc_assets.domain.settlement_schema import LINE_SCHEMA, SettlementHeader
from mlc_assets.resources.warehouse import Warehouse


class SettlementNotLanded(MlcError):
    """The settlement report of this partition is not in the warehouse yet."""


def load_settlement(
    warehouse: Warehouse, settlement_id: str
) -> tuple[SettlementHeader, pl.DataFrame]:
    headers = warehouse.read_partition("settlement_reports", settlement_id)
    if headers.is_empty():
        raise SettlementNotLanded(
            f"settlement {settlement_id} has no report in the warehouse; "
            "materialize amazon_settlement_report first"
        )
    row = headers.row(0, named=True)
    header = SettlementHeader(
        settlement_id=row["settlement_id"],
        start=row["start"],
        end=row["end"],
        deposit_date=row["deposit_date"],
        total_amount=row["total_amount"],
        currency=row["currency"],
        file_format=row["file_format"],
        column_count=0,
    )
    lines = warehouse.read_partition("settlement_lines", settlement_id)
    lines = lines.select([pl.col(name).cast(dtype) for name, dtype in LINE_SCHEMA.items()])
    # Rows come back in the order they were inserted, which is file order: checking that is
    # one pass over a column, sorting regardless would gather all 21 columns again.
    if not lines["line_no"].is_sorted():
        lines = lines.sort("line_no")
    return header, lines
