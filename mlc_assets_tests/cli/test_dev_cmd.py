"""``mlc dev``: Ctrl-C stops the UI and everything it started; a stale sandbox is replaced."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLC_", "DAGSTER_"))}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def _wait(predicate, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


def _sandbox_state(home: Path) -> dict:  # type: ignore[type-arg]
    try:
        return json.loads((home / "state" / "sandbox.json").read_text())
    except (OSError, ValueError):
        return {}


@pytest.mark.timeout(240)
def test_ctrl_c_stops_the_ui_and_the_sandbox_and_a_stale_sandbox_is_replaced(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    mlc = [sys.executable, "-m", "mlc_assets.cli.main"]
    # A sandbox left behind by an earlier `dagster dev` session: detached, still serving.
    stale = subprocess.Popen(
        [*mlc, "sandbox", "serve", "--data-home", str(home), "--speed", "200"],
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait(lambda: _sandbox_state(home).get("pid") == stale.pid, 60, "the stale sandbox")
        port = _free_port()
        dev = subprocess.Popen(
            [*mlc, "dev", "--port", str(port), "--data-home", str(home)],
            env=_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group, as a terminal gives it
        )
        try:
            _wait(lambda: _answers(f"http://127.0.0.1:{port}/server_info"), 150, "the UI")
            state = _sandbox_state(home)
            assert state["pid"] == dev.pid, "mlc dev serves the sandbox from its own process"
            assert stale.wait(timeout=15) is not None, "the stale sandbox was not stopped"
            spapi = state["endpoints"]["spapi"]
            assert _answers(f"{spapi}/_sandbox/stats")
            family = [dev.pid] + [p.pid for p in psutil.Process(dev.pid).children(recursive=True)]
            assert len(family) > 2, "dg dev runs the webserver and the daemon as children"
            # Ctrl-C: the terminal sends SIGINT to the whole foreground process group.
            os.killpg(dev.pid, signal.SIGINT)
            out, _ = dev.communicate(timeout=90)
        finally:
            if dev.poll() is None:
                os.killpg(dev.pid, signal.SIGKILL)
        assert dev.returncode == 0, out[-3000:]
        assert "stopped a sandbox left running by an earlier session" in out
        _wait(lambda: not any(psutil.pid_exists(p) for p in family), 30, "every child to exit")
        assert not _answers(f"{spapi}/_sandbox/stats"), "the sandbox outlived the UI"
        assert not _answers(f"http://127.0.0.1:{port}/server_info")
    finally:
        if stale.poll() is None:
            stale.kill()
