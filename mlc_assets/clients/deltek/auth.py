"""Vantagepoint tokens: password grant, refresh grant, cache and proactive refresh.

``POST {base}/token``, form-encoded [DOC: DPS-Token]. The refresh grant is [3P: CSharpSample,
GoVP-auth]; whether refresh tokens rotate is unknown, so whatever refresh token the latest
response carries is kept [INF]. The recommended behaviour (docs/reference/deltek/NOTES.md §2) is
implemented: refresh
at ``expires_in`` minus a margin, on a 401 refresh once and retry once, fall back to the
password grant when a refresh is refused, never log or echo the form body.
"""

from __future__ import annotations

import json
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import httpx
from pydantic import BaseModel, ConfigDict, SecretStr

from mlc_assets.clients.deltek.errors import (
    API,
    DeltekAuthError,
    DeltekResponseError,
    DeltekTransientError,
    classify,
    scrub,
)
from mlc_assets.clients.retry import RetryPolicy

log = logging.getLogger(__name__)


class DeltekCredentials(BaseModel):
    """What the customer's API Authorization record gives us [DOC: H-APIForm]."""

    model_config = ConfigDict(frozen=True)

    username: str
    password: SecretStr
    database: str
    client_id: str
    client_secret: SecretStr
    integrated: bool = False  # Windows / Azure AD integrated login [DOC]

    def secret_values(self) -> tuple[str, ...]:
        return (self.password.get_secret_value(), self.client_secret.get_secret_value())


@dataclass
class _Token:
    access: SecretStr
    refresh: SecretStr | None
    expires_at: float  # monotonic


class TokenManager:
    """Holds one token pair for one tenant; thread-safe."""

    def __init__(
        self,
        http: httpx.Client,
        token_url: str,
        credentials: DeltekCredentials,
        *,
        retry: RetryPolicy,
        refresh_margin: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._http = http
        self._url = token_url
        self._creds = credentials
        self._retry = retry
        self._margin = refresh_margin
        self._clock = clock
        self._lock = threading.Lock()
        self._token: _Token | None = None
        self.grants: dict[str, int] = {"password": 0, "refresh_token": 0}

    def secrets(self) -> tuple[str, ...]:
        """Everything that must be scrubbed from text we surface."""
        values = list(self._creds.secret_values())
        tok = self._token
        if tok is not None:
            values.append(tok.access.get_secret_value())
            if tok.refresh is not None:
                values.append(tok.refresh.get_secret_value())
        return tuple(values)

    def access_token(self) -> str:
        """A token valid for at least the refresh margin (fetching or refreshing as needed)."""
        with self._lock:
            tok = self._token
            if tok is not None and self._clock() < tok.expires_at:
                return tok.access.get_secret_value()
            return self._renew(tok).access.get_secret_value()

    def on_unauthorized(self, rejected: str) -> str:
        """A call got a 401 with ``rejected``: renew (unless another thread already did)."""
        with self._lock:
            tok = self._token
            if tok is not None and tok.access.get_secret_value() != rejected:
                return tok.access.get_secret_value()
            return self._renew(tok).access.get_secret_value()

    # ---- internals --------------------------------------------------------------------
    def _renew(self, tok: _Token | None) -> _Token:
        if tok is not None and tok.refresh is not None:
            try:
                self._token = self._grant(
                    {
                        "grant_type": "refresh_token",
                        "refresh_token": tok.refresh.get_secret_value(),
                        "client_id": self._creds.client_id,
                        "client_secret": self._creds.client_secret.get_secret_value(),
                        # [3P: GoVP-auth] sends it; harmless either way [INF].
                        "database": self._creds.database,
                    }
                )
                return self._token
            except DeltekAuthError:
                log.info("Deltek refresh grant refused; falling back to the password grant")
        self._token = self._grant(
            {
                # Lower-case keys as working clients send [3P]; Deltek's example
                # capitalises some; matching appears case-insensitive [INF].
                "username": self._creds.username,
                "password": self._creds.password.get_secret_value(),
                "grant_type": "password",
                "integrated": "Y" if self._creds.integrated else "N",
                "database": self._creds.database,
                "client_id": self._creds.client_id,
                "client_secret": self._creds.client_secret.get_secret_value(),
            }
        )
        return self._token

    def _grant(self, form: dict[str, str]) -> _Token:
        grant = form["grant_type"]

        def once() -> httpx.Response:
            try:
                return self._http.post(self._url, data=form, headers={"Accept": "application/json"})
            except httpx.TransportError as exc:
                # httpx messages do not carry the body; still, say only what failed.
                raise DeltekTransientError(
                    f"Deltek token request ({grant}) failed: {type(exc).__name__}", api=API
                ) from None

        def checked() -> httpx.Response:
            resp = once()
            if resp.status_code != 200:
                err = classify(resp, what=f"token request ({grant})", secrets=self._secrets(form))
                # A token endpoint's body may carry tokens whatever its status: only the
                # OAuth error fields are quoted, never the body itself.
                text = f"Deltek token request ({grant}) failed: HTTP {resp.status_code}"
                text += _oauth_error(resp, self._secrets(form))
                if not err.transient:
                    # 400 invalid_grant / invalid_client, 401: credentials [3P: GoVP-errors].
                    raise DeltekAuthError(text, status=resp.status_code, api=API)
                raise DeltekTransientError(text, status=resp.status_code, api=API)
            return resp

        resp = self._retry.call(checked)
        try:
            body = json.loads(resp.text)
            access = body["access_token"]
            expires_in = float(body.get("expires_in", 1799))
            refresh = body.get("refresh_token")
            # "None" as a bearer token, or a NaN lifetime that never expires, would only
            # fail later and further from the cause.
            if not isinstance(access, str) or not access.strip():
                raise ValueError("access_token is not a string")
            if not math.isfinite(expires_in) or expires_in <= 0:
                raise ValueError("expires_in is not a positive number")
            if refresh is not None and not isinstance(refresh, str):
                raise ValueError("refresh_token is not a string")
        except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
            raise DeltekResponseError(
                f"Deltek token request ({grant}): the response is not the documented JSON "
                "(access_token, token_type, expires_in, refresh_token)",
                status=resp.status_code,
                api=API,
            ) from None
        self.grants[grant] = self.grants.get(grant, 0) + 1
        # Refresh early: a fixed margin, but never more than a fifth of a short lifetime.
        margin = min(self._margin, expires_in / 5)
        log.debug("Deltek %s grant ok; token valid %.0fs", grant, expires_in)
        return _Token(
            access=SecretStr(access),
            refresh=SecretStr(str(refresh)) if refresh else None,
            expires_at=self._clock() + expires_in - margin,
        )

    def _secrets(self, form: dict[str, str]) -> tuple[str, ...]:
        keys = ("password", "client_secret", "refresh_token")
        return tuple(form[k] for k in keys if form.get(k)) + self.secrets()


def _oauth_error(resp: httpx.Response, secrets: Iterable[str]) -> str:
    """``: invalid_grant (description)`` from an RFC 6749 error body, else nothing."""
    try:
        body = json.loads(resp.text)
    except (ValueError, RecursionError):
        return ""
    if not isinstance(body, dict) or not isinstance(body.get("error"), str):
        return ""
    text = body["error"]
    if isinstance(body.get("error_description"), str):
        text += f" ({body['error_description']})"
    return ": " + scrub(text, secrets)[:200]


__all__ = ["DeltekCredentials", "TokenManager", "scrub"]
