"""Turn what Workday (or the network) answered into one of a few typed errors.

Workday returns every SOAP fault with HTTP 500 (NOTES.md section 6):

* ``SOAP-ENV:Client.validationError`` with ``detail/wd:Validation_Fault/wd:Validation_Error``
  (Message, Detail_Message, Xpath) -> ``WorkdayValidationError`` (permanent: fix the data);
* ``SOAP-ENV:Client.authenticationError`` -> ``WorkdayAuthenticationError``;
* ``SOAP-ENV:Server.processingError`` "... not authorized" -> ``WorkdayAuthorizationError``,
  other processing errors -> ``WorkdayProcessingError``;
* a non-XML error body (load balancer 502/503/504, 429), a zeep ``Fault`` without a code (an
  HTML error page that happened to parse), connection resets and timeouts -> transient.

For writes the transient case is split: if the request may have reached Workday (reset or
timeout after sending, HTTP 500 without a SOAP fault) the outcome is unknown, and the caller
must look the document up before trying again (``WorkdayOutcomeUnknownError``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import requests
import urllib3
from lxml import etree
from zeep.exceptions import (
    DTDForbidden,
    EntitiesForbidden,
    Fault,
    TransportError,
    XMLParseError,
    XMLSyntaxError,
)
from zeep.exceptions import Error as ZeepError

from mlc_assets.clients.retry import NOT_PROCESSED_STATUS
from mlc_assets.errors import (
    ApiError,
    AuthenticationError,
    AuthorizationError,
    OutcomeUnknownError,
    PermanentApiError,
    TransientApiError,
)

API = "workday"
WD_NS = "urn:com.workday/bsvc"
# 500 is not among NOT_PROCESSED_STATUS: Workday sends its SOAP faults with 500, and a 500
# without a fault body may come from a request that was processed.
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class ValidationIssue:
    """One ``wd:Validation_Error``: what is wrong and where in the request."""

    message: str
    xpath: str = ""
    detail: str = ""


class WorkdayError(ApiError):
    def __init__(self, message: str, *, status: int | None = None, operation: str = "") -> None:
        self.operation = operation
        prefix = f"Workday {operation}: " if operation else "Workday: "
        super().__init__(prefix + message, status=status, api=API)


class WorkdayTransientError(WorkdayError, TransientApiError):
    """Worth another attempt (throttled, unavailable, connection trouble)."""


class WorkdayOutcomeUnknownError(WorkdayTransientError, OutcomeUnknownError):
    """A write may or may not have been committed: look it up before resubmitting."""


class WorkdayPermanentError(WorkdayError, PermanentApiError):
    """Retrying the same request cannot help."""


class WorkdayValidationError(WorkdayPermanentError):
    """Workday rejected the request's content; ``issues`` says what and where."""

    def __init__(self, issues: Sequence[ValidationIssue], *, operation: str = "") -> None:
        self.issues = tuple(issues)
        text = "; ".join(
            f"{i.message}" + (f" (at {i.xpath})" if i.xpath else "") for i in self.issues
        )
        super().__init__(
            f"validation error: {text or 'no detail'}", status=500, operation=operation
        )

    @property
    def messages(self) -> list[str]:
        return [i.message for i in self.issues]

    def is_invalid_reference(self) -> bool:
        """Every issue is "Invalid ID value" - how Workday says a looked-up ID does not exist."""
        return bool(self.issues) and all(
            i.message.startswith("Invalid ID value") for i in self.issues
        )

    def is_duplicate(self) -> bool:
        """Add_Only refused a document whose ID already exists."""
        return any(
            "Add Only" in i.message
            or "already in use" in i.message
            or "already exists" in i.message
            for i in self.issues
        )


class WorkdayAuthenticationError(WorkdayError, AuthenticationError):
    """Workday did not accept the ISU credentials or the OAuth token."""


class WorkdayAuthorizationError(WorkdayError, AuthorizationError):
    """Authenticated, but the ISU's security group lacks the domain or business process."""


class WorkdayProcessingError(WorkdayPermanentError):
    """Workday could not process the request (``Server.processingError``)."""


class WorkdayFaultError(WorkdayPermanentError):
    """A SOAP fault this client does not recognise; kept permanent so nothing is resent blindly."""


