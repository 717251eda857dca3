"""Land one parsed settlement report in the warehouse and prove what was committed.

Used by the ``amazon_settlement_report`` asset and the benchmark, so the benchmark
measures the asset's own landing rather than a copy of it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import polars as pl

from mlc_assets.domain.mapping import settlement_marketplace
from mlc_assets.domain.settlement_schema import ParsedSettlement
from mlc_assets.storage.tables import SETTLEMENT_LINES, SETTLEMENT_REPORTS
from mlc_assets.storage.warehouse import Warehouse

_READ_BACK = (
    "SELECT count(*) AS n, coalesce(sum(amount), 0) AS s FROM settlement_lines "
    "WHERE settlement_id = ?"
)


@dataclass(frozen=True)
class LandedReport:
    """The header row written, and what the warehouse holds for the settlement afterwards."""

    header: pl.DataFrame
    lines_landed: int
    lines_sum: Decimal

    @property
    def marketplace(self) -> str:
        return self.header["marketplace"][0] or ""


def header_frame(parsed: ParsedSettlement, report_ids: Sequence[str], sha: str) -> pl.DataFrame:
    """The ``settlement_reports`` row. The file's sha256 is kept here once: lines find it
    through settlement_id (repeating it on every line cost 64 bytes per line)."""
    h = parsed.header
    row = {
        "settlement_id": h.settlement_id,
        "start": h.start,
        "end": h.end,
        "deposit_date": h.deposit_date,
        "total_amount": h.total_amount,
        "currency": h.currency,
        "file_format": h.file_format,
        "line_count": parsed.lines.height,
        "marketplace": settlement_marketplace(parsed.lines),
        "report_ids": ",".join(report_ids),
        "raw_sha256": sha,
        "detected": json.dumps(parsed.detected, sort_keys=True),
        "loaded_at": datetime.now(UTC),
    }
    return pl.DataFrame([row], schema=dict(SETTLEMENT_REPORTS.schema))


def store_report(
    warehouse: Warehouse, parsed: ParsedSettlement, report_ids: Sequence[str], sha: str
) -> LandedReport:
    """Replace the settlement's header and lines in one transaction, then read back count and
    sum: the asset check proves the warehouse, not the parser."""
    sid = parsed.header.settlement_id
    header = header_frame(parsed, report_ids, sha)
    with warehouse.session() as session:
        session.replace_partition(
            {SETTLEMENT_REPORTS.name: header, SETTLEMENT_LINES.name: parsed.lines}, key=sid
        )
        back = session.query(_READ_BACK, [sid])
    return LandedReport(
        header=header, lines_landed=int(back["n"][0]), lines_sum=Decimal(back["s"][0])
    )
