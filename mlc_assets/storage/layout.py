"""Where everything lives under a data home: one owner for the paths every layer uses."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class DataHome:
    root: Path

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def raw(self) -> Path:
        """The content-addressed archive of every payload."""
        return self.root / "raw"

    @property
    def state(self) -> Path:
        """Shared between processes: report index, token buckets, sandbox endpoints, locks."""
        return self.root / "state"

    @property
    def report_index(self) -> Path:
        return self.state / "reports"

    @property
    def buckets(self) -> Path:
        return self.state / "buckets"