def _text(element: etree._Element, name: str) -> str:
    found = element.find(f"{{{WD_NS}}}{name}")
    return (found.text or "").strip() if found is not None else ""


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """Blank out secret values a fault may echo (an authentication fault quoting the request)."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


_MAX_TEXT = 1000  # a fault message is for a person; a megabyte of it is not


def _short(text: str, secrets: Iterable[str]) -> str:
    text = scrub(text, secrets)
    return text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 1] + "…"


def validation_issues(
    detail: etree._Element | None, secrets: Iterable[str] = ()
) -> list[ValidationIssue]:
    if detail is None:
        return []
    secrets = tuple(secrets)
    return [
        ValidationIssue(
            message=_short(_text(err, "Message") or _text(err, "Detail_Message"), secrets),
            xpath=_short(_text(err, "Xpath"), secrets),
            detail=_short(_text(err, "Detail_Message"), secrets),
        )
        for err in detail.iter(f"{{{WD_NS}}}Validation_Error")
    ]


def classify_fault(
    fault: Fault, *, operation: str, write: bool = False, secrets: Iterable[str] = ()
) -> WorkdayError:
    secrets = tuple(secrets)
    code = _short((fault.code or "").split(":")[-1], secrets)  # local part of the faultcode
    message = _short((fault.message or "").strip(), secrets)
    if not fault.code:
        # zeep could parse the body as XML but it was no SOAP fault (e.g. an HTML error page).
        cls = WorkdayOutcomeUnknownError if write else WorkdayTransientError
        return cls(
            "unexpected error page instead of a SOAP response", status=500, operation=operation
        )
    if code.endswith("validationError"):
        issues = validation_issues(fault.detail, secrets) or [ValidationIssue(message=message)]
        return WorkdayValidationError(issues, operation=operation)
    if code.endswith("authenticationError"):
        return WorkdayAuthenticationError(
            f"authentication failed ({message or 'no message'}); check the ISU name "
            "(user@tenant), password, and the tenant's authentication policy",
            status=500,
            operation=operation,
        )
    if code.endswith("processingError"):
        detail = ""
        if fault.detail is not None:
            found = next(fault.detail.iter(f"{{{WD_NS}}}Detail_Message"), None)
            detail = _short((found.text or "").strip(), secrets) if found is not None else ""
        text = message + (f" ({detail})" if detail and detail not in message else "")
        if "not authorized" in text.lower():
            return WorkdayAuthorizationError(
                f"{text}; grant the ISU's security group the domain / business process",
                status=500,
                operation=operation,
            )
        return WorkdayProcessingError(text, status=500, operation=operation)
    return WorkdayFaultError(
        f"SOAP fault {_short(fault.code or '', secrets)}: {message}",
        status=500,
        operation=operation,
    )


def _connect_failed(exc: requests.RequestException) -> bool:
    """True when the TCP connection was never established (the request was not sent)."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    reason = exc.args[0] if exc.args else None
    if isinstance(reason, urllib3.exceptions.MaxRetryError):
        reason = reason.reason
    return isinstance(reason, urllib3.exceptions.NewConnectionError)


def classify_exception(
    exc: BaseException, *, operation: str, write: bool = False, secrets: Iterable[str] = ()
) -> BaseException:
    """Map zeep/requests/lxml failures to WorkdayError; anything else is returned unchanged."""
    if isinstance(exc, WorkdayError):
        return exc
    if isinstance(exc, Fault):
        return classify_fault(exc, operation=operation, write=write, secrets=secrets)
    if isinstance(exc, DTDForbidden | EntitiesForbidden):
        # zeep refuses DTDs and entities (forbid_dtd/forbid_entities): no XXE, no entity bomb.
        return WorkdayPermanentError(
            f"response refused: it declares a DTD or entities ({type(exc).__name__})",
            operation=operation,
        )
    if isinstance(exc, XMLSyntaxError):
        # Not XML or no SOAP envelope (a proxy's HTML page, a cut-off body): like an error
        # page, worth another read; for a write the document may have been committed.
        cls = WorkdayOutcomeUnknownError if write else WorkdayTransientError
        first = (str(exc).splitlines() or [""])[0]
        return cls(
            f"the response is not a SOAP envelope ({_short(first, secrets)[:300]})",
            operation=operation,
        )
    if isinstance(exc, TransportError):
        status = exc.status_code
        if status in (401, 403):
            return WorkdayAuthenticationError(
                "HTTP authentication refused", status=status, operation=operation
            )
        if status in NOT_PROCESSED_STATUS:
            return WorkdayTransientError(f"HTTP {status}", status=status, operation=operation)
        if status in TRANSIENT_STATUS:
            cls = WorkdayOutcomeUnknownError if write else WorkdayTransientError
            return cls(f"HTTP {status} without a SOAP fault", status=status, operation=operation)
        return WorkdayPermanentError(f"HTTP {status}", status=status, operation=operation)
    if isinstance(exc, requests.RequestException):
        kind = type(exc).__name__
        if not write or _connect_failed(exc):
            return WorkdayTransientError(f"connection problem ({kind})", operation=operation)
        return WorkdayOutcomeUnknownError(
            f"connection problem after sending ({kind}); the document may have been committed",
            operation=operation,
        )
    if isinstance(exc, XMLParseError):
        return WorkdayPermanentError(
            f"response does not match the loaded WSDL ({exc}); load the WSDL of the endpoint's "
            "version",
            operation=operation,
        )
    if isinstance(exc, ZeepError | etree.LxmlError):
        return WorkdayPermanentError(
            f"unreadable response ({type(exc).__name__}: {_short(str(exc), secrets)[:300]})",
            operation=operation,
        )
    return exc
