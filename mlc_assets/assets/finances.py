"""Finances stage: the events behind the payout, and their reconciliation with the report."""

from datetime import timedelta

import dagster as dg
import polars as pl

from mlc_assets.assets.common import (
    API_RETRY,
    DUCKDB_POOL,
    OWNERS,
    about_settlement,
    fail_fast,
    markdown_table,
)
from mlc_assets.clients.spapi.finances import FinancesApi
from mlc_assets.domain.finance_events import (
    FINANCE_LINE_SCHEMA,
    flatten_transactions,
    flatten_v0_events,
)
from mlc_assets.domain.mapping import classify_finance_lines
from mlc_assets.domain.money import money_str, to_money
from mlc_assets.domain.reconciliation import GroupMatch, match_group, reconcile_lines
from mlc_assets.partitions import settlement_partitions
from mlc_assets.resources.archive import ArchiveResource
from mlc_assets.resources.mapping import MappingResource
from mlc_assets.resources.spapi import SpapiResource
from mlc_assets.resources.warehouse import WarehouseResource
from mlc_assets.services.classification import classified_report_lines
from mlc_assets.storage.archive import FINANCES_PAGE_KIND
from mlc_assets.storage.settlements import (
    read_landed,
    read_lines,
)
from mlc_assets.storage.tables import (
    FINANCE_GROUP_MATCHES,
    FINANCE_LINES,
    RECONCILIATION_CATEGORIES,
    RECONCILIATION_STATUS,
)


class ReconciliationConfig(dg.Config):
    """How close report and events must be, per category (money, default exact)."""

    tolerance: str = "0.00"


# Groups are listed from a little before the settlement start: a group opens when the
# previous one closes, which can be hours before the report's start date.
GROUP_LOOKBACK = timedelta(days=3)


@dg.asset(
    partitions_def=settlement_partitions,
    deps=["amazon_settlement_report"],
    group_name="amazon",
    kinds={"amazon", "duckdb"},
    owners=OWNERS,
    pool=DUCKDB_POOL,
    retry_policy=API_RETRY,
    description=(
        "The Finances API view of the settlement: the financial event group matched to it "
        "(by currency, period, total and transfer date; never guessed) and its events "
        "flattened to money lines (`finance_lines`). Raw API pages are archived. Uses "
        "Finances v0 and falls back to 2024-06-19 when v0's event operations are gone."
    ),
    check_specs=[
        dg.AssetCheckSpec(
            "group_matched",
            asset="amazon_financial_events",
            blocking=True,
            description="Exactly one financial event group fits the settlement.",
        )
    ],
)
@fail_fast
def amazon_financial_events(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    archive: ArchiveResource,
    spapi: SpapiResource,
) -> dg.MaterializeResult:
    settlement_id = context.partition_key
    landed = read_landed(warehouse.get(), settlement_id)  # closed again before any API call
    header, about = landed.header, landed.about
    store = archive.archive()
    api_used = ""
    page_hashes: list[str] = []
    unknown: set[str] = set()
    lines = pl.DataFrame(schema=FINANCE_LINE_SCHEMA)
    with spapi.client() as client:
        finances = FinancesApi(client.transport, mode=spapi.finances_api())
        groups, group_pages = finances.financial_event_groups(header.start - GROUP_LOOKBACK)
        for page in group_pages:
            store.put(FINANCES_PAGE_KIND, page.body_bytes, meta={"operation": page.operation})
        match: GroupMatch = match_group(header, groups)
        if match.matched and match.group is not None:
            group_id = match.group.group_id
            api_used, pages = finances.group_pages(group_id)
            for page in pages:
                ref = store.put(
                    FINANCES_PAGE_KIND,
                    page.body_bytes,
                    meta={
                        "settlement_id": settlement_id,
                        "group_id": group_id,
                        "operation": page.operation,
                        "api": page.api,
                        "request_id": page.request_id,
                    },
                )
                page_hashes.append(ref.sha256)
                unknown.update(page.unknown_lists)
            if api_used == "v0":
                lines = flatten_v0_events(pages, group_id=group_id, settlement_id=settlement_id)
            else:
                lines = flatten_transactions(pages, group_id=group_id)
            lines = lines.with_columns(pl.lit(settlement_id).alias("settlement_id"))
    group = match.group
    match_row = pl.DataFrame(
        [
            {
                "settlement_id": settlement_id,
                "status": match.status,
                "group_id": group.group_id if group else None,
                "group_end": group.end if group else None,
                "api": api_used,
                "pages": len(page_hashes),
                "page_sha256": ",".join(page_hashes),
                "unknown_event_lists": ",".join(sorted(unknown)),
                "describe": match.describe(),
                "match_json": match.model_dump_json(),
            }
        ],
        schema=dict(FINANCE_GROUP_MATCHES.schema),
    )
    warehouse.get().replace_partition(
        {
            FINANCE_LINES.name: lines.select(list(FINANCE_LINES.schema)),
            FINANCE_GROUP_MATCHES.name: match_row,
        },
        key=settlement_id,
    )
    if unknown:
        context.log.warning(
            f"event lists unknown to the model were kept and flattened: {sorted(unknown)}"
        )
    return about_settlement(
        dg.MaterializeResult(
            metadata={
                "group_id": group.group_id if group else "",
                "group_status": match.status,
                "api": api_used,
                "pages": len(page_hashes),
                "dagster/row_count": lines.height,
                "events_total": money_str(lines["amount"].sum()) if lines.height else "0.00",
                "unknown_event_lists": ", ".join(sorted(unknown)),
            },
            check_results=[
                dg.AssetCheckResult(
                    check_name="group_matched",
                    passed=match.matched,
                    description=match.describe(),
                    metadata={
                        "candidates": dg.MetadataValue.json(
                            [c.model_dump() for c in match.candidates]
                        )
                    },
                )
            ],
        ),
        about,
    )


