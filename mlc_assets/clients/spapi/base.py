"""Execute one SP-API operation: token header, shared bucket, error mapping, retries.

Every call goes: wait for a bucket token → send with ``x-amz-access-token`` → map the
answer. 429/5xx/resets are transient and retried by the injected ``RetryPolicy``; an
expired access token is refreshed and the call re-sent once, transparently. Headers are
never logged or put into exceptions (the access token travels in one), and httpx errors
are summarised rather than chained because they hold the request.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx

from mlc_assets.clients.retry import RetryPolicy
from mlc_assets.clients.spapi.auth import LwaAuth
from mlc_assets.clients.spapi.errors import (
    ErrorDetail,
    SpapiConnectionError,
    SpapiError,
    SpapiInvalidInput,
    SpapiNotFound,
    SpapiServerError,
    SpapiThrottled,
    SpapiTokenExpired,
    SpapiUnauthorized,
)
from mlc_assets.clients.spapi.throttle import BucketRegistry

log = logging.getLogger(__name__)

USER_AGENT = "ml-connector/0.1 (Language=Python)"
EXPIRED_TOKEN_MESSAGE = "the access token you provided has expired"  # noqa: S105
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=30.0, pool=10.0)

Params = Mapping[str, str | int | None]


@dataclass(frozen=True)
class SpapiResponse:
    status: int
    data: Any  # parsed JSON, floats as Decimal
    request_id: str | None
    rate_limit: str | None  # x-amzn-RateLimit-Limit, best effort (absent on 429/403)


@dataclass
class CallStats:
    """Counters for tests and benchmarks (attempts include retries)."""

    attempts: Counter[str] = field(default_factory=Counter)
    throttled: Counter[str] = field(default_factory=Counter)
    server_errors: Counter[str] = field(default_factory=Counter)
    connection_errors: Counter[str] = field(default_factory=Counter)
    token_refreshes: int = 0


def parse_errors(body: Any) -> list[ErrorDetail]:
    """The ``errors`` list of an SP-API error body (tolerant of odd shapes)."""
    if not isinstance(body, dict):
        return []
    out: list[ErrorDetail] = []
    for item in body.get("errors") or []:
        if isinstance(item, dict):
            out.append(
                ErrorDetail(
                    code=str(item.get("code", "")),
                    message=str(item.get("message", "")),
                    details=str(item.get("details") or ""),
                )
            )
    return out


def is_expired_token(status: int, errors: list[ErrorDetail]) -> bool:
    return status == 403 and any(EXPIRED_TOKEN_MESSAGE in e.message.lower() for e in errors)


def error_for(
    status: int, errors: list[ErrorDetail], *, operation: str, request_id: str | None
) -> SpapiError:
    """Map a non-2xx SP-API answer to a typed error."""
    summary = "; ".join(f"{e.code}: {e.message}" for e in errors) or "no error body"
    kw: dict[str, Any] = {
        "status": status,
        "operation": operation,
        "request_id": request_id,
        "errors": errors,
    }
    if status == 429:
        return SpapiThrottled(f"throttled ({summary})", **kw)
    if status >= 500:
        return SpapiServerError(f"server error ({summary})", **kw)
    if status == 404:
        return SpapiNotFound(f"not found ({summary})", **kw)
    if is_expired_token(status, errors):
        return SpapiTokenExpired(f"access token expired after a refresh ({summary})", **kw)
    if status in (401, 403):
        return SpapiUnauthorized(f"not authorised ({summary})", **kw)
    if status == 408:
        return SpapiServerError(f"request timeout ({summary})", **kw)
    return SpapiInvalidInput(f"rejected ({summary})", **kw)


def loads(content: bytes) -> Any:
    """JSON with every number that has a fraction as Decimal (money is never float)."""
    return json.loads(content, parse_float=Decimal)


def amz_date(now: datetime | None = None) -> str:
    return (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")


class SpapiHttp:
    """Signed (LWA-token) request execution against one SP-API base URL."""

    def __init__(
        self,
        base_url: str,
        auth: LwaAuth,
        buckets: BucketRegistry,
        http_client: httpx.Client,
        *,
        retry_policy: RetryPolicy | None = None,
        user_agent: str = USER_AGENT,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.auth = auth
        self.buckets = buckets
        self.http = http_client
        self.policy = retry_policy or RetryPolicy()
        self.user_agent = user_agent
        self._now = now
        self.stats = CallStats()
        self._stats_lock = threading.Lock()

    def request(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        json_body: Any = None,
    ) -> SpapiResponse:
        """Call ``operation`` under the retry policy; raises a typed ``SpapiError``."""
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        return self.policy.call(lambda: self._attempt(operation, method, path, clean, json_body))

    def _count(self, counter: str, operation: str) -> None:
        with self._stats_lock:
            getattr(self.stats, counter)[operation] += 1

    def _attempt(
        self, operation: str, method: str, path: str, params: Params, json_body: Any
    ) -> SpapiResponse:
        refreshed = False
        while True:
            # Token first: an LWA round trip between the bucket grant and the send would
            # bunch requests up on Amazon's side and cost a 429.
            self.auth.access_token()
            self.buckets.acquire(operation)
            self._count("attempts", operation)
            resp = self._send(operation, method, path, params, json_body)
            request_id = resp.headers.get("x-amzn-RequestId")
            if 200 <= resp.status_code < 300:
                try:
                    data = loads(resp.content) if resp.content else None
                except (json.JSONDecodeError, UnicodeDecodeError):
                    self._count("server_errors", operation)
                    raise SpapiServerError(
                        "unreadable JSON in a success response (truncated?)",
                        status=resp.status_code,
                        operation=operation,
                        request_id=request_id,
                    ) from None
                return SpapiResponse(
                    resp.status_code,
                    data,
                    request_id,
                    resp.headers.get("x-amzn-RateLimit-Limit"),
                )
            try:
                body = loads(resp.content) if resp.content else None
            except (json.JSONDecodeError, UnicodeDecodeError):
                body = None
            errors = parse_errors(body)
            if is_expired_token(resp.status_code, errors) and not refreshed:
                # Clock skew or early revocation: one fresh token, one more try.
                log.info("%s: access token expired; refreshing once", operation)
                self.auth.invalidate()
                refreshed = True
                with self._stats_lock:
                    self.stats.token_refreshes += 1
                continue
            if resp.status_code == 429:
                self.buckets.drain(operation)
                self._count("throttled", operation)
            elif resp.status_code >= 500:
                self._count("server_errors", operation)
            raise error_for(resp.status_code, errors, operation=operation, request_id=request_id)

    def _send(
        self, operation: str, method: str, path: str, params: Params, json_body: Any
    ) -> httpx.Response:
        headers = {
            "x-amz-access-token": self.auth.access_token(),
            "x-amz-date": amz_date(self._now()),
            "user-agent": self.user_agent,
            "accept": "application/json",
        }
        if json_body is not None:
            headers["content-type"] = "application/json"
        try:
            return self.http.request(
                method,
                f"{self.base_url}{path}",
                params=params,
                headers=headers,
                content=None if json_body is None else _dumps(json_body),
            )
        except httpx.TransportError as exc:
            self._count("connection_errors", operation)
            # Summarised, not chained: the httpx exception references the request headers.
            raise SpapiConnectionError(
                f"{type(exc).__name__} calling {method} {path}: {exc}", operation=operation
            ) from None


def _dumps(body: Any) -> bytes:
    def default(o: Any) -> Any:
        if isinstance(o, Decimal):
            return str(o)
        if isinstance(o, datetime):
            return o.isoformat()
        raise TypeError(f"cannot serialise {type(o).__name__} to JSON")

    return json.dumps(body, default=default).encode()
