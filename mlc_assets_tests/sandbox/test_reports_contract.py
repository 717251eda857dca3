"""The sandbox's Reports API JSON validates against Amazon's official 2021-06-30 model.

The model (swagger 2.0) lives in the shared reference folder beside the repository; its
``definitions`` are JSON Schema draft 4, so each response is checked against
``{"$ref": "#/definitions/<Type>", "definitions": ...}``.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from typing import Any

import httpx
from jsonschema import Draft4Validator

from mlc_assets.sandbox.stack import SandboxStack
from mlc_assets_tests.reference import AMAZON
from mlc_assets_tests.sandbox.conftest import REPORTS, SETTLEMENT_V2

MODEL = AMAZON / "reports_2021-06-30.json"


@cache
def _model() -> dict[str, Any]:
    return json.loads(MODEL.read_text())


@cache
def _strict_definitions() -> dict[str, Any]:
    """The model's definitions, closed: a misspelt or invented field fails validation."""
    strict = json.loads(json.dumps(_model()["definitions"]))
    for definition in strict.values():
        if "properties" in definition and "additionalProperties" not in definition:
            definition["additionalProperties"] = False
    return strict


def _validate(instance: Any, definition: str) -> None:
    schema = {"$ref": f"#/definitions/{definition}", "definitions": _strict_definitions()}
    errors = sorted(Draft4Validator(schema).iter_errors(instance), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]


def _response_schema(path: str, method: str, status: str) -> str:
    ref = _model()["paths"][path][method]["responses"][status]["schema"]["$ref"]
    return ref.rsplit("/", 1)[1]


def _dates_are_iso(report: dict[str, Any]) -> None:
    for key in ("createdTime", "dataStartTime", "dataEndTime", "processingStartTime",
                "processingEndTime"):  # fmt: skip
        if key in report:
            assert datetime.fromisoformat(report[key]).tzinfo is not None, key


def test_model_is_the_expected_one() -> None:
    paths = _model()["paths"]
    assert _response_schema("/reports/2021-06-30/reports", "get", "200") == "GetReportsResponse"
    assert "/reports/2021-06-30/documents/{reportDocumentId}" in paths


def test_success_responses_match_model(stack: SandboxStack, spapi: httpx.Client) -> None:
    listing = spapi.get(f"{REPORTS}/reports", params={"reportTypes": SETTLEMENT_V2})
    _validate(listing.json(), _response_schema(f"{REPORTS}/reports", "get", "200"))
    assert listing.json()["nextToken"]
    for report in listing.json()["reports"]:
        _dates_are_iso(report)
    s = stack.seller.settlements[-1]
    one = spapi.get(f"{REPORTS}/reports/{s.report_id}").json()
    _validate(one, _response_schema(f"{REPORTS}/reports/{{reportId}}", "get", "200"))
    _dates_are_iso(one)
    doc = spapi.get(f"{REPORTS}/documents/{s.report_document_id}").json()
    _validate(doc, _response_schema(f"{REPORTS}/documents/{{reportDocumentId}}", "get", "200"))
    created = spapi.post(
        f"{REPORTS}/reports",
        json={"reportType": "GET_MERCHANT_LISTINGS_ALL_DATA", "marketplaceIds": [s.marketplace_id]},
    )
    assert created.status_code == 202
    _validate(created.json(), _response_schema(f"{REPORTS}/reports", "post", "202"))
    report_id = created.json()["reportId"]
    for _ in range(3):  # every stage of a requested report is a valid Report
        polled = spapi.get(f"{REPORTS}/reports/{report_id}").json()
        _validate(polled, "Report")
        _dates_are_iso(polled)
    assert polled["processingStatus"] == "DONE"
    requested = spapi.get(
        f"{REPORTS}/reports",
        params={"reportTypes": "GET_MERCHANT_LISTINGS_ALL_DATA", "processingStatuses": "DONE"},
    ).json()
    _validate(requested, "GetReportsResponse")
    assert [r["reportId"] for r in requested["reports"]] == [report_id]


def test_error_responses_match_model(make_stack, spapi: httpx.Client, client) -> None:
    errors = [
        spapi.get(f"{REPORTS}/reports", params={"nextToken": "x", "pageSize": "3"}),  # 400
        spapi.post(
            f"{REPORTS}/reports", json={"reportType": SETTLEMENT_V2, "marketplaceIds": ["X"]}
        ),  # 400
        spapi.get(f"{REPORTS}/reports/999"),  # 404
        spapi.get(f"{REPORTS}/reports", headers={"x-amz-access-token": "Atza|bad"}),  # 403
    ]
    throttled_stack = make_stack(speed=1.0, faults="429:1")
    token = client.post(
        throttled_stack.endpoints["lwa"],
        json={
            "grant_type": "refresh_token",
            "refresh_token": throttled_stack.credentials["refresh_token"],
            "client_id": throttled_stack.credentials["lwa_client_id"],
            "client_secret": throttled_stack.credentials["lwa_client_secret"],
        },
    ).json()["access_token"]
    errors.append(
        httpx.get(
            throttled_stack.endpoints["spapi"] + f"{REPORTS}/reports/1",
            headers={"x-amz-access-token": token},
        )
    )  # 429
    assert [r.status_code for r in errors] == [400, 400, 404, 403, 429]
    for response in errors:
        status = str(response.status_code)
        _validate(response.json(), _response_schema(f"{REPORTS}/reports", "get", status))
