"""Exactly-once posting of one document to an ERP that has no idempotency key.

The connector owns idempotency (ARCHITECTURE.md, "Exactly-once posting"):

1. every document has a deterministic external reference (``AMZ-<settlement>-<n>``);
2. the intent is recorded in the warehouse *before* the ERP is called;
3. the ERP is asked whether the reference exists; if so the document is adopted and verified;
4. only then is it submitted; a failure of the submit call is followed by another lookup,
   because "commit, then lose the response" is indistinguishable from "not committed";
5. after writing, the document is read back and its amounts compared with what was meant.

A document already posted whose content has since changed is never posted again: the caller
gets ``PostedDocumentChangedError`` and must reverse it in the ERP first.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Generic, Protocol, TypeVar

import polars as pl

from mlc_assets.domain.errors import MlcError
from mlc_assets.resources.archive import RawArchive
from mlc_assets.resources.warehouse import Warehouse

DocT = TypeVar("DocT")
RemoteT = TypeVar("RemoteT")

LOG_TABLE = "posting_log"
LOG_SCHEMA: dict[str, pl.DataType] = {
    "settlement_id": pl.Utf8(),
    "target": pl.Utf8(),
    "reference": pl.Utf8(),
    "action": pl.Utf8(),  # intent | found | submitted | adopted | verified | failed | skipped
    "fingerprint": pl.Utf8(),
    "remote_id": pl.Utf8(),
    "detail": pl.Utf8(),
    "payload_sha256": pl.Utf8(),
    "at": pl.Datetime("us", "UTC"),
    "run_id": pl.Utf8(),
}


class PostingError(MlcError):
    """The document could not be posted; the message says why and what to do."""


class PostedDocumentChangedError(PostingError):
    """A posted document's journal changed afterwards; posting again would double-post."""


class VerificationError(PostingError):
    """The ERP holds the reference, but its amounts differ from the journal."""


class ErpAdapter(Protocol[DocT, RemoteT]):
    """What one ERP target must provide to be posted to exactly once."""

    target: str

    def lookup(self, reference: str) -> RemoteT | None: ...

    def submit(self, document: DocT) -> RemoteT: ...

    def differences(self, remote: RemoteT, document: DocT) -> list[str]: ...

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


def fingerprint(payload: object) -> str:
    """A stable hash of what is being posted, to detect a journal that changed later."""
    text = json.dumps(payload, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class ExactlyOncePoster(Generic[DocT, RemoteT]):
    adapter: ErpAdapter[DocT, RemoteT]
    warehouse: Warehouse
    archive: RawArchive
    run_id: str = ""
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))

    def _log(
        self,
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
        self.warehouse.append(LOG_TABLE, pl.DataFrame([row], schema=LOG_SCHEMA))

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

    def posted_fingerprint(self, reference: str) -> str | None:
        """The fingerprint this reference was posted or adopted with, if any."""
        rows = self.warehouse.query(
            "SELECT fingerprint FROM posting_log WHERE target = ? AND reference = ? "
            "AND action IN ('submitted', 'adopted', 'already_posted') ORDER BY \"at\" DESC LIMIT 1",
            [self.adapter.target, reference],
        )
        return rows["fingerprint"][0] if rows.height else None

    def post(
        self, settlement_id: str, reference: str, document: DocT, fp: str
    ) -> PostingOutcome[RemoteT]:
        previous = self.posted_fingerprint(reference)
        if previous is not None and previous != fp:
            self._log(settlement_id, reference, "failed", fp, detail="journal changed")
            raise PostedDocumentChangedError(
                f"{self.adapter.target} document {reference} was posted from a different "
                f"journal (fingerprint {previous[:12]}…, now {fp[:12]}…). It is not posted "
                "again; reverse it in the ERP and clear the posting record to repost."
            )
        self._log(settlement_id, reference, "intent", fp)

        remote = self.adapter.lookup(reference)
        action = "already_posted" if previous is not None else "adopted"
        if remote is None:
            try:
                remote = self.adapter.submit(document)
                action = "submitted"
            except Exception as exc:
                # The ERP may have committed before the failure reached us.
                self._archive_exchanges(settlement_id, reference)
                remote = self.adapter.lookup(reference)
                if remote is None:
                    self._log(
                        settlement_id,
                        reference,
                        "failed",
                        fp,
                        detail=f"{type(exc).__name__}: {exc}"[:2000],
                    )
                    raise
                action = "adopted"
        payloads = self._archive_exchanges(settlement_id, reference)
        rid = self.adapter.remote_id(remote)
        self._log(
            settlement_id,
            reference,
            action,
            fp,
            remote_id=rid,
            payload_sha256=",".join(payloads),
        )

        # Read back what the ERP holds now and compare it with what we meant.
        readback = self.adapter.lookup(reference)
        if readback is None:
            raise VerificationError(
                f"{self.adapter.target} accepted {reference} but cannot find it on read-back"
            )
        diffs = self.adapter.differences(readback, document)
        self._archive_exchanges(settlement_id, reference)
        if diffs:
            self._log(
                settlement_id, reference, "failed", fp, remote_id=rid, detail="; ".join(diffs)
            )
            raise VerificationError(
                f"{self.adapter.target} document {reference} differs from the journal: "
                + "; ".join(diffs)
            )
        self._log(settlement_id, reference, "verified", fp, remote_id=rid)
        return PostingOutcome(reference, action, rid, readback, payloads)
