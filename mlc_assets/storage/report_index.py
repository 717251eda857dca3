"""Which Amazon reports have been landed, and from which bytes: one small JSON file per report.

Any process (sensor, schedule, run) reads it without locks, so nothing is downloaded twice.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, Field

from mlc_assets.storage.archive import RawRef, atomic_write


class ReportRecord(BaseModel):
    """What the sensor learned about one Amazon report, so nothing is fetched twice."""

    report_id: str
    report_type: str
    settlement_id: str
    marketplace_ids: list[str] = Field(default_factory=list)
    report_document_id: str | None = None
    created_time: datetime | None = None
    data_start: datetime | None = None
    data_end: datetime | None = None
    raw: RawRef
    charset: str | None = None
    fetched_at: datetime = Field(default_factory=lambda: datetime.now(UTC))


class ReportIndex:
    """One small JSON file per report, written once; readable by any process without locks."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def _path(self, report_id: str) -> Path:
        if not re.match(r"^[A-Za-z0-9_\-]+$", report_id):
            raise ValueError(f"bad report id {report_id!r}")
        return self.root / f"{report_id}.json"

    def has(self, report_id: str) -> bool:
        return self._path(report_id).exists()

    def add(self, record: ReportRecord) -> None:
        path = self._path(record.report_id)
        if path.exists():
            return
        atomic_write(path, record.model_dump_json(indent=1).encode())

    def all(self) -> list[ReportRecord]:
        if not self.root.exists():
            return []
        return [
            ReportRecord.model_validate_json(p.read_bytes())
            for p in sorted(self.root.glob("*.json"))
        ]

    def for_settlement(self, settlement_id: str) -> list[ReportRecord]:
        """Every report that carried this settlement (one per marketplace list it appeared in)."""
        records = [r for r in self.all() if r.settlement_id == settlement_id]
        return sorted(records, key=lambda r: (r.created_time or r.fetched_at, r.report_id))
