"""Posting stage: the journal in each configured ERP, exactly once, verified by read-back."""

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import dagster as dg
import polars as pl

from mlc_assets.assets.common import (
    API_RETRY,
    OWNERS,
    about_settlement,
    fail_fast,
    markdown_table,
)
from mlc_assets.domain.journal import Journal
from mlc_assets.domain.money import money_str
from mlc_assets.domain.reference_check import deltek_problems, workday_problems
from mlc_assets.partitions import settlement_partitions
from mlc_assets.resources.archive import ArchiveResource
from mlc_assets.resources.erp import DeltekResource, WorkdayResource
from mlc_assets.resources.mapping import MappingResource
from mlc_assets.resources.warehouse import WarehouseResource
from mlc_assets.services.deltek_posting import DeltekAdapter, entry_batch
from mlc_assets.services.exactly_once import (
    ExactlyOncePoster,
    PostingOutcome,
    VerificationError,
    fingerprint,
)
from mlc_assets.services.reference_data import fetch_deltek_reference, fetch_workday_reference
from mlc_assets.services.workday_posting import WorkdayAdapter, plan_documents
from mlc_assets.storage.journals import read_journal
from mlc_assets.storage.reference import (
    deltek_frame,
    store_reference,
    stored_deltek_reference,
    stored_workday_reference,
    workday_frame,
)
from mlc_assets.storage.warehouse import WarehouseSession

Outcomes = list[PostingOutcome]


def _journal(session: WarehouseSession, settlement_id: str) -> Journal:
    journal = read_journal(session, settlement_id)
    if journal is None:
        raise dg.Failure(
            f"settlement {settlement_id} has no journal; materialize journal_entries first "
            "(an unmapped type or a failed check stops it)"
        )
    return journal


def _postings_table(outcomes: Outcomes, expected: dict[str, Any]) -> pl.DataFrame:
    """This run's documents as read back, beside what the journal meant (from the ledger of
    the poster's outcomes: ``posting_log`` holds every step)."""
    rows = []
    for o in outcomes:
        want_debits, want_credits = _document_totals(expected[o.reference])
        rows.append(
            {
                "reference": o.reference,
                "action": o.action,
                "document": o.remote_id,
                "journal debits": money_str(want_debits),
                "ERP debits": money_str(o.debits),
                "journal credits": money_str(want_credits),
                "ERP credits": money_str(o.credits),
            }
        )
    return pl.DataFrame(rows)


def _document_totals(doc: Any) -> tuple[Decimal, Decimal]:
    """A journal has both sides; a supplier invoice has one total, debited and credited."""
    if hasattr(doc, "total_debits"):
        return doc.total_debits, doc.total_credits
    return doc.total, doc.total


def _checks(
    target: str, journal: Journal, outcomes: Outcomes, expected: dict[str, Any]
) -> list[dg.AssetCheckResult]:
    """Both checks compare what the ERP holds, as read back, with the journal: they fail on a
    document whose amounts differ and on a reference the ERP holds more than once. The
    settlement they are about is added to each by ``about_settlement``."""
    wrong = []
    for o in outcomes:
        want = _document_totals(expected[o.reference])
        if o.differences or (o.debits, o.credits) != want:
            wrong.append(
                f"{o.reference}: ERP {money_str(o.debits)}/{money_str(o.credits)}, journal "
                f"{money_str(want[0])}/{money_str(want[1])} {journal.currency}"
                + (f" ({'; '.join(o.differences)})" if o.differences else "")
            )
    missing = sorted(set(expected) - {o.reference for o in outcomes})
    doubled = [f"{o.reference} ×{o.documents}" for o in outcomes if o.documents != 1]
    return [
        dg.AssetCheckResult(
            check_name=f"{target}_amounts_match_journal",
            passed=not wrong and not missing,
            description="\n".join(wrong + [f"{r}: not read back" for r in missing])
            or f"{len(outcomes)} documents read back equal the journal",
            metadata={"documents": len(outcomes), "mismatches": len(wrong)},
        ),
        dg.AssetCheckResult(
            check_name=f"{target}_one_document_per_reference",
            passed=not doubled and not missing,
            description=("ERP holds several documents under " + ", ".join(doubled))
            if doubled
            else f"one {target} document per reference",
            metadata={"references": ", ".join(o.reference for o in outcomes)},
        ),
    ]


def _refuse_if_missing(erp: str, problems: list[str], nothing_was: str, asset: str) -> None:
    """Reference data the mapping needs is absent: stop before the first call, no retry."""
    if problems:
        raise dg.Failure(
            f"{erp} does not have what the mapping posts to (nothing was {nothing_was}):\n"
            + "\n".join(problems)
            + f"\n(reference data as of the last {asset} run: rematerialize it after "
            "adding these in the ERP)",
            allow_retries=False,
        )


