"""ERP resources: Workday and Deltek clients for the configured tenant, or the sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg
import httpx
from pydantic import SecretStr

from mlc_assets.clients.deltek.auth import DeltekCredentials
from mlc_assets.clients.deltek.client import DeltekClient
from mlc_assets.clients.http_exchanges import HttpExchangeRecorder
from mlc_assets.clients.workday.client import WorkdayClient
from mlc_assets.clients.workday.models import WorkdayClientConfig
from mlc_assets.config import Settings
from mlc_assets.resources.sandbox_runtime import sandbox_for
from mlc_assets.resources.settings import SettingsResource
from mlc_assets.secrets.redact import Redactor


def workday_client_for(settings: Settings) -> WorkdayClient:
    if settings.use_sandbox and not settings.workday.configured:
        sandbox = sandbox_for(settings)
        creds = sandbox.credentials["workday"]
        config = WorkdayClientConfig(
            base_url=sandbox.endpoints["workday"],
            tenant=creds["tenant"],
            username=creds["username"],
            password=SecretStr(creds["password"]),
            supplier_id=settings.workday.supplier_id,
            auto_complete=settings.workday.auto_complete,
        )
        return WorkdayClient(config)
    return WorkdayClient(WorkdayClientConfig.from_settings(settings.workday))


def deltek_client_for(settings: Settings, recorder: HttpExchangeRecorder) -> DeltekClient:
    http = httpx.Client(
        timeout=httpx.Timeout(30.0, connect=10.0),
        headers={"User-Agent": "ml-connector/0.1"},
        event_hooks=recorder.hooks(),
    )
    policy = settings.deltek.closed_period_policy
    if settings.use_sandbox and not settings.deltek.configured:
        sandbox = sandbox_for(settings)
        c = sandbox.credentials["deltek"]
        creds = DeltekCredentials(
            username=c["username"],
            password=SecretStr(c["password"]),
            database=c["database"],
            client_id=c["client_id"],
            client_secret=SecretStr(c["client_secret"]),
        )
        recorder.redactor.add(creds.password, creds.client_secret)
        return DeltekClient(
            sandbox.endpoints["deltek"], creds, closed_period_policy=policy, http=http
        )
    d = settings.deltek
    recorder.redactor.add(d.password, d.client_secret)
    return DeltekClient.from_settings(d, http=http)


class WorkdayResource(dg.ConfigurableResource):
    """Workday Financial Management (SOAP) for the configured tenant, or the sandbox."""

    settings: SettingsResource

    @contextmanager
    def client(self) -> Iterator[WorkdayClient]:
        client = workday_client_for(self.settings.get())
        try:
            yield client
        finally:
            close = getattr(client, "close", None)
            if close is not None:
                close()


class DeltekResource(dg.ConfigurableResource):
    """Deltek Vantagepoint (REST) for the configured tenant, or the sandbox."""

    settings: SettingsResource

    @contextmanager
    def client(self) -> Iterator[tuple[DeltekClient, HttpExchangeRecorder]]:
        settings = self.settings.get()
        recorder = HttpExchangeRecorder(Redactor.from_settings(settings))
        client = deltek_client_for(settings, recorder)
        try:
            yield client, recorder
        finally:
            client.close()
