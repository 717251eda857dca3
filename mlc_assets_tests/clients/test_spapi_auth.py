"""LWA against the sandbox's token endpoint (real sockets): caching, early refresh,
thread safety, and OAuth errors that never echo the secrets."""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx
import pytest
from pydantic import SecretStr

from mlc_assets.clients.errors import AuthenticationError
from mlc_assets.clients.retry import FAST_TEST_POLICY
from mlc_assets.clients.spapi import SpapiAuthenticationError, SpapiClient
from mlc_assets.clients.spapi.auth import LwaAuth
from mlc_assets.clients.spapi.reports import SETTLEMENT_REPORT_TYPES
from mlc_assets_tests.clients.conftest import SpapiSandbox


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def _auth(sandbox: SpapiSandbox, http: httpx.Client, clock: FakeClock, **creds: str) -> LwaAuth:
    c = sandbox.stack.credentials
    return LwaAuth(
        creds.get("client_id", c["lwa_client_id"]),
        SecretStr(creds.get("client_secret", c["lwa_client_secret"])),
        SecretStr(creds.get("refresh_token", c["refresh_token"])),
        sandbox.stack.endpoints["lwa"],
        http,
        clock,
        retry_policy=FAST_TEST_POLICY,
    )


def test_token_is_cached_and_refreshed_60s_before_expiry(spapi_sandbox: SpapiSandbox) -> None:
    # The sandbox's own lifetime is 3.6 s at speed 1000; the fake clock lets us walk an
    # hour-long token instead.
    spapi_sandbox.stack.tokens.ttl = 3600.0
    clock = FakeClock()
    with httpx.Client() as http:
        auth = _auth(spapi_sandbox, http, clock)
        first = auth.access_token()
        assert first.startswith("Atza|")
        clock.t = 3600 - 61
        assert auth.access_token() == first  # still cached
        clock.t = 3600 - 60
        second = auth.access_token()
        assert second != first  # refreshed one minute early
        auth.invalidate()
        assert auth.access_token() not in (first, second)
    assert spapi_sandbox.stats()["tokens_issued"] == 3
    assert auth.refresh_count == 3


def test_concurrent_callers_share_one_token(spapi_sandbox: SpapiSandbox) -> None:
    with httpx.Client() as http:
        auth = _auth(spapi_sandbox, http, FakeClock())
        seen: list[str] = []
        barrier = threading.Barrier(8)

        def worker() -> None:
            barrier.wait()
            seen.append(auth.access_token())

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert len(seen) == 8
    assert len(set(seen)) == 1
    assert spapi_sandbox.stats()["tokens_issued"] == 1


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("client_secret", "amzn1.oa2-cs.v1.WRONG-secret-value-42", "invalid_client"),
        ("refresh_token", "Atzr|WRONG-refresh-token-value-42", "invalid_grant"),
    ],
)
def test_rejected_credentials_raise_without_the_secret(
    spapi_sandbox: SpapiSandbox, field: str, value: str, code: str
) -> None:
    with httpx.Client() as http:
        auth = _auth(spapi_sandbox, http, FakeClock(), **{field: value})
        with pytest.raises(SpapiAuthenticationError) as info:
            auth.access_token()
    err = info.value
    assert isinstance(err, AuthenticationError)
    assert not err.transient
    assert err.lwa_error == code
    assert code in str(err)
    assert err.status == 400
    assert err.request_id
    for text in (str(err), repr(err), repr(auth)):
        assert value not in text
        assert "WRONG" not in text
    assert spapi_sandbox.stats()["tokens_issued"] == 0


def test_bad_secret_through_the_client_facade(
    make_spapi_client: Callable[..., SpapiClient], spapi_sandbox: SpapiSandbox
) -> None:
    secret = "amzn1.oa2-cs.v1.definitely-not-the-secret"
    client = make_spapi_client(client_secret=secret)
    with pytest.raises(SpapiAuthenticationError) as info:
        next(client.reports.list_reports(sorted(SETTLEMENT_REPORT_TYPES)[:1]))
    assert "invalid_client" in str(info.value)
    assert secret not in str(info.value)
    assert secret not in repr(client)
    # No SP-API call was made without a token.
    assert spapi_sandbox.stats()["requests"] == {}
