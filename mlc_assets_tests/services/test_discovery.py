"""Settlement discovery against the real SP-API sandbox: each report is downloaded once and
each settlement becomes one partition, however many listings carry it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mlc_assets.clients.retry import FAST_TEST_POLICY
from mlc_assets.clients.spapi import SpapiClient
from mlc_assets.sandbox.stack import SandboxStack
from mlc_assets.services.discovery import discover_settlements
from mlc_assets.storage.archive import SETTLEMENT_REPORT_KIND, RawArchive
from mlc_assets.storage.report_index import ReportIndex

V2 = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
SPEED = 1000.0


@pytest.fixture
def stack() -> Iterator[SandboxStack]:
    with SandboxStack(seed=5, settlements=2, speed=SPEED, erps=False) as s:
        yield s


@pytest.fixture
def client(stack: SandboxStack, tmp_path: Path) -> Iterator[SpapiClient]:
    creds = stack.credentials
    c = SpapiClient(
        client_id=creds["lwa_client_id"],
        client_secret=creds["lwa_client_secret"],
        refresh_token=creds["refresh_token"],
        endpoint=stack.endpoints["spapi"],
        lwa_endpoint=stack.endpoints["lwa"],
        sandbox=True,
        speed=SPEED,
        state_dir=tmp_path / "state",
        retry_policy=FAST_TEST_POLICY,
    )
    yield c
    c.close()


def _downloads(stack: SandboxStack) -> int:
    stats = httpx.get(stack.endpoints["sandbox_admin"] + "/stats", timeout=10).json()
    return int(stats["requests"].get("getReportDocument", 0))


def test_first_discovery_lands_every_settlement_once_then_nothing_is_fetched_again(
    stack: SandboxStack, client: SpapiClient, tmp_path: Path
) -> None:
    archive = RawArchive(tmp_path / "raw")
    index = ReportIndex(tmp_path / "state" / "reports")
    seller = stack.seller
    marketplaces = list(seller.marketplaces)
    multi = [s for s in seller.settlements if len(s.listed_under) > 1]
    assert multi, "the sandbox seller should list one settlement under two marketplaces"

    first = discover_settlements(
        client.reports,
        archive,
        index,
        report_type=V2,
        marketplace_ids=marketplaces,
        cursor=None,
    )
    expected = {s.settlement_id for s in seller.settlements}
    assert len(first.settlement_ids) == len(set(first.settlement_ids))
    assert set(first.settlement_ids) == expected
    assert first.listed == first.downloaded == len(seller.settlements)
    assert client.reports.document_fetches == len(seller.settlements)
    assert _downloads(stack) == len(seller.settlements)
    assert first.newest_created == max(s.report_created for s in seller.settlements)
    for s in seller.settlements:
        (record,) = index.for_settlement(s.settlement_id)
        assert record.report_id == s.report_id
        assert set(record.marketplace_ids) == set(s.listed_under)
        body = archive.get(SETTLEMENT_REPORT_KIND, record.raw.sha256)
        assert s.settlement_id.encode() in body.splitlines()[1]

    fetches = client.reports.document_fetches
    served = _downloads(stack)
    second = discover_settlements(
        client.reports,
        archive,
        index,
        report_type=V2,
        marketplace_ids=marketplaces,
        cursor=first.newest_created,
    )
    assert second.downloaded == 0
    assert second.new_records == []
    assert second.already_known == second.listed >= 1
    assert client.reports.document_fetches == fetches
    assert _downloads(stack) == served
    assert len(index.all()) == len(seller.settlements)


def test_settlement_listed_under_two_marketplaces_is_one_partition(
    stack: SandboxStack, client: SpapiClient, tmp_path: Path
) -> None:
    """Listing marketplace by marketplace (as a seller with per-region listings would), the
    report that both listings return is downloaded once and its settlement is new once."""
    archive = RawArchive(tmp_path / "raw")
    index = ReportIndex(tmp_path / "state" / "reports")
    (multi,) = [s for s in stack.seller.settlements if len(s.listed_under) > 1]
    new_ids: list[str] = []
    for marketplace in multi.listed_under:
        found = discover_settlements(
            client.reports,
            archive,
            index,
            report_type=V2,
            marketplace_ids=[marketplace],
            cursor=None,
        )
        new_ids += found.settlement_ids
    assert new_ids.count(multi.settlement_id) == 1
    assert len(new_ids) == len(set(new_ids))
    listed = {
        s.settlement_id
        for s in stack.seller.settlements
        if set(s.listed_under) & set(multi.listed_under)
    }
    assert set(new_ids) == listed
    assert client.reports.document_fetches == len(listed)
    assert _downloads(stack) == len(listed)
    assert [r.report_id for r in index.for_settlement(multi.settlement_id)] == [multi.report_id]
