"""``mlc demo``: the main job end to end on the built-in sandbox, no credentials needed.

The sandbox (Amazon, Workday, Deltek stand-ins) runs inside this process on 127.0.0.1; the
real settlement sensor is evaluated once, and every settlement partition is materialized
with the real job in this data home's Dagster instance, so ``make dev`` shows the same runs
afterwards. Running it again posts nothing new: that is the exactly-once guarantee at work.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from mlc_assets.services.summary import settlement_summaries


def _run(
    data_home: Path,
    *,
    seed: int,
    settlements: int,
    settlement_days: int,
    speed: float,
    chaos: str | None,
    console: Console,
    quiet: bool,
) -> list[dict[str, Any]]:
    import dagster as dg

    from mlc_assets.build import SETTLEMENT_JOB, build_definitions
    from mlc_assets.instance import PID_TAG, SOURCE_TAG, open_instance, release_orphaned_runs
    from mlc_assets.partitions import settlement_partitions
    from mlc_assets.resources.sandbox_runtime import publish_state
    from mlc_assets.resources.settings import resolve_settings
    from mlc_assets.sandbox.stack import SandboxStack

    # The demo's own settings travel with its definitions; the environment is left alone.
    settings = resolve_settings(
        data_home,
        {
            "sandbox": "on",
            "sandbox_seed": seed,
            "sandbox_settlements": settlements,
            "sandbox_settlement_days": settlement_days,
            "sandbox_speed": speed,
        },
    )
    instance = open_instance(data_home)
    with SandboxStack(
        seed=seed,
        settlements=settlements,
        settlement_days=settlement_days,
        speed=speed,
        faults=chaos,
        data_home=data_home,
    ) as stack:
        publish_state(data_home, stack)
        defs = build_definitions(settings)
        # A demo killed mid-run left its runs "started" and its pool slots taken.
        release_orphaned_runs(instance, source="demo")
        sensor = defs.resolve_sensor_def("settlement_sensor")
        cursor_file = data_home / "state" / "demo_sensor_cursor"
        cursor = cursor_file.read_text() if cursor_file.exists() else None
        with dg.build_sensor_context(
            instance=instance, cursor=cursor, definitions=defs, resources=dict(defs.resources or {})
        ) as context:
            result = sensor(context)
        assert isinstance(result, dg.SensorResult)
        for request in result.dynamic_partitions_requests or []:
            instance.add_dynamic_partitions(settlement_partitions.name, request.partition_keys)
        if result.cursor:
            cursor_file.write_text(result.cursor)

        keys = sorted(instance.get_dynamic_partitions(settlement_partitions.name))
        fresh = len(result.run_requests or [])
        # The sensor speaks of new settlements only; say what this demo is about to run.
        console.print(
            f"running {len(keys)} settlements: {fresh} new, {len(keys) - fresh} already landed "
            "(rerun: anything posted before is found and not posted again)"
        )
        job = defs.resolve_job_def(SETTLEMENT_JOB)
        failures: dict[str, str] = {}
        with Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            console=console,
            disable=quiet,
            transient=False,
        ) as progress:
            task = progress.add_task("materializing settlements", total=len(keys))
            for key in keys:
                progress.update(task, description=f"settlement {key}")
                run = job.execute_in_process(
                    # The table and the progress bar tell the story; Dagster's own event log
                    # (≈50 DEBUG lines a settlement) stays in the instance for `dagster dev`.
                    run_config=_QUIET_CONSOLE,
                    instance=instance,
                    partition_key=key,
                    raise_on_error=False,
                    tags={SOURCE_TAG: "demo", PID_TAG: str(os.getpid())},
                )
                if not run.success:
                    failures[key] = _failure_message(run)
                progress.advance(task)
        return settlement_summaries(settings, failures=failures, partition_keys=keys)


_QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def _failure_message(run: Any) -> str:
    """What stopped the settlement, whole: the failed step's own message on one line (its
    first line alone is often only "… does not have what the mapping posts to:") and what
    every failed blocking check said."""
    parts = []
    for event in run.all_events:
        if event.is_step_failure and event.step_failure_data is not None:
            err = event.step_failure_data.error
            if err is not None:
                parts.append(f"{event.step_key}: {' '.join(err.message.split())}")
    for check in run.get_asset_check_evaluations():
        if not check.passed:
            said = " ".join((check.description or "").split())
            parts.append(f"{check.asset_key.to_user_string()}.{check.check_name} failed: {said}")
    return " | ".join(dict.fromkeys(parts))[:1000] or "run failed"


# Wide enough for the table's widest row, so IDs and amounts never fold when the output goes
# to a file or a pipe (rich assumes 80 columns there).
FILE_WIDTH = 200


def demo_console(*, stderr: bool = False, file: Any = None) -> Console:
    """A terminal's own width; a file or pipe gets ``FILE_WIDTH`` instead of rich's 80."""
    console = Console(stderr=stderr, file=file)
    if not console.is_terminal:
        console = Console(stderr=stderr, file=file, width=FILE_WIDTH)
    return console


def _print_table(rows: list[dict[str, Any]], console: Console) -> None:
    table = Table(title="ml-connector demo: settlements")
    columns = [
        ("settlement_id", "Settlement"),
        ("marketplace", "Market"),
        ("period", "Period"),
        ("deposit", "Deposit"),
        ("lines", "Lines"),
        ("reconciled", "Reconciled"),
        ("workday", "Workday"),
        ("deltek", "Deltek batch"),
        ("status", "Status"),
    ]
    for _, title in columns:
        table.add_column(title, overflow="fold")
    for row in rows:
        shown = dict(row)
        # Workday: the journal number; Deltek: batch#sequence@period; plus what this run did.
        wd = str(row.get("workday", ""))
        shown["workday"] = wd[wd.find("(") + 1 : wd.find(")")] if "(" in wd else wd
        for target in ("workday", "deltek"):
            action = row.get(f"{target}_actions", "")
            if shown[target] and action:
                shown[target] = f"{shown[target]} ({action.replace('_', ' ')})"
        shown["marketplace"] = str(row.get("marketplace", "")).replace("Amazon.", "")
        table.add_row(*(str(shown.get(key, "")) for key, _ in columns))
    console.print(table)


def _check_chaos(spec: str | None) -> str | None:
    from mlc_assets.sandbox.faults import FaultPlan, check_fault_names

    try:
        check_fault_names(FaultPlan.parse(spec))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    return spec


def demo(
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    data_home: Annotated[Path, typer.Option(help="Where the demo keeps its state.")] = Path(".mlc"),
    seed: Annotated[int, typer.Option(help="Simulated seller's seed.")] = 7,
    settlements: Annotated[int, typer.Option(help="Settlements per marketplace.")] = 6,
    settlement_days: Annotated[
        int,
        typer.Option(help="Settlement period length; shorter fits more in Amazon's 90 days."),
    ] = 14,
    speed: Annotated[float, typer.Option(help="Sandbox clock acceleration.")] = 200.0,
    chaos: Annotated[
        str | None,
        typer.Option(
            help="Faults for the sandboxes: NAME:COUNT or NAME:PROBABILITY, comma-separated; "
            "unprefixed for SP-API, workday.NAME / deltek.NAME for the ERPs, e.g. "
            "'429:0.2,reset:2,workday.commit_drop:1,deltek.html502:1'.",
            callback=_check_chaos,
        ),
    ] = None,
) -> None:
    """Run the main job on the built-in sandbox and print a per-settlement summary."""
    console = demo_console(stderr=as_json)
    rows = _run(
        data_home.resolve(),
        seed=seed,
        settlements=settlements,
        settlement_days=settlement_days,
        speed=speed,
        chaos=chaos,
        console=console,
        quiet=as_json,
    )
    failed = [r for r in rows if r.get("status") != "ok"]
    if as_json:
        typer.echo(json.dumps({"settlements": rows, "failed": len(failed)}, default=str))
    else:
        _print_table(rows, console)
        for row in failed:
            console.print(f"[red]{row['settlement_id']}[/red]: {row.get('error', '')}")
    if failed:
        raise typer.Exit(code=1)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
