"""What the Workday client puts on the wire matches Workday's real schema.

The v30 Financial_Management schema (docs/reference/workday) is the only real one we have;
the client targets v46.1. Both use the namespace ``urn:com.workday/bsvc`` and the ``wd:version``
attribute is a plain string there, so the Body's request element validates as it is.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from lxml import etree

from mlc_assets.clients.workday import JournalLine, Worktag, bundled_wsdl
from mlc_assets_tests.clients.workday_fixtures import (
    EXAMPLES_XML,
    V30_SUBSET_XSD,
    Sandbox,
    make_client,
    running_sandbox,
    sample_journal,
)

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
WD = "urn:com.workday/bsvc"


@pytest.fixture(scope="module")
def v30_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(V30_SUBSET_XSD)))


@pytest.fixture(scope="module")
def bundled_schema() -> etree.XMLSchema:
    return etree.XMLSchema(
        etree.parse(str(bundled_wsdl("Financial_Management").parent / "workday_bsvc.xsd"))
    )


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with running_sandbox() as sb:
        yield sb


def _body_element(envelope: etree._Element) -> etree._Element:
    body = envelope.find(f"{{{SOAP_ENV}}}Body")
    assert body is not None
    elements = [child for child in body if isinstance(child.tag, str)]  # skip comments
    assert len(elements) == 1
    return elements[0]


def _assert_valid(schema: etree.XMLSchema, element: etree._Element) -> None:
    doc = etree.ElementTree(etree.fromstring(etree.tostring(element)))
    assert schema.validate(doc), "\n".join(str(e) for e in schema.error_log)


def test_journal_request_validates_against_the_real_v30_schema(
    sandbox: Sandbox, v30_schema: etree.XMLSchema
) -> None:
    client = make_client(sandbox.url)
    journal = sample_journal(
        lines=[
            JournalLine(
                account="1210",
                debit=Decimal("1E+2"),  # exponent form must still serialise as fixed point
                external_reference_id="L1",
                worktags=(Worktag(type="Cost_Center_Reference_ID", id="CC_ECOMMERCE"),),
            ),
            JournalLine(account="4000", credit=Decimal("100.000001"), memo="sales"),
            JournalLine(account="6190", debit=Decimal("0.000001")),
        ]
    )
    envelope = client.journal_envelope(journal)
    request = _body_element(envelope)
    assert request.tag == f"{{{WD}}}Submit_Accounting_Journal_Request"
    assert request.get(f"{{{WD}}}version") == "v46.1"
    assert request.get(f"{{{WD}}}Add_Only") == "true"
    _assert_valid(v30_schema, request)
    # Fixed-point amounts, two-part ledger account reference.
    amounts = [e.text for e in request.iter(f"{{{WD}}}Debit_Amount")]
    assert amounts == ["100", "0.000001"]
    account = next(request.iter(f"{{{WD}}}Ledger_Account_Reference"))[0]
    assert account.get(f"{{{WD}}}parent_type") == "Account_Set_ID"
    assert account.get(f"{{{WD}}}parent_id") == "Standard"
    # The preview envelope carries no credentials.
    assert envelope.find(f".//{{{WSSE}}}Security") is None


def test_envelopes_sent_over_the_wire_validate(
    sandbox: Sandbox, v30_schema: etree.XMLSchema
) -> None:
    """Captured from a real exchange: request and Workday-shaped responses."""
    client = make_client(sandbox.url)
    journal = sample_journal()
    client.submit_accounting_journal(journal)
    client.find_journal(journal.reference)
    client.list_ledger_accounts()
    exchanges = dict(client.drain_exchanges())
    for label in (
        "Submit_Accounting_Journal:request",
        "Submit_Accounting_Journal:response",
        "Get_Journals:request",
        "Get_Journals:response",
        "Get_Account_Sets:request",
        "Get_Account_Sets:response",
    ):
        _assert_valid(v30_schema, _body_element(etree.fromstring(exchanges[label])))


def test_reference_examples_are_accepted_by_the_bundled_schema(
    bundled_schema: etree.XMLSchema,
) -> None:
    """Our minimal schema accepts Workday-shaped requests written independently of it."""
    examples = etree.parse(str(EXAMPLES_XML))
    for example_id in (
        "submit_accounting_journal_request",
        "submit_accounting_journal_response",
        "submit_supplier_invoice_request",
        "submit_supplier_invoice_response",
        "get_supplier_invoices_request_by_reference",
        "get_supplier_invoices_request_by_criteria",
        "get_supplier_invoices_response",
        "get_journals_request_by_reference",
        "get_journals_response_empty",
    ):
        (example,) = examples.xpath(f"//example[@id='{example_id}']")
        envelope = next(iter(example.iterchildren(f"{{{SOAP_ENV}}}Envelope")))
        _assert_valid(bundled_schema, _body_element(envelope))


def test_username_token_shapes() -> None:
    plain = make_client("http://127.0.0.1:9", password="pw-1")
    nonce = make_client("http://127.0.0.1:9", password="pw-1", include_nonce=True)
    for client, expect_nonce in ((plain, False), (nonce, True)):
        zc = client.zeep_client("Financial_Management")
        envelope = zc.create_message(
            client._services["Financial_Management"],
            "Get_Journals",
            Request_References={"JournalEntryReference": []},
            version="v46.1",
        )
        token = envelope.find(f".//{{{WSSE}}}UsernameToken")
        assert token is not None
        assert token.findtext(f"{{{WSSE}}}Username") == "ISU_MLC@mlc_sandbox"
        password = token.find(f"{{{WSSE}}}Password")
        assert password is not None and password.text == "pw-1"
        assert password.get("Type", "").endswith("#PasswordText")
        assert (token.find(f"{{{WSSE}}}Nonce") is not None) is expect_nonce
