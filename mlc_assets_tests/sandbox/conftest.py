"""Fixtures for the sandbox tests: stacks on real loopback sockets, fast clocks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from mlc_assets.sandbox.stack import SandboxStack

SETTLEMENT_V2 = "GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2"
REPORTS = "/reports/2021-06-30"


@pytest.fixture
def make_stack() -> Iterator[Callable[..., SandboxStack]]:
    """Start stacks with test defaults (speed 1000); all are stopped after the test."""
    stacks: list[SandboxStack] = []

    def _make(**kwargs: Any) -> SandboxStack:
        # Fast rate limits, but token and URL lifetimes long enough that a loaded CI machine
        # cannot expire them mid-test; tests about expiry pass their own (or None = scaled).
        params: dict[str, Any] = {
            "seed": 7,
            "settlements": 6,
            "speed": 1000.0,
            "token_ttl": 120.0,
            "url_ttl": 120.0,
        }
        params.update(kwargs)
        stack = SandboxStack(**params).start()
        stacks.append(stack)
        return stack

    yield _make
    for stack in stacks:
        stack.stop()


@pytest.fixture
def stack(make_stack: Callable[..., SandboxStack]) -> SandboxStack:
    return make_stack()


def lwa_token(stack: SandboxStack, client: httpx.Client) -> str:
    creds = stack.credentials
    response = client.post(
        stack.endpoints["lwa"],
        data={
            "grant_type": "refresh_token",
            "refresh_token": creds["refresh_token"],
            "client_id": creds["lwa_client_id"],
            "client_secret": creds["lwa_client_secret"],
        },
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10.0) as c:
        yield c


@pytest.fixture
def spapi(stack: SandboxStack, client: httpx.Client) -> httpx.Client:
    """A client pointed at the SP-API sandbox carrying a fresh access token."""
    client.base_url = httpx.URL(stack.endpoints["spapi"])
    client.headers["x-amz-access-token"] = lwa_token(stack, client)
    return client


def utc_now() -> datetime:
    return datetime.now(UTC)
