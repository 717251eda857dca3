"""Exactly-once posting of one document to an ERP that has no idempotency key.

The connector owns idempotency (``docs/architecture.md``, "Exactly once"), and this class is
its one owner:

1. every document has a deterministic external reference (``AMZ-<settlement>-<n>``);
2. the intent is recorded in the warehouse *before* the ERP is called;
3. the ERP is asked whether the reference exists; if so the document is adopted and verified
   (finished first when the ERP holds it half done, e.g. a Deltek batch written, not posted);
4. only then is it submitted; a failed submit is followed by another lookup, because
   "committed, then lost the response" looks like a failure (clients say so with
   ``OutcomeUnknownError``); a document the lookup does not find was not written, and a
   transient failure is submitted again, a few times at most;
5. after writing, the document is read back and compared with what was meant.

On the happy path that is two ERP reads per document: the lookup and the read-back. Adapters
and clients do one thing per call and never look a document up on their own.

A document already posted whose content has since changed is never posted again: the caller
gets ``PostedDocumentChangedError`` and must reverse it in the ERP first.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Generic, Protocol, TypeVar

import polars as pl

from mlc_assets.errors import ApiError, MlcError
from mlc_assets.storage.archive import RawArchive
from mlc_assets.storage.tables import POSTING_LOG
from mlc_assets.storage.warehouse import Warehouse, WarehouseSession

DocT = TypeVar("DocT")
RemoteT = TypeVar("RemoteT")

# How many times a document whose submit failed transiently, and which the ERP then does not
# hold, is submitted again before the step gives up (the step's retry policy follows).
SUBMIT_ATTEMPTS = 3


class PostingError(MlcError):
    """The document could not be posted; the message says why and what to do."""


class PostedDocumentChangedError(PostingError):
    """A posted document's journal changed afterwards; posting again would double-post."""


class VerificationError(PostingError):
    """The ERP holds the reference, but its amounts differ from the journal."""

    def __init__(self, message: str, *, outcome: PostingOutcome | None = None) -> None:
        super().__init__(message)
        self.outcome = outcome  # what the read-back showed, for the posting checks


class ErpAdapter(Protocol[DocT, RemoteT]):
    """What one ERP target must provide to be posted to exactly once. Each method is one
    ERP operation; none looks a document up on its own."""

    target: str

    def lookup(self, reference: str) -> RemoteT | None:
        """The document the ERP holds under ``reference`` (finished or not), or None."""
        ...

    def submit(self, document: DocT) -> None:
        """Write (and, where the ERP has a second step, post) the document."""
        ...

    def is_complete(self, remote: RemoteT) -> bool:
        """Whether the ERP's document is final (a Deltek batch: posted)."""
        ...

    def finish(self, remote: RemoteT, document: DocT) -> None:
        """Complete a document the ERP holds half done (only called when not complete)."""
        ...

    def differences(self, remote: RemoteT, document: DocT) -> list[str]: ...

    def totals(self, remote: RemoteT) -> tuple[Decimal, Decimal]:
        """Debits and credits of the document as the ERP holds it."""
        ...

    def documents(self, remote: RemoteT) -> int:
        """How many ERP documents the read-back found under the reference."""
        ...

    def remote_id(self, remote: RemoteT) -> str: ...

    def exchanges(self) -> list[tuple[str, bytes]]:
        """Raw request/response payloads since the last call, as (label, bytes), for audit."""
        ...


@dataclass
class PostingOutcome(Generic[RemoteT]):
    reference: str
    action: str  # "submitted" | "adopted" | "already_posted"
    remote_id: str
    remote: RemoteT
    payload_refs: list[str] = field(default_factory=list)
    # What the read-back shows: debits, credits, documents under the reference, differences.
    debits: Decimal = Decimal("0")
    credits: Decimal = Decimal("0")
    documents: int = 1
    differences: list[str] = field(default_factory=list)


