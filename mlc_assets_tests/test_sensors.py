"""The settlement sensor's twice-weekly fallback schedule, against the sandbox's real SP-API."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from mlc_assets.build import SETTLEMENT_JOB, build_definitions
from mlc_assets.config import Settings
from mlc_assets.partitions import settlement_partitions
from mlc_assets.sandbox.stack import SandboxStack
from mlc_assets.sensors import FALLBACK_CRON
from mlc_assets.storage.report_index import ReportIndex

SCHEDULE = "settlement_fallback_schedule"


def _defs(tmp_path: Path) -> dg.Definitions:
    return build_definitions(Settings(data_home=tmp_path, sandbox="on"))  # type: ignore[call-arg]


def _tick(defs: dg.Definitions, instance: dg.DagsterInstance, when: datetime) -> object:
    schedule = defs.resolve_schedule_def(SCHEDULE)
    with dg.build_schedule_context(
        instance=instance, scheduled_execution_time=when, resources=dict(defs.resources or {})
    ) as context:
        return schedule(context)


def _record_run(defs: dg.Definitions, instance: dg.DagsterInstance, settlement_id: str) -> None:
    """A run of the job for this settlement, as the sensor's launch would leave on record."""
    instance.create_run_for_job(
        job_def=defs.resolve_job_def(SETTLEMENT_JOB),
        tags={"dagster/partition": settlement_id},
    )


def test_fallback_schedule_is_defined_running_twice_weekly(tmp_path: Path) -> None:
    schedule = _defs(tmp_path).resolve_schedule_def(SCHEDULE)
    assert schedule.cron_schedule == FALLBACK_CRON
    assert schedule.job_name == SETTLEMENT_JOB
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING
    assert schedule.description


def test_fallback_lands_what_the_sensor_missed_and_runs_only_what_never_ran(
    tmp_path: Path, sandbox_home: SandboxStack
) -> None:
    defs = _defs(tmp_path)
    with dg.instance_for_test() as instance:
        _fallback_scenario(tmp_path, sandbox_home, defs, instance)


def _fallback_scenario(
    tmp_path: Path, sandbox_home: SandboxStack, defs: dg.Definitions, instance: dg.DagsterInstance
) -> None:
    expected = {s.settlement_id for s in sandbox_home.seller.settlements}

    # The sensor never ticked: the schedule lands every report, adds every partition and
    # runs every settlement.
    first = _tick(defs, instance, datetime(2026, 11, 23, 6, tzinfo=UTC))
    assert isinstance(first, list)
    assert {r.partition_key for r in first} == expected
    assert {r.run_key for r in first} == {f"settlement-{sid}" for sid in expected}
    assert set(instance.get_dynamic_partitions(settlement_partitions.name)) == expected
    landed = ReportIndex(tmp_path / "state" / "reports").all()
    assert {r.settlement_id for r in landed} == expected
    downloads = len(landed)

    # All but one ran; the next tick lists again, downloads nothing and runs the one left.
    left_out = sorted(expected)[0]
    for sid in expected - {left_out}:
        _record_run(defs, instance, sid)
    second = _tick(defs, instance, datetime(2026, 11, 26, 6, tzinfo=UTC))
    assert isinstance(second, list)
    assert [r.partition_key for r in second] == [left_out]
    assert len(ReportIndex(tmp_path / "state" / "reports").all()) == downloads

    # Once every settlement has a run, the tick skips and says why.
    _record_run(defs, instance, left_out)
    third = _tick(defs, instance, datetime(2026, 11, 30, 6, tzinfo=UTC))
    assert isinstance(third, dg.SkipReason)
    assert "every settlement has run" in (third.skip_message or "")
