"""Assets, checks, sensor, schedules and resources wired from settings: the code location's
shape, built by ``definitions.py`` from the environment and by ``mlc demo``/tests from theirs."""

from __future__ import annotations

import dagster as dg

from mlc_assets.assets import amazon, finances, journal, posting, reference
from mlc_assets.config import Settings
from mlc_assets.resources.archive import ArchiveResource
from mlc_assets.resources.erp import DeltekResource, WorkdayResource
from mlc_assets.resources.mapping import MappingResource
from mlc_assets.resources.settings import SettingsResource
from mlc_assets.resources.spapi import SpapiResource
from mlc_assets.resources.warehouse import WarehouseResource
from mlc_assets.sensors import build_fallback_schedule, build_settlement_sensor
from mlc_assets.storage.layout import DataHome

SETTLEMENT_JOB = "settlement_job"
REFERENCE_JOB = "reference_data_job"


def build_definitions(settings: Settings) -> dg.Definitions:
    """The code location for these settings: their plain values become resource config, so a
    run uses exactly what its definitions were built with; secrets are resolved at run time."""
    data_home = str(settings.data_home.resolve())
    resolved = SettingsResource.of(settings)
    assets: list[dg.AssetsDefinition] = [
        amazon.amazon_settlement_report,
        finances.amazon_financial_events,
        finances.reconciled_settlement,
        journal.journal_entries,
    ]
    # Only configured targets become assets (both, in sandbox mode).
    assets += [posting.POSTING_ASSETS[t] for t in settings.targets]  # type: ignore[misc]
    reference_assets = [reference.REFERENCE_ASSETS[t] for t in settings.targets]
    settlement_job = dg.define_asset_job(
        SETTLEMENT_JOB,
        selection=dg.AssetSelection.assets(*assets),
        description="Everything for one settlement: land, reconcile, journal, post.",
    )
    reference_job = dg.define_asset_job(
        REFERENCE_JOB,
        selection=dg.AssetSelection.assets(*reference_assets),
        description="Read the ERPs' GL structure and check the mapping against it.",
    )
    reference_schedule = dg.ScheduleDefinition(
        name="reference_data_daily",
        job=reference_job,
        cron_schedule="0 5 * * *",
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description="Refresh the ERP reference data every morning, before settlements post.",
    )
    return dg.Definitions(
        assets=[*assets, *reference_assets],
        # One settlement is a handful of sequential steps: a process per step costs more
        # than the steps. Pools still serialise DuckDB and ERP writers across runs.
        executor=dg.in_process_executor,
        jobs=[settlement_job, reference_job],
        schedules=[reference_schedule, build_fallback_schedule(settlement_job)],
        sensors=[build_settlement_sensor(settlement_job)],
        resources={
            "warehouse": WarehouseResource(
                path=str(DataHome(settings.data_home.resolve()).warehouse)
            ),
            "archive": ArchiveResource(data_home=data_home),
            "spapi": SpapiResource(settings=resolved),
            "workday": WorkdayResource(settings=resolved),
            "deltek": DeltekResource(settings=resolved),
            "mapping": MappingResource(
                path=str(settings.mapping_file) if settings.mapping_file else None
            ),
        },
    )
