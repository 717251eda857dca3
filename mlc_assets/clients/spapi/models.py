"""Pydantic models of the Reports API 2021-06-30 responses (field names as in the model).

Unknown fields are kept (``extra="allow"``) rather than dropped: Amazon adds fields over
time and a raw payload must survive a round trip.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr


class ProcessingStatus(StrEnum):
    CANCELLED = "CANCELLED"
    DONE = "DONE"
    FATAL = "FATAL"
    IN_PROGRESS = "IN_PROGRESS"
    IN_QUEUE = "IN_QUEUE"


TERMINAL_STATUSES = frozenset(
    {ProcessingStatus.CANCELLED, ProcessingStatus.DONE, ProcessingStatus.FATAL}
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Report(_Model):
    reportId: str
    reportType: str
    processingStatus: ProcessingStatus
    createdTime: datetime
    marketplaceIds: list[str] | None = None
    dataStartTime: datetime | None = None
    dataEndTime: datetime | None = None
    reportScheduleId: str | None = None
    processingStartTime: datetime | None = None
    processingEndTime: datetime | None = None
    reportDocumentId: str | None = None


class GetReportsResponse(_Model):
    reports: list[Report]
    nextToken: str | None = None


class CreateReportResponse(_Model):
    reportId: str


class ReportDocument(_Model):
    """A pre-signed document URL. The URL is a bearer credential for the file: it is kept
    out of the repr and error messages (only its host is shown)."""

    reportDocumentId: str
    url: str = Field(repr=False)
    compressionAlgorithm: str | None = None
    # When this client received the URL (monotonic seconds); drives proactive refetch.
    _fetched_at: float | None = PrivateAttr(default=None)

    @property
    def url_host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def compressed(self) -> bool:
        return (self.compressionAlgorithm or "").upper() == "GZIP"


@dataclass(frozen=True)
class DownloadedReport:
    """Report bytes exactly as Amazon produced them (decompressed, not decoded)."""

    content: bytes
    charset: str | None
    document_id: str
    url_host: str
    compressed: bool

    def __repr__(self) -> str:
        return (
            f"DownloadedReport(document_id={self.document_id!r}, bytes={len(self.content)}, "
            f"charset={self.charset!r}, url_host={self.url_host!r}, compressed={self.compressed})"
        )
