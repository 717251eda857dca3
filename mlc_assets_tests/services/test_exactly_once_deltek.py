"""Exactly-once posting to the real Deltek sandbox (REST over a loopback socket): one JE batch
per journal entry, written and posted once, a half-done batch completed, a lost response
adopted, a changed journal refused and a closed period refused before anything is written."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from mlc_assets.clients.deltek import DeltekClient, DeltekCredentials, DeltekJournalBatch
from mlc_assets.clients.deltek.errors import DeltekClosedPeriodError
from mlc_assets.clients.http_exchanges import HttpExchangeRecorder
from mlc_assets.clients.retry import FAST_TEST_POLICY
from mlc_assets.domain.journal import Journal
from mlc_assets.domain.money import ZERO
from mlc_assets.sandbox import deltek_app
from mlc_assets.sandbox.erp_servers import sandbox_periods
from mlc_assets.sandbox.server import BackgroundServer
from mlc_assets.secrets.redact import Redactor
from mlc_assets.services.deltek_posting import DeltekAdapter, entry_batch
from mlc_assets.services.exactly_once import (
    ExactlyOncePoster,
    PostedDocumentChangedError,
    PostingError,
    PostingOutcome,
    fingerprint,
)
from mlc_assets.storage.archive import RawArchive
from mlc_assets.storage.warehouse import Warehouse
from mlc_assets_tests.services.conftest import count_action, posting_actions


class Tenant:
    def __init__(self, server: BackgroundServer) -> None:
        self.server = server
        self.admin = server.url + "/_sandbox"
        self.base_url = server.url + deltek_app.DEFAULT_PREFIX

    def arm(self, spec: str) -> None:
        httpx.post(f"{self.admin}/faults", json={"spec": spec}, timeout=10).raise_for_status()

    def stats(self) -> dict[str, int]:
        return httpx.get(f"{self.admin}/stats", timeout=10).json()["stats"]

    def batches(self, name: str | None = None) -> list[dict[str, Any]]:
        rows = httpx.get(f"{self.admin}/batches", timeout=10).json()
        return [r for r in rows if name is None or r["batch"] == name]

    def close_period(self, period: int) -> None:
        r = httpx.post(f"{self.admin}/periods/{period}", json={"closed": True}, timeout=10)
        r.raise_for_status()


@pytest.fixture
def tenant() -> Iterator[Tenant]:
    app = deltek_app.build_deltek_app(periods=sandbox_periods())
    with BackgroundServer(app, name="deltek-eo-test") as server:
        yield Tenant(server)


@pytest.fixture
def connect(tenant: Tenant) -> Iterator[Callable[[], tuple[DeltekClient, HttpExchangeRecorder]]]:
    made: list[DeltekClient] = []

    def make() -> tuple[DeltekClient, HttpExchangeRecorder]:
        creds = DeltekCredentials(
            username=deltek_app.DEMO_USERNAME,
            password=SecretStr(deltek_app.DEMO_PASSWORD),
            database=deltek_app.DEMO_DATABASE,
            client_id=deltek_app.DEMO_CLIENT_ID,
            client_secret=SecretStr(deltek_app.DEMO_CLIENT_SECRET),
        )
        recorder = HttpExchangeRecorder(Redactor([creds.password, creds.client_secret]))
        http = httpx.Client(timeout=10.0, event_hooks=recorder.hooks())
        client = DeltekClient(tenant.base_url, creds, retry=FAST_TEST_POLICY, http=http)
        made.append(client)
        return client, recorder

    yield make
    for c in made:
        c.close()


@pytest.fixture
def journal(make_journal: Callable[..., Journal]) -> Journal:
    return make_journal()


def _post(
    connect: Callable[[], tuple[DeltekClient, HttpExchangeRecorder]],
    journal: Journal,
    warehouse: Warehouse,
    archive: RawArchive,
    batches: dict[str, DeltekJournalBatch] | None = None,
) -> list[PostingOutcome]:
    """What the deltek_posting asset does, with a fresh client (a new run)."""
    client, recorder = connect()
    batches = batches or {e.reference: entry_batch(journal, e) for e in journal.entries}
    poster = ExactlyOncePoster(DeltekAdapter(client, recorder, batches), warehouse, archive)
    return [
        poster.post(journal.settlement_id, ref, b, fingerprint(b.model_dump(mode="json")))
        for ref, b in batches.items()
    ]


def test_entry_batch_is_balanced_and_named_for_the_settlement(journal: Journal) -> None:
    (entry,) = journal.entries
    batch = entry_batch(journal, entry)
    assert batch.batch == f"AMZ{journal.settlement_id}"
    assert batch.is_balanced
    assert batch.total_debits == entry.total_debits
    assert batch.currency == journal.currency
    assert all(len(ln.description) <= 40 for ln in batch.lines)
    # Project lines take their org from the project, not from the mapping.
    assert all(ln.org == "" for ln in batch.lines if ln.wbs1)


def test_first_post_writes_and_posts_second_finds_it(
    tenant: Tenant,
    connect: Callable[[], tuple[DeltekClient, HttpExchangeRecorder]],
    journal: Journal,
    warehouse: Warehouse,
    archive: RawArchive,
) -> None:
    (first,) = _post(connect, journal, warehouse, archive)
    assert first.action == "submitted"
    assert first.remote.posted
    assert first.remote.total_debits == journal.entries[0].total_debits
    assert first.payload_refs and all(
        archive.exists("deltek-exchange", s) for s in first.payload_refs
    )
    stored = b"".join(archive.get("deltek-exchange", s) for s in first.payload_refs)
    assert deltek_app.DEMO_PASSWORD.encode() not in stored
    assert tenant.stats()["created:JE"] == 1
    posted = tenant.stats()["posted"]

    (second,) = _post(connect, journal, warehouse, archive)
    assert second.action == "already_posted"
    assert second.remote_id == first.remote_id
    assert tenant.stats()["created:JE"] == 1
    assert tenant.stats()["posted"] == posted
    (held,) = tenant.batches(f"AMZ{journal.settlement_id}")
    assert held["posted"] is True
    assert count_action(warehouse, "submitted") == 1


def test_batch_written_but_not_posted_is_completed_without_a_second_write(
    tenant: Tenant,
    connect: Callable[[], tuple[DeltekClient, HttpExchangeRecorder]],
    journal: Journal,
    warehouse: Warehouse,
    archive: RawArchive,
) -> None:
    client, _ = connect()
    batch = entry_batch(journal, journal.entries[0])
    client.write_batch(batch)  # a crash right after this call
    (unposted,) = tenant.batches(batch.batch)
    assert unposted["posted"] is False
    assert tenant.stats()["created:JE"] == 1

    (outcome,) = _post(connect, journal, warehouse, archive)
    assert outcome.action == "submitted"  # the post call completed what was written
    assert outcome.remote.posted
    assert tenant.stats()["created:JE"] == 1  # never written twice
    (held,) = tenant.batches(batch.batch)
    assert held["posted"] is True


@pytest.mark.parametrize("drops", [1, 2], ids=["write-lost", "write-and-post-lost"])
def test_lost_commit_response_leaves_exactly_one_posted_batch(
    tenant: Tenant,
    connect: Callable[[], tuple[DeltekClient, HttpExchangeRecorder]],
    journal: Journal,
    warehouse: Warehouse,
    archive: RawArchive,
    drops: int,
) -> None:
    """The sandbox commits, then drops the connection: on the write only, or on the write and
    then the post too. Either way one batch exists afterwards, posted once."""
    tenant.arm(f"commit_drop:{drops}")
    (outcome,) = _post(connect, journal, warehouse, archive)
    assert outcome.action in {"submitted", "adopted"}
    assert outcome.remote.posted
    assert tenant.stats()["commit_dropped"] == drops
    assert tenant.stats()["created:JE"] == 1
    (held,) = tenant.batches(f"AMZ{journal.settlement_id}")
    assert held["posted"] is True
    assert posting_actions(warehouse)[-1] == "verified"
    (again,) = _post(connect, journal, warehouse, archive)
    assert again.action == "already_posted"
    assert tenant.stats()["created:JE"] == 1


def test_changed_journal_is_refused_and_nothing_more_is_written(
    tenant: Tenant,
    connect: Callable[[], tuple[DeltekClient, HttpExchangeRecorder]],
    journal: Journal,
    warehouse: Warehouse,
    archive: RawArchive,
) -> None:
    _post(connect, journal, warehouse, archive)
    (entry,) = journal.entries
    batch = entry_batch(journal, entry)
    lines = list(batch.lines)
    a, b = [i for i, ln in enumerate(lines) if ln.debit > ZERO][:2]
    lines[a] = lines[a].model_copy(update={"debit": lines[a].debit + Decimal("0.01")})
    lines[b] = lines[b].model_copy(update={"debit": lines[b].debit - Decimal("0.01")})
    changed = batch.model_copy(update={"lines": lines})
    with pytest.raises(PostedDocumentChangedError, match=entry.reference):
        _post(connect, journal, warehouse, archive, batches={entry.reference: changed})
    assert tenant.stats()["created:JE"] == 1
    assert len(tenant.batches(batch.batch)) == 1


def test_closed_period_is_refused_before_anything_is_written(
    tenant: Tenant,
    connect: Callable[[], tuple[DeltekClient, HttpExchangeRecorder]],
    journal: Journal,
    warehouse: Warehouse,
    archive: RawArchive,
) -> None:
    day = journal.entries[0].posting_date
    period = day.year * 100 + day.month
    tenant.close_period(period)
    with pytest.raises(DeltekClosedPeriodError) as info:
        _post(connect, journal, warehouse, archive)
    assert info.value.period == period
    assert f"period {period} is closed" in str(info.value)
    assert tenant.batches() == []
    assert tenant.stats().get("created:JE", 0) == 0
    assert posting_actions(warehouse) == ["intent", "failed"]


def test_happy_path_looks_each_batch_up_twice(
    tenant: Tenant,
    connect: Callable[[], tuple[DeltekClient, HttpExchangeRecorder]],
    journal: Journal,
    warehouse: Warehouse,
    archive: RawArchive,
) -> None:
    """find_batch runs twice per batch (the poster's lookup and its read-back); it ran about
    five times when the adapter and the client each checked again on their own."""
    (outcome,) = _post(connect, journal, warehouse, archive)
    assert outcome.action == "submitted"
    stats = tenant.stats()
    assert stats["route:ledger"] == 2  # lookup (absent) and read-back (posted)
    assert stats["route:read"] == 1  # the lookup's data-entry half, only while absent
    assert stats["route:create"] == stats["route:post"] == 1


def test_someone_elses_unposted_file_under_our_name_is_never_adopted(
    tenant: Tenant,
    connect: Callable[[], tuple[DeltekClient, HttpExchangeRecorder]],
    journal: Journal,
    warehouse: Warehouse,
    archive: RawArchive,
) -> None:
    (entry,) = journal.entries
    ours = entry_batch(journal, entry)
    lines = list(ours.lines)
    lines[0] = lines[0].model_copy(update={"description": "someone else's line"})
    a, b = [i for i, ln in enumerate(lines) if ln.debit > ZERO][:2]
    lines[a] = lines[a].model_copy(update={"debit": lines[a].debit + Decimal("1.00")})
    lines[b] = lines[b].model_copy(update={"debit": lines[b].debit - Decimal("1.00")})
    client, _ = connect()
    client.write_batch(ours.model_copy(update={"lines": lines}))
    with pytest.raises(PostingError, match=r"unfinished document .* differs from the journal"):
        _post(connect, journal, warehouse, archive)
    (held,) = tenant.batches(ours.batch)
    assert held["posted"] is False  # not posted, not overwritten
    assert tenant.stats()["created:JE"] == 1
    assert posting_actions(warehouse)[-1] == "failed"
