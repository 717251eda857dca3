"""The Workday sandbox at the wire level: raw SOAP envelopes over real sockets.

These tests speak XML directly (httpx), not through the connector's client, so they check
the sandbox against Workday's documented shapes (docs/reference/workday) independently.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from lxml import etree

from mlc_assets.sandbox.server import BackgroundServer
from mlc_assets.sandbox.workday_app import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_PASSWORD,
    DEMO_READONLY_USERNAME,
    DEMO_REFRESH_TOKEN,
    DEMO_TENANT,
    DEMO_USERNAME,
    build_workday_app,
)
from mlc_assets_tests.reference import WORKDAY

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"
WD = "urn:com.workday/bsvc"
FM_PATH = f"/ccx/service/{DEMO_TENANT}/Financial_Management/v46.1"
RM_PATH = f"/ccx/service/{DEMO_TENANT}/Resource_Management/v46.1"


@pytest.fixture(scope="module")
def examples() -> etree._ElementTree:
    return etree.parse(str(WORKDAY / "minimal_examples.xml"))


@pytest.fixture(scope="module")
def server() -> Iterator[BackgroundServer]:
    app = build_workday_app(closed_periods=["2024-04"], slow_seconds=0.2)
    with BackgroundServer(app, name="workday-sandbox") as srv:
        srv.tenant = app.state.workday  # type: ignore[attr-defined]
        yield srv


def example_envelope(
    examples: etree._ElementTree,
    example_id: str,
    *,
    username: str = f"{DEMO_USERNAME}@{DEMO_TENANT}",
    password: str = DEMO_PASSWORD,
    journal_id: str | None = None,
) -> etree._Element:
    """An example from minimal_examples.xml, re-pointed at the sandbox tenant's data."""
    (example,) = examples.xpath(f"//example[@id='{example_id}']")
    env = copy.deepcopy(next(example.iterchildren(f"{{{SOAP_ENV}}}Envelope")))
    for el in env.iter(f"{{{WSSE}}}Username"):
        el.text = username
    for el in env.iter(f"{{{WSSE}}}Password"):
        el.text = password
    for el in env.iter(f"{{{WD}}}ID"):
        if el.get(f"{{{WD}}}parent_id") == "Corporate":
            el.set(f"{{{WD}}}parent_id", "Standard")
        if el.text == "6150":
            el.text = "6190"
    if journal_id:
        for el in env.iter(f"{{{WD}}}Accounting_Journal_ID"):
            el.text = journal_id
    return env


def post(
    server: BackgroundServer, path: str, envelope: etree._Element | bytes, **kw
) -> httpx.Response:  # type: ignore[no-untyped-def]
    data = envelope if isinstance(envelope, bytes) else etree.tostring(envelope)
    return httpx.post(
        server.url + path,
        content=data,
        headers={
            "Content-Type": "text/xml; charset=utf-8",
            "SOAPAction": '""',
            **kw.pop("headers", {}),
        },
        timeout=10,
        **kw,
    )


def fault_of(response: httpx.Response) -> tuple[str, str, list[tuple[str, str]]]:
    assert response.status_code == 500
    doc = etree.fromstring(response.content)
    fault = doc.find(f"{{{SOAP_ENV}}}Body/{{{SOAP_ENV}}}Fault")
    assert fault is not None
    errors = [
        (e.findtext(f"{{{WD}}}Message") or "", e.findtext(f"{{{WD}}}Xpath") or "")
        for e in fault.iter(f"{{{WD}}}Validation_Error")
    ]
    return fault.findtext("faultcode") or "", fault.findtext("faultstring") or "", errors


def test_wsdl_is_served_self_contained_with_the_sandbox_address(server: BackgroundServer) -> None:
    for path, service in ((FM_PATH, "Financial_Management"), (RM_PATH, "Resource_Management")):
        resp = httpx.get(server.url + path + "?wsdl", timeout=10)
        assert resp.status_code == 200
        doc = etree.fromstring(resp.content)
        address = doc.find(".//{http://schemas.xmlsoap.org/wsdl/soap/}address")
        assert address is not None and address.get("location") == server.url + path
        schema = doc.find(
            "{http://schemas.xmlsoap.org/wsdl/}types/{http://www.w3.org/2001/XMLSchema}schema"
        )
        assert schema is not None and schema.get("targetNamespace") == WD
        assert doc.find(".//{http://www.w3.org/2001/XMLSchema}import") is None
        assert doc.get("targetNamespace") == f"urn:com.workday/bsvc/{service}"


