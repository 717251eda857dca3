"""Helpers for the Workday client and sandbox tests: a real sandbox tenant on a loopback
socket and real zeep clients pointed at it. Imported explicitly by the test modules
(the folder's conftest.py is owned by another area)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
from pydantic import SecretStr

from mlc_assets.clients.retry import FAST_TEST_POLICY, RetryPolicy
from mlc_assets.clients.workday import (
    JournalLine,
    SupplierInvoiceLine,
    WorkdayClient,
    WorkdayClientConfig,
    WorkdayJournal,
    WorkdaySupplierInvoice,
    Worktag,
)
from mlc_assets.sandbox.server import BackgroundServer
from mlc_assets.sandbox.workday_app import (
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_PASSWORD,
    DEMO_REFRESH_TOKEN,
    DEMO_TENANT,
    DEMO_USERNAME,
    WorkdayTenant,
    build_workday_app,
)
from mlc_assets_tests.reference import WORKDAY

V30_SUBSET_XSD = WORKDAY / "Financial_Management_v30_journal_subset.xsd"
EXAMPLES_XML = WORKDAY / "minimal_examples.xml"
CLOSED_PERIOD = "2024-04"


@dataclass
class Sandbox:
    server: BackgroundServer
    tenant: WorkdayTenant

    @property
    def url(self) -> str:
        return self.server.url

    def arm(self, spec: str) -> dict[str, Any]:
        resp = httpx.post(f"{self.url}/_sandbox/faults", content=spec, timeout=10)
        resp.raise_for_status()
        return resp.json()

    def journals(self) -> list[dict[str, Any]]:
        return httpx.get(f"{self.url}/_sandbox/journals", timeout=10).json()["journals"]

    def stats(self) -> dict[str, int]:
        return httpx.get(f"{self.url}/_sandbox/stats", timeout=10).json()["stats"]

    def reset(self) -> None:
        """Disarm faults and zero the counters; documents stay (tests use unique references)."""
        for name in list(self.tenant.faults.armed()):
            self.tenant.faults.disarm(name)
        self.tenant.stats.clear()


@contextmanager
def running_sandbox(**kwargs: Any) -> Iterator[Sandbox]:
    kwargs.setdefault("closed_periods", [CLOSED_PERIOD])
    kwargs.setdefault("slow_seconds", 0.6)
    app = build_workday_app(**kwargs)
    with BackgroundServer(app, name="workday-sandbox") as server:
        yield Sandbox(server, app.state.workday)


def make_client(
    url: str,
    *,
    retry: RetryPolicy = FAST_TEST_POLICY,
    password: str = DEMO_PASSWORD,
    username: str = DEMO_USERNAME,
    oauth: bool = False,
    **config: Any,
) -> WorkdayClient:
    if oauth:
        creds: dict[str, Any] = {
            "oauth_client_id": DEMO_CLIENT_ID,
            "oauth_client_secret": SecretStr(DEMO_CLIENT_SECRET),
            "oauth_refresh_token": SecretStr(config.pop("refresh_token", DEMO_REFRESH_TOKEN)),
        }
    else:
        creds = {"username": username, "password": SecretStr(password)}
    config.setdefault("read_timeout", 10.0)
    cfg = WorkdayClientConfig(base_url=url, tenant=DEMO_TENANT, **creds, **config)
    return WorkdayClient(cfg, retry=retry)


def unique_ref(prefix: str = "AMZ") -> str:
    return f"{prefix}-{uuid.uuid4().int % 10**11:011d}-1"


def sample_journal(reference: str | None = None, **overrides: Any) -> WorkdayJournal:
    """A balanced settlement journal: deposit + fees = sales."""
    lines = overrides.pop(
        "lines",
        [
            JournalLine(
                account="1210",
                debit=Decimal("950.00"),
                memo="Amazon net disbursement",
                worktags=(Worktag(type="Cost_Center_Reference_ID", id="CC_ECOMMERCE"),),
            ),
            JournalLine(
                account="6110",
                debit=Decimal("50.25"),
                memo="Amazon referral and FBA fees",
                worktags=(
                    Worktag(type="Cost_Center_Reference_ID", id="CC_ECOMMERCE"),
                    Worktag(type="Spend_Category_ID", id="SC_MARKETPLACE_FEES"),
                ),
            ),
            JournalLine(account="4000", credit=Decimal("1000.25"), memo="Amazon product sales"),
        ],
    )
    fields: dict[str, Any] = {
        "reference": reference or unique_ref(),
        "company": "US01",
        "currency": "USD",
        "accounting_date": date(2024, 5, 31),
        "memo": "Amazon settlement (2024-05-17..2024-05-31)",
        "lines": lines,
    }
    fields.update(overrides)
    return WorkdayJournal(**fields)


def sample_invoice(reference: str | None = None, **overrides: Any) -> WorkdaySupplierInvoice:
    fields: dict[str, Any] = {
        "reference": reference or unique_ref("AMZ-FEES"),
        "company": "US01",
        "currency": "USD",
        "invoice_date": date(2024, 5, 31),
        "suppliers_invoice_number": unique_ref("SETTLEMENT"),
        "memo": "Amazon seller fees",
        "lines": [
            SupplierInvoiceLine(
                spend_category="SC_MARKETPLACE_FEES",
                amount=Decimal("30.10"),
                description="Referral fees",
                worktags=(Worktag(type="Cost_Center_Reference_ID", id="CC_ECOMMERCE"),),
            ),
            SupplierInvoiceLine(
                spend_category="SC_FULFILMENT", amount=Decimal("20.00"), description="FBA fees"
            ),
        ],
    }
    fields.update(overrides)
    return WorkdaySupplierInvoice(**fields)
