"""``mlc bench``: measure the report path and a backfill; print a table or one JSON object.

A benchmark, not a test: it reports figures and whether the issue's targets were met on
this machine, and exits 0 either way (timings on a shared machine are evidence, not a gate).
Each report path runs in its own subprocess; see ``mlc_assets/bench``.
"""

from __future__ import annotations

import json
import platform
import shutil
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table


def _machine() -> dict[str, Any]:
    import os

    import duckdb
    import polars as pl

    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "polars": pl.__version__,
        "duckdb": duckdb.__version__,
    }


def bench(
    lines: Annotated[int, typer.Option(help="Detail lines of the generated report.")] = 1_000_000,
    locales: Annotated[str, typer.Option(help="Comma-separated report formats.")] = "US,DE",
    repeat: Annotated[int, typer.Option(min=1, help="Runs per path (best and median).")] = 1,
    settlements: Annotated[int, typer.Option(min=1, help="Reports in the backfill.")] = 100,
    speed: Annotated[
        float, typer.Option(min=1.0, help="Sandbox clock multiplier for the backfill.")
    ] = 200.0,
    only: Annotated[str | None, typer.Option(help="Run only 'report' or 'backfill'.")] = None,
    workdir: Annotated[
        Path | None,
        typer.Option(help="Keep generated files here (reused by later runs); default: temp."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Benchmark the 1M-line report path and a rate-limited backfill."""
    if only not in (None, "report", "backfill"):
        raise typer.BadParameter("--only must be 'report' or 'backfill'")
    from mlc_assets.bench.backfill_bench import run_backfill_bench
    from mlc_assets.bench.report_bench import run_report_bench

    chosen = tuple(loc.strip().upper() for loc in locales.split(",") if loc.strip())
    temp = None if workdir else Path(tempfile.mkdtemp(prefix="mlc-bench-"))
    root = workdir or temp
    assert root is not None
    root.mkdir(parents=True, exist_ok=True)
    out: dict[str, Any] = {"machine": _machine()}
    try:
        if only in (None, "report"):
            out["report"] = run_report_bench(lines, root, locales=chosen, repeat=repeat)
        if only in (None, "backfill"):
            out["backfill"] = run_backfill_bench(root, settlements=settlements, speed=speed)
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)
    if as_json:
        typer.echo(json.dumps(out, indent=1))
        return
    console = Console()
    if "report" in out:
        console.print(report_table(out["report"]))
        stages = stages_table(out["report"])
        if stages is not None:
            console.print(stages)
    if "backfill" in out:
        console.print(backfill_table(out["backfill"]))


def report_table(report: dict[str, Any]) -> Table:
    table = Table(
        title=f"Settlement report, {report['lines']:,} lines (best of {report['repeat']})"
    )
    for col in ("format", "path", "seconds", "peak RSS MB", "vs polars", "rowwise ÷ this"):
        table.add_column(col, justify="left" if col in ("format", "path") else "right")
    for loc, res in report["locales"].items():
        paths = res["paths"]
        floor = paths.get("polars", {}).get("seconds_best")
        rowwise = paths.get("rowwise", {}).get("seconds_best")
        for mode, p in paths.items():
            t = p["seconds_best"]
            table.add_row(
                loc,
                mode,
                f"{t:.2f}",
                f"{p['peak_rss_mb']:.0f}",
                f"{t / floor:.2f}x" if floor else "",
                f"{rowwise / t:.1f}x" if rowwise else "",
            )
    return table


def stages_table(report: dict[str, Any]) -> Table | None:
    """Seconds per stage of the connector path (from its best-known run)."""
    rows = {
        loc: res["paths"]["connector"]["result"]["stages"]
        for loc, res in report["locales"].items()
        if "connector" in res["paths"]
    }
    if not rows:
        return None
    names = list(next(iter(rows.values())))
    table = Table(title="Connector path by stage (seconds, best run)")
    table.add_column("format")
    for name in names:
        table.add_column(name, justify="right")
    table.add_column("land ÷ floor", justify="right")
    for loc, stages in rows.items():
        ratio = report["locales"][loc].get("land_lines_vs_polars")
        table.add_row(loc, *(f"{stages[n]:.2f}" for n in names), f"{ratio:.2f}x" if ratio else "")
    return table


def backfill_table(b: dict[str, Any]) -> Table:
    table = Table(
        title=f"Backfill of {b['settlements']} settlements (sandbox speed x{b['speed']:g})"
    )
    table.add_column("measure")
    table.add_column("measured", justify="right")
    table.add_column("minimum", justify="right")
    for key, value in b["calls"].items():
        table.add_row(f"calls: {key}", str(value), str(b["minimum_calls"][key]))
    table.add_row(
        "calls per settlement",
        f"{b['calls_per_settlement']:.2f}",
        f"{b['minimum_calls_per_settlement']:.2f}",
    )
    table.add_row("429 responses", str(b["throttled_429"]), "0")
    table.add_row(
        "wall seconds (scaled)", f"{b['wall_seconds']:.2f}", f"{b['minimum_seconds']:.2f}"
    )
    table.add_row(
        "wall at Amazon's rate",
        f"{b['wall_seconds_at_amazon_rate'] / 60:.1f} min",
        f"{b['minimum_seconds_at_amazon_rate'] / 60:.1f} min",
    )
    table.add_row("rerun: calls", json.dumps(b["rerun_calls"]), "")
    return table


def register(app: typer.Typer) -> None:
    """Add ``mlc bench`` to the ``mlc`` app."""
    app.command("bench")(bench)
