"""The data home's Dagster instance: created once even when several processes start together."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

OPEN = """
import sys, time
from mlc_assets.instance import open_instance
start = float(sys.argv[2])
while time.time() < start:
    time.sleep(0.001)
instance = open_instance(sys.argv[1])
print(len(instance.get_run_records()), flush=True)
"""


def test_processes_starting_together_on_a_new_data_home_all_get_the_instance(
    tmp_path: Path,
) -> None:
    import time

    home = tmp_path / "home"
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    start = str(time.time() + 3.0)  # after every interpreter has imported dagster
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN, str(home), start],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    results = [p.communicate(timeout=120) for p in procs]
    for proc, (out, err) in zip(procs, results, strict=True):
        assert proc.returncode == 0, err[-2000:]
        assert out.strip() == "0"
    assert (home / "dagster" / "dagster.yaml").is_file()
