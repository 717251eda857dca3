"""Exactly-once posting to the real Workday sandbox (SOAP over a loopback socket, real zeep):
submit once, adopt after a lost response, refuse a changed journal, surface validation
faults, and the supplier-invoice / both plans."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest

from mlc_assets.clients.workday import JournalLine, WorkdayClient, WorkdayJournal
from mlc_assets.clients.workday.faults import WorkdayValidationError
from mlc_assets.domain.journal import Journal
from mlc_assets.domain.mapping import load_mapping
from mlc_assets.domain.money import ZERO
from mlc_assets.services.exactly_once import (
    ExactlyOncePoster,
    PostedDocumentChangedError,
    PostingOutcome,
    fingerprint,
)
from mlc_assets.services.workday_posting import (
    WorkdayAdapter,
    WorkdaySupplierInvoice,
    entry_journal,
    plan_documents,
)
from mlc_assets.storage.archive import RawArchive
from mlc_assets.storage.warehouse import Warehouse
from mlc_assets_tests.clients.workday_fixtures import Sandbox, make_client, running_sandbox
from mlc_assets_tests.services.conftest import count_action, posting_actions

COMPANY = "US01"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with running_sandbox() as s:
        yield s


@pytest.fixture
def client(sandbox: Sandbox) -> WorkdayClient:
    return make_client(sandbox.url)


@pytest.fixture
def journal(make_journal: Callable[..., Journal]) -> Journal:
    return make_journal()


def _poster(client: WorkdayClient, warehouse: Warehouse, archive: RawArchive) -> ExactlyOncePoster:
    return ExactlyOncePoster(WorkdayAdapter(client), warehouse, archive, run_id="test")


def _post(
    poster: ExactlyOncePoster, journal: Journal, doc: WorkdayJournal | WorkdaySupplierInvoice
) -> PostingOutcome:
    return poster.post(
        journal.settlement_id, doc.reference, doc, fingerprint(doc.model_dump(mode="json"))
    )


def _journal_doc(journal: Journal) -> WorkdayJournal:
    return entry_journal(journal.entries[0], company=COMPANY)


def _submits(sandbox: Sandbox) -> int:
    stats = sandbox.stats()
    return stats.get("op:Submit_Accounting_Journal", 0) + stats.get("op:Submit_Supplier_Invoice", 0)


def _journals_for(sandbox: Sandbox, reference: str) -> list[dict]:
    return [j for j in sandbox.journals() if reference in str(j)]


def test_first_post_submits_second_finds_it_without_submitting(
    sandbox: Sandbox,
    client: WorkdayClient,
    journal: Journal,
    warehouse: Warehouse,
    archive: RawArchive,
) -> None:
    doc = _journal_doc(journal)
    poster = _poster(client, warehouse, archive)
    first = _post(poster, journal, doc)
    assert first.action == "submitted"
    assert first.reference == doc.reference == f"AMZ-{journal.settlement_id}-1"
    assert first.payload_refs and all(
        archive.exists("workday-exchange", s) for s in first.payload_refs
    )
    assert _submits(sandbox) == 1
    assert sandbox.stats()["journals_committed"] == 1
    assert posting_actions(warehouse, doc.reference) == ["intent", "submitted", "verified"]

    second = _post(_poster(client, warehouse, archive), journal, doc)
    assert second.action == "already_posted"
    assert second.remote_id == first.remote_id
    assert _submits(sandbox) == 1  # no second submit at all
    assert sandbox.stats()["journals_committed"] == 1
    assert len(_journals_for(sandbox, doc.reference)) == 1
    assert count_action(warehouse, "submitted") == 1


def test_lost_commit_response_is_adopted_not_resubmitted(
    sandbox: Sandbox,
    client: WorkdayClient,
    journal: Journal,
    warehouse: Warehouse,
    archive: RawArchive,
) -> None:
    sandbox.arm("commit_drop:1")
    doc = _journal_doc(journal)
    outcome = _post(_poster(client, warehouse, archive), journal, doc)
    assert outcome.action == "adopted"
    assert sandbox.stats()["injected:commit_drop"] == 1
    assert sandbox.stats()["journals_committed"] == 1
    assert len(_journals_for(sandbox, doc.reference)) == 1
    assert posting_actions(warehouse, doc.reference) == ["intent", "adopted", "verified"]
    # A rerun afterwards does not post either.
    again = _post(_poster(client, warehouse, archive), journal, doc)
    assert again.action == "already_posted"
    assert sandbox.stats()["journals_committed"] == 1


def test_changed_journal_after_posting_is_refused(
    sandbox: Sandbox,
    client: WorkdayClient,
    journal: Journal,
    warehouse: Warehouse,
    archive: RawArchive,
) -> None:
    doc = _journal_doc(journal)
    poster = _poster(client, warehouse, archive)
    _post(poster, journal, doc)
    # Move a cent between two debit lines: still balanced, but not what was posted.
    lines = list(doc.lines)
    debit_idx = [i for i, ln in enumerate(lines) if ln.debit > ZERO][:2]
    a, b = debit_idx
    lines[a] = lines[a].model_copy(update={"debit": lines[a].debit + Decimal("0.01")})
    lines[b] = lines[b].model_copy(update={"debit": lines[b].debit - Decimal("0.01")})
    changed = doc.model_copy(update={"lines": tuple(lines)})
    with pytest.raises(PostedDocumentChangedError, match=doc.reference) as info:
        _post(poster, journal, changed)
    assert "reverse it in the ERP" in str(info.value)
    assert _submits(sandbox) == 1
    assert len(_journals_for(sandbox, doc.reference)) == 1
    assert posting_actions(warehouse, doc.reference)[-1] == "failed"


def test_validation_fault_carries_workday_message_and_xpath(
    sandbox: Sandbox,
    client: WorkdayClient,
    journal: Journal,
    warehouse: Warehouse,
    archive: RawArchive,
) -> None:
    doc = _journal_doc(journal)
    bad_lines = [
        ln.model_copy(update={"account": "9999"}) if i == 0 else ln
        for i, ln in enumerate(doc.lines)
    ]
    bad = doc.model_copy(update={"lines": tuple(bad_lines)})
    with pytest.raises(WorkdayValidationError) as info:
        _post(_poster(client, warehouse, archive), journal, bad)
    message = str(info.value)
    assert "9999" in message
    assert "Invalid ID value" in message
    assert "(at " in message and "Ledger_Account" in message  # the XPath of the bad field
    assert sandbox.stats().get("journals_committed", 0) == 0
    actions = posting_actions(warehouse, doc.reference)
    assert actions == ["intent", "failed"]
    detail = warehouse.query("SELECT detail FROM posting_log WHERE action = 'failed'")["detail"][0]
    assert "9999" in detail


def test_supplier_invoice_plan_sums_the_charges(journal: Journal) -> None:
    docs = plan_documents(journal, mode="supplier_invoice", company=COMPANY)
    ((reference, invoice),) = docs
    assert isinstance(invoice, WorkdaySupplierInvoice)
    assert reference == invoice.reference == f"AMZ-{journal.settlement_id}-INV"
    charges: dict[str, Decimal] = {}
    for entry in journal.entries:
        for ln in entry.postable_lines():
            if ln.workday is not None and ln.workday.spend_category:
                cat = ln.workday.spend_category
                charges[cat] = charges.get(cat, ZERO) + ln.debit - ln.credit
    assert {ln.spend_category: ln.amount for ln in invoice.lines} == {
        k: v for k, v in charges.items() if v != ZERO
    }
    assert invoice.total == sum(charges.values(), ZERO) > ZERO


def test_both_mode_documents_balance_and_post(
    sandbox: Sandbox,
    client: WorkdayClient,
    journal: Journal,
    warehouse: Warehouse,
    archive: RawArchive,
) -> None:
    payable = load_mapping().account("payable", currency=journal.currency).workday
    docs = plan_documents(journal, mode="both", company=COMPANY, payable=payable)
    invoice = docs[0][1]
    journals = [d for _, d in docs[1:]]
    assert isinstance(invoice, WorkdaySupplierInvoice)
    assert len(journals) == len(journal.entries)
    for j in journals:
        assert isinstance(j, WorkdayJournal)
        assert j.total_debits == j.total_credits
        assert payable is not None
        payable_lines = [ln for ln in j.lines if ln.account == payable.ledger_account]
        # The invoice credits the payable to Amazon; the payout, net of those charges,
        # settles it with one debit of the same amount.
        assert len(payable_lines) == 1
        assert sum((ln.debit - ln.credit for ln in payable_lines), ZERO) == invoice.total
        spend_accounts = {
            ln.workday.ledger_account
            for e in journal.entries
            for ln in e.postable_lines()
            if ln.workday is not None and ln.workday.spend_category
        }
        assert not spend_accounts & {ln.account for ln in j.lines}

    poster = _poster(client, warehouse, archive)
    outcomes = [_post(poster, journal, d) for _, d in docs]
    assert [o.action for o in outcomes] == ["submitted"] * len(docs)
    stats = sandbox.stats()
    assert stats["supplier_invoices_committed"] == 1
    assert stats["journals_committed"] == len(journals)
    assert [_post(poster, journal, d).action for _, d in docs] == ["already_posted"] * len(docs)
    assert _submits(sandbox) == len(docs)


def test_journal_line_type_is_the_clients(journal: Journal) -> None:
    doc = _journal_doc(journal)
    assert all(isinstance(ln, JournalLine) for ln in doc.lines)
    assert doc.total_debits == doc.total_credits == journal.entries[0].total_debits


def test_happy_path_reads_each_journal_twice_lookup_and_read_back(
    sandbox: Sandbox,
    client: WorkdayClient,
    journal: Journal,
    warehouse: Warehouse,
    archive: RawArchive,
) -> None:
    """The poster is the one owner of lookups: Get_Journals once before the submit and once
    after it (it was three times when the adapter looked the journal up again itself)."""
    doc = _journal_doc(journal)
    before = sandbox.stats().get("op:Get_Journals", 0)
    _post(_poster(client, warehouse, archive), journal, doc)
    assert sandbox.stats().get("op:Get_Journals", 0) - before == 2
    assert _submits(sandbox) == 1
    # A rerun: the lookup and the read-back, and nothing written.
    _post(_poster(client, warehouse, archive), journal, doc)
    assert sandbox.stats().get("op:Get_Journals", 0) - before == 4
    assert _submits(sandbox) == 1
