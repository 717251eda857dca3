"""Register the ERP sandboxes (Deltek, Workday) with the SandboxStack.

Each ERP stand-in is its own server, as in real life. Faults meant for one system are
prefixed with its name in the stack's fault spec (``deltek.commit_drop:1``,
``workday.503:2``); unprefixed faults stay with the SP-API sandbox. ERP state is kept in
``<data home>/sandbox/`` so a rerun of the demo sees what was posted before.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from mlc_assets.sandbox import deltek_app, deltek_store
from mlc_assets.sandbox.faults import FaultPlan

if TYPE_CHECKING:
    from mlc_assets.sandbox.stack import SandboxStack


def split_faults(plan: FaultPlan, system: str) -> FaultPlan:
    """Move the ``<system>.<fault>`` arms of the stack's plan into a plan of their own."""
    sub = FaultPlan(seed=plan.seed)
    prefix = f"{system}."
    with plan._lock:
        names = [name for name in plan._arms if name.startswith(prefix)]
        for name in names:
            sub._arms[name[len(prefix) :]] = plan._arms.pop(name)
    return sub


def _state_file(stack: SandboxStack, name: str) -> Path | None:
    if stack.data_home is None:
        return None
    folder = Path(stack.data_home) / "sandbox"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.json"


def sandbox_periods(today: date | None = None) -> list[dict[str, object]]:
    """Monthly periods from 18 months back to 6 ahead, all open except the oldest one,
    so a closed period exists to try and every sandbox settlement has an open one."""
    today = today or datetime.now(UTC).date()
    year, month = today.year, today.month - 18
    while month <= 0:
        year, month = year - 1, month + 12
    first = year * 100 + month
    return deltek_store.monthly_periods(first, 25, closed={first})


def deltek_plugin(stack: SandboxStack) -> None:
    faults = split_faults(stack.faults, "deltek")
    app = deltek_app.build_deltek_app(
        periods=sandbox_periods(),
        speed=stack.speed,
        faults=faults,
        state_file=_state_file(stack, "deltek"),
    )
    stack.add_server(
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


def workday_plugin(stack: SandboxStack) -> None:
    from mlc_assets.sandbox import workday_app

    faults = split_faults(stack.faults, "workday")
    app = workday_app.build_workday_app(faults=faults, state_file=_state_file(stack, "workday"))
    stack.add_server(
        "workday",
        app,
        endpoints=lambda url: {"workday": url},
        credentials={
            "tenant": workday_app.DEMO_TENANT,
            "username": workday_app.DEMO_USERNAME,
            "password": workday_app.DEMO_PASSWORD,
        },
    )
