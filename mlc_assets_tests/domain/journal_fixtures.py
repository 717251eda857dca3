"""A settlement of ``n`` interleaved lines, classified, for the journal tests."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import polars as pl

from mlc_assets.domain.mapping import classify_lines, load_mapping
from mlc_assets.domain.settlement_schema import LINE_SCHEMA, SettlementHeader

MAPPING = load_mapping()
SID = "12345678901"
# Line i has type i % len(types): the accounts' lines interleave, as in a real report.
TYPES = [
    ("Order", "ItemPrice", "Principal"),
    ("Order", "ItemPrice", "Tax"),
    ("Order", "ItemFees", "Commission"),
    ("Order", "ItemWithheldTax", "MarketplaceFacilitatorTax-Principal"),
]


def interleaved_settlement(
    n: int,
    *,
    types: list[tuple[str, str, str]] = TYPES,
    amount: Decimal = Decimal("1.00"),
    marketplace: str = "Amazon.com",
) -> tuple[SettlementHeader, pl.DataFrame]:
    """Header and classified lines (file lines 2..n+1, each of ``amount``)."""
    data: dict[str, list] = {c: [None] * n for c in LINE_SCHEMA}
    data["settlement_id"] = [SID] * n
    data["line_no"] = list(range(2, n + 2))
    data["transaction_type"] = [types[i % len(types)][0] for i in range(n)]
    data["amount_type"] = [types[i % len(types)][1] for i in range(n)]
    data["amount_description"] = [types[i % len(types)][2] for i in range(n)]
    data["amount"] = [amount] * n
    data["marketplace_name"] = [marketplace] * n
    header = SettlementHeader(
        settlement_id=SID,
        start=datetime(2026, 9, 24, 7, tzinfo=UTC),
        end=datetime(2026, 10, 8, 7, tzinfo=UTC),
        deposit_date=datetime(2026, 10, 10, 7, tzinfo=UTC),
        total_amount=amount * n,
        currency="USD",
        file_format="v2",
        column_count=24,
    )
    lines = pl.DataFrame(data, schema=LINE_SCHEMA)
    return header, classify_lines(lines, MAPPING, currency="USD")
