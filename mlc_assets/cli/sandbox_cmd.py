"""``mlc sandbox serve``: run the built-in sandbox (Amazon, Workday, Deltek) in the foreground.

Prints exactly one JSON line (base URLs + demo credentials) so a parent process or a human
can wire a client to it, optionally records the same in ``<data home>/state/sandbox.json``
(how Dagster resources find it), then blocks until Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Annotated, Any

import typer

sandbox_app = typer.Typer(
    help="The built-in sandbox: local Amazon SP-API (with LWA), Workday and Deltek servers."
)


@sandbox_app.command("serve")
def serve(
    seed: Annotated[int, typer.Option(help="Seed of the simulated seller.")] = 7,
    settlements: Annotated[int, typer.Option(help="Settlements per marketplace.")] = 6,
    speed: Annotated[
        float, typer.Option(help="Multiplies rate limits, divides token/URL lifetimes.")
    ] = 1.0,
    faults: Annotated[
        str | None, typer.Option(help='Fault spec, e.g. "429:3,reset:0.05,expire_url:1".')
    ] = None,
    port: Annotated[int, typer.Option(help="SP-API port (LWA uses port+1); 0 = any.")] = 0,
    lines_scale: Annotated[int, typer.Option(help="Multiply orders per settlement.")] = 1,
    settlement_days: Annotated[int, typer.Option(help="Length of a settlement period.")] = 14,
    data_home: Annotated[
        Path | None, typer.Option(help="Write <data home>/state/sandbox.json for resources.")
    ] = None,
) -> None:
    """Serve the sandbox until interrupted."""
    from mlc_assets.sandbox.stack import SandboxStack

    stack = SandboxStack(
        seed=seed,
        settlements=settlements,
        speed=speed,
        faults=faults,
        lines_scale=lines_scale,
        settlement_days=settlement_days,
        spapi_port=port,
        lwa_port=port + 1 if port else 0,
        data_home=data_home,
    )
    stop = threading.Event()

    def _on_signal(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    with stack:
        info: dict[str, Any] = {
            "pid": os.getpid(),
            "endpoints": stack.endpoints,
            "credentials": stack.credentials,
            "seed": seed,
            "speed": speed,
        }
        if data_home is not None:
            from mlc_assets.resources.sandbox_runtime import publish_state

            publish_state(data_home, stack)
        sys.stdout.write(json.dumps(info, sort_keys=True) + "\n")
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass


def register(app: typer.Typer) -> None:
    """Add ``mlc sandbox ...`` to the ``mlc`` app."""
    app.add_typer(sandbox_app, name="sandbox")
