"""The canonical shape of a parsed settlement report: one header and a frame of money lines.

Both report formats (V2 flat file, older V1 flat file) parse into this one shape, and the
warehouse, reconciliation and journal code only ever see this shape.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

import polars as pl
from pydantic import BaseModel, ConfigDict

from mlc_assets.domain.money import MONEY_DTYPE

# One row per money component. For V1 files every non-empty *-amount cell becomes a row
# (see ``source_column``), with amount_type/amount_description derived as documented in
# domain/settlement_report.py.
LINE_SCHEMA: dict[str, pl.DataType] = {
    "settlement_id": pl.Utf8(),
    "line_no": pl.Int64(),  # physical line in the file; 1 is the header row
    "source_column": pl.Utf8(),  # "amount" in V2; the *-amount column in V1
    "transaction_type": pl.Utf8(),
    "order_id": pl.Utf8(),
    "merchant_order_id": pl.Utf8(),
    "adjustment_id": pl.Utf8(),
    "shipment_id": pl.Utf8(),
    "marketplace_name": pl.Utf8(),
    "amount_type": pl.Utf8(),
    "amount_description": pl.Utf8(),
    "amount": MONEY_DTYPE,
    "fulfillment_id": pl.Utf8(),
    "posted_date": pl.Date(),
    "posted_datetime": pl.Datetime("us", "UTC"),
    "order_item_code": pl.Utf8(),
    "merchant_order_item_id": pl.Utf8(),
    "merchant_adjustment_item_id": pl.Utf8(),
    "sku": pl.Utf8(),
    "quantity_purchased": pl.Int64(),
    "promotion_id": pl.Utf8(),
}


class SettlementHeader(BaseModel):
    """The summary row of a settlement report."""

    model_config = ConfigDict(frozen=True)

    settlement_id: str
    start: datetime  # timezone-aware, UTC
    end: datetime
    deposit_date: datetime
    total_amount: Decimal
    currency: str
    file_format: Literal["v2", "v1"]
    column_count: int


class ParsedSettlement(BaseModel):
    """A settlement report parsed and checked: lines sum to the header's total."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    header: SettlementHeader
    lines: pl.DataFrame  # columns exactly LINE_SCHEMA
    file_name: str
    # Detected formats, kept for audit: e.g. {"decimal": ",", "date": "dd.mm.yyyy"}
    detected: dict[str, str] = {}