def test_reference_journal_example_is_accepted(server, examples) -> None:  # type: ignore[no-untyped-def]
    env = example_envelope(examples, "submit_accounting_journal_request", journal_id="AMZ-EX-1")
    resp = post(server, FM_PATH, env)
    assert resp.status_code == 200, resp.text
    body = etree.fromstring(resp.content).find(f"{{{SOAP_ENV}}}Body")[0]
    assert body.tag == f"{{{WD}}}Submit_Accounting_Journal_Response"
    ids = {i.get(f"{{{WD}}}type"): i.text for i in body.iter(f"{{{WD}}}ID")}
    assert ids["Accounting_Journal_ID"] == "AMZ-EX-1" and len(ids["WID"]) == 32
    subset = WORKDAY / "Financial_Management_v30_journal_subset.xsd"
    schema = etree.XMLSchema(etree.parse(str(subset)))
    assert schema.validate(etree.ElementTree(copy.deepcopy(body))), schema.error_log


def test_wrong_password_gets_workdays_authentication_fault(server, examples) -> None:  # type: ignore[no-untyped-def]
    env = example_envelope(examples, "get_journals_request_by_reference", password="nope")
    code, message, errors = fault_of(post(server, FM_PATH, env))
    assert (code, message, errors) == (
        "SOAP-ENV:Client.authenticationError",
        "invalid username or password",
        [],
    )
    # Wrong tenant suffix too.
    env = example_envelope(
        examples, "get_journals_request_by_reference", username=f"{DEMO_USERNAME}@other"
    )
    assert fault_of(post(server, FM_PATH, env))[0] == "SOAP-ENV:Client.authenticationError"


def test_nonce_created_and_must_understand_are_accepted(server, examples) -> None:  # type: ignore[no-untyped-def]
    env = example_envelope(examples, "get_journals_request_by_reference")
    security = env.find(f".//{{{WSSE}}}Security")
    security.set(f"{{{SOAP_ENV}}}mustUnderstand", "1")
    token = security.find(f"{{{WSSE}}}UsernameToken")
    etree.SubElement(token, f"{{{WSSE}}}Nonce").text = base64.b64encode(
        b"0123456789abcdef"
    ).decode()
    etree.SubElement(token, f"{{{WSU}}}Created").text = "2024-06-01T00:00:00Z"
    # The journal does not exist: Workday answers "Invalid ID value", which proves we got past auth.
    code, _, errors = fault_of(post(server, FM_PATH, env))
    assert code == "SOAP-ENV:Client.validationError"
    assert errors[0][0].startswith("Invalid ID value.")
    assert errors[0][1].endswith("/wd:JournalEntryReference[1]")


def test_unbalanced_and_unknown_references_are_reported_together(server, examples) -> None:  # type: ignore[no-untyped-def]
    env = example_envelope(examples, "submit_accounting_journal_request", journal_id="AMZ-EX-2")
    credit = next(env.iter(f"{{{WD}}}Credit_Amount"))
    assert credit.text == "0"
    last_credit = list(env.iter(f"{{{WD}}}Credit_Amount"))[-1]
    last_credit.text = "999.00"
    next(env.iter(f"{{{WD}}}Company_Reference"))[0].text = "US99"
    code, message, errors = fault_of(post(server, FM_PATH, env))
    assert code == "SOAP-ENV:Client.validationError"
    assert message.startswith("Validation error occurred. ")
    assert (
        "Invalid ID value.  'US99' is not a valid ID value for type = 'Company_Reference_ID'",
        "/wd:Submit_Accounting_Journal_Request[1]/wd:Accounting_Journal_Data[1]/wd:Company_Reference[1]",
    ) in errors
    assert (
        "Journal may not be submitted unless it is balanced",
        "/wd:Submit_Accounting_Journal_Request[1]/wd:Accounting_Journal_Data[1]",
    ) in errors


def test_schema_violations_and_dtds_are_refused(server, examples) -> None:  # type: ignore[no-untyped-def]
    env = example_envelope(examples, "submit_accounting_journal_request", journal_id="AMZ-EX-3")
    company = next(env.iter(f"{{{WD}}}Company_Reference"))
    company.getparent().remove(company)
    code, _, errors = fault_of(post(server, FM_PATH, env))
    assert code == "SOAP-ENV:Client.validationError"
    assert "Schema validation failed" in errors[0][0]
    evil = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'
    code, message, _ = fault_of(post(server, FM_PATH, evil))
    assert (code, message) == ("SOAP-ENV:Client", "DTDs are not allowed")


def test_operation_must_belong_to_the_service(server, examples) -> None:  # type: ignore[no-untyped-def]
    env = example_envelope(examples, "get_supplier_invoices_request_by_reference")
    code, message, _ = fault_of(post(server, FM_PATH, env))
    assert code == "SOAP-ENV:Client"
    assert (
        message == "Operation Get_Supplier_Invoices is not part of the Financial_Management service"
    )


def test_missing_permission_is_a_processing_fault(server, examples) -> None:  # type: ignore[no-untyped-def]
    env = example_envelope(
        examples,
        "submit_accounting_journal_request",
        username=f"{DEMO_READONLY_USERNAME}@{DEMO_TENANT}",
        journal_id="AMZ-EX-4",
    )
    code, message, _ = fault_of(post(server, FM_PATH, env))
    assert code == "SOAP-ENV:Server.processingError"
    assert message == "Processing error occurred. The task submitted is not authorized."


