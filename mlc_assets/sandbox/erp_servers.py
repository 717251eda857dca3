"""The two ERP sandboxes (Deltek, Workday) as the SandboxStack starts them beside Amazon's.

Each ERP stand-in is its own server, as in real life. Faults meant for one system are
prefixed with its name in the stack's fault spec (``deltek.commit_drop:1``,
``workday.503:2``); unprefixed faults stay with the SP-API sandbox. ERP state is kept in
``<data home>/sandbox/`` so a rerun of the demo sees what was posted before.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from mlc_assets.sandbox import deltek_app, deltek_store, workday_app
from mlc_assets.sandbox.faults import FaultPlan


def split_faults(plan: FaultPlan, system: str) -> FaultPlan:
    """Move the ``<system>.<fault>`` arms of the stack's plan into a plan of their own."""
    sub = FaultPlan(seed=plan.seed)
    prefix = f"{system}."
    with plan._lock:
        names = [name for name in plan._arms if name.startswith(prefix)]
        for name in names:
            sub._arms[name[len(prefix) :]] = plan._arms.pop(name)
    return sub


def _state_file(data_home: Path | None, name: str) -> Path | None:
    if data_home is None:
        return None
    folder = Path(data_home) / "sandbox"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.json"


@dataclass(frozen=True)
class ErpServer:
    """One ERP stand-in: its app, what it publishes, and its demo credentials."""

    name: str
    app: Any
    endpoints: Callable[[str], dict[str, str]]
    credentials: dict[str, Any]


def sandbox_periods(today: date | None = None) -> list[dict[str, object]]:
    """Monthly periods from 18 months back to 6 ahead, all open except the oldest one,
    so a closed period exists to try and every sandbox settlement has an open one."""
    today = today or datetime.now(UTC).date()
    year, month = today.year, today.month - 18
    while month <= 0:
        year, month = year - 1, month + 12
    first = year * 100 + month
    return deltek_store.monthly_periods(first, 25, closed={first})


def deltek_server(faults: FaultPlan, *, speed: float, data_home: Path | None) -> ErpServer:
    app = deltek_app.build_deltek_app(
        periods=sandbox_periods(),
        speed=speed,
        faults=split_faults(faults, "deltek"),
        state_file=_state_file(data_home, "deltek"),
    )
    return ErpServer(
        "deltek",
        app,
        endpoints=lambda url: {"deltek": url + deltek_app.DEFAULT_PREFIX},
        credentials={
            "username": deltek_app.DEMO_USERNAME,
            "password": deltek_app.DEMO_PASSWORD,
            "database": deltek_app.DEMO_DATABASE,
            "client_id": deltek_app.DEMO_CLIENT_ID,
            "client_secret": deltek_app.DEMO_CLIENT_SECRET,
        },
    )


def workday_server(faults: FaultPlan, *, data_home: Path | None) -> ErpServer:
    app = workday_app.build_workday_app(
        faults=split_faults(faults, "workday"), state_file=_state_file(data_home, "workday")
    )
    return ErpServer(
        "workday",
        app,
        endpoints=lambda url: {"workday": url},
        credentials={
            "tenant": workday_app.DEMO_TENANT,
            "username": workday_app.DEMO_USERNAME,
            "password": workday_app.DEMO_PASSWORD,
        },
    )
