"""Journal stage: the settlement as balanced GL entries, ready for any ERP."""

import json

import dagster as dg

from mlc_assets.assets.common import DUCKDB_POOL, OWNERS, about_settlement, fail_fast
from mlc_assets.domain.journal import build_journal
from mlc_assets.domain.mapping import suggest_yaml, unmapped_types
from mlc_assets.domain.money import money_str
from mlc_assets.partitions import settlement_partitions
from mlc_assets.resources.mapping import MappingResource
from mlc_assets.resources.warehouse import WarehouseResource
from mlc_assets.services.classification import classified_report_lines
from mlc_assets.storage.journals import read_journal, store_journal
from mlc_assets.storage.settlements import read_landed, read_lines
from mlc_assets.storage.tables import JOURNALS

CHECKS = [
    dg.AssetCheckSpec(
        "all_lines_mapped",
        asset="journal_entries",
        blocking=True,
        description=(
            "Every settlement line maps to a GL account; an unknown type stops the settlement."
        ),
    ),
    dg.AssetCheckSpec(
        "entries_balance",
        asset="journal_entries",
        blocking=True,
        description="Each journal entry's debits equal its credits.",
    ),
    dg.AssetCheckSpec(
        "clearing_equals_deposit",
        asset="journal_entries",
        blocking=True,
        description="The Amazon clearing (bank) side equals the deposit, once.",
    ),
]


@dg.asset(
    partitions_def=settlement_partitions,
    deps=["amazon_settlement_report", "reconciled_settlement"],
    group_name="posting",
    kinds={"duckdb", "polars"},
    owners=OWNERS,
    pool=DUCKDB_POOL,
    description=(
        "Balanced journal entries for the settlement, summarised by GL account, with each "
        "target's account codes (Workday ledger account and worktags, Deltek account and "
        "project). Every report line lands on exactly one journal line (`source_ranges`). "
        "Tables `journals` and `journal_lines`."
    ),
    check_specs=CHECKS,
)
@fail_fast
def journal_entries(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, mapping: MappingResource
) -> dg.MaterializeResult:
    settlement_id = context.partition_key
    gl = mapping.load()
    # One connection: read the lines, write the journal, read it back for the checks.
    with warehouse.get().session() as session:
        landed = read_landed(session, settlement_id)
        header, about = landed.header, landed.about
        lines = read_lines(session, settlement_id)
        classified = classified_report_lines(
            settlement_id,
            landed.version,
            lines,
            gl,
            currency=header.currency,
        )
        missing = unmapped_types(classified)
        if missing:
            # Nothing is guessed and nothing stale may be posted: the partition is emptied
            # and the blocking check stops everything downstream.
            session.replace_partition({JOURNALS.name: JOURNALS.empty()}, key=settlement_id)
        else:
            journal = build_journal(header, classified, gl)
            written = store_journal(session, journal, mapping_source=mapping.source())
            # Checks read back what was committed.
            back = read_journal(session, settlement_id)
    if missing:
        yaml_hint = suggest_yaml(missing)
        labels = ", ".join(m.label for m in missing)
        context.log.error(f"unmapped types in settlement {settlement_id}: {labels}")
        return about_settlement(
            dg.MaterializeResult(
                metadata={
                    "unmapped": labels,
                    "yaml_to_add": dg.MetadataValue.md(f"```yaml\n{yaml_hint}\n```"),
                },
                check_results=[
                    dg.AssetCheckResult(
                        check_name="all_lines_mapped",
                        passed=False,
                        description=f"Unmapped: {labels}. Add to {mapping.source()}:\n{yaml_hint}",
                        metadata={"unmapped": labels, "yaml_to_add": yaml_hint},
                    ),
                    dg.AssetCheckResult(
                        check_name="entries_balance",
                        passed=False,
                        description="no journal: unmapped types",
                    ),
                    dg.AssetCheckResult(
                        check_name="clearing_equals_deposit",
                        passed=False,
                        description="no journal: unmapped types",
                    ),
                ],
            ),
            about,
        )

    assert back is not None
    unbalanced = [e.reference for e in back.entries if not e.is_balanced]
    mapped_lines = sum(
        ln.line_count for e in back.entries for ln in e.lines if ln.category is not None
    )
    return about_settlement(
        dg.MaterializeResult(
            metadata={
                "entries": len(back.entries),
                "references": ", ".join(e.reference for e in back.entries),
                "deposit": f"{money_str(back.deposit)} {back.currency}",
                "debits": money_str(back.total_debits),
                "credits": money_str(back.total_credits),
                "fingerprint": back.fingerprint(),
                "mapping": mapping.source(),
                "journal_preview": dg.MetadataValue.md(back.preview_markdown()),
                "dagster/row_count": written,
            },
            check_results=[
                dg.AssetCheckResult(
                    check_name="all_lines_mapped",
                    passed=mapped_lines == lines.height,
                    metadata={"lines": lines.height, "mapped_lines": mapped_lines},
                ),
                dg.AssetCheckResult(
                    check_name="entries_balance",
                    passed=not unbalanced,
                    metadata={"unbalanced": json.dumps(unbalanced)},
                ),
                dg.AssetCheckResult(
                    check_name="clearing_equals_deposit",
                    passed=back.clearing_total == back.deposit,
                    metadata={
                        "clearing_total": money_str(back.clearing_total),
                        "deposit": money_str(back.deposit),
                    },
                ),
            ],
        ),
        about,
    )
