"""Pure parts of the SP-API client: endpoint tables, error mapping, URL hygiene, models."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from mlc_assets.clients.retry import is_transient
from mlc_assets.clients.spapi import SpapiClient
from mlc_assets.clients.spapi.base import error_for, is_expired_token, loads, parse_errors
from mlc_assets.clients.spapi.endpoints import (
    MARKETPLACES,
    Region,
    endpoint_for,
    marketplace,
    region_of,
)
from mlc_assets.clients.spapi.errors import (
    DownloadUrlRejected,
    ErrorDetail,
    SpapiInvalidInput,
    SpapiNotFound,
    SpapiServerError,
    SpapiThrottled,
    SpapiTokenExpired,
    SpapiUnauthorized,
)
from mlc_assets.clients.spapi.models import DownloadedReport, Report, ReportDocument
from mlc_assets.clients.spapi.reports import check_download_url, is_settlement_report_type


def test_production_and_sandbox_hosts() -> None:
    assert endpoint_for("na") == "https://sellingpartnerapi-na.amazon.com"
    assert endpoint_for(Region.EU) == "https://sellingpartnerapi-eu.amazon.com"
    assert endpoint_for("FE") == "https://sellingpartnerapi-fe.amazon.com"
    assert endpoint_for("eu", sandbox=True) == "https://sandbox.sellingpartnerapi-eu.amazon.com"
    with pytest.raises(ValueError, match="unknown SP-API region 'xx'"):
        endpoint_for("xx")


def test_marketplace_table() -> None:
    assert len(MARKETPLACES) == 23
    us = marketplace("ATVPDKIKX0DER")
    assert (us.country, us.region, us.currency) == ("US", Region.NA, "USD")
    assert marketplace("A21TJRUUN4KGV").region == Region.EU  # India sits on EU
    assert marketplace("AE08WJ6YKNBMC").currency == "ZAR"
    assert marketplace("A1VC38T7YXB528").region == Region.FE
    assert region_of(["A1PA6795UKMFR9", "A13V1IB3VIYZZH"]) == Region.EU
    with pytest.raises(ValueError, match="span regions"):
        region_of(["ATVPDKIKX0DER", "A1PA6795UKMFR9"])
    with pytest.raises(ValueError, match="unknown Amazon marketplace id 'NOPE'"):
        marketplace("NOPE")


QUOTA = {
    "errors": [
        {
            "code": "QuotaExceeded",
            "message": "You exceeded your quota for the requested resource.",
            "details": "",
        }
    ]
}
EXPIRED = {
    "errors": [{"code": "Unauthorized", "message": "The access token you provided has expired."}]
}


@pytest.mark.parametrize(
    ("status", "body", "cls", "transient"),
    [
        (429, QUOTA, SpapiThrottled, True),
        (500, {"errors": [{"code": "InternalFailure", "message": "x"}]}, SpapiServerError, True),
        (503, None, SpapiServerError, True),
        (
            400,
            {"errors": [{"code": "InvalidInput", "message": "Invalid input"}]},
            SpapiInvalidInput,
            False,
        ),
        (
            403,
            {
                "errors": [
                    {"code": "Unauthorized", "message": "Access to requested resource is denied."}
                ]
            },
            SpapiUnauthorized,
            False,
        ),
        (403, EXPIRED, SpapiTokenExpired, False),
        (
            404,
            {"errors": [{"code": "NotFound", "message": "no such report"}]},
            SpapiNotFound,
            False,
        ),
        (415, None, SpapiInvalidInput, False),
    ],
)
def test_error_mapping(status: int, body: object, cls: type, transient: bool) -> None:
    err = error_for(status, parse_errors(body), operation="getReport", request_id="req-1")
    assert isinstance(err, cls)
    assert err.transient is transient
    assert is_transient(err) is transient
    assert err.status == status
    assert "getReport" in str(err)
    assert "req-1" in str(err)


def test_error_body_parsing_keeps_code_message_details() -> None:
    errors = parse_errors(QUOTA)
    assert errors == [
        ErrorDetail("QuotaExceeded", "You exceeded your quota for the requested resource.", "")
    ]
    assert parse_errors({"payload": {}}) == []
    assert parse_errors("garbage") == []
    assert is_expired_token(403, parse_errors(EXPIRED))
    assert not is_expired_token(401, parse_errors(EXPIRED))


def test_json_numbers_are_decimal_never_float() -> None:
    data = loads(b'{"amount": 25.37, "n": 3}')
    assert data["amount"] == Decimal("25.37")
    assert isinstance(data["amount"], Decimal)
    assert data["n"] == 3


@pytest.mark.parametrize(
    "url",
    [
        "https://tortuga-prod-na.s3-external-1.amazonaws.com/doc?X-Amz-Signature=abc",
        "https://d34o8swod1owfl.cloudfront.net/Report_47700__GET_MERCHANT_LISTINGS_ALL_DATA_.txt",
        "https://amazon.com/x",
    ],
)
def test_download_url_allow_list_accepts_amazon_hosts(url: str) -> None:
    check_download_url(url)


@pytest.mark.parametrize(
    ("url", "sandbox", "match"),
    [
        ("http://tortuga.s3.amazonaws.com/doc", False, "only https"),
        ("https://evil.example/doc", False, "not in the allow-list"),
        ("https://amazonaws.com.evil.example/doc", False, "not in the allow-list"),
        ("https://notamazon.com/doc", False, "not in the allow-list"),
        ("http://127.0.0.1:8080/doc", False, "only https"),
        ("https://user:pw@bucket.s3.amazonaws.com/doc", False, "user info"),
        ("http://169.254.169.254/latest/meta-data", True, "only https"),
        ("file:///etc/passwd", True, "only https"),
    ],
)
def test_download_url_allow_list_refuses(url: str, sandbox: bool, match: str) -> None:
    with pytest.raises(DownloadUrlRejected, match=match) as info:
        check_download_url(url, sandbox=sandbox, document_id="amzn1.tortuga.3.x")
    assert "amzn1.tortuga.3.x" in str(info.value)
    assert "X-Amz-Signature" not in str(info.value)


def test_sandbox_mode_allows_loopback_and_custom_allow_list() -> None:
    check_download_url("http://127.0.0.1:41234/_files/doc-1", sandbox=True)
    check_download_url("https://files.example.net/x", allowed_host_suffixes=["example.net"])


def test_settlement_report_types_are_recognised() -> None:
    assert is_settlement_report_type("GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2")
    assert is_settlement_report_type("GET_V2_SETTLEMENT_REPORT_DATA_XML")
    assert not is_settlement_report_type("GET_MERCHANT_LISTINGS_ALL_DATA")


def test_report_models_match_the_api_field_names() -> None:
    # The getReports static sandbox example of the model file, as Amazon ships it.
    raw = json.loads(
        '{"reportType":"FEE_DISCOUNTS_REPORT","processingEndTime":"2019-12-11T13:47:20.677Z",'
        '"processingStatus":"DONE","marketplaceIds":["ATVPDKIKX0DER"],'
        '"reportDocumentId":"0356cf79-b8b0-4226-b4b9-0ee058ea5760",'
        '"reportId":"ReportId1","dataEndTime":"2019-12-11T13:47:20.677Z",'
        '"createdTime":"2019-12-10T13:47:20.677Z","processingStartTime":"2019-12-10T13:47:20.677Z",'
        '"dataStartTime":"2019-12-10T13:47:20.677Z","futureField":1}'
    )
    report = Report.model_validate(raw)
    assert report.processingStatus == "DONE"
    assert report.createdTime == datetime(2019, 12, 10, 13, 47, 20, 677000, tzinfo=UTC)
    assert report.model_extra == {"futureField": 1}  # kept, not dropped

    doc = ReportDocument.model_validate(
        {
            "reportDocumentId": "D1",
            "url": "https://b.s3.amazonaws.com/D1?X-Amz-Signature=s3cr3t",
            "compressionAlgorithm": "GZIP",
        }
    )
    assert doc.compressed
    assert doc.url_host == "b.s3.amazonaws.com"
    assert "s3cr3t" not in repr(doc)
    dl = DownloadedReport(b"abc", "iso-8859-1", "D1", doc.url_host, True)
    assert "abc" not in repr(dl)


def test_sandbox_mode_requires_an_explicit_local_endpoint(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="sandbox=True needs"):
        SpapiClient(
            client_id="id", client_secret="s", refresh_token="r", state_dir=tmp_path, sandbox=True
        )
