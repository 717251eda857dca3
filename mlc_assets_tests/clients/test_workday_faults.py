"""Fault classification and model guards of the Workday client (no network needed)."""

from __future__ import annotations

from decimal import Decimal

import pytest
import requests
from lxml import etree
from pydantic import SecretStr, ValidationError
from zeep.exceptions import Fault, TransportError

from mlc_assets.clients.retry import is_transient
from mlc_assets.clients.workday import (
    JournalLine,
    WorkdayAuthenticationError,
    WorkdayAuthorizationError,
    WorkdayClientConfig,
    WorkdayFaultError,
    WorkdayOutcomeUnknownError,
    WorkdayPermanentError,
    WorkdayProcessingError,
    WorkdayTransientError,
    WorkdayValidationError,
)
from mlc_assets.clients.workday.faults import classify_exception
from mlc_assets.config import WorkdaySettings

WD = "urn:com.workday/bsvc"


def _detail(*errors: tuple[str, str]) -> etree._Element:
    detail = etree.Element("detail")
    fault = etree.SubElement(detail, f"{{{WD}}}Validation_Fault")
    for message, xpath in errors:
        err = etree.SubElement(fault, f"{{{WD}}}Validation_Error")
        etree.SubElement(err, f"{{{WD}}}Message").text = message
        etree.SubElement(err, f"{{{WD}}}Detail_Message").text = message
        etree.SubElement(err, f"{{{WD}}}Xpath").text = xpath
    return detail


def test_validation_fault_keeps_every_message_and_xpath() -> None:
    fault = Fault(
        "Validation error occurred. Invalid ID value.",
        code="SOAP-ENV:Client.validationError",
        detail=_detail(
            ("Invalid ID value.  'US99' is not ...", "/wd:A[1]"), ("Unbalanced", "/wd:B[1]")
        ),
    )
    err = classify_exception(fault, operation="Submit_Accounting_Journal", write=True)
    assert isinstance(err, WorkdayValidationError) and not is_transient(err)
    assert [(i.message, i.xpath) for i in err.issues] == [
        ("Invalid ID value.  'US99' is not ...", "/wd:A[1]"),
        ("Unbalanced", "/wd:B[1]"),
    ]
    assert not err.is_invalid_reference()  # only when every issue is an unknown ID
    assert "Submit_Accounting_Journal" in str(err) and "/wd:B[1]" in str(err)


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        (
            Fault("invalid username or password", code="SOAP-ENV:Client.authenticationError"),
            WorkdayAuthenticationError,
        ),
        (
            Fault(
                "Processing error occurred. The task submitted is not authorized.",
                code="SOAP-ENV:Server.processingError",
            ),
            WorkdayAuthorizationError,
        ),
        (
            Fault(
                "Processing error occurred. Something else.", code="SOAP-ENV:Server.processingError"
            ),
            WorkdayProcessingError,
        ),
        (Fault("odd", code="SOAP-ENV:Server.somethingNew"), WorkdayFaultError),
    ],
)
def test_fault_codes(fault: Fault, expected: type) -> None:
    err = classify_exception(fault, operation="Get_Journals")
    assert type(err) is expected
    assert not is_transient(err)


def test_codeless_fault_and_transport_errors() -> None:
    html = Fault("Unknown fault occured", code=None)
    assert type(classify_exception(html, operation="x")) is WorkdayTransientError
    assert type(classify_exception(html, operation="x", write=True)) is WorkdayOutcomeUnknownError
    for status in (429, 502, 503, 504):
        err = classify_exception(TransportError("x", status_code=status), operation="x", write=True)
        assert type(err) is WorkdayTransientError and err.status == status  # not processed: resend
    bare_500 = classify_exception(TransportError("x", status_code=500), operation="x", write=True)
    assert type(bare_500) is WorkdayOutcomeUnknownError and is_transient(bare_500)
    assert (
        type(classify_exception(TransportError("x", status_code=404), operation="x"))
        is WorkdayPermanentError
    )
    assert (
        type(classify_exception(TransportError("x", status_code=401), operation="x"))
        is WorkdayAuthenticationError
    )


def test_connection_errors_depend_on_whether_the_request_was_sent() -> None:
    refused = requests.ConnectTimeout("connect timed out")
    assert type(classify_exception(refused, operation="x", write=True)) is WorkdayTransientError
    reset = requests.ConnectionError("Connection aborted")
    assert type(classify_exception(reset, operation="x", write=True)) is WorkdayOutcomeUnknownError
    assert type(classify_exception(reset, operation="x", write=False)) is WorkdayTransientError
    timeout = requests.ReadTimeout("read timed out")
    assert (
        type(classify_exception(timeout, operation="x", write=True)) is WorkdayOutcomeUnknownError
    )


def test_config_requires_credentials_and_hides_secrets() -> None:
    with pytest.raises(ValidationError, match="credentials missing"):
        WorkdayClientConfig(base_url="https://h", tenant="t")
    cfg = WorkdayClientConfig(
        base_url="https://h/", tenant="t", username="ISU", password=SecretStr("s3cret")
    )
    assert (
        cfg.endpoint("Financial_Management") == "https://h/ccx/service/t/Financial_Management/v46.1"
    )
    assert cfg.token_url == "https://h/ccx/oauth2/t/token"
    assert "s3cret" not in repr(cfg) and "s3cret" not in str(cfg.model_dump())


def test_config_from_settings() -> None:
    settings = WorkdaySettings(
        host="https://wd2-impl-services1.workday.com",
        tenant="acme",
        isu_username="ISU_Amazon",
        isu_password=SecretStr("pw"),
        supplier_id="SUP-AMAZON",
        auto_complete=False,
    )
    cfg = WorkdayClientConfig.from_settings(settings)
    assert cfg.endpoint("Resource_Management").endswith(
        "/ccx/service/acme/Resource_Management/v46.1"
    )
    assert (cfg.supplier_id, cfg.auto_complete, cfg.wsdl) == ("SUP-AMAZON", False, "bundled")


def test_journal_line_guards() -> None:
    with pytest.raises(ValidationError, match="both a debit and a credit"):
        JournalLine(account="1", debit=Decimal("1"), credit=Decimal("1"))
    with pytest.raises(ValidationError, match="positive"):
        JournalLine(account="1", debit=Decimal("-1"))
    with pytest.raises(ValidationError, match="6 decimal"):
        JournalLine(account="1", debit=Decimal("0.0000001"))
