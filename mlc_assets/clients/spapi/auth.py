"""Login with Amazon (LWA): refresh-token grant with a cached access token.

SP-API authorises on the LWA access token alone (SigV4 is ignored since Oct 2023,
docs/reference/amazon/NOTES.md §1).
The token lives one hour; we refresh shortly before ``expires_in`` so a request never
leaves with a token that dies in flight, and on demand (``invalidate``) when SP-API still
says it expired (clock skew, revocation).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable

import httpx
from pydantic import SecretStr

from mlc_assets.clients.retry import RetryPolicy
from mlc_assets.clients.spapi.errors import (
    SpapiAuthenticationError,
    SpapiConnectionError,
    SpapiLwaUnavailable,
)

log = logging.getLogger(__name__)

# OAuth error codes LWA uses for its own trouble; everything else is the caller's fault.
_TRANSIENT_LWA_ERRORS = frozenset({"server_error", "temporarily_unavailable"})
OPERATION = "lwa.token"


class LwaAuth:
    """Thread-safe access-token cache for one (app, seller) refresh token."""

    def __init__(
        self,
        client_id: str,
        client_secret: SecretStr,
        refresh_token: SecretStr,
        token_url: str,
        http_client: httpx.Client,
        clock: Callable[[], float] = time.monotonic,
        *,
        refresh_margin: float = 60.0,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        if not client_id:
            raise ValueError("LWA client_id is empty")
        self._client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        self.token_url = token_url
        self._http = http_client
        self._clock = clock
        self._margin = refresh_margin
        self._policy = retry_policy or RetryPolicy()
        self._lock = threading.Lock()
        self._token: SecretStr | None = None
        self._refresh_at = 0.0
        self.refresh_count = 0

    def __repr__(self) -> str:
        return f"LwaAuth(client_id={self._client_id!r}, token_url={self.token_url!r})"

    def access_token(self) -> str:
        """A valid access token (fetched or refreshed if needed)."""
        with self._lock:
            if self._token is None or self._clock() >= self._refresh_at:
                self._token, lifetime = self._policy.call(self._fetch)
                self.refresh_count += 1
                # Refresh ``margin`` early, but never more than half the lifetime early:
                # the accelerated sandbox hands out tokens that live a few seconds.
                margin = min(self._margin, lifetime / 2)
                self._refresh_at = self._clock() + lifetime - margin
            return self._token.get_secret_value()

    def invalidate(self) -> None:
        """Drop the cached token; the next ``access_token()`` fetches a new one."""
        with self._lock:
            self._token = None

    def _secrets(self) -> tuple[str, ...]:
        return (
            self._client_secret.get_secret_value(),
            self._refresh_token.get_secret_value(),
        )

    def _redact(self, text: str) -> str:
        for secret in self._secrets():
            if secret:
                text = text.replace(secret, "***")
        return text

    def _fetch(self) -> tuple[SecretStr, float]:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": self._refresh_token.get_secret_value(),
            "client_id": self._client_id,
            "client_secret": self._client_secret.get_secret_value(),
        }
        try:
            resp = self._http.post(
                self.token_url, data=form, headers={"accept": "application/json"}
            )
        except httpx.TransportError as exc:
            # Not chained: the httpx request object holds the form with the secrets.
            raise SpapiConnectionError(
                f"cannot reach LWA token endpoint: {type(exc).__name__}",
                operation=OPERATION,
            ) from None
        request_id = resp.headers.get("x-amzn-RequestId")
        try:
            body = resp.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        if resp.status_code == 200 and isinstance(body, dict) and body.get("access_token"):
            try:
                lifetime = float(body.get("expires_in", 3600))
            except (TypeError, ValueError):
                lifetime = 3600.0
            return SecretStr(str(body["access_token"])), lifetime
        error = str(body.get("error", "")) if isinstance(body, dict) else ""
        description = str(body.get("error_description", "")) if isinstance(body, dict) else ""
        if resp.status_code >= 500 or resp.status_code == 429 or error in _TRANSIENT_LWA_ERRORS:
            raise SpapiLwaUnavailable(
                f"LWA token endpoint unavailable ({error or 'no error code'})",
                status=resp.status_code,
                operation=OPERATION,
                request_id=request_id,
            )
        if resp.status_code == 200:
            raise SpapiLwaUnavailable(
                "LWA answered 200 without an access_token",
                status=200,
                operation=OPERATION,
                request_id=request_id,
            )
        detail = f": {self._redact(description)}" if description else ""
        raise SpapiAuthenticationError(
            f"LWA refused the refresh-token grant for client {self._client_id!r} "
            f"with error {error or 'unknown'!r}{detail}",
            lwa_error=error or None,
            status=resp.status_code,
            operation=OPERATION,
            request_id=request_id,
        )
