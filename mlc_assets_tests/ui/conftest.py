"""Fixtures for the browser tests: a real Dagster deployment on the sandbox, and Chromium.

The webserver and the daemon are started as two processes (what ``dagster dev`` runs),
each in its own process group so teardown can stop everything they spawned (code servers,
run workers, step processes). The daemon is started by the test, not here: the settlement
sensor is RUNNING by default and its first tick would launch a run for every settlement at
once, so the test first pauses it from the UI, as an operator taking over would.

Chromium is Debian's (``scripts/install-browser.sh``); Playwright's own browser download
does not work on our machines, so Playwright gets ``executable_path``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from mlc_assets.instance import ensure_dagster_home
from mlc_assets.resources.sandbox_runtime import read_state

CHROMIUM = Path("/usr/bin/chromium")
REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO_ROOT / "test-artifacts" / "ui"
LOCATION_NAME = "ml-connector"
# Flags Chromium needs on our machines: no sandbox as root, and no background
# connections (the network is closed; they fail noisily and slow start-up).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

WORKSPACE_YAML = f"""\
load_from:
  - python_module:
      module_name: mlc_assets.definitions
      location_name: {LOCATION_NAME}
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _bin(name: str) -> str:
    found = Path(sys.executable).parent / name
    return str(found) if found.exists() else (shutil.which(name) or name)


def _stop_groups(procs: list[subprocess.Popen[bytes]], grace: float = 5.0) -> None:
    """TERM each process group, then KILL what is left of them after a grace period.

    Run workers and code servers are children in the same groups and may outlive the
    leaders, so the groups are swept even when the leaders exited in time.
    """
    groups = []
    for proc in procs:
        with contextlib.suppress(ProcessLookupError):
            groups.append(os.getpgid(proc.pid))
    for pgid in groups:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
    for pgid in groups:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
    for proc in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=5)


@dataclass
class DagsterDeployment:
    """A webserver (and, once started, a daemon) over one temp data home."""

    data_home: Path
    dagster_home: Path
    workdir: Path
    port: int
    env: dict[str, str]
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def warehouse(self) -> Path:
        return self.data_home / "warehouse.duckdb"

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        log = (self.data_home / "logs" / f"{name}.log").open("ab")
        proc = subprocess.Popen(
            args,
            cwd=self.workdir,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        self.procs[name] = proc
        return proc

    def start_webserver(self, timeout: float = 120.0) -> None:
        self._spawn(
            "webserver",
            [
                _bin("dagster-webserver"),
                "-w",
                str(self.workdir / "workspace.yaml"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
            ],
        )
        self._wait_for_location(timeout)

    def start_daemon(self) -> None:
        self._spawn(
            "daemon", [_bin("dagster-daemon"), "run", "-w", str(self.workdir / "workspace.yaml")]
        )

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        resp = httpx.post(
            f"{self.url}/graphql",
            json={"query": query, "variables": variables or {}},
            timeout=30.0,
        )
        resp.raise_for_status()
        body = resp.json()
        if body.get("errors"):
            raise AssertionError(f"GraphQL errors: {body['errors']}")
        return dict(body["data"])

    def _wait_for_location(self, timeout: float) -> None:
        query = """
        { workspaceOrError { __typename ... on Workspace { locationEntries {
            name loadStatus locationOrLoadError { __typename ... on PythonError { message } }
        } } } }
        """
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            proc = self.procs["webserver"]
            if proc.poll() is not None:
                raise RuntimeError(
                    f"dagster-webserver exited ({proc.returncode}): {self.log_tail()}"
                )
            try:
                data = self.graphql(query)
            except (httpx.HTTPError, AssertionError) as exc:
                last = repr(exc)
            else:
                for entry in data["workspaceOrError"].get("locationEntries", []):
                    loaded = entry["locationOrLoadError"] or {}
                    if entry["name"] == LOCATION_NAME and entry["loadStatus"] == "LOADED":
                        if loaded.get("__typename") == "RepositoryLocation":
                            return
                        raise RuntimeError(f"code location failed to load: {loaded}")
                last = str(data)
            time.sleep(1.0)
        raise TimeoutError(f"Dagster UI not ready after {timeout:.0f}s: {last}")

    def log_tail(self, chars: int = 3000) -> str:
        parts = []
        for path in sorted((self.data_home / "logs").glob("*.log")):
            parts.append(f"--- {path.name}\n{path.read_text(errors='replace')[-chars:]}")
        return "\n".join(parts)

    def stop(self) -> None:
        _stop_groups(list(self.procs.values()))
        # The sandbox was started detached by the resources (its own session): stop it
        # by the pid it recorded, after checking that pid really is this data home's.
        state = read_state(self.data_home)
        if state is not None and _is_sandbox_of(state.pid, self.data_home):
            with contextlib.suppress(ProcessLookupError):
                os.kill(state.pid, signal.SIGTERM)
            _wait_gone(state.pid, 10.0)
            with contextlib.suppress(ProcessLookupError):
                os.kill(state.pid, signal.SIGKILL)


def _is_sandbox_of(pid: int, data_home: Path) -> bool:
    """Whether ``pid`` is ``mlc sandbox serve`` for this data home (pids get reused)."""
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return False
    if "sandbox" not in args or "--data-home" not in args:
        return False
    i = args.index("--data-home")
    return i + 1 < len(args) and Path(args[i + 1]).resolve() == data_home.resolve()


def _wait_gone(pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            return
        if stat.rsplit(")", 1)[-1].split()[0] == "Z":  # exited, not yet reaped
            return
        time.sleep(0.2)


def make_deployment(tmp_path: Path) -> DagsterDeployment:
    """A deployment over a fresh sandbox data home under ``tmp_path`` (not started)."""
    data_home = tmp_path / "mlc"
    (data_home / "logs").mkdir(parents=True)
    dagster_home = ensure_dagster_home(data_home)
    workdir = tmp_path / "workdir"  # no stray .env from the developer's checkout
    workdir.mkdir()
    (workdir / "workspace.yaml").write_text(WORKSPACE_YAML)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLC_", "DAGSTER_"))}
    env.update(
        {
            "DAGSTER_HOME": str(dagster_home),
            "MLC_DATA_HOME": str(data_home),
            "MLC_SANDBOX": "on",
            "MLC_SANDBOX_SPEED": "200",
            # One settlement per marketplace keeps the run count (and CI time) small.
            "MLC_SANDBOX_SETTLEMENTS": "1",
        }
    )
    return DagsterDeployment(
        data_home=data_home, dagster_home=dagster_home, workdir=workdir, port=free_port(), env=env
    )


@pytest.fixture
def dagster_ui(tmp_path: Path) -> Iterator[DagsterDeployment]:
    """The Dagster webserver over a fresh sandbox data home; the daemon starts on demand."""
    deployment = make_deployment(tmp_path)
    try:
        deployment.start_webserver()
        yield deployment
    finally:
        deployment.stop()


@pytest.fixture
def browser_page(dagster_ui: DagsterDeployment) -> Iterator[Any]:
    """A Chromium page (Debian's build, headless) at a desktop size."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run scripts/install-browser.sh (make test does)")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            page = browser.new_page(viewport={"width": 2200, "height": 1300})
            page.set_default_timeout(30_000)
            # Dagster asks new users to join its community once; dismiss it whenever it shows.
            page.add_locator_handler(
                page.get_by_text("Join the Dagster community"),
                lambda: page.get_by_role("button", name="Skip").click(),
            )
            yield page
        finally:
            browser.close()
