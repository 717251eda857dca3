"""The SP-API resource: builds a client for the configured seller, or for the sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg

from mlc_assets.clients.spapi.client import SpapiClient
from mlc_assets.config import Settings
from mlc_assets.errors import ConfigurationError
from mlc_assets.resources.sandbox_runtime import sandbox_for
from mlc_assets.resources.settings import SettingsResource
from mlc_assets.storage.layout import DataHome


def spapi_client_for(settings: Settings) -> SpapiClient:
    """A client for the configured seller, or for this data home's sandbox."""
    state_dir = DataHome(Path(settings.data_home)).buckets
    amazon = settings.amazon
    if settings.use_sandbox:
        sandbox = sandbox_for(settings)
        creds = sandbox.credentials
        return SpapiClient(
            client_id=creds["lwa_client_id"],
            client_secret=creds["lwa_client_secret"],
            refresh_token=creds["refresh_token"],
            state_dir=state_dir,
            endpoint=sandbox.endpoints["spapi"],
            lwa_endpoint=sandbox.endpoints["lwa"],
            sandbox=True,
            speed=sandbox.speed,
        )
    if not amazon.configured:
        raise ConfigurationError(
            "Amazon credentials are not configured: run `mlc credentials set amazon` "
            "or set MLC_AMAZON__LWA_CLIENT_ID / _SECRET / MLC_AMAZON__REFRESH_TOKEN"
        )
    assert amazon.lwa_client_secret is not None and amazon.refresh_token is not None
    return SpapiClient(
        client_id=amazon.lwa_client_id or "",
        client_secret=amazon.lwa_client_secret,
        refresh_token=amazon.refresh_token,
        state_dir=state_dir,
        region=amazon.region,
        endpoint=amazon.endpoint,
        lwa_endpoint=amazon.lwa_endpoint,
    )


class SpapiResource(dg.ConfigurableResource):
    """Amazon Selling Partner API for the configured seller (or the built-in sandbox)."""

    settings: SettingsResource

    @contextmanager
    def client(self) -> Iterator[SpapiClient]:
        client = spapi_client_for(self.settings.get())
        try:
            yield client
        finally:
            client.close()

    def report_type(self) -> str:
        return self.settings.get().amazon.report_type

    def finances_api(self) -> str:
        return self.settings.get().amazon.finances_api

    def marketplace_ids(self) -> list[str] | None:
        settings = self.settings.get()
        if settings.use_sandbox:
            ids = sandbox_for(settings).credentials.get("marketplace_ids")
            return list(ids) if ids else None
        return settings.amazon.marketplace_ids
