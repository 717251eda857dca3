"""Typed SP-API failures.

Callers (assets, sensors) only need two answers from an error: is it worth retrying
(``transient``), and what should a human read (operation, HTTP status, Amazon's error code,
the request id to quote to Amazon support). Messages never carry tokens, secrets, headers
or pre-signed URLs (a pre-signed URL is a bearer credential for the file it points at).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mlc_assets.clients.errors import (
    ApiError,
    AuthenticationError,
    AuthorizationError,
    PermanentApiError,
    TransientApiError,
)

API = "sp-api"


@dataclass(frozen=True)
class ErrorDetail:
    """One entry of the SP-API ``{"errors": [...]}`` body."""

    code: str
    message: str
    details: str = ""


class SpapiError(ApiError):
    """Base of every SP-API failure; carries the request id Amazon support asks for."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        operation: str = "",
        request_id: str | None = None,
        errors: Sequence[ErrorDetail] = (),
    ) -> None:
        self.operation = operation
        self.request_id = request_id
        self.errors = tuple(errors)
        parts = [f"{operation}: " if operation else "", message]
        if status is not None:
            parts.append(f" (HTTP {status}")
            parts.append(f", request id {request_id})" if request_id else ")")
        elif request_id:
            parts.append(f" (request id {request_id})")
        super().__init__("".join(parts), status=status, api=API)

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(e.code for e in self.errors)


class SpapiThrottled(SpapiError, TransientApiError):
    """HTTP 429 QuotaExceeded: the shared bucket was empty on Amazon's side."""


class SpapiServerError(SpapiError, TransientApiError):
    """HTTP 5xx, or a 2xx whose body could not be read (truncated/garbled)."""


class SpapiConnectionError(SpapiError, TransientApiError):
    """Timeout, reset or refused connection (the httpx error is summarised, not chained,
    because httpx exceptions hold the request and its token header)."""


class SpapiInvalidInput(SpapiError, PermanentApiError):
    """HTTP 400 (and 413/415): the request itself is wrong; retrying cannot help."""


class SpapiUnauthorized(SpapiError, AuthorizationError):
    """HTTP 401/403 that is not an expired token: missing role, wrong seller, bad app."""


class SpapiTokenExpired(SpapiError, AuthorizationError):
    """HTTP 403 "The access token you provided has expired." after one transparent refresh."""


class SpapiNotFound(SpapiError, PermanentApiError):
    """HTTP 404: unknown report / document id."""


class SpapiAuthenticationError(SpapiError, AuthenticationError):
    """LWA refused the credentials (``invalid_client``, ``invalid_grant``, ...)."""

    def __init__(self, message: str, *, lwa_error: str | None = None, **kw: object) -> None:
        self.lwa_error = lwa_error
        super().__init__(message, **kw)  # type: ignore[arg-type]


class SpapiLwaUnavailable(SpapiError, TransientApiError):
    """LWA answered 5xx / ``server_error`` / ``temporarily_unavailable``."""


class ReportNotRequestableError(SpapiError, PermanentApiError):
    """createReport refused client-side: settlement reports are listed, never created."""


class ReportProcessingError(SpapiError, PermanentApiError):
    """A report ended FATAL or CANCELLED (CANCELLED also means "no data")."""

    def __init__(self, message: str, *, processing_status: str, **kw: object) -> None:
        self.processing_status = processing_status
        super().__init__(message, **kw)  # type: ignore[arg-type]


class ReportTimeoutError(SpapiError, PermanentApiError):
    """wait_for_report gave up; the report may still finish later."""


class DownloadUrlRejected(SpapiError, PermanentApiError):
    """A report document URL is not https on an allow-listed host (possible SSRF/redirect)."""


class DownloadUrlExpired(SpapiError, TransientApiError):
    """The pre-signed document URL expired (403 from the file host); fetch a fresh one."""


class TruncatedDownload(SpapiError, TransientApiError):
    """The report body ended early (gzip stream incomplete); download again."""


class DownloadFailed(SpapiError, PermanentApiError):
    """The file host refused the download for a reason other than expiry."""
