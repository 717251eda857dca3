"""Post a settlement journal to Workday, exactly once.

``accounting_journal`` (default): one Accounting Journal per journal entry, its
``Accounting_Journal_ID`` the entry's reference (``AMZ-<settlement>-<n>``). ``Add_Only`` makes
a blind resubmit fail as a duplicate instead of creating a second journal, and the lookup
before every submit adopts a journal an earlier run committed without hearing back.

``supplier_invoice``: one supplier invoice from Amazon per settlement with a line per
spend category, for the Amazon charges (fees, advertising, service fees: the lines that are
debits). ``both``: those charges as the supplier invoice and the proceeds as a journal.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from mlc_assets.clients.workday.client import WorkdayClient
from mlc_assets.clients.workday.models import (
    JournalLine,
    JournalRecord,
    SupplierInvoiceLine,
    SupplierInvoiceRecord,
    WorkdayJournal,
    WorkdaySupplierInvoice,
    Worktag,
)
from mlc_assets.domain.journal import Journal, JournalEntry
from mlc_assets.domain.mapping import WorkdayAccountRef
from mlc_assets.domain.money import ZERO
from mlc_assets.services.exactly_once import PostingError

PostingMode = Literal["accounting_journal", "supplier_invoice", "both"]


class WorkdayMappingError(PostingError):
    """A journal line has no Workday account (or spend category) in the mapping."""


def _worktags(ref: WorkdayAccountRef) -> tuple[Worktag, ...]:
    return tuple(Worktag(type=k, id=v) for k, v in sorted(ref.worktags.items()))


def _ref(entry: JournalEntry, key: str, ref: WorkdayAccountRef | None) -> WorkdayAccountRef:
    if ref is None:
        raise WorkdayMappingError(
            f"{entry.reference}: account key '{key}' has no Workday ledger account in the "
            "mapping (accounts.<key>.workday)"
        )
    return ref


def entry_journal(
    entry: JournalEntry,
    *,
    company: str,
    exclude_keys: frozenset[str] = frozenset(),
    offset: WorkdayAccountRef | None = None,
) -> WorkdayJournal:
    """The entry as a Workday journal; lines of ``exclude_keys`` (posted as a supplier
    invoice instead) are replaced by one line on ``offset``, the payable to Amazon that the
    invoice created and the payout settled."""
    lines = []
    moved = ZERO
    for ln in entry.postable_lines():
        if ln.account_key in exclude_keys:
            moved += ln.debit - ln.credit
            continue
        ref = _ref(entry, ln.account_key, ln.workday)
        lines.append(
            JournalLine(
                account=ref.ledger_account,
                debit=ln.debit,
                credit=ln.credit,
                memo=ln.memo[:200],
                worktags=_worktags(ref),
            )
        )
    if moved != ZERO:
        if offset is None:
            raise WorkdayMappingError("'both' mode needs accounts.payable.workday")
        lines.append(
            JournalLine(
                account=offset.ledger_account,
                debit=moved if moved > 0 else ZERO,
                credit=-moved if moved < 0 else ZERO,
                memo=f"Amazon charges invoiced separately ({entry.reference})",
                worktags=_worktags(offset),
            )
        )
    return WorkdayJournal(
        reference=entry.reference,
        company=company,
        currency=entry.currency,
        accounting_date=entry.posting_date,
        memo=entry.memo,
        lines=tuple(lines),
        account_set=None,
    )


def supplier_invoice(
    journal: Journal, *, company: str, reference: str
) -> tuple[WorkdaySupplierInvoice, frozenset[str]]:
    """The Amazon charges of the settlement as one invoice; returns the account keys it covers."""
    amounts: dict[str, Decimal] = {}
    covered: set[str] = set()
    tags: dict[str, tuple[Worktag, ...]] = {}
    for entry in journal.entries:
        for ln in entry.postable_lines():
            ref = ln.workday
            if ref is None or ref.spend_category is None or ln.category is None:
                continue
            covered.add(ln.account_key)
            # A charge is a debit (money Amazon kept); a credit on the same key reduces it.
            amounts[ref.spend_category] = amounts.get(ref.spend_category, ZERO) + (
                ln.debit - ln.credit
            )
            tags[ref.spend_category] = _worktags(ref)
    lines = tuple(
        SupplierInvoiceLine(
            spend_category=cat,
            amount=amount,
            description=f"Amazon {cat} settlement {journal.settlement_id}",
            worktags=tags[cat],
        )
        for cat, amount in sorted(amounts.items())
        if amount != ZERO
    )
    if not lines:
        raise WorkdayMappingError(
            f"settlement {journal.settlement_id} has no line with a Workday spend category; "
            "supplier_invoice mode needs accounts.<key>.workday.spend_category"
        )
    end = max(e.posting_date for e in journal.entries)
    return (
        WorkdaySupplierInvoice(
            reference=reference,
            company=company,
            currency=journal.currency,
            invoice_date=end,
            suppliers_invoice_number=reference,
            lines=lines,
            memo=f"Amazon charges, settlement {journal.settlement_id}",
        ),
        frozenset(covered),
    )


def plan_documents(
    journal: Journal,
    *,
    mode: PostingMode,
    company: str,
    payable: WorkdayAccountRef | None = None,
) -> list[tuple[str, WorkdayJournal | WorkdaySupplierInvoice]]:
    """(reference, document) pairs to post for this journal, in posting order."""
    docs: list[tuple[str, WorkdayJournal | WorkdaySupplierInvoice]] = []
    covered: frozenset[str] = frozenset()
    if mode in ("supplier_invoice", "both"):
        ref = f"AMZ-{journal.settlement_id}-INV"
        invoice, covered = supplier_invoice(journal, company=company, reference=ref)
        docs.append((ref, invoice))
    if mode in ("accounting_journal", "both"):
        exclude = covered if mode == "both" else frozenset()
        for entry in journal.entries:
            docs.append(
                (
                    entry.reference,
                    entry_journal(entry, company=company, exclude_keys=exclude, offset=payable),
                )
            )
    return docs


Remote = JournalRecord | SupplierInvoiceRecord


@dataclass
class WorkdayAdapter:
    """The ErpAdapter of ``services.exactly_once`` for Workday journals and invoices."""

    client: WorkdayClient
    target: str = "workday"

    def lookup(self, reference: str) -> Remote | None:
        if reference.endswith("-INV"):
            return self.client.find_supplier_invoice(reference)
        return self.client.find_journal(reference)

    def submit(self, document: WorkdayJournal | WorkdaySupplierInvoice) -> None:
        if isinstance(document, WorkdaySupplierInvoice):
            self.client.submit_supplier_invoice(document)
        else:
            self.client.submit_accounting_journal(document)

    def is_complete(self, remote: Remote) -> bool:
        return True  # submitted with Auto_Complete: Workday holds it as it will stay

    def finish(self, remote: Remote, document: WorkdayJournal | WorkdaySupplierInvoice) -> None:
        raise AssertionError("a Workday document is complete once found")  # pragma: no cover

    def totals(self, remote: Remote) -> tuple[Decimal, Decimal]:
        if isinstance(remote, SupplierInvoiceRecord):
            total = sum((ln.amount for ln in remote.lines), ZERO)
            return total, total
        return (
            sum((ln.debit for ln in remote.lines), ZERO),
            sum((ln.credit for ln in remote.lines), ZERO),
        )

    def documents(self, remote: Remote) -> int:
        return 1  # the client refuses an answer with two documents under one reference

    def differences(
        self, remote: Remote, document: WorkdayJournal | WorkdaySupplierInvoice
    ) -> list[str]:
        if isinstance(document, WorkdaySupplierInvoice):
            assert isinstance(remote, SupplierInvoiceRecord)
            want = Counter((ln.spend_category, ln.amount) for ln in document.lines)
            have = Counter((ln.spend_category, ln.amount) for ln in remote.lines)
        else:
            assert isinstance(remote, JournalRecord)
            want = Counter((ln.account, ln.debit - ln.credit) for ln in document.lines)
            have = Counter((ln.account, ln.debit - ln.credit) for ln in remote.lines)
        problems = []
        if remote.currency and remote.currency != document.currency:
            problems.append(f"currency {remote.currency} != {document.currency}")
        for item in sorted((want - have).keys(), key=str):
            problems.append(f"missing in Workday: {item[0]} {item[1]:.2f}")
        for item in sorted((have - want).keys(), key=str):
            problems.append(f"unexpected in Workday: {item[0]} {item[1]:.2f}")
        return problems

    def remote_id(self, remote: Remote) -> str:
        number = getattr(remote, "journal_number", None) or getattr(remote, "invoice_number", None)
        return (
            f"{remote.reference_id}"
            + (f" ({number})" if number else "")
            + (f" wid={remote.wid}" if remote.wid else "")
        )

    def exchanges(self) -> list[tuple[str, bytes]]:
        return self.client.drain_exchanges()
