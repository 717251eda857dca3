"""Every warehouse table: its name, its schema, and the column that partitions it.

One place to read what the DuckDB file holds. Schemas of frames the domain builds (report lines,
finance lines, reconciliation categories, journals) stay with the domain code that builds them
and are referenced here, not copied. ``docs/architecture.md`` says which stage writes each.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from mlc_assets.domain.finance_events import FINANCE_LINE_SCHEMA
from mlc_assets.domain.journal import JOURNAL_FRAME_SCHEMA, JOURNALS_SCHEMA
from mlc_assets.domain.reconciliation import CATEGORY_FRAME_SCHEMA
from mlc_assets.domain.settlement_schema import LINE_SCHEMA


@dataclass(frozen=True)
class Table:
    name: str
    schema: Mapping[str, pl.DataType]
    key: str = "settlement_id"

    def empty(self) -> pl.DataFrame:
        return pl.DataFrame(schema=dict(self.schema))


HEADER_SCHEMA: dict[str, pl.DataType] = {
    "settlement_id": pl.Utf8(),
    "start": pl.Datetime("us", "UTC"),
    "end": pl.Datetime("us", "UTC"),
    "deposit_date": pl.Datetime("us", "UTC"),
    "total_amount": pl.Decimal(18, 2),
    "currency": pl.Utf8(),
    "file_format": pl.Utf8(),
    "line_count": pl.Int64(),
    "marketplace": pl.Utf8(),
    "report_ids": pl.Utf8(),
    "raw_sha256": pl.Utf8(),
    "detected": pl.Utf8(),
    "loaded_at": pl.Datetime("us", "UTC"),
}

GROUP_MATCH_SCHEMA: dict[str, pl.DataType] = {
    "settlement_id": pl.Utf8(),
    "status": pl.Utf8(),
    "group_id": pl.Utf8(),
    "group_end": pl.Datetime("us", "UTC"),
    "api": pl.Utf8(),
    "pages": pl.Int64(),
    "page_sha256": pl.Utf8(),
    "unknown_event_lists": pl.Utf8(),
    "describe": pl.Utf8(),
    "match_json": pl.Utf8(),
}

RECON_STATUS_SCHEMA: dict[str, pl.DataType] = {
    "settlement_id": pl.Utf8(),
    "status": pl.Utf8(),  # reconciled | reconciled_with_warnings | not_reconciled
    "group_id": pl.Utf8(),
    "report_total": pl.Decimal(18, 2),
    "events_total": pl.Decimal(18, 2),
    "deposit": pl.Decimal(18, 2),
    "codes": pl.Utf8(),
    "detail": pl.Utf8(),
    "late_events": pl.Int64(),
}

# action: intent | found | submitted | adopted | already_posted | verified | failed | skipped
LOG_SCHEMA: dict[str, pl.DataType] = {
    "settlement_id": pl.Utf8(),
    "target": pl.Utf8(),
    "reference": pl.Utf8(),
    "action": pl.Utf8(),
    "fingerprint": pl.Utf8(),
    "remote_id": pl.Utf8(),
    "detail": pl.Utf8(),
    "payload_sha256": pl.Utf8(),
    "at": pl.Datetime("us", "UTC"),
    "run_id": pl.Utf8(),
}

REFERENCE_SCHEMA: dict[str, pl.DataType] = {
    "target": pl.Utf8(),
    "kind": pl.Utf8(),
    "id": pl.Utf8(),
    "active": pl.Boolean(),
    "chargeable": pl.Boolean(),  # Deltek projects: lowest level (posting allowed)
}

SETTLEMENT_REPORTS = Table("settlement_reports", HEADER_SCHEMA)
SETTLEMENT_LINES = Table("settlement_lines", LINE_SCHEMA)
FINANCE_LINES = Table("finance_lines", FINANCE_LINE_SCHEMA)
FINANCE_GROUP_MATCHES = Table("finance_group_matches", GROUP_MATCH_SCHEMA)
RECONCILIATION_CATEGORIES = Table("reconciliation_categories", CATEGORY_FRAME_SCHEMA)
RECONCILIATION_STATUS = Table("reconciliation_status", RECON_STATUS_SCHEMA)
JOURNALS = Table("journals", JOURNALS_SCHEMA)
JOURNAL_LINES = Table("journal_lines", JOURNAL_FRAME_SCHEMA)
# The one postings ledger: every step of every ERP posting, append-only.
POSTING_LOG = Table("posting_log", LOG_SCHEMA)
# ERP reference data (accounts, projects, categories), partitioned by target, not settlement.
ERP_REFERENCE = Table("erp_reference", REFERENCE_SCHEMA, key="target")

ALL_TABLES = (
    SETTLEMENT_REPORTS,
    SETTLEMENT_LINES,
    FINANCE_LINES,
    FINANCE_GROUP_MATCHES,
    RECONCILIATION_CATEGORIES,
    RECONCILIATION_STATUS,
    JOURNALS,
    JOURNAL_LINES,
    POSTING_LOG,
    ERP_REFERENCE,
)
