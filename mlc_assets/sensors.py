"""How new settlements become partitions and runs: the sensor, and its twice-weekly fallback."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import dagster as dg

from mlc_assets.assets.common import land_reports
from mlc_assets.partitions import settlement_partitions
from mlc_assets.resources.archive import ArchiveResource
from mlc_assets.resources.spapi import SpapiResource
from mlc_assets.services.discovery import DiscoveryResult

FALLBACK_CRON = "0 6 * * 1,4"  # Monday and Thursday, 06:00 (instance time zone)


@dataclass(frozen=True)
class Landed:
    """What one discovery pass found, and the landed settlements that are not partitions yet."""

    found: DiscoveryResult
    new_ids: list[str]

    def summary(self) -> str:
        return (
            f"listed {self.found.listed} reports: {self.found.downloaded} downloaded, "
            f"{self.found.already_known} already landed; {len(self.new_ids)} new settlements"
        )


def land_new_settlements(
    instance: dg.DagsterInstance,
    spapi: SpapiResource,
    archive: ArchiveResource,
    cursor: datetime | None,
) -> Landed:
    """List Amazon's reports, land each new one once, and name the settlements to add.

    New means landed (in the report index) but not yet a partition, rather than "downloaded
    by this pass": that also heals a pass that landed reports and died before its partitions
    were added.
    """
    index = archive.report_index()
    found = land_reports(spapi, archive, cursor)
    existing = set(instance.get_dynamic_partitions(settlement_partitions.name))
    landed = list(dict.fromkeys(r.settlement_id for r in index.all()))
    return Landed(found=found, new_ids=[sid for sid in landed if sid not in existing])


def _run_request(settlement_id: str) -> dg.RunRequest:
    return dg.RunRequest(partition_key=settlement_id, run_key=f"settlement-{settlement_id}")


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
        landed = land_new_settlements(context.instance, spapi, archive, cursor)
        context.log.info(landed.summary())
        newest = landed.found.newest_created
        cursor = newest.isoformat() if newest else context.cursor
        if not landed.new_ids:
            # The tick says what it did (the UI shows this instead of "empty result").
            return dg.SensorResult(skip_reason=landed.summary(), cursor=cursor)
        return dg.SensorResult(
            run_requests=[_run_request(sid) for sid in landed.new_ids],
            dynamic_partitions_requests=[settlement_partitions.build_add_request(landed.new_ids)],
            cursor=cursor,
        )

    return settlement_sensor


def build_fallback_schedule(job: Any) -> dg.ScheduleDefinition:
    """A schedule that does the sensor's work twice a week, and runs what was never run.

    The sensor is the normal path. This catches what it cannot: a sensor an operator paused
    and forgot, a daemon that was down over a settlement, a tick that added partitions but
    lost its run requests. It lists without a cursor (Amazon's whole 90-day window: a page
    or two), so it never depends on the sensor's state. Runs are requested only for
    settlements no run of the job ever targeted; failed runs are left to the operator, since
    a settlement that does not tie out fails the same way every time. Should it race the
    sensor onto the same new settlement, the second run finds the partition landed and every
    document already posted: posting is exactly-once per settlement, not per run.
    """

    @dg.schedule(
        name="settlement_fallback_schedule",
        job=job,
        cron_schedule=FALLBACK_CRON,
        default_status=dg.DefaultScheduleStatus.RUNNING,
        description=(
            "Fallback to settlement_sensor, Mondays and Thursdays 06:00: lists every report "
            "in Amazon's 90-day window, lands any the sensor missed, adds their partitions and "
            "runs each settlement that no run has targeted yet."
        ),
    )
    def settlement_fallback_schedule(
        context: dg.ScheduleEvaluationContext, spapi: SpapiResource, archive: ArchiveResource
    ) -> list[dg.RunRequest] | dg.SkipReason:
        landed = land_new_settlements(context.instance, spapi, archive, cursor=None)
        if landed.new_ids:
            # A schedule cannot return partition requests as a sensor does; the instance
            # call is the same operation, made before the runs that need the partitions.
            context.instance.add_dynamic_partitions(settlement_partitions.name, landed.new_ids)
        partitions = context.instance.get_dynamic_partitions(settlement_partitions.name)
        targeted = {
            p.partition
            for p in context.instance.get_run_partition_data(dg.RunsFilter(job_name=job.name))
        }
        never_run = [sid for sid in partitions if sid not in targeted]
        context.log.info(f"{landed.summary()}; {len(never_run)} settlements never run")
        if not never_run:
            return dg.SkipReason(f"{landed.summary()}; every settlement has run")
        return [_run_request(sid) for sid in never_run]

    return settlement_fallback_schedule
