"""The Workday client against the Workday sandbox over real sockets, with real zeep."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from lxml import etree
from zeep.exceptions import XMLParseError

from mlc_assets.clients.retry import RetryPolicy
from mlc_assets.clients.workday import (
    JournalLine,
    SupplierInvoiceLine,
    WorkdayAuthenticationError,
    WorkdayAuthorizationError,
    WorkdayOutcomeUnknownError,
    WorkdayTransientError,
    WorkdayValidationError,
)
from mlc_assets.clients.workday.faults import WorkdayPermanentError
from mlc_assets.sandbox.workday_app import (
    DEFAULT_ACCOUNTS,
    DEFAULT_COMPANIES,
    DEFAULT_SPEND_CATEGORIES,
    DEMO_PASSWORD,
    DEMO_READONLY_USERNAME,
    INACTIVE_SPEND_CATEGORIES,
)
from mlc_assets_tests.clients.workday_fixtures import (
    Sandbox,
    make_client,
    running_sandbox,
    sample_invoice,
    sample_journal,
)


@pytest.fixture(scope="module")
def module_sandbox() -> Iterator[Sandbox]:
    with running_sandbox() as sandbox:
        yield sandbox


@pytest.fixture
def sandbox(module_sandbox: Sandbox) -> Sandbox:
    module_sandbox.reset()
    return module_sandbox


# ---- journals ---------------------------------------------------------------------------------
def test_submit_then_find_round_trip(sandbox: Sandbox) -> None:
    client = make_client(sandbox.url)
    journal = sample_journal()
    assert client.find_journal(journal.reference) is None

    result = client.submit_accounting_journal(journal)
    assert result.reference_id == journal.reference
    assert result.wid is not None and len(result.wid) == 32
    int(result.wid, 16)  # hex

    record = client.find_journal(journal.reference)
    assert record is not None
    assert record.wid == result.wid
    assert record.status == "Posted"  # Submit + Auto_Complete
    assert (record.company, record.currency, record.accounting_date) == (
        "US01",
        "USD",
        date(2024, 5, 31),
    )
    assert record.external_reference_id == journal.reference
    assert record.total_debits == record.total_credits == Decimal("1000.25")
    assert [(ln.account, ln.account_set, ln.debit, ln.credit) for ln in record.lines] == [
        ("1210", "Standard", Decimal("950.00"), Decimal("0")),
        ("6110", "Standard", Decimal("50.25"), Decimal("0")),
        ("4000", "Standard", Decimal("0"), Decimal("1000.25")),
    ]
    assert {(t.type, t.id) for t in record.lines[1].worktags} == {
        ("Cost_Center_Reference_ID", "CC_ECOMMERCE"),
        ("Spend_Category_ID", "SC_MARKETPLACE_FEES"),
    }
    stored = [j for j in sandbox.journals() if j["accounting_journal_id"] == journal.reference]
    assert len(stored) == 1


def test_add_only_duplicate_is_a_validation_error_with_xpath(sandbox: Sandbox) -> None:
    client = make_client(sandbox.url)
    journal = sample_journal()
    client.submit_accounting_journal(journal)
    with pytest.raises(WorkdayValidationError) as info:
        client.submit_accounting_journal(journal)
    err = info.value
    assert err.is_duplicate()
    assert not err.transient
    assert "Add Only" in err.issues[0].message
    assert err.issues[0].xpath.endswith("/wd:Accounting_Journal_ID[1]")
    assert (
        len([j for j in sandbox.journals() if j["accounting_journal_id"] == journal.reference]) == 1
    )


def test_unknown_ledger_account_names_the_id_and_line(sandbox: Sandbox) -> None:
    client = make_client(sandbox.url)
    journal = sample_journal(
        lines=[
            JournalLine(account="1210", debit=Decimal("10.00")),
            JournalLine(account="9999", credit=Decimal("10.00")),
        ]
    )
    with pytest.raises(WorkdayValidationError) as info:
        client.submit_accounting_journal(journal)
    issue = info.value.issues[0]
    assert issue.message.startswith("Invalid ID value.")
    assert "'9999'" in issue.message and "Ledger_Account_ID" in issue.message
    assert issue.xpath == (
        "/wd:Submit_Accounting_Journal_Request[1]/wd:Accounting_Journal_Data[1]"
        "/wd:Journal_Entry_Line_Replacement_Data[2]/wd:Ledger_Account_Reference[1]"
    )
    assert client.find_journal(journal.reference) is None


def test_unbalanced_journal_is_refused_before_sending(sandbox: Sandbox) -> None:
    client = make_client(sandbox.url)
    journal = sample_journal(
        lines=[
            JournalLine(account="1210", debit=Decimal("10.00")),
            JournalLine(account="4000", credit=Decimal("9.99")),
        ]
    )
    with pytest.raises(WorkdayValidationError, match=r"debits 10.00 != credits 9.99"):
        client.submit_accounting_journal(journal)
    assert sandbox.stats().get("op:Submit_Accounting_Journal", 0) == 0


def test_closed_period_is_a_validation_error(sandbox: Sandbox) -> None:
    client = make_client(sandbox.url)
    journal = sample_journal(accounting_date=date(2024, 4, 30))
    with pytest.raises(WorkdayValidationError) as info:
        client.submit_accounting_journal(journal)
    issue = info.value.issues[0]
    assert "2024-04" in issue.message and "not open" in issue.message
    assert issue.xpath.endswith("/wd:Accounting_Date[1]")


def test_bad_password_is_an_authentication_error_without_the_password(sandbox: Sandbox) -> None:
    secret = "Wr0ng-But-Secret-Pa55"
    client = make_client(sandbox.url, password=secret)
    with pytest.raises(WorkdayAuthenticationError) as info:
        client.submit_accounting_journal(sample_journal())
    assert "invalid username or password" in str(info.value)
    for text in (str(info.value), repr(info.value), repr(client), repr(client.config)):
        assert secret not in text
    assert sandbox.stats()["fault:SOAP-ENV:Client.authenticationError"] == 1  # not retried


def test_isu_without_the_domain_gets_an_authorization_error(sandbox: Sandbox) -> None:
    client = make_client(sandbox.url, username=DEMO_READONLY_USERNAME)
    journal = sample_journal()
    assert client.find_journal(journal.reference) is None  # reading is allowed
    with pytest.raises(WorkdayAuthorizationError, match="not authorized"):
        client.submit_accounting_journal(journal)
    assert client.find_journal(journal.reference) is None


def test_503_is_retried_then_succeeds_once(sandbox: Sandbox) -> None:
    client = make_client(sandbox.url)
    journal = sample_journal()
    sandbox.arm("503:2")
    result = client.submit_accounting_journal(journal)
    assert result.reference_id == journal.reference
    assert sandbox.tenant.faults.fired["503"] == 2
    assert (
        len([j for j in sandbox.journals() if j["accounting_journal_id"] == journal.reference]) == 1
    )


def test_retries_give_up_with_a_transient_error(sandbox: Sandbox) -> None:
    client = make_client(
        sandbox.url, retry=RetryPolicy(attempts=2, initial_wait=0.01, max_wait=0.02)
    )
    sandbox.arm("503:5")
    with pytest.raises(WorkdayTransientError) as info:
        client.find_journal("AMZ-00000000000-1")
    assert info.value.status == 503


def test_reads_survive_resets_and_bare_500s(sandbox: Sandbox) -> None:
    client = make_client(sandbox.url)
    sandbox.arm("reset:1,500:1")
    assert client.find_journal("AMZ-00000000001-1") is None
    assert sandbox.tenant.faults.fired["reset"] == 1
    assert sandbox.tenant.faults.fired["500"] == 1


def test_bare_500_on_a_write_is_outcome_unknown_not_resent(sandbox: Sandbox) -> None:
    client = make_client(sandbox.url)
    journal = sample_journal()
    sandbox.arm("500:1")
    with pytest.raises(WorkdayOutcomeUnknownError):
        client.submit_accounting_journal(journal)
    assert sandbox.stats()["requests"] == 1  # the write was not blindly resent
    # The lookup settles it: this 500 happened before processing.
    assert client.find_journal(journal.reference) is None


def test_commit_drop_then_find_journal_finds_the_committed_one(sandbox: Sandbox) -> None:
    client = make_client(sandbox.url)
    journal = sample_journal()
    sandbox.arm("commit_drop:1")
    with pytest.raises(WorkdayOutcomeUnknownError) as info:
        client.submit_accounting_journal(journal)
    assert info.value.transient
    record = client.find_journal(journal.reference)
    assert record is not None
    assert record.total_debits == journal.total_debits
    # And a blind resubmit could not double-post: Add_Only refuses it.
    with pytest.raises(WorkdayValidationError) as dup:
        client.submit_accounting_journal(journal)
    assert dup.value.is_duplicate()
    assert (
        len([j for j in sandbox.journals() if j["accounting_journal_id"] == journal.reference]) == 1
    )


def test_read_timeout_on_write_is_outcome_unknown(sandbox: Sandbox) -> None:
    client = make_client(sandbox.url, read_timeout=0.2)
    journal = sample_journal()
    sandbox.arm("slow:1")
    with pytest.raises(WorkdayOutcomeUnknownError):
        client.submit_accounting_journal(journal)
    # The sandbox finishes the slow request and commits it, as a real server would.
    patient = make_client(sandbox.url)
    record = None
    for _ in range(30):
        record = patient.find_journal(journal.reference)
        if record is not None:
            break
        time.sleep(0.1)
    assert record is not None


# ---- supplier invoices -----------------------------------------------------------------------
def test_supplier_invoice_round_trip(sandbox: Sandbox) -> None:
    client = make_client(sandbox.url)
    invoice = sample_invoice()
    assert client.find_supplier_invoice(invoice.reference) is None
    result = client.submit_supplier_invoice(invoice)
    assert result.reference_id == invoice.reference and result.wid
    record = client.find_supplier_invoice(invoice.reference)
    assert record is not None
    assert record.wid == result.wid
    assert record.supplier_id == "AMAZON"
    assert record.control_amount_total == Decimal("50.10")
    assert record.suppliers_invoice_number == invoice.suppliers_invoice_number
    assert [(ln.spend_category, ln.amount) for ln in record.lines] == [
        ("SC_MARKETPLACE_FEES", Decimal("30.10")),
        ("SC_FULFILMENT", Decimal("20.00")),
    ]


def test_supplier_invoice_rules(sandbox: Sandbox) -> None:
    client = make_client(sandbox.url)
    first = sample_invoice()
    client.submit_supplier_invoice(first)
    same_number = sample_invoice(suppliers_invoice_number=first.suppliers_invoice_number)
    with pytest.raises(WorkdayValidationError, match="already in use"):
        client.submit_supplier_invoice(same_number)
    bad_category = sample_invoice(
        lines=[SupplierInvoiceLine(spend_category="SC_NOPE", amount=Decimal("1.00"))]
    )
    with pytest.raises(WorkdayValidationError) as info:
        client.submit_supplier_invoice(bad_category)
    assert info.value.is_invalid_reference()
    assert info.value.issues[0].xpath.endswith(
        "/wd:Invoice_Line_Replacement_Data[1]/wd:Spend_Category_Reference[1]"
    )
    wrong_total = sample_invoice(control_amount_total=Decimal("99.99"))
    with pytest.raises(WorkdayValidationError, match="Control Amount Total"):
        client.submit_supplier_invoice(wrong_total)


def test_supplier_invoice_commit_drop_then_lookup(sandbox: Sandbox) -> None:
    client = make_client(sandbox.url)
    invoice = sample_invoice()
    sandbox.arm("commit_drop:1")
    with pytest.raises(WorkdayOutcomeUnknownError):
        client.submit_supplier_invoice(invoice)
    assert client.find_supplier_invoice(invoice.reference) is not None


# ---- reference data ------------------------------------------------------------------------------
def test_reference_data_with_paging(sandbox: Sandbox) -> None:
    client = make_client(sandbox.url, page_size=3)
    accounts = client.list_ledger_accounts("Standard")
    assert {"1210", "4000", "6190"} <= {a.id for a in accounts}
    assert len(accounts) == len(DEFAULT_ACCOUNTS) and all(
        a.active and a.account_set == "Standard" for a in accounts
    )

    categories = client.list_spend_categories()
    seeded = len(DEFAULT_SPEND_CATEGORIES) + len(INACTIVE_SPEND_CATEGORIES)
    assert len(categories) == seeded  # active + inactive, over pages of 3
    assert sandbox.stats()["op:Get_Resource_Categories"] == -(-seeded // 3)
    assert {c.id for c in categories if not c.active} == {"SC_RETIRED"}

    companies = client.list_companies()
    assert {c.id for c in companies} == {*DEFAULT_COMPANIES, "US99_CLOSED"}
    assert {c.id for c in companies if not c.active} == {"US99_CLOSED"}
    assert sandbox.stats()["op:Get_Workday_Companies"] == 2

    amazon = client.find_supplier("AMAZON")
    assert amazon is not None and amazon.active and amazon.name
    old = client.find_supplier("OLD_SUPPLIER")
    assert old is not None and not old.active
    assert client.find_supplier("NOBODY") is None
    # An id the tenant does not know faults the whole Get (as Workday does), named as such.
    with pytest.raises(WorkdayPermanentError, match="account set 'NOPE' does not exist"):
        client.list_ledger_accounts("NOPE")


def test_retired_accounts_are_listed_inactive_and_refused() -> None:
    with running_sandbox(retired_accounts=["6199"]) as sandbox:
        client = make_client(sandbox.url)
        by_id = {a.id: a for a in client.list_ledger_accounts()}
        assert by_id["6199"].active is False
        journal = sample_journal(
            lines=[
                JournalLine(account="6199", debit=Decimal("1.00")),
                JournalLine(account="4000", credit=Decimal("1.00")),
            ]
        )
        with pytest.raises(WorkdayValidationError, match="retired"):
            client.submit_accounting_journal(journal)


# ---- authentication variants -------------------------------------------------------------------
def test_username_token_with_nonce_and_created(sandbox: Sandbox) -> None:
    client = make_client(sandbox.url, include_nonce=True)
    journal = sample_journal()
    client.submit_accounting_journal(journal)
    assert client.find_journal(journal.reference) is not None


def test_oauth_bearer_and_refresh_after_revocation(sandbox: Sandbox) -> None:
    client = make_client(sandbox.url, oauth=True)
    journal = sample_journal()
    client.submit_accounting_journal(journal)
    assert sandbox.stats()["token_requests"] == 1
    sandbox.tenant.revoke_tokens()
    assert client.find_journal(journal.reference) is not None  # refreshed once, then retried
    assert sandbox.stats()["token_requests"] == 2


def test_oauth_bad_refresh_token_is_an_authentication_error(sandbox: Sandbox) -> None:
    secret = "not-the-right-refresh-token-123"
    client = make_client(sandbox.url, oauth=True, refresh_token=secret)
    with pytest.raises(WorkdayAuthenticationError, match="invalid_grant") as info:
        client.find_journal("AMZ-00000000002-1")
    assert secret not in str(info.value)


def test_wsdl_from_the_tenant(sandbox: Sandbox) -> None:
    client = make_client(sandbox.url, wsdl="tenant")
    journal = sample_journal()
    client.submit_accounting_journal(journal)
    assert client.find_journal(journal.reference) is not None
    assert client.find_supplier() is not None  # Resource_Management WSDL from the tenant too


def test_audit_exchanges_never_contain_the_password(sandbox: Sandbox) -> None:
    client = make_client(sandbox.url)
    client.submit_accounting_journal(sample_journal())
    exchanges = client.drain_exchanges()
    labels = [label for label, _ in exchanges]
    assert labels == ["Submit_Accounting_Journal:request", "Submit_Accounting_Journal:response"]
    assert all(DEMO_PASSWORD.encode() not in data for _, data in exchanges)
    assert client.drain_exchanges() == []


def test_responses_with_elements_unknown_to_the_wsdl_are_read_completely(sandbox: Sandbox) -> None:
    """The sandbox, like a real tenant, returns elements the minimal WSDL does not declare
    (Transaction_Date, Ledger_Debit_Amount, ...) in the middle of sequences."""
    client = make_client(sandbox.url)
    journal = sample_journal()
    client.submit_accounting_journal(journal)
    client.drain_exchanges()
    record = client.find_journal(journal.reference)
    assert record is not None and len(record.lines) == 3
    assert record.lines[2].credit == Decimal("1000.25")
    assert record.total_credits == Decimal("1000.25")
    # zeep alone could not have read it with the bundled WSDL:
    (response,) = [data for label, data in client.drain_exchanges() if label.endswith("response")]
    zc = client.zeep_client("Financial_Management")
    element = zc.get_element("{urn:com.workday/bsvc}Get_Journals_Response")
    body = etree.fromstring(response).find("{http://schemas.xmlsoap.org/soap/envelope/}Body")[0]
    with pytest.raises(XMLParseError, match="Unexpected element"):
        element.parse(body, zc.wsdl.types)
