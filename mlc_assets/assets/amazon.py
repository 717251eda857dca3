"""Amazon stage: the settlement report as Amazon produced it, landed in the warehouse."""

import dagster as dg

from mlc_assets.assets.common import (
    API_RETRY,
    DUCKDB_POOL,
    OWNERS,
    about_settlement,
    fail_fast,
    land_reports,
)
from mlc_assets.domain.settlement_report import parse_settlement_report
from mlc_assets.partitions import settlement_partitions
from mlc_assets.resources.archive import ArchiveResource
from mlc_assets.resources.spapi import SpapiResource
from mlc_assets.resources.warehouse import WarehouseResource
from mlc_assets.storage.archive import SETTLEMENT_REPORT_KIND
from mlc_assets.storage.report_index import ReportRecord
from mlc_assets.storage.reports import store_report
from mlc_assets.storage.settlements import describe


def _records_for(
    settlement_id: str, archive: ArchiveResource, spapi: SpapiResource, log: dg.DagsterLogManager
) -> list[ReportRecord]:
    """The landed report(s) of this settlement; fetched only if the sensor has not done so."""
    index = archive.report_index()
    records = index.for_settlement(settlement_id)
    if records:
        return records
    log.info(f"settlement {settlement_id} not landed yet: listing Amazon's settlement reports")
    land_reports(spapi, archive, cursor=None)
    records = index.for_settlement(settlement_id)
    if not records:
        raise dg.Failure(
            f"no settlement report with settlement-id {settlement_id} is available from "
            "Amazon (reports are kept 90 days); check the partition key"
        )
    return records


@dg.asset(
    partitions_def=settlement_partitions,
    group_name="amazon",
    kinds={"amazon", "duckdb"},
    owners=OWNERS,
    pool=DUCKDB_POOL,
    retry_policy=API_RETRY,
    description=(
        "Amazon's V2 settlement report for one settlement, as downloaded (kept byte for byte "
        "in the content-addressed archive) and parsed into the warehouse tables "
        "`settlement_reports` (the summary row) and `settlement_lines` (one row per amount)."
    ),
    check_specs=[
        dg.AssetCheckSpec(
            "lines_sum_to_deposit",
            asset="amazon_settlement_report",
            blocking=True,
            description="The landed lines sum exactly to the report's total-amount (the deposit).",
        )
    ],
)
@fail_fast
def amazon_settlement_report(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    archive: ArchiveResource,
    spapi: SpapiResource,
) -> dg.MaterializeResult:
    settlement_id = context.partition_key
    records = _records_for(settlement_id, archive, spapi, context.log)
    # The newest listing wins; others are the same settlement listed under another
    # marketplace, and must carry the same bytes.
    record = records[-1]
    hashes = {r.raw.sha256 for r in records}
    if len(hashes) > 1:
        context.log.warning(
            f"settlement {settlement_id} was listed {len(records)} times with different "
            f"contents; using report {record.report_id}"
        )
    data = archive.archive().get(SETTLEMENT_REPORT_KIND, record.raw.sha256)
    file_name = f"settlement report {record.report_id} ({record.raw.sha256[:12]})"
    parsed = parse_settlement_report(data, file_name=file_name, charset=record.charset)
    if parsed.header.settlement_id != settlement_id:
        raise dg.Failure(
            f"{file_name} holds settlement {parsed.header.settlement_id}, not {settlement_id}"
        )
    landed = store_report(
        warehouse.get(), parsed, [r.report_id for r in records], record.raw.sha256
    )
    lines = parsed.lines
    landed_sum = landed.lines_sum
    total = parsed.header.total_amount
    h = parsed.header
    return about_settlement(
        dg.MaterializeResult(
            metadata={
                "settlement_id": settlement_id,
                "dagster/row_count": lines.height,
                "total_amount": dg.MetadataValue.text(f"{total:.2f} {h.currency}"),
                "currency": h.currency,
                "period": f"{h.start.date()} .. {h.end.date()}",
                "deposit_date": str(h.deposit_date.date()),
                "marketplace": landed.marketplace,
                "file_format": h.file_format,
                "report_ids": landed.header["report_ids"][0],
                "file_sha256": record.raw.sha256,
                "detected_formats": dg.MetadataValue.json(parsed.detected),
            },
            check_results=[
                dg.AssetCheckResult(
                    check_name="lines_sum_to_deposit",
                    passed=landed_sum == total and landed.lines_landed == lines.height,
                    metadata={
                        "lines_sum": f"{landed_sum:.2f}",
                        "total_amount": f"{total:.2f}",
                        "difference": f"{landed_sum - total:.2f}",
                        "lines": landed.lines_landed,
                    },
                )
            ],
        ),
        describe(settlement_id, landed.marketplace, h.currency, h.start, h.end, total),
    )
