"""Post a settlement journal to Deltek Vantagepoint as JE batches, exactly once.

One batch per journal entry (one per settlement unless the month split makes several):
``AMZ<settlement>`` or ``AMZ<settlement>-<n>``. A batch written but not yet posted (a crash
between the two calls) is verified and posted, never written again.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from mlc_assets.clients.deltek.client import DeltekClient
from mlc_assets.clients.deltek.models import (
    BatchRecord,
    DeltekJournalBatch,
    DeltekJournalLine,
    batch_name,
)
from mlc_assets.clients.http_exchanges import HttpExchangeRecorder
from mlc_assets.domain.journal import Journal, JournalEntry
from mlc_assets.services.exactly_once import PostingError

DESCRIPTION_MAX = 40  # Deltek's JE description column is short; keep memos readable


class DeltekMappingError(PostingError):
    """A journal line has no Deltek account in the mapping."""


def entry_batch(journal: Journal, entry: JournalEntry) -> DeltekJournalBatch:
    part = entry.entry_no if len(journal.entries) > 1 else None
    name = batch_name(journal.settlement_id, part=part)
    lines = []
    for ln in entry.postable_lines():
        if ln.deltek is None:
            raise DeltekMappingError(
                f"{entry.reference}: account key '{ln.account_key}' has no Deltek account "
                "in the mapping (accounts.<key>.deltek)"
            )
        lines.append(
            DeltekJournalLine(
                account=ln.deltek.account,
                wbs1=ln.deltek.wbs1 or "",
                wbs2=ln.deltek.wbs2 or "",
                wbs3=ln.deltek.wbs3 or "",
                # A project line takes its org from the project (Deltek refuses a
                # different one); the mapping's org applies to lines without a project.
                org="" if ln.deltek.wbs1 else (ln.deltek.org or ""),
                debit=ln.debit,
                credit=ln.credit,
                description=ln.memo[:DESCRIPTION_MAX],
                transaction_date=entry.posting_date,
            )
        )
    ref_no = f"{journal.settlement_id}{entry.entry_no}"[-12:]
    return DeltekJournalBatch(
        batch=name,
        posting_date=entry.posting_date,
        description=entry.memo[:DESCRIPTION_MAX],
        ref_no=ref_no,
        currency=journal.currency,
        lines=lines,
    )


@dataclass
class DeltekAdapter:
    """The ErpAdapter of ``services.exactly_once`` for Deltek JE batches."""

    client: DeltekClient
    recorder: HttpExchangeRecorder
    batches: dict[str, DeltekJournalBatch] = field(default_factory=dict)
    target: str = "deltek"

    def lookup(self, reference: str) -> BatchRecord | None:
        # Posted (ledger) or only written (data entry): the poster finishes an unposted one.
        return self.client.find_batch(self.batches[reference].batch, "JE")

    def submit(self, document: DeltekJournalBatch) -> None:
        written = self.client.write_batch(document)
        self._post(document, written.period)

    def is_complete(self, remote: BatchRecord) -> bool:
        return remote.posted

    def finish(self, remote: BatchRecord, document: DeltekJournalBatch) -> None:
        self._post(document, remote.period)

    def _post(self, document: DeltekJournalBatch, period: int | None) -> None:
        if period is None:
            period = self.client.resolve_period(document.posting_date).period
        self.client.post_batch(document.batch, period=period, description=document.description)

    def differences(self, remote: BatchRecord, document: DeltekJournalBatch) -> list[str]:
        return remote.differences(document)

    def totals(self, remote: BatchRecord) -> tuple[Decimal, Decimal]:
        return remote.total_debits, remote.total_credits

    def documents(self, remote: BatchRecord) -> int:
        return remote.sequences

    def remote_id(self, remote: BatchRecord) -> str:
        seq = f"#{remote.posting_sequence}" if remote.posting_sequence is not None else ""
        return f"{remote.batch}{seq}@{remote.period}"

    def exchanges(self) -> list[tuple[str, bytes]]:
        return self.recorder.drain()
