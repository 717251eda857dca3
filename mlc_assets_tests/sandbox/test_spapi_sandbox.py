"""The LWA + Reports sandbox over real sockets: auth, paging, documents, limits, faults, CLI."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from mlc_assets.sandbox.stack import SandboxStack
from mlc_assets_tests.sandbox.conftest import REPORTS, SETTLEMENT_V2, lwa_token

DE, UK = "A1PA6795UKMFR9", "A1F83G8C2ARO7P"


def _list_all(spapi: httpx.Client, **params: object) -> list[dict]:
    query = {"reportTypes": SETTLEMENT_V2, **params}
    reports: list[dict] = []
    while True:
        response = spapi.get(f"{REPORTS}/reports", params=query)
        assert response.status_code == 200, response.text
        body = response.json()
        reports.extend(body["reports"])
        if "nextToken" not in body:
            return reports
        query = {"nextToken": body["nextToken"]}


# -- LWA -------------------------------------------------------------------------------


def test_lwa_form_and_json_bodies(stack: SandboxStack, client: httpx.Client) -> None:
    creds = stack.credentials
    fields = {
        "grant_type": "refresh_token",
        "refresh_token": creds["refresh_token"],
        "client_id": creds["lwa_client_id"],
        "client_secret": creds["lwa_client_secret"],
    }
    for response in (
        client.post(stack.endpoints["lwa"], data=fields),
        client.post(stack.endpoints["lwa"], json=fields),
    ):
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"access_token", "refresh_token", "token_type", "expires_in"}
        assert body["access_token"].startswith("Atza|")
        assert body["token_type"] == "bearer"
        assert body["refresh_token"] == creds["refresh_token"]
        assert body["expires_in"] == 120  # the TTL the stack was given
        assert "x-amzn-RequestId" in response.headers


@pytest.mark.parametrize(
    ("change", "error", "error_type"),
    [
        ({"client_secret": "wrong"}, "invalid_client", "OA2InvalidClientException"),
        ({"refresh_token": "Atzr|nope"}, "invalid_grant", "OA2InvalidGrantException"),
        ({"grant_type": "password"}, "unsupported_grant_type", "OA2UnsupportedGrantType"),
        ({"grant_type": None}, "unsupported_grant_type", "OA2UnsupportedGrantType"),
        ({"scope": "sellingpartnerapi::notifications"}, "invalid_request", "OA2InvalidRequest"),
    ],
)
def test_lwa_errors_are_oauth_style(
    stack: SandboxStack, client: httpx.Client, change: dict, error: str, error_type: str
) -> None:
    creds = stack.credentials
    fields = {
        "grant_type": "refresh_token",
        "refresh_token": creds["refresh_token"],
        "client_id": creds["lwa_client_id"],
        "client_secret": creds["lwa_client_secret"],
        **change,
    }
    fields = {k: v for k, v in fields.items() if v is not None}
    response = client.post(stack.endpoints["lwa"], data=fields)
    assert response.status_code == 400
    assert response.json()["error"] == error
    assert response.headers["x-amzn-ErrorType"].startswith(error_type)
    assert "wrong" not in response.text and "Atzr|nope" not in response.text


def test_grantless_client_credentials(stack: SandboxStack, client: httpx.Client) -> None:
    creds = stack.credentials
    response = client.post(
        stack.endpoints["lwa"],
        data={
            "grant_type": "client_credentials",
            "scope": "sellingpartnerapi::notifications",
            "client_id": creds["lwa_client_id"],
            "client_secret": creds["lwa_client_secret"],
        },
    )
    assert response.status_code == 200 and response.json()["access_token"].startswith("Atza|")


def test_missing_unknown_and_expired_tokens(make_stack, client: httpx.Client) -> None:
    stack = make_stack(token_ttl=1.0)
    url = stack.endpoints["spapi"] + f"{REPORTS}/reports?reportTypes={SETTLEMENT_V2}"
    for headers in ({}, {"x-amz-access-token": "Atza|forged"}):
        response = client.get(url, headers=headers)
        assert response.status_code == 403
        assert response.json()["errors"][0] == {
            "code": "Unauthorized",
            "message": "Access to requested resource is denied.",
            "details": "",
        }
        assert "x-amzn-RateLimit-Limit" not in response.headers
        assert "x-amzn-RequestId" in response.headers
    token = lwa_token(stack, client)
    assert client.get(url, headers={"x-amz-access-token": token}).status_code == 200
    time.sleep(1.1)
    response = client.get(url, headers={"x-amz-access-token": token})
    assert response.status_code == 403
    assert response.json()["errors"][0]["message"] == "The access token you provided has expired."
    assert client.get(url, headers={"x-amz-access-token": lwa_token(stack, client)}).is_success


def test_default_token_ttl_scales_with_speed(make_stack) -> None:
    fast = make_stack(speed=1000, token_ttl=None, url_ttl=None)
    assert fast.tokens.ttl == pytest.approx(3.6)
    assert fast.context.url_ttl == pytest.approx(0.3)
    assert make_stack(speed=1, token_ttl=None).tokens.ttl == 3600


# -- getReports / getReport ----------------------------------------------------------------


def test_listing_pages_with_next_token_alone(stack: SandboxStack, spapi: httpx.Client) -> None:
    first = spapi.get(f"{REPORTS}/reports", params={"reportTypes": SETTLEMENT_V2, "pageSize": 5})
    assert first.status_code == 200
    assert first.headers["x-amzn-RateLimit-Limit"] == "22.2"
    assert len(first.json()["reports"]) == 5 and "nextToken" in first.json()
    reports = _list_all(spapi, pageSize=5)
    assert len(reports) == len(stack.seller.settlements) == 18
    assert {r["reportId"] for r in reports} == {s.report_id for s in stack.seller.settlements}
    created = [r["createdTime"] for r in reports]
    assert created == sorted(created, reverse=True)  # newest first
    assert all(r["processingStatus"] == "DONE" and r["reportDocumentId"] for r in reports)
    # default page size is 10
    default = spapi.get(f"{REPORTS}/reports", params={"reportTypes": SETTLEMENT_V2}).json()
    assert len(default["reports"]) == 10
    # nextToken plus anything else is refused
    bad = spapi.get(
        f"{REPORTS}/reports", params={"nextToken": default["nextToken"], "pageSize": "5"}
    )
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["code"] == "InvalidInput"
    assert "x-amzn-RateLimit-Limit" in bad.headers


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"reportTypes": SETTLEMENT_V2, "pageSize": "0"},
        {"reportTypes": SETTLEMENT_V2, "pageSize": "101"},
        {"reportTypes": SETTLEMENT_V2, "processingStatuses": "FINISHED"},
        {"reportTypes": SETTLEMENT_V2, "createdSince": "yesterday"},
        {"nextToken": "not-a-token"},
    ],
)
def test_listing_input_errors(spapi: httpx.Client, params: dict) -> None:
    response = spapi.get(f"{REPORTS}/reports", params=params)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "InvalidInput"


def test_listing_filters(stack: SandboxStack, spapi: httpx.Client) -> None:
    uk = _list_all(spapi, marketplaceIds=UK, pageSize=100)
    expected = {s.report_id for s in stack.seller.settlements if UK in s.listed_under}
    assert {r["reportId"] for r in uk} == expected
    cross = [r for r in uk if DE in r["marketplaceIds"]]
    assert len(cross) == 1 and set(cross[0]["marketplaceIds"]) == {DE, UK}
    newest = max(s.report_created for s in stack.seller.settlements)
    since = newest.strftime("%Y-%m-%dT%H:%M:%SZ")
    only = _list_all(spapi, createdSince=since)
    assert [r["createdTime"] for r in only] == [newest.strftime("%Y-%m-%dT%H:%M:%S+00:00")]
    assert _list_all(spapi, processingStatuses="IN_QUEUE") == []
    assert _list_all(spapi, reportTypes="GET_FLAT_FILE_OPEN_LISTINGS_DATA") == []


def test_reports_older_than_90_days_are_gone(make_stack, client: httpx.Client) -> None:
    stack = make_stack(settlements=12)  # 168 days of history per marketplace
    client.headers["x-amz-access-token"] = lwa_token(stack, client)
    client.base_url = httpx.URL(stack.endpoints["spapi"])
    listed = _list_all(client, pageSize=100)
    assert 0 < len(listed) < len(stack.seller.settlements)


def test_get_report_and_unknown_report(stack: SandboxStack, spapi: httpx.Client) -> None:
    s = stack.seller.settlements[0]
    body = spapi.get(f"{REPORTS}/reports/{s.report_id}").json()
    assert body["reportId"] == s.report_id and body["reportDocumentId"] == s.report_document_id
    missing = spapi.get(f"{REPORTS}/reports/12345")
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["code"] == "NotFound"
    assert "x-amzn-RateLimit-Limit" in missing.headers
    assert spapi.get("/nowhere").status_code == 404


# -- createReport ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("report_type", "number"),
    [(SETTLEMENT_V2, 1118), ("GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE", 1117)],
)
def test_settlement_reports_cannot_be_requested(
    spapi: httpx.Client, report_type: str, number: int
) -> None:
    response = spapi.post(
        f"{REPORTS}/reports", json={"reportType": report_type, "marketplaceIds": [DE]}
    )
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {
                "code": "InvalidInput",
                "message": f"Request for report type {number} is not allowed at this time",
                "details": "",
            }
        ]
    }


def test_requested_report_moves_to_done(spapi: httpx.Client) -> None:
    created = spapi.post(
        f"{REPORTS}/reports",
        json={"reportType": "GET_FLAT_FILE_OPEN_LISTINGS_DATA", "marketplaceIds": [DE]},
    )
    assert created.status_code == 202
    report_id = created.json()["reportId"]
    seen = []
    for _ in range(5):
        body = spapi.get(f"{REPORTS}/reports/{report_id}").json()
        seen.append(body["processingStatus"])
        if body["processingStatus"] == "DONE":
            break
    assert seen == ["IN_QUEUE", "IN_PROGRESS", "DONE"]
    doc = spapi.get(f"{REPORTS}/documents/{body['reportDocumentId']}").json()
    data = gzip.decompress(httpx.get(doc["url"]).content).decode()
    assert "GET_FLAT_FILE_OPEN_LISTINGS_DATA" in data
    assert spapi.post(f"{REPORTS}/reports", json={"reportType": "X"}).status_code == 400
    assert spapi.post(f"{REPORTS}/reports", content=b"{nope").status_code == 400


# -- documents -------------------------------------------------------------------------


def _document(spapi: httpx.Client, settlement, **params: str) -> dict:
    response = spapi.get(f"{REPORTS}/documents/{settlement.report_document_id}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_document_download_is_gzip_with_charset(stack: SandboxStack, spapi: httpx.Client) -> None:
    de = next(s for s in stack.seller.settlements if s.marketplace_id == DE)
    doc = _document(spapi, de)
    assert doc["compressionAlgorithm"] == "GZIP"
    assert "X-Amz-Signature=" in doc["url"] and "X-Amz-Expires=" in doc["url"]
    response = httpx.get(doc["url"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=iso-8859-1"
    assert "content-encoding" not in response.headers
    text = gzip.decompress(response.content).decode("iso-8859-1")
    lines = text.splitlines()
    assert lines[1].split("\t")[0] == de.settlement_id
    total = Decimal(lines[1].split("\t")[4].replace(",", "."))
    assert total == de.total
    # the download host does not want the SP-API token and refuses tampered URLs
    tampered = doc["url"].replace("X-Amz-Signature=", "X-Amz-Signature=0")
    assert httpx.get(tampered).status_code == 403


def test_content_encoding_header_option(stack: SandboxStack, spapi: httpx.Client) -> None:
    s = stack.seller.settlements[0]
    doc = _document(spapi, s, enableContentEncodingUrlHeader="true")
    response = httpx.get(doc["url"])
    assert response.headers["content-encoding"] == "gzip"
    assert response.text.startswith("settlement-id\t")  # httpx decoded it


def test_document_url_expires(make_stack, client: httpx.Client) -> None:
    stack = make_stack(url_ttl=1.0)
    client.base_url = httpx.URL(stack.endpoints["spapi"])
    client.headers["x-amz-access-token"] = lwa_token(stack, client)
    doc = _document(client, stack.seller.settlements[0])
    assert httpx.get(doc["url"]).status_code == 200
    time.sleep(1.1)
    expired = httpx.get(doc["url"])
    assert expired.status_code == 403
    assert expired.headers["content-type"].startswith("application/xml")
    assert "<Code>AccessDenied</Code>" in expired.text
    assert "<Message>Request has expired</Message>" in expired.text


def test_unknown_document(spapi: httpx.Client) -> None:
    response = spapi.get(f"{REPORTS}/documents/amzn1.spdoc.1.4.na.nope")
    assert response.status_code == 404


# -- rate limits ----------------------------------------------------------------------------


def test_burst_then_429(make_stack, client: httpx.Client) -> None:
    stack = make_stack(speed=1.0)
    client.headers["x-amz-access-token"] = lwa_token(stack, client)
    url = stack.endpoints["spapi"] + f"{REPORTS}/reports"
    statuses = [
        client.get(url, params={"reportTypes": SETTLEMENT_V2}).status_code for _ in range(11)
    ]
    assert statuses == [200] * 10 + [429]
    throttled = client.get(url, params={"reportTypes": SETTLEMENT_V2})
    assert throttled.status_code == 429
    assert throttled.json() == {
        "errors": [
            {
                "code": "QuotaExceeded",
                "message": "You exceeded your quota for the requested resource.",
                "details": "",
            }
        ]
    }
    assert throttled.headers["x-amzn-ErrorType"] == "TooManyRequestsException"
    assert "retry-after" not in throttled.headers
    assert "x-amzn-RateLimit-Limit" not in throttled.headers
    assert "x-amzn-RequestId" in throttled.headers
    # buckets are per operation: getReport is still fine
    s = stack.seller.settlements[0]
    ok = client.get(stack.endpoints["spapi"] + f"{REPORTS}/reports/{s.report_id}")
    assert ok.status_code == 200 and ok.headers["x-amzn-RateLimit-Limit"] == "2"
    assert stack.counters.throttled_total == 2
    stats = client.get(stack.endpoints["sandbox_admin"] + "/stats").json()
    assert stats["throttled"] == {"getReports": 2}
    assert stats["requests"]["getReports"] == 12


def test_lwa_is_not_rate_limited(make_stack, client: httpx.Client) -> None:
    stack = make_stack(speed=1.0)
    for _ in range(40):
        lwa_token(stack, client)
    assert stack.counters.tokens_issued == 40


# -- faults ------------------------------------------------------------------------------


def _arm(stack: SandboxStack, spec: str) -> None:
    response = httpx.post(stack.endpoints["sandbox_admin"] + "/faults", content=spec)
    assert response.status_code == 200, response.text


def test_faults_status_codes(stack: SandboxStack, spapi: httpx.Client) -> None:
    s = stack.seller.settlements[0]
    url = f"{REPORTS}/reports/{s.report_id}"
    _arm(stack, "429:1,500:1,503:1")
    codes = [spapi.get(url) for _ in range(4)]
    assert [r.status_code for r in codes] == [429, 500, 503, 200]
    assert codes[0].json()["errors"][0]["code"] == "QuotaExceeded"
    assert codes[1].json()["errors"][0]["code"] == "InternalFailure"
    assert codes[2].json()["errors"][0]["code"] == "ServiceUnavailable"
    assert stack.faults.fired == {"429": 1, "500": 1, "503": 1}


def test_fault_reset_breaks_the_connection(stack: SandboxStack, spapi: httpx.Client) -> None:
    _arm(stack, "reset:1")
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        spapi.get(f"{REPORTS}/reports/{stack.seller.settlements[0].report_id}")
    assert spapi.get(f"{REPORTS}/reports/{stack.seller.settlements[0].report_id}").is_success


def test_fault_slow_trips_client_timeout(make_stack, client: httpx.Client) -> None:
    stack = make_stack(slow_seconds=0.6, faults="slow:1")
    token = lwa_token(stack, client)
    url = stack.endpoints["spapi"] + f"{REPORTS}/reports/{stack.seller.settlements[0].report_id}"
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(url, headers={"x-amz-access-token": token}, timeout=0.2)


def test_fault_expire_token(stack: SandboxStack, spapi: httpx.Client) -> None:
    _arm(stack, '{"spec": "expire_token:1"}')
    response = spapi.get(f"{REPORTS}/reports/{stack.seller.settlements[0].report_id}")
    assert response.status_code == 403
    assert response.json()["errors"][0]["message"] == "The access token you provided has expired."
    assert spapi.get(f"{REPORTS}/reports/1").status_code == 403  # it stays expired


def test_fault_truncate_gzip_and_expire_url(stack: SandboxStack, spapi: httpx.Client) -> None:
    s = stack.seller.settlements[0]
    _arm(stack, "truncate_gzip:1,expire_url:1")
    doc = _document(spapi, s)
    assert httpx.get(doc["url"]).status_code == 403  # URL was born expired
    doc = _document(spapi, s)
    truncated = httpx.get(doc["url"])
    assert truncated.status_code == 200
    with pytest.raises((EOFError, gzip.BadGzipFile)):
        gzip.decompress(truncated.content)
    gzip.decompress(httpx.get(doc["url"]).content)  # next download is whole


def test_fault_dup_listing(stack: SandboxStack, spapi: httpx.Client) -> None:
    _arm(stack, "dup_listing:1")
    reports = _list_all(spapi, pageSize=100)
    ids = [r["reportId"] for r in reports]
    assert len(ids) == len(set(ids)) + 1


def test_bad_fault_spec_is_refused(stack: SandboxStack) -> None:
    response = httpx.post(stack.endpoints["sandbox_admin"] + "/faults", content="429:x")
    assert response.status_code == 400


# -- stack and CLI ---------------------------------------------------------------------


def test_stack_endpoints_and_extra_servers() -> None:
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def hello(request):  # a stand-in for an ERP sandbox
        return PlainTextResponse("hi")

    stack = SandboxStack(seed=7, settlements=1, speed=1000.0, erps=False)
    stack.add_server(
        "erp",
        Starlette(routes=[Route("/", hello)]),
        endpoints=lambda url: {"erp": url, "erp_api": url + "/api"},
        credentials={"user": "demo"},
    )
    stack.start()
    assert stack.endpoints["lwa"].endswith("/auth/o2/token")
    assert httpx.get(stack.endpoints["erp"]).text == "hi"
    assert stack.endpoints["erp_api"].endswith("/api")
    assert stack.credentials["erp"] == {"user": "demo"}
    stack.stop()
    assert stack.credentials["marketplace_ids"] == [
        "ATVPDKIKX0DER", "A1PA6795UKMFR9", "A1F83G8C2ARO7P"
    ]  # fmt: skip


def test_cli_serve_prints_one_json_line_and_stops(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "mlc_assets.cli.main", "sandbox", "serve", "--seed", "3",
         "--speed", "100", "--faults", "503:1", "--data-home", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
    )  # fmt: skip
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        info = json.loads(line)
        assert info["credentials"]["refresh_token"].startswith("Atzr|")
        state = json.loads((tmp_path / "state" / "sandbox.json").read_text())
        assert state["endpoints"] == info["endpoints"]
        stats = httpx.get(info["endpoints"]["sandbox_admin"] + "/stats").json()
        assert stats["faults_armed"] == {"503": "1"}
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err
    assert out == ""  # exactly one line was printed


def test_default_stack_mounts_finances_on_the_same_app(
    stack: SandboxStack, spapi: httpx.Client
) -> None:
    response = spapi.get("/finances/v0/financialEventGroups")
    assert response.status_code == 200, response.text
    assert response.headers["x-amzn-RateLimit-Limit"] == "500"  # 0.5/s x speed 1000
