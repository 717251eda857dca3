"""Posting stage: the journal in each configured ERP, exactly once, verified by read-back."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import dagster as dg
import polars as pl

from mlc_assets.assets.common import API_RETRY, OWNERS, fail_fast, markdown_table
from mlc_assets.assets.journal import load_journal
from mlc_assets.domain.journal import Journal
from mlc_assets.domain.money import money_str
from mlc_assets.domain.reference_check import deltek_problems, workday_problems
from mlc_assets.partitions import settlement_partitions
from mlc_assets.resources.archive import ArchiveResource
from mlc_assets.resources.erp import DeltekResource, WorkdayResource
from mlc_assets.resources.mapping import MappingResource
from mlc_assets.resources.warehouse import WarehouseResource
from mlc_assets.services.deltek_posting import DeltekAdapter, entry_batch
from mlc_assets.services.exactly_once import ExactlyOncePoster, PostingOutcome, fingerprint
from mlc_assets.services.reference_data import read_deltek_reference, read_workday_reference
from mlc_assets.services.workday_posting import WorkdayAdapter, plan_documents

POSTINGS_TABLE = "erp_postings"
POSTINGS_SCHEMA: dict[str, pl.DataType] = {
    "settlement_id": pl.Utf8(),
    "target": pl.Utf8(),
    "reference": pl.Utf8(),
    "action": pl.Utf8(),
    "remote_id": pl.Utf8(),
    "debits": pl.Decimal(18, 2),
    "credits": pl.Decimal(18, 2),
    "currency": pl.Utf8(),
    "journal_fingerprint": pl.Utf8(),
    "payload_sha256": pl.Utf8(),
}

Outcomes = list[tuple[PostingOutcome, Decimal, Decimal]]  # outcome, debits, credits


def _journal(warehouse: WarehouseResource, settlement_id: str) -> Journal:
    journal = load_journal(warehouse, settlement_id)
    if journal is None:
        raise dg.Failure(
            f"settlement {settlement_id} has no journal; materialize journal_entries first "
            "(an unmapped type or a failed check stops it)"
        )
    return journal


def _record(
    warehouse: WarehouseResource,
    settlement_id: str,
    target: str,
    journal: Journal,
    outcomes: Outcomes,
) -> pl.DataFrame:
    journal_fingerprint = journal.fingerprint()
    rows = [
        {
            "settlement_id": settlement_id,
            "target": target,
            "reference": o.reference,
            "action": o.action,
            "remote_id": o.remote_id,
            "debits": debits,
            "credits": credits,
            "currency": journal.currency,
            "journal_fingerprint": journal_fingerprint,
            "payload_sha256": ",".join(o.payload_refs),
        }
        for o, debits, credits in outcomes
    ]
    frame = pl.DataFrame(rows, schema=POSTINGS_SCHEMA)
    # Keep other targets' rows: replace only this target's rows of the partition.
    others = warehouse.get().read_partition(POSTINGS_TABLE, settlement_id)
    if others.height:
        others = others.filter(pl.col("target") != target).select(list(POSTINGS_SCHEMA))
        frame = pl.concat([others.cast(POSTINGS_SCHEMA), frame])  # type: ignore[arg-type]
    warehouse.get().replace_partition({POSTINGS_TABLE: frame}, key=settlement_id)
    return frame


def _checks(target: str, outcomes: Outcomes, expected: dict[str, Any]) -> list[dg.AssetCheckResult]:
    refs = [o.reference for o, _, _ in outcomes]
    return [
        dg.AssetCheckResult(
            check_name=f"{target}_amounts_match_journal",
            passed=len(outcomes) == len(expected),
            description="Every document was read back and its lines equal the journal's.",
            metadata={"documents": len(outcomes), "expected": len(expected)},
        ),
        dg.AssetCheckResult(
            check_name=f"{target}_one_document_per_reference",
            passed=len(set(refs)) == len(refs) == len(expected),
            metadata={"references": ", ".join(refs)},
        ),
    ]


def _refuse_if_missing(erp: str, problems: list[str], nothing_was: str) -> None:
    """Reference data the mapping needs is absent: stop before the first call, no retry."""
    if problems:
        raise dg.Failure(
            f"{erp} does not have what the mapping posts to (nothing was {nothing_was}):\n"
            + "\n".join(problems),
            allow_retries=False,
        )


def _post_each(
    context: dg.AssetExecutionContext,
    poster: ExactlyOncePoster,
    documents: dict[str, Any],
    totals: Callable[[Any], tuple[Decimal, Decimal]],
) -> Outcomes:
    """Each document through the exactly-once poster, in reference order as planned."""
    outcomes: Outcomes = []
    for reference, doc in documents.items():
        outcome = poster.post(
            context.partition_key, reference, doc, fingerprint(doc.model_dump(mode="json"))
        )
        outcomes.append((outcome, *totals(doc)))
        context.log.info(f"{reference}: {outcome.action} as {outcome.remote_id}")
    return outcomes


def _workday_totals(doc: Any) -> tuple[Decimal, Decimal]:
    """A journal has both sides; a supplier invoice has one total, debited and credited."""
    if hasattr(doc, "total_debits"):
        return doc.total_debits, doc.total_credits
    return doc.total, doc.total


def _check_specs(target: str, asset: str) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            f"{target}_amounts_match_journal",
            asset=asset,
            description=f"Amounts read back from {target.title()} equal the journal.",
        ),
        dg.AssetCheckSpec(
            f"{target}_one_document_per_reference",
            asset=asset,
            description="Exactly one ERP document per deterministic reference.",
        ),
    ]


def _metadata(
    target: str, journal: Journal, frame: pl.DataFrame, outcomes: Outcomes
) -> dict[str, object]:
    actions = [o.action for o, _, _ in outcomes]
    return {
        "deposit": f"{money_str(journal.deposit)} {journal.currency}",
        "marketplace": journal.marketplace or "",
        "documents": ", ".join(o.remote_id for o, _, _ in outcomes),
        "submitted": actions.count("submitted"),
        "adopted": actions.count("adopted"),
        "already_posted": actions.count("already_posted"),
        "postings": dg.MetadataValue.md(
            markdown_table(frame.filter(pl.col("target") == target).drop("payload_sha256"))
        ),
    }


@dg.asset(
    partitions_def=settlement_partitions,
    deps=["journal_entries", "workday_reference_data"],
    group_name="posting",
    kinds={"workday", "soap"},
    owners=OWNERS,
    pool="workday",
    retry_policy=API_RETRY,
    description=(
        "The settlement's journal in Workday Financial Management: accounting journals "
        "(default), an Amazon supplier invoice, or both. The intent is recorded before every "
        "call, the reference is looked up before any submit and read back after it, so a "
        "rerun or a crash never posts twice."
    ),
    check_specs=_check_specs("workday", "workday_posting"),
)
@fail_fast
def workday_posting(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    archive: ArchiveResource,
    workday: WorkdayResource,
    mapping: MappingResource,
) -> dg.MaterializeResult:
    settlement_id = context.partition_key
    journal = _journal(warehouse, settlement_id)
    settings = workday.settings().workday
    company = settings.company_by_currency.get(journal.currency, settings.company)
    gl = mapping.load()
    payable = gl.account("payable", marketplace=journal.marketplace, currency=journal.currency)
    docs = dict(
        plan_documents(
            journal, mode=settings.posting_mode, company=company, payable=payable.workday
        )
    )
    with workday.client() as client:
        supplier = settings.supplier_id if settings.posting_mode != "accounting_journal" else None
        reference = read_workday_reference(client, supplier=supplier)
        problems = workday_problems(gl, reference, companies=[company], supplier=supplier)
        _refuse_if_missing("Workday", problems, nothing_was="posted")
        poster = ExactlyOncePoster(
            WorkdayAdapter(client), warehouse.get(), archive.archive(), run_id=context.run.run_id
        )
        outcomes = _post_each(context, poster, docs, _workday_totals)
    frame = _record(warehouse, settlement_id, "workday", journal, outcomes)
    return dg.MaterializeResult(
        metadata={
            "company": company,
            "mode": settings.posting_mode,
            **_metadata("workday", journal, frame, outcomes),
        },
        check_results=_checks("workday", outcomes, docs),
    )


@dg.asset(
    partitions_def=settlement_partitions,
    deps=["journal_entries", "deltek_reference_data"],
    group_name="posting",
    kinds={"deltek", "rest"},
    owners=OWNERS,
    pool="deltek",
    retry_policy=API_RETRY,
    description=(
        "The settlement's journal in Deltek Vantagepoint as a JE batch (AMZ<settlement>), "
        "written and posted exactly once: intent recorded first, batch looked up both "
        "unposted and posted, read back from the ledger after posting."
    ),
    check_specs=_check_specs("deltek", "deltek_posting"),
)
@fail_fast
def deltek_posting(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    archive: ArchiveResource,
    deltek: DeltekResource,
    mapping: MappingResource,
) -> dg.MaterializeResult:
    settlement_id = context.partition_key
    journal = _journal(warehouse, settlement_id)
    batches = {entry.reference: entry_batch(journal, entry) for entry in journal.entries}
    with deltek.client() as (client, recorder):
        problems = deltek_problems(mapping.load(), read_deltek_reference(client))
        _refuse_if_missing("Deltek", problems, nothing_was="written")
        adapter = DeltekAdapter(client, recorder, batches)
        poster = ExactlyOncePoster(
            adapter, warehouse.get(), archive.archive(), run_id=context.run.run_id
        )
        outcomes = _post_each(context, poster, batches, lambda b: (b.total_debits, b.total_credits))
    frame = _record(warehouse, settlement_id, "deltek", journal, outcomes)
    periods = sorted({str(o.remote.period) for o, _, _ in outcomes})
    return dg.MaterializeResult(
        metadata={
            "batches": ", ".join(b.batch for b in batches.values()),
            "periods": ", ".join(periods),
            "posting_sequence": ", ".join(str(o.remote.posting_sequence) for o, _, _ in outcomes),
            **_metadata("deltek", journal, frame, outcomes),
        },
        check_results=_checks("deltek", outcomes, batches),
    )


POSTING_ASSETS: dict[str, Callable[..., dg.MaterializeResult] | dg.AssetsDefinition] = {
    "workday": workday_posting,
    "deltek": deltek_posting,
}
