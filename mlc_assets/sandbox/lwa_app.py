"""Login with Amazon stand-in: ``POST /auth/o2/token`` exchanging a refresh token.

Speaks LWA's own dialect, not SP-API's: OAuth-style 400 bodies (``error``,
``error_description``) with an ``x-amzn-ErrorType`` header (docs/reference/amazon/NOTES.md §1).
Accepts form-encoded
bodies (Amazon's guide, Python SDK) and JSON bodies (Java SDK), as the real endpoint does.
Issued tokens live in a :class:`TokenStore` shared with the SP-API app, which is how the
SP-API side can tell a valid, an expired and an unknown token apart.
"""

from __future__ import annotations

import hmac
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from mlc_assets.sandbox.ratelimit import SandboxCounters

# Demo credentials: public by design (like Amazon's sandbox), never valid anywhere else.
DEMO_CLIENT_ID = "amzn1.application-oa2-client.sandbox"
DEMO_CLIENT_SECRET = "amzn1.oa2-cs.v1.sandbox-demo-secret"  # noqa: S105
DEMO_REFRESH_TOKEN = "Atzr|sandbox-demo-refresh-token"  # noqa: S105
GRANTLESS_SCOPES = {"sellingpartnerapi::notifications", "sellingpartnerapi::migration"}
DEFAULT_TOKEN_TTL = 3600.0

TokenStatus = Literal["valid", "expired", "unknown"]


@dataclass(frozen=True)
class LwaCredentials:
    client_id: str = DEMO_CLIENT_ID
    client_secret: str = DEMO_CLIENT_SECRET
    refresh_token: str = DEMO_REFRESH_TOKEN


class TokenStore:
    """Access tokens issued by the sandbox LWA, with their (monotonic) expiry."""

    def __init__(self, ttl: float = DEFAULT_TOKEN_TTL, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self._clock = clock
        self._tokens: dict[str, float] = {}
        self._lock = threading.Lock()

    def issue(self) -> str:
        token = "Atza|" + secrets.token_urlsafe(96)
        with self._lock:
            self._tokens[token] = self._clock() + self.ttl
        return token

    def status(self, token: str | None) -> TokenStatus:
        if not token:
            return "unknown"
        with self._lock:
            expiry = self._tokens.get(token)
        if expiry is None:
            return "unknown"
        return "valid" if self._clock() < expiry else "expired"

    def expire_all(self) -> None:
        with self._lock:
            now = self._clock()
            self._tokens = {t: min(e, now) for t, e in self._tokens.items()}


_ERROR_TYPES = {
    "unsupported_grant_type": "OA2UnsupportedGrantTypeException",
    "invalid_client": "OA2InvalidClientException",
    "invalid_grant": "OA2InvalidGrantException",
    "invalid_request": "OA2InvalidRequestException",
    "invalid_scope": "OA2InvalidScopeException",
}


def _oauth_error(error: str, description: str, request_id: str) -> JSONResponse:
    return JSONResponse(
        {
            "error_description": description,
            "error": error,
            "error_index": uuid.uuid4().hex[:20],
            "request_id": request_id,
        },
        status_code=400,
        headers={
            "x-amzn-ErrorType": f"{_ERROR_TYPES[error]}:http://internal.amazon.com/coral/"
            "com.amazon.panda/",
            "x-amzn-RequestId": request_id,
        },
    )


async def _read_params(request: Request) -> dict[str, str] | None:
    body = await request.body()
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "application/json":
        try:
            data = json.loads(body or b"{}")
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        return {str(k): str(v) for k, v in data.items() if v is not None}
    parsed = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {k: v[0] for k, v in parsed.items()}


def _same(a: str | None, b: str) -> bool:
    return a is not None and hmac.compare_digest(a.encode(), b.encode())


def build_lwa_app(
    tokens: TokenStore,
    credentials: LwaCredentials | None = None,
    counters: SandboxCounters | None = None,
) -> Starlette:
    creds = credentials or LwaCredentials()

    async def token(request: Request) -> JSONResponse:
        request_id = str(uuid.uuid4())
        params = await _read_params(request)
        if params is None:
            return _oauth_error("invalid_request", "The request body is malformed.", request_id)
        grant = params.get("grant_type")
        if grant not in ("refresh_token", "client_credentials"):
            return _oauth_error(
                "unsupported_grant_type",
                "Invalid grant_type parameter value",
                request_id,
            )
        if not params.get("client_id") or not params.get("client_secret"):
            return _oauth_error(
                "invalid_request",
                "The request is missing a required parameter : client_id",
                request_id,
            )
        if not (
            _same(params.get("client_id"), creds.client_id)
            and _same(params.get("client_secret"), creds.client_secret)
        ):
            return _oauth_error("invalid_client", "Client authentication failed", request_id)
        body: dict[str, object]
        if grant == "refresh_token":
            if "scope" in params:
                return _oauth_error(
                    "invalid_request",
                    "scope is not allowed with grant_type=refresh_token",
                    request_id,
                )
            if not params.get("refresh_token"):
                return _oauth_error(
                    "invalid_request",
                    "The request is missing a required parameter : refresh_token",
                    request_id,
                )
            if not _same(params.get("refresh_token"), creds.refresh_token):
                return _oauth_error(
                    "invalid_grant",
                    "The request has an invalid grant parameter : refresh_token",
                    request_id,
                )
            body = {"access_token": tokens.issue(), "refresh_token": creds.refresh_token}
        else:
            if params.get("scope") not in GRANTLESS_SCOPES:
                return _oauth_error("invalid_scope", "An unknown scope was requested", request_id)
            body = {"access_token": tokens.issue(), "scope": params["scope"]}
        body["token_type"] = "bearer"  # noqa: S105
        body["expires_in"] = max(1, round(tokens.ttl))
        if counters is not None:
            counters.count_token()
        return JSONResponse(
            body, headers={"x-amzn-RequestId": request_id, "Cache-Control": "no-store"}
        )

    return Starlette(routes=[Route("/auth/o2/token", token, methods=["POST"])])
