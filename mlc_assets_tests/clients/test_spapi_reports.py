"""Reports API client against the real SP-API sandbox on loopback: listing with nextToken,
create/poll/download, faults (429 storm, 5xx, resets, token expiry, expired URL, truncated
gzip), and download URL hygiene."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from mlc_assets.clients.retry import RetryPolicy
from mlc_assets.clients.spapi import (
    DownloadUrlRejected,
    ReportNotRequestableError,
    ReportTimeoutError,
    SpapiClient,
    SpapiNotFound,
    SpapiThrottled,
)
from mlc_assets.clients.spapi.models import ProcessingStatus
from mlc_assets.sandbox.stack import SandboxStack
from mlc_assets_tests.clients.conftest import SpapiSandbox

V2 = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
ClientFactory = Callable[..., SpapiClient]


def _first_settlement(client: SpapiClient) -> str:
    report = next(client.reports.list_reports([V2], processing_statuses=["DONE"]))
    assert report.reportDocumentId
    return report.reportDocumentId


def _rows(content: bytes, charset: str | None) -> list[list[str]]:
    text = content.decode(charset or "iso-8859-1")
    return list(csv.reader(io.StringIO(text), delimiter="\t"))


def test_multi_page_listing_sends_next_token_alone(
    make_spapi_client: ClientFactory, spapi_sandbox: SpapiSandbox
) -> None:
    client = make_spapi_client()
    reports = list(client.reports.list_reports([V2], processing_statuses=["DONE"], page_size=2))
    # The sandbox answers 400 if nextToken comes with any other parameter, so getting
    # every page at all proves the rule; the count proves nothing was lost or repeated.
    seller = spapi_sandbox.stack.seller
    expected = {s.report_id for s in seller.settlements}
    ids = [r.reportId for r in reports]
    assert len(ids) >= 12
    assert len(set(ids)) == len(ids)
    assert set(ids) == expected
    assert all(r.processingStatus == ProcessingStatus.DONE for r in reports)
    created = [r.createdTime for r in reports]
    assert created == sorted(created, reverse=True)
    pages = -(-len(ids) // 2)
    stats = spapi_sandbox.stats()
    assert stats["requests"]["getReports"] == pages
    assert stats["throttled_total"] == 0  # client-side bucket paced 9+ pages under burst 10
    assert client.transport.stats.attempts["getReports"] == pages


def test_marketplace_filter_and_created_window(
    make_spapi_client: ClientFactory, spapi_sandbox: SpapiSandbox
) -> None:
    client = make_spapi_client()
    de = "A1PA6795UKMFR9"
    reports = list(client.reports.list_reports([V2], marketplace_ids=[de], page_size=100))
    assert reports
    assert all(de in (r.marketplaceIds or []) for r in reports)
    newest = max(r.createdTime for r in reports)
    recent = list(client.reports.list_reports([V2], created_since=newest))
    assert recent
    assert all(r.createdTime >= newest for r in recent)
    assert len(recent) < len(spapi_sandbox.stack.seller.settlements)
    with pytest.raises(ValueError, match="timezone-aware"):
        next(client.reports.list_reports([V2], created_since=newest.replace(tzinfo=None)))


def test_settlement_report_download_decompresses_and_reports_charset(
    make_spapi_client: ClientFactory, spapi_sandbox: SpapiSandbox
) -> None:
    client = make_spapi_client()
    seen_headers: list[httpx.Headers] = []

    def record(request: httpx.Request) -> None:
        if request.url.path.startswith("/_s3/"):
            seen_headers.append(request.headers)

    client._http.event_hooks["request"].append(record)
    doc_id = _first_settlement(client)
    report = client.reports.download_report(doc_id)
    assert report.compressed
    assert report.document_id == doc_id
    assert report.url_host == "127.0.0.1"
    assert report.charset  # from Content-Type, e.g. utf-8 / iso-8859-1
    rows = _rows(report.content, report.charset)
    assert rows[0][0] == "settlement-id"
    settlement = spapi_sandbox.stack.seller.by_document_id(doc_id)
    assert settlement is not None
    assert rows[1][0] == settlement.settlement_id
    # The pre-signed URL is fetched without the SP-API access token.
    assert seen_headers
    assert all("x-amz-access-token" not in h for h in seen_headers)


def test_429_storm_is_retried_and_drains_the_bucket(
    make_spapi_client: ClientFactory, spapi_sandbox: SpapiSandbox
) -> None:
    client = make_spapi_client()
    spapi_sandbox.arm("429:5")
    report = client.reports.get_report(spapi_sandbox.stack.seller.settlements[-1].report_id)
    assert report.processingStatus == "DONE"
    stats = spapi_sandbox.stats()
    assert stats["faults_fired"]["429"] == 5
    assert stats["requests"]["getReport"] == 6
    assert client.transport.stats.attempts["getReport"] == 6
    assert client.transport.stats.throttled["getReport"] == 5
    assert client.buckets.drains["getReport"] == 5


def test_server_errors_and_resets_are_retried(
    make_spapi_client: ClientFactory, spapi_sandbox: SpapiSandbox
) -> None:
    client = make_spapi_client()
    spapi_sandbox.arm("500:2,503:1,reset:2")
    reports = list(client.reports.list_reports([V2], page_size=100))
    assert len(reports) == len(spapi_sandbox.stack.seller.settlements)
    stats = spapi_sandbox.stats()
    assert stats["faults_fired"] == {"500": 2, "503": 1, "reset": 2}
    t = client.transport.stats
    assert t.server_errors["getReports"] == 3
    assert t.connection_errors["getReports"] == 2
    assert t.attempts["getReports"] == 6


def test_token_expiry_mid_run_is_refreshed_transparently(
    make_spapi_client: ClientFactory, spapi_sandbox: SpapiSandbox
) -> None:
    client = make_spapi_client()
    settlement = spapi_sandbox.stack.seller.settlements[0]
    assert client.reports.get_report(settlement.report_id).reportId == settlement.report_id
    spapi_sandbox.arm("expire_token:1")
    assert client.reports.get_report(settlement.report_id).reportId == settlement.report_id
    assert client.transport.stats.token_refreshes == 1
    stats = spapi_sandbox.stats()
    assert stats["faults_fired"]["expire_token"] == 1
    assert stats["tokens_issued"] == 2
    assert stats["statuses"]["403"] == 1


def test_expired_download_url_fetches_a_fresh_document(
    make_spapi_client: ClientFactory, spapi_sandbox: SpapiSandbox
) -> None:
    client = make_spapi_client()
    doc_id = _first_settlement(client)
    spapi_sandbox.arm("expire_url:1")
    report = client.reports.download_report(doc_id)
    assert _rows(report.content, report.charset)[0][0] == "settlement-id"
    assert client.reports.document_fetches == 2  # the expired one, then a fresh one
    assert spapi_sandbox.stats()["requests"]["getReportDocument"] == 2


def test_stale_document_object_is_refetched_before_download(
    make_spapi_client: ClientFactory, spapi_sandbox: SpapiSandbox
) -> None:
    client = make_spapi_client()
    doc = client.reports.get_report_document(_first_settlement(client))
    doc._fetched_at = (doc._fetched_at or 0.0) - 10.0  # older than the 0.3 s URL lifetime
    report = client.reports.download_report(doc)
    assert report.content.startswith(b"settlement-id")
    assert client.reports.document_fetches == 2
    assert spapi_sandbox.stats()["statuses"].get("403") is None  # never hit the expiry


def test_truncated_gzip_is_downloaded_again(
    make_spapi_client: ClientFactory, spapi_sandbox: SpapiSandbox
) -> None:
    client = make_spapi_client()
    doc_id = _first_settlement(client)
    clean = client.reports.download_report(doc_id)
    spapi_sandbox.arm("truncate_gzip:1")
    again = client.reports.download_report(doc_id)
    assert again.content == clean.content
    stats = spapi_sandbox.stats()
    assert stats["faults_fired"]["truncate_gzip"] == 1
    assert stats["downloads"] == 3  # clean, truncated, retried


def test_create_report_refuses_settlement_types_without_calling_amazon(
    make_spapi_client: ClientFactory, spapi_sandbox: SpapiSandbox
) -> None:
    client = make_spapi_client()
    for report_type in (
        V2,
        "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE",
        "GET_V2_SETTLEMENT_REPORT_DATA_XML",
    ):
        with pytest.raises(ReportNotRequestableError, match="list_reports") as info:
            client.reports.create_report(report_type, ["ATVPDKIKX0DER"])
        assert report_type in str(info.value)
        assert not info.value.transient
    assert "createReport" not in spapi_sandbox.stats()["requests"]


def test_create_poll_and_download_a_requestable_report(
    make_spapi_client: ClientFactory, spapi_sandbox: SpapiSandbox
) -> None:
    client = make_spapi_client()
    report_id = client.reports.create_report(
        "GET_MERCHANT_LISTINGS_ALL_DATA", ["ATVPDKIKX0DER"], options={"custom": "true"}
    )
    done = client.reports.wait_for_report(report_id, poll_interval=0.01, timeout=10)
    assert done.processingStatus == ProcessingStatus.DONE
    assert done.reportDocumentId
    report = client.reports.download_report(done.reportDocumentId)
    assert _rows(report.content, report.charset)[1][0] == "GET_MERCHANT_LISTINGS_ALL_DATA"
    assert spapi_sandbox.stats()["requests"]["getReport"] >= 3  # IN_QUEUE, IN_PROGRESS, DONE


def test_unknown_report_is_a_typed_not_found_with_request_id(
    make_spapi_client: ClientFactory,
) -> None:
    client = make_spapi_client()
    with pytest.raises(SpapiNotFound) as info:
        client.reports.get_report("99999999999")
    assert info.value.request_id
    assert info.value.request_id in str(info.value)
    assert info.value.codes == ("NotFound",)
    assert "Atza|" not in str(info.value)


def test_loopback_download_url_is_refused_outside_sandbox_mode(
    make_spapi_client: ClientFactory, spapi_sandbox: SpapiSandbox
) -> None:
    client = make_spapi_client(sandbox=False)
    doc_id = _first_settlement(client)
    with pytest.raises(DownloadUrlRejected, match="only https") as info:
        client.reports.download_report(doc_id)
    assert "X-Amz-Signature" not in str(info.value)
    assert spapi_sandbox.stats()["downloads"] == 0


def test_client_bucket_paces_two_clients_under_the_server_limit(
    make_spapi_client: ClientFactory, tmp_path: Path
) -> None:
    """18 getReportDocument calls from two clients sharing one state dir, against burst 15
    at 1.67/s (speed 100): the shared client-side bucket makes them wait instead of
    drawing 429s from the sandbox."""
    with SandboxStack(seed=3, settlements=1, speed=100.0) as stack:
        sandbox = SpapiSandbox(stack)
        creds = stack.credentials

        def client() -> SpapiClient:
            return make_spapi_client(
                client_id=creds["lwa_client_id"],
                client_secret=creds["lwa_client_secret"],
                refresh_token=creds["refresh_token"],
                endpoint=stack.endpoints["spapi"],
                lwa_endpoint=stack.endpoints["lwa"],
                speed=100.0,
                state_dir=tmp_path / "shared",
            )

        a, b = client(), client()
        doc_id = stack.seller.settlements[0].report_document_id
        for i in range(18):
            (a if i % 2 else b).reports.get_report_document(doc_id)
        stats = sandbox.stats()
    assert stats["requests"]["getReportDocument"] == 18
    assert stats["throttled_total"] == 0
    assert a.buckets.waits + b.buckets.waits >= 2
    assert a.buckets.waited_seconds + b.buckets.waited_seconds >= 1.0
    assert a.buckets.state("getReportDocument").grants == 18


def test_throttling_beyond_the_retry_budget_surfaces_as_typed_error(
    make_spapi_client: ClientFactory, spapi_sandbox: SpapiSandbox
) -> None:
    client = make_spapi_client(
        retry_policy=RetryPolicy(attempts=3, initial_wait=0.01, max_wait=0.02)
    )
    spapi_sandbox.arm("429:20")
    with pytest.raises(SpapiThrottled) as info:
        client.reports.get_report(spapi_sandbox.stack.seller.settlements[0].report_id)
    err = info.value
    assert err.transient
    assert err.status == 429
    assert err.codes == ("QuotaExceeded",)
    assert err.request_id and err.request_id in str(err)
    assert client.transport.stats.attempts["getReport"] == 3
    assert "Atza|" not in str(err)


def test_wait_for_report_times_out_with_a_typed_error(
    make_spapi_client: ClientFactory,
) -> None:
    client = make_spapi_client()
    report_id = client.reports.create_report("GET_MERCHANT_LISTINGS_ALL_DATA", ["ATVPDKIKX0DER"])
    with pytest.raises(
        ReportTimeoutError, match=f"report {report_id} still (IN_QUEUE|IN_PROGRESS)"
    ):
        client.reports.wait_for_report(report_id, poll_interval=1.0, timeout=0.5)
