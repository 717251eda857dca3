"""The Dagster instance home under the data home, with the pool limits the connector needs.

``make dev`` and ``mlc demo`` both use ``<data home>/dagster`` as DAGSTER_HOME, so runs made
by the demo show up in the UI, and DuckDB writers (pool ``duckdb``) and ERP writers never
run two at a time.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from filelock import FileLock

if TYPE_CHECKING:
    import dagster as dg

DAGSTER_YAML = """\
# Written by ml-connector. Pools serialise DuckDB writers and each ERP's writers;
# runs queue instead of piling up on Amazon's rate limits.
concurrency:
  pools:
    default_limit: 1
  runs:
    max_concurrent_runs: 4
telemetry:
  enabled: false
"""


def ensure_dagster_home(data_home: Path | str) -> Path:
    home = (Path(data_home) / "dagster").resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML)
    return home


def use_dagster_home(data_home: Path | str) -> Path:
    """Point this process's Dagster at the data home's instance (unless DAGSTER_HOME is set)."""
    if os.environ.get("DAGSTER_HOME"):
        return Path(os.environ["DAGSTER_HOME"])
    home = ensure_dagster_home(data_home)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def open_instance(data_home: Path | str) -> dg.DagsterInstance:
    """This data home's Dagster instance, created by one process at a time.

    Dagster creates its SQLite storages on first use without a lock: two processes starting on
    a new data home at once (two demos, a demo and ``make dev``) race to create the same tables
    and the loser dies with "table … already exists". The first one creates them under a file
    lock; the others wait for it and then open the finished instance.
    """
    import dagster as dg

    home = use_dagster_home(data_home)
    with FileLock(str(home / ".instance.lock"), timeout=120):
        return dg.DagsterInstance.get()


# Tags the demo puts on its in-process runs, so a later demo can tell a crashed one.
SOURCE_TAG = "mlc/source"
PID_TAG = "mlc/pid"


def release_orphaned_runs(instance: object, *, source: str = "demo") -> list[str]:
    """Fail the in-process runs of ``source`` whose process is gone, and free their pool slots.

    A run executed in-process holds its ``duckdb``/ERP pool slots in the instance's storage.
    If that process is SIGKILLed (or the host dies) nothing releases them, and every later run
    waits on the pool forever. Runs without a live owner process are marked failed and their
    slots freed; runs whose process is still alive (e.g. another demo) are left alone.
    """
    import dagster as dg
    import psutil

    assert isinstance(instance, dg.DagsterInstance)
    in_flight = [dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.STARTING]
    released: list[str] = []
    records = instance.get_run_records(dg.RunsFilter(statuses=in_flight, tags={SOURCE_TAG: source}))
    for record in records:
        run = record.dagster_run
        pid_text = run.tags.get(PID_TAG, "")
        pid = int(pid_text) if pid_text.isdigit() else None
        if pid is not None and pid != os.getpid() and psutil.pid_exists(pid):
            continue
        instance.report_run_failed(
            run, f"Process {pid or '?'} that ran this {source} run is gone (killed or crashed)."
        )
        instance.event_log_storage.free_concurrency_slots_for_run(run.run_id)
        released.append(run.run_id)
    return released
