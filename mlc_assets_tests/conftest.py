"""Fixtures shared across test folders."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlc_assets.resources.sandbox_runtime import publish_state
from mlc_assets.sandbox.stack import SandboxStack

SPEED = 200.0


@pytest.fixture
def sandbox_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SandboxStack]:
    """A sandbox stack serving this data home, published where the resources look for it."""
    for name in list(os.environ):
        if name.startswith("MLC_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("MLC_DATA_HOME", str(tmp_path))
    monkeypatch.setenv("MLC_SANDBOX", "on")
    monkeypatch.setenv("MLC_SANDBOX_SPEED", str(SPEED))
    monkeypatch.setenv("MLC_SANDBOX_SETTLEMENTS", "1")
    with SandboxStack(seed=7, settlements=1, speed=SPEED, data_home=tmp_path) as stack:
        publish_state(tmp_path, stack)
        yield stack


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:  # type: ignore[type-arg]
    """A skipped test is a failed one: a check that can vanish (a missing file, a missing
    import) proves nothing, so the suite refuses to pass with one."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped tests are not allowed in this suite: {report.longrepr}"
