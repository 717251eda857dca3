"""How the connector proves who it is to Workday: an ISU password or an OAuth bearer token.

Workday accepts a WS-Security ``UsernameToken`` (``ISU_name@tenant`` + PasswordText) on every
SOAP request, or an OAuth2 access token in the HTTP ``Authorization`` header obtained with a
refresh token issued to the integration user (NOTES.md sections 2 and 7). Secrets are held as
``SecretStr`` and only unwrapped at the moment they are written onto the wire, so they never
show up in reprs, logs or exception messages.
"""

from __future__ import annotations

import base64
import os
import threading
import time
from datetime import UTC, datetime

import httpx
import requests
from lxml import etree
from pydantic import SecretStr
from zeep.wsse import utils as wsse_utils

from mlc_assets.clients.workday.faults import (
    WorkdayAuthenticationError,
    WorkdayTransientError,
)

UT_PROFILE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-username-token-profile-1.0"
BASE64_BINARY = (
    "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-soap-message-security-1.0#Base64Binary"
)


def isu_username(username: str, tenant: str) -> str:
    """Workday wants ``ISU_name@tenant``; accept the bare ISU name or the full form."""
    return username if "@" in username else f"{username}@{tenant}"


class UsernameTokenSecurity:
    """zeep WS-Security plugin: UsernameToken with PasswordText, optionally Nonce + Created.

    zeep's own ``UsernameToken`` only adds Nonce/Created for digests; some tenants' policies
    (and suds-era samples) expect them with plain text too, so both shapes are offered.
    """

    def __init__(self, username: str, password: SecretStr, *, include_nonce: bool = False) -> None:
        self.username = username
        self._password = password
        self.include_nonce = include_nonce

    def __repr__(self) -> str:
        return f"UsernameTokenSecurity(username={self.username!r}, password='**********')"

    def apply(self, envelope: etree._Element, headers: dict) -> tuple[etree._Element, dict]:
        security = wsse_utils.get_security_header(envelope)
        token = wsse_utils.WSSE.UsernameToken()
        token.append(wsse_utils.WSSE.Username(self.username))
        token.append(
            wsse_utils.WSSE.Password(
                self._password.get_secret_value(), Type=f"{UT_PROFILE}#PasswordText"
            )
        )
        if self.include_nonce:
            nonce = base64.b64encode(os.urandom(16)).decode("ascii")
            token.append(wsse_utils.WSSE.Nonce(nonce, EncodingType=BASE64_BINARY))
            created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            token.append(wsse_utils.WSU.Created(created))
        security.append(token)
        return envelope, headers

    def verify(self, envelope: etree._Element) -> None:
        """Workday does not sign responses; nothing to verify."""


class OAuthRefreshTokenProvider:
    """Exchanges a Workday refresh token for access tokens, caching until shortly before expiry.

    Token endpoint ``https://{host}/ccx/oauth2/{tenant}/token``; the API client authenticates
    with HTTP Basic (NOTES.md section 7).
    """

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: SecretStr,
        refresh_token: SecretStr,
        *,
        timeout: float = 30.0,
        skew_seconds: float = 60.0,
    ) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        self.timeout = timeout
        self.skew_seconds = skew_seconds
        self._token: SecretStr | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"OAuthRefreshTokenProvider(token_url={self.token_url!r}, client_id={self.client_id!r})"
        )

    def invalidate(self) -> None:
        with self._lock:
            self._token = None
            self._expires_at = 0.0

    def access_token(self) -> str:
        with self._lock:
            if self._token is None or time.monotonic() >= self._expires_at:
                self._token, lifetime = self._refresh()
                self._expires_at = time.monotonic() + max(lifetime - self.skew_seconds, 1.0)
            return self._token.get_secret_value()

    def _refresh(self) -> tuple[SecretStr, float]:
        try:
            response = httpx.post(
                self.token_url,
                data={
                    "grant_type": "refresh_token",
                    "refresh_token": self._refresh_token.get_secret_value(),
                },
                auth=(self.client_id, self._client_secret.get_secret_value()),
                timeout=self.timeout,
            )
        except httpx.TransportError as exc:
            raise WorkdayTransientError(
                f"Workday token endpoint unreachable: {type(exc).__name__}",
                operation="oauth2/token",
            ) from None
        if response.status_code >= 500 or response.status_code == 429:
            raise WorkdayTransientError(
                "Workday token endpoint failed",
                status=response.status_code,
                operation="oauth2/token",
            )
        if response.status_code != 200:
            # The body names the OAuth error code only; it never echoes the secrets.
            try:
                code = str(response.json().get("error", ""))
            except ValueError:
                code = ""
            raise WorkdayAuthenticationError(
                f"Workday refused the refresh token ({code or 'no error code'}); issue a new "
                "one with 'Manage Refresh Tokens for Integrations'",
                status=response.status_code,
                operation="oauth2/token",
            )
        body = response.json()
        token = body.get("access_token")
        if not token:
            raise WorkdayAuthenticationError(
                "Workday token endpoint answered without an access_token", operation="oauth2/token"
            )
        return SecretStr(str(token)), float(body.get("expires_in") or 3600)


class BearerAuth(requests.auth.AuthBase):
    """requests auth hook: adds ``Authorization: Bearer`` fetched fresh from the provider."""

    def __init__(self, provider: OAuthRefreshTokenProvider) -> None:
        self.provider = provider

    def __repr__(self) -> str:
        return "BearerAuth(<redacted>)"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.provider.access_token()}"
        return request
