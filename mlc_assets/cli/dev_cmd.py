"""``mlc dev``: the Dagster UI on this data home, with the sandbox it needs; Ctrl-C stops both.

Under a bare ``dg dev`` the first run that needs the sandbox starts ``mlc sandbox serve`` as a
detached process, and nothing stops it when the UI stops: four ports stay taken by an orphan.
Here the sandbox runs inside this process, so it ends with it whatever way it ends (Ctrl-C,
SIGTERM, or SIGKILL), and ``dg dev`` is this process's child, stopped with it. A sandbox left
behind by an earlier session is detected and replaced.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

DEFINITIONS_MODULE = "mlc_assets.definitions"
STOP_TIMEOUT = 30.0


def _retire_stale_sandbox(data_home: Path) -> str | None:
    """Stop a detached ``mlc sandbox serve`` of this data home; say what was done."""
    import psutil

    from mlc_assets.resources.sandbox_runtime import read_state

    state = read_state(data_home)
    if state is None or state.pid == os.getpid():
        return None
    try:
        owner = psutil.Process(state.pid)
        cmdline = owner.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None  # gone: its state file is stale and is replaced below
    if not ("sandbox" in cmdline and "serve" in cmdline):
        raise typer.BadParameter(
            f"another ml-connector process (pid {state.pid}) serves the sandbox of {data_home}; "
            "stop it first or use another --data-home",
            param_hint="--data-home",
        )
    owner.terminate()
    try:
        owner.wait(timeout=10)
    except psutil.TimeoutExpired:
        owner.kill()
    return f"stopped a sandbox left running by an earlier session (pid {state.pid})"


def _dg_command(port: int, host: str) -> list[str]:
    bin_dir = Path(sys.executable).parent
    dg = bin_dir / "dg"
    return [
        str(dg) if dg.exists() else "dg",
        "dev",
        "--use-active-venv",
        "-m",
        DEFINITIONS_MODULE,
        "--host",
        host,
        "--port",
        str(port),
    ]


def _dg_env(data_home: Path, dagster_home: Path) -> dict[str, str]:
    env = dict(os.environ)
    bin_dir = str(Path(sys.executable).parent)
    env["PATH"] = bin_dir + os.pathsep + env.get("PATH", "")
    env["VIRTUAL_ENV"] = sys.prefix
    env["DAGSTER_HOME"] = str(dagster_home)
    env["MLC_DATA_HOME"] = str(data_home)
    return env


def _serve(data_home: Path, port: int, host: str, console: Any) -> int:
    from mlc_assets.instance import open_instance
    from mlc_assets.resources.sandbox_runtime import publish_state
    from mlc_assets.resources.settings import resolve_settings
    from mlc_assets.sandbox.stack import SandboxStack

    open_instance(data_home)
    dagster_home = data_home / "dagster"
    settings = resolve_settings(data_home)
    stack = None
    if settings.use_sandbox:
        said = _retire_stale_sandbox(data_home)
        if said:
            console.print(said)
        stack = SandboxStack(
            seed=settings.sandbox_seed,
            settlements=settings.sandbox_settlements,
            speed=settings.sandbox_speed,
            settlement_days=settings.sandbox_settlement_days,
            data_home=data_home,
        )
        stack.__enter__()
        publish_state(data_home, stack)
        console.print(f"sandbox: {stack.endpoints['spapi']} (stops with this command)")
    proc = subprocess.Popen(_dg_command(port, host), env=_dg_env(data_home, dagster_home))

    def _forward(signum: int, frame: Any) -> None:
        # Stop the UI the way Ctrl-C does; the sandbox stops when this process leaves below.
        proc.send_signal(signal.SIGINT)

    signal.signal(signal.SIGTERM, _forward)
    try:
        while True:
            try:
                return proc.wait()
            except KeyboardInterrupt:
                # The terminal sent SIGINT to dg dev too; give it time to stop its children.
                try:
                    return proc.wait(timeout=STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    proc.terminate()
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
        if stack is not None:
            stack.__exit__(None, None, None)


def dev(
    port: Annotated[int, typer.Option(help="Port of the Dagster UI.")] = 3000,
    host: Annotated[str, typer.Option(help="Address the UI listens on.")] = "127.0.0.1",
    data_home: Annotated[Path, typer.Option(help="The connector's data home.")] = Path(".mlc"),
) -> None:
    """The Dagster UI (dg dev) on this data home; with no Amazon credentials, the sandbox too."""
    from rich.console import Console

    code = _serve(data_home.resolve(), port, host, Console(stderr=True))
    raise typer.Exit(code=0 if code in (0, -signal.SIGINT, 130) else code)


def register(app: typer.Typer) -> None:
    app.command("dev")(dev)
