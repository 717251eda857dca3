"""``SpapiClient``: one object bundling LWA auth, shared buckets, HTTP and the Reports API.

Built from plain parameters (the Dagster resource maps settings onto them), so this module
knows nothing about Dagster, DuckDB or configuration files.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import TracebackType

import httpx
from pydantic import SecretStr

from mlc_assets.clients.retry import RetryPolicy
from mlc_assets.clients.spapi.auth import LwaAuth
from mlc_assets.clients.spapi.base import DEFAULT_TIMEOUT, USER_AGENT, SpapiHttp
from mlc_assets.clients.spapi.endpoints import LWA_TOKEN_URL, Region, endpoint_for
from mlc_assets.clients.spapi.reports import (
    DEFAULT_ALLOWED_DOWNLOAD_HOSTS,
    DOCUMENT_URL_LIFETIME,
    ReportsApi,
)
from mlc_assets.clients.spapi.throttle import BucketRegistry, account_key_for


class SpapiClient:
    """Context-managed SP-API client for one (application, seller) pair.

    ``sandbox`` means the local ml-connector sandbox (loopback document URLs allowed), not
    Amazon's static sandbox hosts (use ``endpoint=endpoint_for(region, sandbox=True)``).
    ``speed`` > 1 only makes sense against the local sandbox, which runs its clock that
    much faster: rate limits are multiplied and the document URL lifetime divided by it.
    ``account_key`` names the shared bucket files; by default it is a hash of the client id
    and refresh token (identifies the app+seller pair without storing either).
    """

    def __init__(
        self,
        *,
        client_id: str,
        client_secret: SecretStr | str,
        refresh_token: SecretStr | str,
        state_dir: Path | str,
        region: Region | str = Region.NA,
        endpoint: str | None = None,
        lwa_endpoint: str = LWA_TOKEN_URL,
        sandbox: bool = False,
        speed: float = 1.0,
        account_key: str | None = None,
        retry_policy: RetryPolicy | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        allowed_download_hosts: Sequence[str] = DEFAULT_ALLOWED_DOWNLOAD_HOSTS,
        user_agent: str = USER_AGENT,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if sandbox and not endpoint:
            # Sandbox mode relaxes the download-URL allow-list to loopback; it must never be
            # combined with Amazon's production hosts.
            raise ValueError("sandbox=True needs the local sandbox's SP-API endpoint")
        secret = _secret(client_secret)
        refresh = _secret(refresh_token)
        self.sandbox = sandbox
        self.retry_policy = retry_policy or RetryPolicy()
        # No default headers: the access token is added per SP-API request only, so the
        # same client can fetch pre-signed document URLs without leaking it.
        self._http = httpx.Client(timeout=timeout, headers={"user-agent": user_agent})
        try:
            self.auth = LwaAuth(
                client_id,
                secret,
                refresh,
                lwa_endpoint,
                self._http,
                retry_policy=self.retry_policy,
            )
            self.buckets = BucketRegistry(
                state_dir,
                account_key or account_key_for(client_id, refresh.get_secret_value()),
                speed,
                sleep=sleep,
            )
            self.transport = SpapiHttp(
                endpoint or endpoint_for(region, sandbox=False),
                self.auth,
                self.buckets,
                self._http,
                retry_policy=self.retry_policy,
                user_agent=user_agent,
            )
            self.reports = ReportsApi(
                self.transport,
                sandbox=sandbox,
                allowed_download_hosts=allowed_download_hosts,
                url_lifetime=DOCUMENT_URL_LIFETIME / speed,
                sleep=sleep,
            )
        except Exception:
            self._http.close()
            raise

    def __repr__(self) -> str:
        return f"SpapiClient(endpoint={self.transport.base_url!r}, sandbox={self.sandbox})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SpapiClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _secret(value: SecretStr | str) -> SecretStr:
    return value if isinstance(value, SecretStr) else SecretStr(value)
