"""Token handling against the sandbox tenant over real sockets."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from pydantic import SecretStr

from mlc_assets.clients.deltek import DeltekAuthError, DeltekClient
from mlc_assets.sandbox.deltek_app import DEMO_CLIENT_SECRET, DEMO_PASSWORD
from mlc_assets_tests.clients import deltek_fixtures as fx
from mlc_assets_tests.clients.deltek_fixtures import Tenant, demo_credentials

# Fixtures shared by the Deltek client tests (conftest.py is owned elsewhere).
start_tenant = fx.start_tenant
shared_tenant = fx.shared_tenant
tenant = fx.tenant
make_client = fx.make_client
client = fx.client


def test_password_grant_then_cached(client: DeltekClient, tenant: Tenant) -> None:
    assert client.list_periods()
    assert client.list_periods()
    stats = tenant.stats()["stats"]
    assert stats["grant_password"] == 1  # the token is cached between calls
    assert client.tokens.grants == {"password": 1, "refresh_token": 0}


def test_refresh_grant_before_expiry(
    start_tenant: Callable[..., Tenant], make_client: Callable[..., DeltekClient]
) -> None:
    # 1799 s scaled by speed: a 2-second token, refreshed proactively (margin = ttl/5).
    t = start_tenant(speed=1799 / 2)
    c = make_client(target=t)
    c.list_periods()
    c.tokens._clock = lambda: 10**9  # the token is now "old": jump the client's clock
    c.list_periods()
    assert c.tokens.grants == {"password": 1, "refresh_token": 1}
    stats = t.stats()["stats"]
    assert stats["grant_refresh"] == 1
    assert stats.get("unauthorized", 0) == 0  # refreshed before the server said no


def test_token_expiring_mid_run_is_invisible(client: DeltekClient, tenant: Tenant) -> None:
    client.list_periods()
    tenant.arm("expire_token:1")  # the next call's token dies on the server side
    periods = client.list_periods()
    assert periods
    stats = tenant.stats()
    assert stats["faults_fired"] == {"expire_token": 1}
    assert stats["stats"]["unauthorized"] == 1
    # one 401 → one refresh → one retry that succeeded
    assert client.tokens.grants == {"password": 1, "refresh_token": 1}


def test_server_side_expiry_of_all_tokens(client: DeltekClient, tenant: Tenant) -> None:
    client.list_accounts()
    tenant.sandbox.expire_all_tokens()
    assert client.list_accounts()
    assert client.tokens.grants["refresh_token"] == 1


def test_refused_refresh_falls_back_to_password_grant(client: DeltekClient, tenant: Tenant) -> None:
    client.list_periods()
    tenant.sandbox._refresh.clear()  # the tenant forgot every refresh token
    tenant.sandbox.expire_all_tokens()
    assert client.list_periods()
    assert client.tokens.grants == {"password": 2, "refresh_token": 0}


def test_wrong_password_is_auth_error_without_secret(
    make_client: Callable[..., DeltekClient], tenant: Tenant, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "Wr0ng-Pa55word!"
    c = make_client(credentials=demo_credentials(password=SecretStr(wrong)))
    with pytest.raises(DeltekAuthError) as info:
        c.list_periods()
    text = str(info.value) + repr(info.value)
    assert "invalid_grant" in text or "incorrect" in text
    assert info.value.status == 400
    for secret in (wrong, DEMO_CLIENT_SECRET, DEMO_PASSWORD):
        assert secret not in text
        assert secret not in caplog.text
    assert tenant.stats()["stats"]["token_denied"] == 1  # auth errors are not retried


def test_wrong_client_secret_is_auth_error(
    make_client: Callable[..., DeltekClient],
) -> None:
    c = make_client(credentials=demo_credentials(client_secret=SecretStr("nope-nope")))
    with pytest.raises(DeltekAuthError, match="invalid_client"):
        c.list_accounts()


def test_secrets_never_in_reprs(client: DeltekClient) -> None:
    client.list_periods()
    token = client.tokens.access_token()
    for text in (repr(client), repr(client.tokens._creds), str(client.tokens._token)):
        assert DEMO_PASSWORD not in text
        assert DEMO_CLIENT_SECRET not in text
        assert token not in text


def test_token_endpoint_transient_failure_is_retried(client: DeltekClient, tenant: Tenant) -> None:
    tenant.arm("html502:1")  # hits the first request: the token grant itself
    assert client.list_periods()
    assert tenant.stats()["faults_fired"] == {"html502": 1}
