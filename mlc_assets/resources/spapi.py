"""The SP-API resource: builds a client for the configured seller, or for the sandbox."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import dagster as dg
from pydantic import Field

from mlc_assets.clients.spapi.client import SpapiClient
from mlc_assets.config import Settings
from mlc_assets.resources.archive import RawArchive, ReportIndex
from mlc_assets.resources.sandbox_runtime import sandbox_for
from mlc_assets.resources.settings import settings_for
from mlc_assets.services.discovery import DiscoveryResult, discover_settlements


def spapi_client_for(settings: Settings) -> SpapiClient:
    """A client for the configured seller, or for this data home's sandbox."""
    state_dir = Path(settings.data_home) / "state" / "buckets"
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
        raise RuntimeError(
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

    data_home: str = Field(description="The connector's data home.")

    def settings(self) -> Settings:
        return settings_for(self.data_home)

    @contextmanager
    def client(self) -> Iterator[SpapiClient]:
        client = spapi_client_for(self.settings())
        try:
            yield client
        finally:
            client.close()

    def land_reports(
        self, archive: RawArchive, index: ReportIndex, cursor: datetime | None
    ) -> DiscoveryResult:
        """List the seller's settlement reports and land each one not in the index, once."""
        settings = self.settings()
        with self.client() as client:
            return discover_settlements(
                client.reports,
                archive,
                index,
                report_type=settings.amazon.report_type,
                marketplace_ids=self.marketplace_ids(),
                cursor=cursor,
            )

    def marketplace_ids(self) -> list[str] | None:
        settings = self.settings()
        if settings.use_sandbox:
            ids = sandbox_for(settings).credentials.get("marketplace_ids")
            return list(ids) if ids else None
        return settings.amazon.marketplace_ids
