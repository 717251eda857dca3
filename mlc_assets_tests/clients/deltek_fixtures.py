"""Fixtures for the Deltek client tests: a real sandbox tenant on a loopback socket and
clients pointed at it. Imported explicitly by the test modules (conftest is owned elsewhere)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from starlette.applications import Starlette

from mlc_assets.clients.deltek import (
    DeltekClient,
    DeltekCredentials,
    DeltekJournalBatch,
    DeltekJournalLine,
)
from mlc_assets.clients.retry import FAST_TEST_POLICY, RetryPolicy
from mlc_assets.sandbox.deltek_app import (
    DEFAULT_PREFIX,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_DATABASE,
    DEMO_PASSWORD,
    DEMO_USERNAME,
    DeltekSandbox,
    build_deltek_app,
)
from mlc_assets.sandbox.server import BackgroundServer


@dataclass
class Tenant:
    server: BackgroundServer
    app: Starlette

    @property
    def base_url(self) -> str:
        return self.server.url + DEFAULT_PREFIX

    @property
    def sandbox(self) -> DeltekSandbox:
        return self.app.state.sandbox

    def arm(self, spec: str) -> None:
        """Arm faults through the admin endpoint, as an operator would."""
        r = httpx.post(f"{self.server.url}/_sandbox/faults", json={"spec": spec}, timeout=5)
        r.raise_for_status()

    def stats(self) -> dict[str, Any]:
        return httpx.get(f"{self.server.url}/_sandbox/stats", timeout=5).json()

    def batches(self) -> list[dict[str, Any]]:
        return httpx.get(f"{self.server.url}/_sandbox/batches", timeout=5).json()


def demo_credentials(**override: Any) -> DeltekCredentials:
    values: dict[str, Any] = {
        "username": DEMO_USERNAME,
        "password": SecretStr(DEMO_PASSWORD),
        "database": DEMO_DATABASE,
        "client_id": DEMO_CLIENT_ID,
        "client_secret": SecretStr(DEMO_CLIENT_SECRET),
    }
    values.update(override)
    return DeltekCredentials(**values)


@pytest.fixture
def start_tenant() -> Iterator[Callable[..., Tenant]]:
    """Factory: start a sandbox tenant with ``build_deltek_app`` kwargs; stopped at teardown."""
    started: list[BackgroundServer] = []

    def start(**kwargs: Any) -> Tenant:
        app = build_deltek_app(**kwargs)
        server = BackgroundServer(app, name="deltek-test").start()
        started.append(server)
        return Tenant(server=server, app=app)

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="module")
def shared_tenant() -> Iterator[Tenant]:
    """One default tenant per module; ``tenant`` resets it before each test (cheaper than a
    server per test, same isolation)."""
    app = build_deltek_app()
    server = BackgroundServer(app, name="deltek-test-shared").start()
    yield Tenant(server=server, app=app)
    server.stop()


@pytest.fixture
def tenant(shared_tenant: Tenant) -> Tenant:
    r = httpx.post(f"{shared_tenant.server.url}/_sandbox/reset", timeout=5)
    r.raise_for_status()
    return shared_tenant


@pytest.fixture
def make_client(tenant: Tenant) -> Iterator[Callable[..., DeltekClient]]:
    clients: list[DeltekClient] = []

    def make(
        *, target: Tenant | None = None, retry: RetryPolicy = FAST_TEST_POLICY, **kw: Any
    ) -> DeltekClient:
        t = target or tenant
        creds = kw.pop("credentials", None) or demo_credentials()
        c = DeltekClient(t.base_url, creds, retry=retry, **kw)
        clients.append(c)
        return c

    yield make
    for c in clients:
        c.close()


@pytest.fixture
def client(make_client: Callable[..., DeltekClient]) -> DeltekClient:
    return make_client()


def settlement_batch(
    name: str = "AMZ12345678901",
    *,
    posting_date: date = date(2026, 6, 15),
    period: int | None = None,
    sales: str = "1000.00",
    fees: str = "150.25",
    unbalance: str = "0",
) -> DeltekJournalBatch:
    """A small settlement journal: clearing debit, sales credit, fees debit."""
    sales_d, fees_d = Decimal(sales), Decimal(fees)
    return DeltekJournalBatch(
        batch=name,
        period=period,
        posting_date=posting_date,
        description=f"Amazon settlement {name[3:]}",
        lines=[
            DeltekJournalLine(
                account="1210.00",
                debit=sales_d - fees_d + Decimal(unbalance),
                description="Amazon clearing",
            ),
            DeltekJournalLine(
                account="4000.00",
                wbs1="AMZ-2026",
                wbs2="US",
                wbs3="SALES",
                credit=sales_d,
                description="Product sales",
            ),
            DeltekJournalLine(
                account="6100.00",
                wbs1="AMZ-2026",
                wbs2="US",
                wbs3="FEES",
                debit=fees_d,
                description="Referral fees",
            ),
        ],
    )