def _post_each(
    context: dg.AssetExecutionContext, poster: ExactlyOncePoster, documents: dict[str, Any]
) -> tuple[Outcomes, VerificationError | None]:
    """Each document through the exactly-once poster, in reference order as planned; a
    read-back that differs stops the posting and is reported by the checks."""
    outcomes: Outcomes = []
    for reference, doc in documents.items():
        try:
            outcome = poster.post(
                context.partition_key, reference, doc, fingerprint(doc.model_dump(mode="json"))
            )
        except VerificationError as exc:
            if exc.outcome is None:
                raise
            outcomes.append(exc.outcome)
            context.log.error(str(exc))
            return outcomes, exc
        outcomes.append(outcome)
        context.log.info(f"{reference}: {outcome.action} as {outcome.remote_id}")
    return outcomes, None


def _check_specs(target: str, asset: str) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            f"{target}_amounts_match_journal",
            asset=asset,
            blocking=True,
            description=f"Amounts read back from {target.title()} equal the journal.",
        ),
        dg.AssetCheckSpec(
            f"{target}_one_document_per_reference",
            asset=asset,
            blocking=True,
            description="Exactly one ERP document per deterministic reference, as read back.",
        ),
    ]


def _metadata(journal: Journal, outcomes: Outcomes, expected: dict[str, Any]) -> dict[str, object]:
    actions = [o.action for o in outcomes]
    return {
        "settlement_id": journal.settlement_id,
        "deposit": f"{money_str(journal.deposit)} {journal.currency}",
        "currency": journal.currency,
        "marketplace": journal.marketplace or "",
        "documents": ", ".join(o.remote_id for o in outcomes),
        "submitted": actions.count("submitted"),
        "adopted": actions.count("adopted"),
        "already_posted": actions.count("already_posted"),
        "postings": dg.MetadataValue.md(markdown_table(_postings_table(outcomes, expected))),
    }


def _result(
    target: str,
    journal: Journal,
    outcomes: Outcomes,
    expected: dict[str, Any],
    failure: VerificationError | None,
    extra: dict[str, object],
) -> dg.MaterializeResult:
    checks = _checks(target, journal, outcomes, expected)
    if failure is not None:
        # The blocking checks carry the detail; the run fails on them, not on a traceback.
        extra = {**extra, "verification": str(failure)}
    about = {
        "settlement_id": journal.settlement_id,
        "marketplace": journal.marketplace or "",
        "currency": journal.currency,
        "deposit": f"{money_str(journal.deposit)} {journal.currency}",
    }
    return about_settlement(
        dg.MaterializeResult(
            metadata={**extra, **_metadata(journal, outcomes, expected)}, check_results=checks
        ),
        about,
    )


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
    settings = workday.settings.get().workday
    supplier = settings.supplier_id if settings.posting_mode != "accounting_journal" else None
    with warehouse.get().session() as session:  # what posting reads, in one connection
        journal = _journal(session, settlement_id)
        reference = stored_workday_reference(session, supplier=supplier)
    company = settings.company_by_currency.get(journal.currency, settings.company)
    gl = mapping.load()
    payable = gl.account("payable", marketplace=journal.marketplace, currency=journal.currency)
    docs = dict(
        plan_documents(
            journal, mode=settings.posting_mode, company=company, payable=payable.workday
        )
    )
    with workday.client() as client:
        if reference is None:  # nothing stored yet (a new install): ask Workday once, keep it
            reference = fetch_workday_reference(client, supplier=supplier)
            store_reference(warehouse.get(), "workday", workday_frame(reference, supplier=supplier))
        problems = workday_problems(gl, reference, companies=[company], supplier=supplier)
        _refuse_if_missing("Workday", problems, "posted", "workday_reference_data")
        poster = ExactlyOncePoster(
            WorkdayAdapter(client), warehouse.get(), archive.archive(), run_id=context.run.run_id
        )
        outcomes, failure = _post_each(context, poster, docs)
    extra = {"company": company, "mode": settings.posting_mode}
    return _result("workday", journal, outcomes, docs, failure, extra)


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
    with warehouse.get().session() as session:  # what posting reads, in one connection
        journal = _journal(session, settlement_id)
        reference = stored_deltek_reference(session)
    batches = {entry.reference: entry_batch(journal, entry) for entry in journal.entries}
    with deltek.client() as (client, recorder):
        if reference is None:  # nothing stored yet (a new install): ask Deltek once, keep it
            reference = fetch_deltek_reference(client)
            store_reference(warehouse.get(), "deltek", deltek_frame(reference))
        problems = deltek_problems(mapping.load(), reference)
        _refuse_if_missing("Deltek", problems, "written", "deltek_reference_data")
        adapter = DeltekAdapter(client, recorder, batches)
        poster = ExactlyOncePoster(
            adapter, warehouse.get(), archive.archive(), run_id=context.run.run_id
        )
        outcomes, failure = _post_each(context, poster, batches)
    extra = {
        "batches": ", ".join(b.batch for b in batches.values()),
        "periods": ", ".join(sorted({str(o.remote.period) for o in outcomes})),
        "posting_sequence": ", ".join(str(o.remote.posting_sequence) for o in outcomes),
    }
    return _result("deltek", journal, outcomes, batches, failure, extra)


POSTING_ASSETS: dict[str, Callable[..., dg.MaterializeResult] | dg.AssetsDefinition] = {
    "workday": workday_posting,
    "deltek": deltek_posting,
}