def test_supplier_invoice_example_round_trip(server, examples) -> None:  # type: ignore[no-untyped-def]
    env = example_envelope(examples, "submit_supplier_invoice_request")
    # The example's supplier exists in the sandbox; Control_Amount_Total 50.00 = 30 + 20.
    resp = post(server, RM_PATH, env)
    assert resp.status_code == 200, resp.text
    lookup = example_envelope(examples, "get_supplier_invoices_request_by_reference")
    resp = post(server, RM_PATH, lookup)
    assert resp.status_code == 200, resp.text
    doc = etree.fromstring(resp.content)
    assert doc.findtext(f".//{{{WD}}}Total_Results") == "1"
    assert doc.findtext(f".//{{{WD}}}Suppliers_Invoice_Number") == "AMZ-12345678901"
    # Same document again: Add_Only.
    _, _, errors = fault_of(post(server, RM_PATH, env))
    assert "Add Only" in errors[0][0]


def test_admin_faults_stats_and_dump(server, examples) -> None:  # type: ignore[no-untyped-def]
    armed = httpx.post(server.url + "/_sandbox/faults", content="503:1", timeout=10).json()
    assert armed["armed"]["503"] == "1"
    env = example_envelope(examples, "get_journals_request_by_reference")
    assert post(server, FM_PATH, env).status_code == 503
    assert post(server, FM_PATH, env).status_code == 500  # back to normal (not found fault)
    stats = httpx.get(server.url + "/_sandbox/stats", timeout=10).json()
    assert stats["faults_fired"]["503"] == 1
    journals = httpx.get(server.url + "/_sandbox/journals", timeout=10).json()["journals"]
    assert all(isinstance(j["total_debits"], str) for j in journals)  # Decimal text, not floats


def test_commit_drop_stores_then_drops_the_connection(server, examples) -> None:  # type: ignore[no-untyped-def]
    httpx.post(server.url + "/_sandbox/faults", content="commit_drop:1", timeout=10)
    env = example_envelope(examples, "submit_accounting_journal_request", journal_id="AMZ-DROP-1")
    with pytest.raises(httpx.HTTPError):
        post(server, FM_PATH, env)
    journals = httpx.get(server.url + "/_sandbox/journals", timeout=10).json()["journals"]
    assert [j["accounting_journal_id"] for j in journals].count("AMZ-DROP-1") == 1


def test_oauth_token_endpoint_and_bearer(server, examples) -> None:  # type: ignore[no-untyped-def]
    token_url = f"{server.url}/ccx/oauth2/{DEMO_TENANT}/token"
    bad = httpx.post(
        token_url,
        data={"grant_type": "refresh_token", "refresh_token": DEMO_REFRESH_TOKEN},
        auth=(DEMO_CLIENT_ID, "wrong"),
        timeout=10,
    )
    assert bad.status_code == 401 and bad.json() == {"error": "invalid_client"}
    good = httpx.post(
        token_url,
        data={"grant_type": "refresh_token", "refresh_token": DEMO_REFRESH_TOKEN},
        auth=(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET),
        timeout=10,
    )
    assert good.status_code == 200
    token = good.json()["access_token"]
    env = example_envelope(examples, "get_journals_request_by_reference")
    header = env.find(f"{{{SOAP_ENV}}}Header")
    env.remove(header)  # no WS-Security at all: the bearer token authenticates
    code, _, _ = fault_of(post(server, FM_PATH, env, headers={"Authorization": f"Bearer {token}"}))
    assert code == "SOAP-ENV:Client.validationError"  # authenticated; the journal is unknown
    code, _, _ = fault_of(post(server, FM_PATH, env, headers={"Authorization": "Bearer forged"}))
    assert code == "SOAP-ENV:Client.authenticationError"


def test_state_file_is_shared_between_sandbox_instances(tmp_path: Path, examples) -> None:  # type: ignore[no-untyped-def]
    state = tmp_path / "workday.json"
    env = example_envelope(
        examples, "submit_accounting_journal_request", journal_id="AMZ-PERSIST-1"
    )
    with BackgroundServer(build_workday_app(state_file=state)) as first:
        assert post(first, FM_PATH, env).status_code == 200
    with BackgroundServer(build_workday_app(state_file=state)) as second:
        _, _, errors = fault_of(post(second, FM_PATH, env))
        assert "Add Only" in errors[0][0]
        lookup = example_envelope(examples, "get_journals_request_by_reference")
        for el in lookup.iter(f"{{{WD}}}ID"):
            el.text = "AMZ-PERSIST-1"
        resp = post(second, FM_PATH, lookup)
        assert resp.status_code == 200
        doc = etree.fromstring(resp.content)
        assert doc.findtext(f".//{{{WD}}}Total_Ledger_Debits") == "1000.00"
