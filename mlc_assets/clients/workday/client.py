"""Workday Financial Management / Resource Management client (SOAP, zeep).

One class, ``WorkdayClient``, with typed operations: submit and look up accounting journals
and supplier invoices, and read the reference data a mapping must point at. It knows the
wire format, authentication, paging, retries and fault classification - no GL rules, no
Dagster, no warehouse.

Retry rules: reads retry every transient failure. Writes retry only failures that prove the
request was not processed (connect errors, 429/502/503/504); when a write may have reached
Workday (reset or timeout after sending, bare 500) it raises ``WorkdayOutcomeUnknownError``
so the caller looks the reference up before anything else (docs/architecture.md, exactly once).
``Add_Only=true`` is always sent, so even a blind resubmit could not create a second copy.

zeep builds the requests (from the WSDL) and raises SOAP faults; response bodies are read from
the XML by element name (``responses.py``) so that a newer tenant's extra elements are ignored
instead of breaking parsing or silently truncating a journal.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
import zeep
from lxml import etree
from tenacity import (
    Retrying,
)
from zeep.exceptions import XMLParseError
from zeep.transports import Transport

from mlc_assets.clients.retry import RetryPolicy
from mlc_assets.clients.workday import responses as rx
from mlc_assets.clients.workday.faults import (
    ValidationIssue,
    WorkdayAuthenticationError,
    WorkdayError,
    WorkdayPermanentError,
    WorkdayTransientError,
    WorkdayValidationError,
    classify_exception,
)
from mlc_assets.clients.workday.models import (
    JournalRecord,
    LedgerAccount,
    ReferenceItem,
    SubmitResult,
    SupplierInvoiceRecord,
    WorkdayClientConfig,
    WorkdayJournal,
    WorkdaySupplierInvoice,
)
from mlc_assets.clients.workday.payloads import (
    id_ref,
    journal_request,
    supplier_invoice_request,
)
from mlc_assets.clients.workday.plugins import SoapExchangeRecorder, reads_response
from mlc_assets.clients.workday.security import (
    BearerAuth,
    OAuthRefreshTokenProvider,
    UsernameTokenSecurity,
    isu_username,
)

log = logging.getLogger(__name__)

FM = "Financial_Management"
RM = "Resource_Management"
WSDL_DIR = Path(__file__).parent / "wsdl"
WSSE_NS = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"


def bundled_wsdl(service: str) -> Path:
    """The project's own minimal WSDL for ``service`` (shipped as package data)."""
    return WSDL_DIR / f"{service}.wsdl"