@dg.asset(
    partitions_def=settlement_partitions,
    deps=["amazon_settlement_report", "amazon_financial_events"],
    group_name="reconciliation",
    kinds={"duckdb", "polars"},
    owners=OWNERS,
    pool=DUCKDB_POOL,
    description=(
        "Category totals from the settlement report and from the Finances events side by "
        "side, with differences. A settlement is journalled only when it ties out: the "
        "checks below are blocking."
    ),
    check_specs=[
        dg.AssetCheckSpec(
            "events_total_equals_deposit",
            asset="reconciled_settlement",
            blocking=True,
            description="The Finances events of the matched group sum to the deposit.",
        ),
        dg.AssetCheckSpec(
            "categories_within_tolerance",
            asset="reconciled_settlement",
            blocking=True,
            description="Every category agrees between report and events within tolerance.",
        ),
    ],
)
@fail_fast
def reconciled_settlement(
    context: dg.AssetExecutionContext,
    config: ReconciliationConfig,
    warehouse: WarehouseResource,
    mapping: MappingResource,
) -> dg.MaterializeResult:
    settlement_id = context.partition_key
    # One connection for the reads and the write: no network call happens in between.
    with warehouse.get().session() as wh:
        landed = read_landed(wh, settlement_id)
        header, about = landed.header, landed.about
        report_lines = read_lines(wh, settlement_id)
        gl = mapping.load()
        tolerance = to_money(config.tolerance)
        match_rows = wh.read_partition(FINANCE_GROUP_MATCHES.name, settlement_id)
        match = (
            GroupMatch.model_validate_json(match_rows["match_json"][0])
            if match_rows.height
            else None
        )
        events = wh.read_partition(FINANCE_LINES.name, settlement_id)
        if events.is_empty():
            events = pl.DataFrame(schema=FINANCE_LINE_SCHEMA)
        report = classified_report_lines(
            settlement_id,
            landed.version,
            report_lines,
            gl,
            currency=header.currency,
        )
        event_lines = classify_finance_lines(events, gl)
        group = match.group if match else None
        recon = reconcile_lines(
            report,
            event_lines,
            deposit=header.total_amount,
            settlement_id=settlement_id,
            group_id=group.group_id if group else None,
            group_end=group.end if group else None,
            group_match=match,
            tolerance=tolerance,
            late_policy="warning",
        )
        late = recon.late_events.height if recon.late_events is not None else 0
        status = (
            "not_reconciled"
            if not recon.ok
            else ("reconciled_with_warnings" if recon.findings else "reconciled")
        )
        categories = recon.categories.with_columns(pl.lit(settlement_id).alias("settlement_id"))
        status_row = pl.DataFrame(
            [
                {
                    "settlement_id": settlement_id,
                    "status": status,
                    "group_id": group.group_id if group else None,
                    "report_total": recon.report_total,
                    "events_total": recon.events_total,
                    "deposit": header.total_amount,
                    "codes": ",".join(recon.codes),
                    "detail": "\n".join(f"{f.code}: {f.message}" for f in recon.findings),
                    "late_events": late,
                }
            ],
            schema=dict(RECONCILIATION_STATUS.schema),
        )
        wh.replace_partition(
            {RECONCILIATION_CATEGORIES.name: categories, RECONCILIATION_STATUS.name: status_row},
            key=settlement_id,
        )
    if late:
        context.log.warning(f"{late} late events (posted after the group closed) reported")
    errors = [f for f in recon.findings if f.severity == "error"]
    category_errors = [
        f for f in errors if f.code not in ("events_vs_deposit", "report_vs_deposit")
    ]
    return about_settlement(
        dg.MaterializeResult(
            metadata={
                "status": status,
                "group_id": group.group_id if group else "",
                "report_total": money_str(recon.report_total),
                "events_total": money_str(recon.events_total),
                "deposit": f"{money_str(header.total_amount)} {header.currency}",
                "late_events": late,
                "reconciliation": dg.MetadataValue.md(recon.markdown()),
                "findings": "; ".join(recon.codes),
            },
            check_results=[
                dg.AssetCheckResult(
                    check_name="events_total_equals_deposit",
                    passed=match is not None
                    and match.matched
                    and recon.events_total == header.total_amount,
                    metadata={
                        "events_total": money_str(recon.events_total),
                        "deposit": money_str(header.total_amount),
                        "difference": money_str(recon.events_total - header.total_amount),
                    },
                ),
                dg.AssetCheckResult(
                    check_name="categories_within_tolerance",
                    passed=not category_errors and bool(recon.categories["within_tolerance"].all())
                    if recon.categories.height
                    else not category_errors,
                    description="\n".join(f"{f.code}: {f.message}" for f in category_errors)
                    or None,
                    metadata={"categories": dg.MetadataValue.md(markdown_table(recon.categories))},
                ),
            ],
        ),
        about,
    )
