"""Fixtures for client tests: the real SP-API sandbox on loopback and clients wired to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from mlc_assets.clients.retry import FAST_TEST_POLICY
from mlc_assets.clients.spapi import SpapiClient
from mlc_assets.sandbox.stack import SandboxStack

# Sandbox clock x1000: 3.6 s tokens, 0.3 s document URLs, getReports at 22 req/s.
SPAPI_SPEED = 1000.0


class SpapiSandbox:
    """A started SandboxStack plus helpers to steer it through its admin endpoints."""

    def __init__(self, stack: SandboxStack) -> None:
        self.stack = stack
        self.admin = stack.endpoints["sandbox_admin"]

    def arm(self, spec: str) -> dict[str, Any]:
        resp = httpx.post(f"{self.admin}/faults", content=spec, timeout=10)
        resp.raise_for_status()
        return resp.json()

    def stats(self) -> dict[str, Any]:
        resp = httpx.get(f"{self.admin}/stats", timeout=10)
        resp.raise_for_status()
        return resp.json()


@pytest.fixture
def spapi_sandbox() -> Iterator[SpapiSandbox]:
    with SandboxStack(seed=11, settlements=6, speed=SPAPI_SPEED) as stack:
        yield SpapiSandbox(stack)


@pytest.fixture
def make_spapi_client(
    spapi_sandbox: SpapiSandbox, tmp_path: Path
) -> Iterator[Callable[..., SpapiClient]]:
    """Factory: ``make_spapi_client(**overrides)`` → a client on the sandbox (closed after)."""
    made: list[SpapiClient] = []

    def make(**overrides: Any) -> SpapiClient:
        creds = spapi_sandbox.stack.credentials
        endpoints = spapi_sandbox.stack.endpoints
        kwargs: dict[str, Any] = {
            "client_id": creds["lwa_client_id"],
            "client_secret": creds["lwa_client_secret"],
            "refresh_token": creds["refresh_token"],
            "endpoint": endpoints["spapi"],
            "lwa_endpoint": endpoints["lwa"],
            "sandbox": True,
            "speed": SPAPI_SPEED,
            "state_dir": tmp_path / "state",
            "retry_policy": FAST_TEST_POLICY,
        }
        kwargs.update(overrides)
        client = SpapiClient(**kwargs)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()
