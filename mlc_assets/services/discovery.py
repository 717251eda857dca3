"""Find newly released settlement reports and land each one exactly once.

Amazon's report listing does not say which settlement a report holds, so each new report is
downloaded once, archived content-addressed, and indexed by the settlement ID read from its
first rows. A report already in the index is never fetched again (its getReportDocument
call is rate-limited to one a minute); a settlement listed under several marketplaces
becomes one partition.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from mlc_assets.clients.spapi.models import DownloadedReport, Report
from mlc_assets.domain.settlement_peek import peek_settlement_id
from mlc_assets.storage.archive import SETTLEMENT_REPORT_KIND, RawArchive
from mlc_assets.storage.report_index import ReportIndex, ReportRecord

# Re-list a little behind the cursor: a report can appear with a createdTime slightly
# older than the newest one already seen.
LISTING_OVERLAP = timedelta(days=2)
MAX_REPORT_AGE = timedelta(days=90)  # Amazon keeps reports at most 90 days


class ReportsApi(Protocol):
    def list_reports(
        self,
        report_types: list[str],
        *,
        processing_statuses: list[str] | None = None,
        marketplace_ids: list[str] | None = None,
        created_since: datetime | None = None,
    ) -> Iterable[Report]: ...

    def download_report(self, document_id: str) -> DownloadedReport: ...


@dataclass
class DiscoveryResult:
    listed: int = 0
    downloaded: int = 0
    already_known: int = 0
    new_records: list[ReportRecord] = field(default_factory=list)
    newest_created: datetime | None = None

    @property
    def settlement_ids(self) -> list[str]:
        """New settlement IDs in discovery order, each once."""
        return list(dict.fromkeys(r.settlement_id for r in self.new_records))


def listing_start(cursor: datetime | None, now: datetime) -> datetime:
    floor = now - MAX_REPORT_AGE + timedelta(minutes=5)
    if cursor is None:
        return floor
    return max(cursor - LISTING_OVERLAP, floor)


def land_report(
    api: ReportsApi, report: Report, archive: RawArchive, index: ReportIndex
) -> ReportRecord:
    """Download one report, archive its bytes and index it by settlement ID."""
    if not report.reportDocumentId:
        raise ValueError(f"report {report.reportId} is DONE but has no reportDocumentId")
    downloaded = api.download_report(report.reportDocumentId)
    ref = archive.put(
        SETTLEMENT_REPORT_KIND,
        downloaded.content,
        meta={
            "report_id": report.reportId,
            "report_type": report.reportType,
            "report_document_id": report.reportDocumentId,
            "charset": downloaded.charset,
            "url_host": downloaded.url_host,
        },
    )
    settlement_id = peek_settlement_id(downloaded.content, file_name=f"report {report.reportId}")
    archive.name_for_settlement(ref, settlement_id, f"settlement-report-{report.reportId}.txt")
    record = ReportRecord(
        report_id=report.reportId,
        report_type=report.reportType,
        settlement_id=settlement_id,
        marketplace_ids=list(report.marketplaceIds or []),
        report_document_id=report.reportDocumentId,
        created_time=report.createdTime,
        data_start=report.dataStartTime,
        data_end=report.dataEndTime,
        raw=ref,
        charset=downloaded.charset,
    )
    index.add(record)
    return record


def discover_settlements(
    api: ReportsApi,
    archive: RawArchive,
    index: ReportIndex,
    *,
    report_type: str,
    marketplace_ids: list[str] | None,
    cursor: datetime | None,
    now: datetime | None = None,
) -> DiscoveryResult:
    now = now or datetime.now(UTC)
    result = DiscoveryResult(newest_created=cursor)
    known_settlements = {r.settlement_id for r in index.all()}
    reports: Iterator[Report] = iter(
        api.list_reports(
            [report_type],
            processing_statuses=["DONE"],
            marketplace_ids=marketplace_ids,
            created_since=listing_start(cursor, now),
        )
    )
    for report in reports:
        result.listed += 1
        if result.newest_created is None or report.createdTime > result.newest_created:
            result.newest_created = report.createdTime
        if index.has(report.reportId):
            result.already_known += 1
            continue
        record = land_report(api, report, archive, index)
        result.downloaded += 1
        if record.settlement_id not in known_settlements:
            known_settlements.add(record.settlement_id)
            result.new_records.append(record)
    return result
