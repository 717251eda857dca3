"""Find (or start) the built-in sandbox that stands in for Amazon, Workday and Deltek.

The sandbox is the embedded default: with no Amazon credentials configured, every resource
talks to one sandbox process of this data home. Its base URLs and demo credentials are in
``<data home>/state/sandbox.json``. ``mlc demo`` runs the sandbox inside its own process and
writes that file; under ``dagster dev`` the first resource that needs it starts
``mlc sandbox serve`` as a detached process, guarded by a file lock so that parallel runs
start exactly one.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
from filelock import FileLock
from pydantic import BaseModel

from mlc_assets.config import Settings
from mlc_assets.secrets.process_redaction import learn_secrets
from mlc_assets.storage.layout import DataHome

if TYPE_CHECKING:
    from mlc_assets.sandbox.stack import SandboxStack

STATE_FILE = "sandbox.json"


class SandboxState(BaseModel):
    pid: int
    endpoints: dict[str, str]
    credentials: dict[str, Any]
    data_home: str | None = None
    speed: float = 1.0

    def secrets(self) -> list[str]:
        """The demo credentials that are secrets on the real systems, for the redactor."""
        c = self.credentials
        found = [c.get("lwa_client_secret"), c.get("refresh_token")]
        found += [c.get("workday", {}).get("password")]
        found += [c.get("deltek", {}).get(k) for k in ("password", "client_secret")]
        return [v for v in found if isinstance(v, str) and v]


def state_path(data_home: Path | str) -> Path:
    return DataHome(Path(data_home)).state / STATE_FILE


def write_state(data_home: Path | str, state: SandboxState) -> Path:
    path = state_path(data_home)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(state.model_dump_json(indent=1))
    os.chmod(tmp, 0o600)  # demo credentials only, but keep the habit
    os.replace(tmp, path)
    return path


def publish_state(data_home: Path | str, stack: SandboxStack) -> SandboxState:
    """Make ``stack`` (running in this process) the sandbox the resources of ``data_home`` use."""
    state = SandboxState(
        pid=os.getpid(),
        endpoints=stack.endpoints,
        credentials=stack.credentials,
        data_home=str(data_home),
        speed=stack.speed,
    )
    write_state(data_home, state)
    return state


def read_state(data_home: Path | str) -> SandboxState | None:
    path = state_path(data_home)
    if not path.exists():
        return None
    try:
        return SandboxState.model_validate_json(path.read_text())
    except ValueError:
        return None


def is_alive(state: SandboxState) -> bool:
    url = state.endpoints.get("spapi")
    if not url:
        return False
    try:
        return httpx.get(f"{url}/_sandbox/stats", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def ensure_sandbox(
    data_home: Path | str,
    *,
    seed: int = 7,
    settlements: int = 6,
    speed: float = 1.0,
    settlement_days: int = 14,
    timeout: float = 60.0,
) -> SandboxState:
    """Return the live sandbox of this data home, starting one if none answers."""
    state = _ensure_sandbox(
        data_home,
        seed=seed,
        settlements=settlements,
        speed=speed,
        settlement_days=settlement_days,
        timeout=timeout,
    )
    # Demo secrets are still secrets to the leak scan: keep them out of this process's logs.
    learn_secrets(*state.secrets())
    return state


def _ensure_sandbox(
    data_home: Path | str,
    *,
    seed: int,
    settlements: int,
    speed: float,
    settlement_days: int,
    timeout: float,
) -> SandboxState:
    state = read_state(data_home)
    if state is not None and is_alive(state):
        return state
    lock_path = DataHome(Path(data_home)).state / "sandbox.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(lock_path), timeout=timeout):
        state = read_state(data_home)
        if state is not None and is_alive(state):
            return state
        log_dir = Path(data_home) / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        cmd = [
            sys.executable,
            "-m",
            "mlc_assets.cli.main",
            "sandbox",
            "serve",
            "--data-home",
            str(data_home),
            "--seed",
            str(seed),
            "--settlements",
            str(settlements),
            "--speed",
            str(speed),
            "--settlement-days",
            str(settlement_days),
        ]
        with open(log_dir / "sandbox.log", "ab") as log:
            subprocess.Popen(
                cmd,
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = read_state(data_home)
            if state is not None and is_alive(state):
                return state
            time.sleep(0.2)
    raise RuntimeError(
        f"the sandbox did not start within {timeout:.0f}s; see {log_dir / 'sandbox.log'}"
    )


def sandbox_for(settings: Settings) -> SandboxState:
    """The sandbox these settings describe (seed, size, speed), started if need be."""
    return ensure_sandbox(
        settings.data_home,
        seed=settings.sandbox_seed,
        settlements=settings.sandbox_settlements,
        speed=settings.sandbox_speed,
        settlement_days=settings.sandbox_settlement_days,
    )
