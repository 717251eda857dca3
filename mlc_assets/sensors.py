"""The settlement sensor: newly released settlements become partitions and runs."""

from datetime import datetime
from typing import Any

import dagster as dg

from mlc_assets.partitions import settlement_partitions
from mlc_assets.resources.archive import ArchiveResource
from mlc_assets.resources.spapi import SpapiResource
from mlc_assets.services.discovery import discover_settlements


def build_settlement_sensor(job: Any) -> dg.SensorDefinition:
    @dg.sensor(
        name="settlement_sensor",
        job=job,
        minimum_interval_seconds=15 * 60,
        default_status=dg.DefaultSensorStatus.RUNNING,
        description=(
            "Lists Amazon's settlement reports, lands each new report once (raw file archived, "
            "indexed by settlement ID), adds one partition per new settlement and requests "
            "its run. The cursor is the newest report creation time seen."
        ),
    )
    def settlement_sensor(
        context: dg.SensorEvaluationContext, spapi: SpapiResource, archive: ArchiveResource
    ) -> dg.SensorResult:
        cursor = datetime.fromisoformat(context.cursor) if context.cursor else None
        index = archive.report_index()
        settings = spapi.settings()
        with spapi.client() as client:
            found = discover_settlements(
                client.reports,
                archive.archive(),
                index,
                report_type=settings.amazon.report_type,
                marketplace_ids=spapi.marketplace_ids(),
                cursor=cursor,
            )
        # Every landed settlement that is not yet a partition: also heals a tick that
        # landed reports and then died before its result was stored.
        existing = set(context.instance.get_dynamic_partitions(settlement_partitions.name))
        landed = list(dict.fromkeys(r.settlement_id for r in index.all()))
        new_ids = [sid for sid in landed if sid not in existing]
        context.log.info(
            f"listed {found.listed} reports: {found.downloaded} downloaded, "
            f"{found.already_known} already landed; {len(new_ids)} new settlements"
        )
        return dg.SensorResult(
            run_requests=[
                dg.RunRequest(partition_key=sid, run_key=f"settlement-{sid}") for sid in new_ids
            ],
            dynamic_partitions_requests=(
                [settlement_partitions.build_add_request(new_ids)] if new_ids else []
            ),
            cursor=found.newest_created.isoformat() if found.newest_created else context.cursor,
        )

    return settlement_sensor