def fingerprint(payload: object) -> str:
    """A stable hash of what is being posted, to detect a journal that changed later."""
    text = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class ExactlyOncePoster(Generic[DocT, RemoteT]):
    """Posts documents through an adapter, recording every step in ``posting_log``.

    Each document opens the warehouse twice: for the intent, before any ERP call, and for
    the outcome, after the read-back (each row commits on its own, so a crash at any point
    leaves the intent behind).
    """

    adapter: ErpAdapter[DocT, RemoteT]
    warehouse: Warehouse
    archive: RawArchive
    run_id: str = ""
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def _log(
        self,
        session: WarehouseSession | None,
        settlement_id: str,
        reference: str,
        action: str,
        fp: str,
        *,
        remote_id: str = "",
        detail: str = "",
        payload_sha256: str = "",
    ) -> None:
        row = {
            "settlement_id": settlement_id,
            "target": self.adapter.target,
            "reference": reference,
            "action": action,
            "fingerprint": fp,
            "remote_id": remote_id,
            "detail": detail,
            "payload_sha256": payload_sha256,
            "at": self.clock(),
            "run_id": self.run_id,
        }
        frame = pl.DataFrame([row], schema=dict(POSTING_LOG.schema))
        if session is not None:
            session.append(POSTING_LOG.name, frame)
        else:  # a failure between the ERP calls: its own short connection
            self.warehouse.append(POSTING_LOG.name, frame)

    def _archive_exchanges(self, settlement_id: str, reference: str) -> list[str]:
        refs = []
        for label, data in self.adapter.exchanges():
            ref = self.archive.put(
                f"{self.adapter.target}-exchange",
                data,
                meta={"settlement_id": settlement_id, "reference": reference, "label": label},
            )
            refs.append(ref.sha256)
        return refs

    def _posted_fingerprint(self, session: WarehouseSession, reference: str) -> str | None:
        rows = session.query(
            "SELECT fingerprint FROM posting_log WHERE target = ? AND reference = ? "
            "AND action IN ('submitted', 'adopted', 'already_posted') ORDER BY \"at\" DESC LIMIT 1",
            [self.adapter.target, reference],
        )
        return rows["fingerprint"][0] if rows.height else None

    def _remote_ids(self, session: WarehouseSession, reference: str) -> set[str]:
        """Every ERP document this reference was ever posted or adopted as."""
        rows = session.query(
            "SELECT DISTINCT remote_id FROM posting_log WHERE target = ? "
            "AND reference = ? AND action IN ('submitted', 'adopted', 'already_posted')",
            [self.adapter.target, reference],
        )
        return set(rows["remote_id"].to_list()) if rows.height else set()

    def post(
        self, settlement_id: str, reference: str, document: DocT, fp: str
    ) -> PostingOutcome[RemoteT]:
        adapter = self.adapter
        # The warehouse is opened before the ERP calls and after them, never during: DuckDB
        # lets one process write the file, and an ERP retry can take minutes.
        with self.warehouse.session() as session:
            previous = self._posted_fingerprint(session, reference)
            if previous is not None and previous != fp:
                self._log(session, settlement_id, reference, "failed", fp, detail="journal changed")
                raise PostedDocumentChangedError(
                    f"{adapter.target} document {reference} was posted from a different "
                    f"journal (fingerprint {previous[:12]}…, now {fp[:12]}…). It is not posted "
                    "again; reverse it in the ERP and clear the posting record to repost."
                )
            self._log(session, settlement_id, reference, "intent", fp)

        remote = adapter.lookup(reference)
        action = "already_posted" if previous is not None else "adopted"
        if remote is None or not adapter.is_complete(remote):
            action = self._write(settlement_id, reference, document, fp, remote)
        payloads = self._archive_exchanges(settlement_id, reference)

        # Read back what the ERP holds now and compare it with what we meant.
        readback = adapter.lookup(reference)
        diffs = [] if readback is None else adapter.differences(readback, document)
        self._archive_exchanges(settlement_id, reference)
        with self.warehouse.session() as session:
            if readback is None or not adapter.is_complete(readback):
                self._log(
                    session, settlement_id, reference, "failed", fp, detail="not on read-back"
                )
                raise VerificationError(
                    f"{adapter.target} accepted {reference} but does not show it "
                    f"{'at all' if readback is None else 'as posted'} on read-back"
                )
            rid = adapter.remote_id(readback)
            self._log(
                session,
                settlement_id,
                reference,
                action,
                fp,
                remote_id=rid,
                payload_sha256=",".join(payloads),
            )
            debits, credits = adapter.totals(readback)
            ever = len(self._remote_ids(session, reference))
            outcome = PostingOutcome(
                reference,
                action,
                rid,
                readback,
                payloads,
                debits,
                credits,
                max(adapter.documents(readback), ever),
                diffs,
            )
            if diffs:
                detail = "; ".join(diffs)
                self._log(
                    session, settlement_id, reference, "failed", fp, remote_id=rid, detail=detail
                )
                raise VerificationError(
                    f"{adapter.target} document {reference} differs from the journal: {detail}",
                    outcome=outcome,
                )
            self._log(session, settlement_id, reference, "verified", fp, remote_id=rid)
        return outcome

    def _write(
        self,
        settlement_id: str,
        reference: str,
        document: DocT,
        fp: str,
        remote: RemoteT | None,
    ) -> str:
        """Submit the document, or finish the one the ERP holds half done. After a failure
        the reference is looked up: complete means the write landed (adopt it); absent or
        unfinished means it did not, and a transient failure is tried again."""
        adapter = self.adapter
        for attempt in range(1, SUBMIT_ATTEMPTS + 1):
            try:
                if remote is None:
                    adapter.submit(document)
                else:
                    self._refuse_if_different(settlement_id, reference, document, fp, remote)
                    adapter.finish(remote, document)
                return "submitted"
            except PostingError:
                raise
            except Exception as exc:
                # The ERP may have committed before the failure reached us.
                self._archive_exchanges(settlement_id, reference)
                remote = adapter.lookup(reference)
                if remote is not None and adapter.is_complete(remote):
                    return "adopted"
                transient = isinstance(exc, ApiError) and exc.transient
                if not transient or attempt == SUBMIT_ATTEMPTS:
                    detail = f"{type(exc).__name__}: {exc}"[:2000]
                    self._log(None, settlement_id, reference, "failed", fp, detail=detail)
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _refuse_if_different(
        self,
        settlement_id: str,
        reference: str,
        document: DocT,
        fp: str,
        remote: RemoteT,
    ) -> None:
        """An unfinished document is finished only if it is what this journal means."""
        diffs = self.adapter.differences(remote, document)
        if diffs:
            self._log(None, settlement_id, reference, "failed", fp, detail="; ".join(diffs))
            raise PostingError(
                f"{self.adapter.target} holds an unfinished document {reference} that differs "
                f"from the journal: {'; '.join(diffs)}. Delete it in the ERP to repost."
            )
