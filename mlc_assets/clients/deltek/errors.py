"""Typed Deltek Vantagepoint failures and the one place that classifies a response.

Deltek documents the status codes but not the error body (docs/reference/deltek/NOTES.md §8): REST
errors are
believed to carry ``{"message","detail"}`` [3P], the token endpoint the OAuth shape [3P], and
gateways in front of cloud tenants answer with HTML pages. So the classifier reads the status
first, then summarises whatever text came back, trimmed and scrubbed of secrets.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterable

import httpx

from mlc_assets.errors import (
    ApiError,
    AuthenticationError,
    AuthorizationError,
    OutcomeUnknownError,
    PermanentApiError,
    TransientApiError,
)

API = "deltek"
_MAX_SUMMARY = 300
TRANSIENT_STATUS = frozenset({408, 429, 500, 502, 503, 504})


class DeltekError(ApiError):
    """Marker base: isinstance(exc, DeltekError) catches every Deltek failure."""


class DeltekTransientError(TransientApiError, DeltekError):
    """Throttled, 5xx, gateway page, timeout or reset: worth another attempt."""


class DeltekOutcomeUnknownError(DeltekTransientError, OutcomeUnknownError):
    """A write failed after it was sent: Deltek may have committed it (no idempotency key)."""


class DeltekValidationError(PermanentApiError, DeltekError):
    """Deltek refused the content (400/404/409/422); ``deltek_message`` is its own text."""

    def __init__(
        self, message: str, *, status: int | None = None, deltek_message: str = ""
    ) -> None:
        super().__init__(message, status=status, api=API)
        self.deltek_message = deltek_message or message


class DeltekAuthError(AuthenticationError, DeltekError):
    """Token grant refused or a token that a refresh could not revive."""


class DeltekForbiddenError(AuthorizationError, DeltekError):
    """The API user's role lacks rights (403)."""


class DeltekDuplicateBatchError(DeltekValidationError):
    """A transaction file with this Batch name already exists (posted or not)."""

    def __init__(self, batch: str, message: str, *, status: int | None = None) -> None:
        super().__init__(message, status=status, deltek_message=message)
        self.batch = batch


class DeltekClosedPeriodError(DeltekValidationError):
    """The accounting period is closed; nothing may be entered or posted there."""

    def __init__(self, period: int, message: str | None = None) -> None:
        text = message or (
            f"Deltek accounting period {period} is closed; refusing to enter or post into it "
            f"(use closed_period_policy='next_open' to move to the next open period)"
        )
        super().__init__(text, deltek_message=text)
        self.period = period


class DeltekPeriodNotFoundError(DeltekValidationError):
    """No accounting period covers the date (or none open after it)."""


class DeltekPostingError(PermanentApiError, DeltekError):
    """PostTransFile answered but did not report every record as posted."""

    def __init__(self, message: str, *, batch: str = "") -> None:
        super().__init__(message, api=API)
        self.batch = batch


class DeltekResponseError(PermanentApiError, DeltekError):
    """A success status with a body we cannot understand: never guess at ledger data."""


def scrub(text: str, secrets: Iterable[str]) -> str:
    """Remove known secret values (a gateway once echoed a submitted password [3P])."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    # Anything that looks like a bearer token or a form-encoded credential.
    text = re.sub(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+", r"\1***", text)
    text = re.sub(
        r"(?i)\b(password|client_secret|refresh_token|access_token)=[^&\s\"]+", r"\1=***", text
    )
    # The same as JSON ("refresh_token": "…"): a token endpoint answering with an unexpected
    # status still carries fresh tokens in its body, which no secrets list knows yet.
    return re.sub(
        r'(?i)("(?:password|client_secret|refresh_token|access_token)"\s*:\s*")[^"]*"',
        r'\1***"',
        text,
    )


def summarise_body(response: httpx.Response, secrets: Iterable[str] = ()) -> str:
    """A short human text from a JSON, HTML or plain error body."""
    raw = response.text or ""
    ctype = response.headers.get("content-type", "").lower()
    summary = ""
    if "html" in ctype or raw.lstrip()[:1] == "<":
        summary = _html_summary(raw)
    else:
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            data = None
        summary = _json_message(data) if data is not None else raw
    summary = re.sub(r"\s+", " ", summary).strip() or response.reason_phrase or "no body"
    summary = scrub(summary, secrets)
    return summary if len(summary) <= _MAX_SUMMARY else summary[: _MAX_SUMMARY - 1] + "…"


def _json_message(data: object) -> str:
    if isinstance(data, list) and data:
        data = data[0]
    if isinstance(data, dict):
        # Key order per docs/reference/deltek/NOTES.md §8 [INF]: the body shape is undocumented.
        keys = ("message", "Message", "error_description", "ExceptionMessage", "error")
        parts = [str(data[k]) for k in keys if data.get(k)]
        detail = data.get("detail") or data.get("Detail")
        if detail:
            parts.append(str(detail))
        if parts:
            return " — ".join(dict.fromkeys(parts))
        return json.dumps(data)[:_MAX_SUMMARY]
    return str(data)


def _html_summary(raw: str) -> str:
    title = re.search(r"(?is)<title[^>]*>(.*?)</title>", raw)
    if title:
        return html.unescape(title.group(1))
    text = re.sub(r"(?is)<(script|style)[^>]*>.*?</\1>", " ", raw)
    return html.unescape(re.sub(r"(?s)<[^>]+>", " ", text))


_DUPLICATE_RE = re.compile(r"(?i)already exists|duplicate")
_CLOSED_RE = re.compile(r"(?i)period\s+(\d{6})\b.*closed|closed.*period\s+(\d{6})")


def classify(
    response: httpx.Response, *, what: str, secrets: Iterable[str] = (), batch: str = ""
) -> DeltekError:
    """Map a non-success response to the error a caller can act on."""
    status = response.status_code
    summary = summarise_body(response, secrets)
    text = f"Deltek {what} failed: HTTP {status}: {summary}"
    if status in TRANSIENT_STATUS:
        return DeltekTransientError(text, status=status, api=API)
    if status == 401:
        return DeltekAuthError(text, status=status, api=API)
    if status == 403:
        return DeltekForbiddenError(text, status=status, api=API)
    if batch and _DUPLICATE_RE.search(summary):
        return DeltekDuplicateBatchError(batch, text, status=status)
    closed = _CLOSED_RE.search(summary)
    if closed:
        return DeltekClosedPeriodError(int(closed.group(1) or closed.group(2)), text)
    if status >= 500:  # 501/505...: the server will not change its mind on a retry.
        return DeltekResponseError(text, status=status, api=API)
    return DeltekValidationError(text, status=status, deltek_message=summary)
