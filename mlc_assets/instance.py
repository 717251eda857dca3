"""The Dagster instance home under the data home, with the pool limits the connector needs.

``make dev`` and ``mlc demo`` both use ``<data home>/dagster`` as DAGSTER_HOME, so runs made
by the demo show up in the UI, and DuckDB writers (pool ``duckdb``) and ERP writers never
run two at a time.
"""

from __future__ import annotations

import os
from pathlib import Path

DAGSTER_YAML = """\
# Written by ml-connector. Pools serialise DuckDB writers and each ERP's writers;
# runs queue instead of piling up on Amazon's rate limits.
concurrency:
  pools:
    default_limit: 1
  runs:
    max_concurrent_runs: 4
telemetry:
  enabled: false
"""


def ensure_dagster_home(data_home: Path | str) -> Path:
    home = (Path(data_home) / "dagster").resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML)
    return home


def use_dagster_home(data_home: Path | str) -> Path:
    """Point this process's Dagster at the data home's instance (unless DAGSTER_HOME is set)."""
    if os.environ.get("DAGSTER_HOME"):
        return Path(os.environ["DAGSTER_HOME"])
    home = ensure_dagster_home(data_home)
    os.environ["DAGSTER_HOME"] = str(home)
    return home