class WorkdayClient:
    """Typed access to one Workday tenant. Thread-safe for sequential use per instance."""

    def __init__(
        self,
        config: WorkdayClientConfig,
        *,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.config = config
        self.retry = retry or RetryPolicy()
        self._session = session or requests.Session()
        self._oauth: OAuthRefreshTokenProvider | None = None
        self._wsse: UsernameTokenSecurity | None = None
        if config.oauth_client_id and config.oauth_client_secret and config.oauth_refresh_token:
            self._oauth = OAuthRefreshTokenProvider(
                config.token_url,
                config.oauth_client_id,
                config.oauth_client_secret,
                config.oauth_refresh_token,
                timeout=config.read_timeout,
            )
            self._session.auth = BearerAuth(self._oauth)
        else:
            assert config.username and config.password  # enforced by the config model
            self._wsse = UsernameTokenSecurity(
                isu_username(config.username, config.tenant),
                config.password,
                include_nonce=config.include_nonce,
            )
        self.recorder = SoapExchangeRecorder()
        self._transport = Transport(
            session=self._session,
            timeout=config.read_timeout,
            operation_timeout=(config.connect_timeout, config.read_timeout),  # type: ignore[arg-type]
        )
        self._settings = zeep.Settings(
            strict=config.strict_parsing,
            forbid_dtd=True,
            forbid_entities=True,
            forbid_external=True,
            xml_huge_tree=False,
        )
        self._services: dict[str, Any] = {}
        self._clients: dict[str, zeep.Client] = {}
        self._lock = threading.Lock()

    def _secrets(self) -> tuple[str, ...]:
        """Values no error message may repeat (a fault that echoes the password)."""
        cfg = self.config
        values = (cfg.password, cfg.oauth_client_secret, cfg.oauth_refresh_token)
        return tuple(v.get_secret_value() for v in values if v is not None)

    def __repr__(self) -> str:
        auth = "oauth" if self._oauth else "isu"
        cfg = self.config
        return f"WorkdayClient(tenant={cfg.tenant!r}, version={cfg.version!r}, auth={auth})"

    # ---- plumbing -----------------------------------------------------------------------
    def _wsdl_location(self, service: str) -> str:
        cfg = self.config
        if service == RM and cfg.resource_management_wsdl:
            return cfg.resource_management_wsdl
        if cfg.wsdl == "bundled":
            return str(bundled_wsdl(service))
        if cfg.wsdl == "tenant":
            return f"{cfg.endpoint(service)}?wsdl"
        if service == FM:
            return cfg.wsdl
        # A configured FM WSDL path: its RM sibling lives beside it under the same naming.
        return cfg.wsdl.replace(FM, RM)

    def zeep_client(self, service: str) -> zeep.Client:
        with self._lock:
            client = self._clients.get(service)
            if client is None:
                location = self._wsdl_location(service)
                try:
                    client = zeep.Client(
                        location,
                        wsse=self._wsse,
                        transport=self._transport,
                        settings=self._settings,
                        plugins=[self.recorder],
                    )
                except (requests.RequestException, OSError) as exc:
                    raise WorkdayTransientError(
                        f"cannot load the {service} WSDL from {location} ({type(exc).__name__})",
                        operation="wsdl",
                    ) from exc
                except Exception as exc:  # lxml/zeep errors on a broken WSDL
                    raise WorkdayPermanentError(
                        f"the {service} WSDL at {location} is not usable ({type(exc).__name__})",
                        operation="wsdl",
                    ) from exc
                self._clients[service] = client
                self._services[service] = client.create_service(
                    f"{{urn:com.workday/bsvc/{service}}}{service}Binding",
                    self.config.endpoint(service),
                )
            return client

    def _service(self, service: str) -> Any:
        self.zeep_client(service)
        return self._services[service]

    def _invoke(
        self, service: str, operation: str, *, write: bool, kwargs: dict[str, Any]
    ) -> etree._Element:
        kwargs = {**kwargs, "version": self.config.version}

        def once() -> Any:
            try:
                return getattr(self._service(service), operation)(**kwargs)
            except XMLParseError:
                # zeep could not map a well-formed, fault-free reply onto the (minimal) WSDL:
                # typically a newer tenant's extra elements. The body was captured by the
                # recorder and is read by name, so this is not an error for us.
                if self.recorder.has_body():
                    return None
                raise
            except WorkdayError:
                raise
            except Exception as exc:
                mapped = classify_exception(
                    exc, operation=operation, write=write, secrets=self._secrets()
                )
                if mapped is exc:
                    # zeep choked on a response it could not map (an empty Body, a Body
                    # without the response element): a typed error, the cause chained.
                    raise WorkdayPermanentError(
                        f"response not understood ({type(exc).__name__}: {str(exc)[:300]})",
                        operation=operation,
                    ) from exc
                raise mapped from exc

        def attempt() -> Any:
            try:
                return once()
            except WorkdayAuthenticationError:
                if self._oauth is None:
                    raise
                # The cached access token may have been revoked or expired early: one refresh.
                self._oauth.invalidate()
                return once()

        def attempt_body() -> etree._Element:
            self.recorder.take_body()
            attempt()
            body = self.recorder.take_body()
            if body is None:
                raise WorkdayPermanentError("empty SOAP Body in the response", operation=operation)
            return body

        return self._retrying(write=write)(attempt_body)

    def _retrying(self, *, write: bool) -> Retrying:
        return self.retry.write_retrying() if write else self.retry.retrying()

    def drain_exchanges(self) -> list[tuple[str, bytes]]:
        """Request/response envelopes since the last call (password-free), for audit."""
        return self.recorder.drain()

    def _paged(
        self, service: str, operation: str, item: str, kwargs: dict[str, Any]
    ) -> Iterator[etree._Element]:
        """Walk Page 1..Total_Pages with As_Of_Entry_DateTime fixed so pages do not shift."""
        as_of = datetime.now(UTC).replace(microsecond=0)
        page = 1
        while True:
            body = self._invoke(
                service,
                operation,
                write=False,
                kwargs={
                    **kwargs,
                    "Response_Filter": {
                        "As_Of_Entry_DateTime": as_of,
                        "Page": page,
                        "Count": self.config.page_size,
                    },
                },
            )
            yield from rx.data_items(body, item)
            if page >= rx.total_pages(body):
                return
            page += 1

    # ---- journals -----------------------------------------------------------------------
    def journal_request(self, journal: WorkdayJournal) -> dict[str, Any]:
        return journal_request(journal, self.config)

    def journal_envelope(self, journal: WorkdayJournal) -> etree._Element:
        """The SOAP envelope that ``submit_accounting_journal`` would send (without WS-Security)."""
        client = self.zeep_client(FM)
        envelope = client.create_message(
            self._services[FM],
            "Submit_Accounting_Journal",
            **self.journal_request(journal),
            version=self.config.version,
        )
        for security in envelope.iter(f"{{{WSSE_NS}}}Security"):
            security.getparent().remove(security)
        return envelope

    @reads_response("Submit_Accounting_Journal")
    def submit_accounting_journal(self, journal: WorkdayJournal) -> SubmitResult:
        if journal.total_debits != journal.total_credits:
            # Workday would refuse it anyway; saying so here names the amounts.
            raise WorkdayValidationError(
                [
                    ValidationIssue(
                        message=f"journal {journal.reference} does not balance: debits "
                        f"{journal.total_debits} != credits {journal.total_credits}"
                    )
                ],
                operation="Submit_Accounting_Journal",
            )
        response = self._invoke(
            FM, "Submit_Accounting_Journal", write=True, kwargs=self.journal_request(journal)
        )
        return self._submitted(
            response, "Accounting_Journal_Reference", "Accounting_Journal_ID", journal.reference
        )

    @reads_response("Get_Journals")
    def find_journal(self, reference: str) -> JournalRecord | None:
        """The journal whose Accounting_Journal_ID is ``reference``, or None if Workday has none."""
        entry = self._find_one(
            FM,
            "Get_Journals",
            "Journal_Entry",
            {
                "Request_References": {
                    "JournalEntryReference": [id_ref("Accounting_Journal_ID", reference)]
                },
                "Response_Group": {"Include_Attachment_Data": False},
            },
            what=f"journals carry the reference {reference}",
        )
        return None if entry is None else rx.journal_record(entry, reference)

    def _submitted(
        self, response: Any, ref_element: str, id_type: str, reference: str
    ) -> SubmitResult:
        ref = rx.one(response, ref_element)
        return SubmitResult(
            wid=rx.ref_id(ref, "WID"),
            reference_id=rx.ref_id(ref, id_type) or reference,
            descriptor=rx.descriptor(ref),
            status="submitted" if self.config.submit else "draft",
            warnings=rx.warnings(response),
        )

    def _find_one(
        self, service: str, operation: str, element: str, request: dict[str, Any], *, what: str
    ) -> Any | None:
        """The one document a Get by reference returns, or None. Workday answers an unknown
        reference with a validation fault (NOTES.md section 5), which means "none" here; two
        documents under one reference cannot be told apart and must be resolved in Workday."""
        try:
            items = list(self._paged(service, operation, element, request))
        except WorkdayValidationError as exc:
            if exc.is_invalid_reference():
                return None
            raise
        if len(items) > 1:
            raise WorkdayPermanentError(
                f"{len(items)} {what}; resolve in Workday", operation=operation
            )
        return items[0] if items else None

    # ---- supplier invoices ---------------------------------------------------------------
    def supplier_invoice_request(self, invoice: WorkdaySupplierInvoice) -> dict[str, Any]:
        return supplier_invoice_request(invoice, self.config)

    @reads_response("Submit_Supplier_Invoice")
    def submit_supplier_invoice(self, invoice: WorkdaySupplierInvoice) -> SubmitResult:
        response = self._invoke(
            RM, "Submit_Supplier_Invoice", write=True, kwargs=self.supplier_invoice_request(invoice)
        )
        return self._submitted(
            response,
            "Supplier_Invoice_Reference",
            "Supplier_Invoice_Reference_ID",
            invoice.reference,
        )

    @reads_response("Get_Supplier_Invoices")
    def find_supplier_invoice(self, reference: str) -> SupplierInvoiceRecord | None:
        item = self._find_one(
            RM,
            "Get_Supplier_Invoices",
            "Supplier_Invoice",
            {
                "Request_References": {
                    "Supplier_Invoice_Reference": [
                        id_ref("Supplier_Invoice_Reference_ID", reference)
                    ]
                },
                "Response_Group": {"Include_Reference": True, "Include_Attachment_Data": False},
            },
            what=f"supplier invoices carry the reference {reference}",
        )
        return None if item is None else rx.invoice_record(item, reference)

    # ---- reference data -----------------------------------------------------------------
    @reads_response("Get_Account_Sets")
    def list_ledger_accounts(self, account_set: str | None = None) -> list[LedgerAccount]:
        account_set = account_set or self.config.account_set
        accounts: list[LedgerAccount] = []
        try:
            sets = list(
                self._paged(
                    FM,
                    "Get_Account_Sets",
                    "Account_Set",
                    {
                        "Request_References": {
                            "Account_Set_Reference": [id_ref("Account_Set_ID", account_set)]
                        },
                        "Response_Group": {"Include_Reference": True},
                    },
                )
            )
        except WorkdayValidationError as exc:
            if exc.is_invalid_reference():
                raise WorkdayPermanentError(
                    f"account set {account_set!r} does not exist in the tenant",
                    operation="Get_Account_Sets",
                ) from exc
            raise
        for item in sets:
            accounts += rx.ledger_accounts(item, account_set)
        return accounts

    @reads_response("Get_Workday_Companies")
    def list_companies(self) -> list[ReferenceItem]:
        items = self._paged(FM, "Get_Workday_Companies", "Company", {})
        return [c for c in (rx.company(item) for item in items) if c is not None]

    @reads_response("Get_Resource_Categories")
    def list_spend_categories(self) -> list[ReferenceItem]:
        kwargs = {"Response_Group": {"Include_Reference": True}}
        items = self._paged(FM, "Get_Resource_Categories", "Resource_Category", kwargs)
        return [c for c in (rx.spend_category(item) for item in items) if c is not None]

    @reads_response("Get_Suppliers")
    def find_supplier(self, supplier_id: str | None = None) -> ReferenceItem | None:
        supplier_id = supplier_id or self.config.supplier_id
        try:
            items = list(
                self._paged(
                    RM,
                    "Get_Suppliers",
                    "Supplier",
                    {
                        "Request_References": {
                            "Supplier_Reference": [id_ref("Supplier_ID", supplier_id)]
                        },
                        "Response_Group": {"Include_Reference": True},
                    },
                )
            )
        except WorkdayValidationError as exc:
            if exc.is_invalid_reference():
                return None
            raise
        if not items:
            return None
        return rx.supplier(items[0], supplier_id)


__all__ = ["FM", "RM", "SoapExchangeRecorder", "WorkdayClient", "bundled_wsdl"]
