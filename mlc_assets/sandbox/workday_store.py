"""What the Workday sandbox remembers: journals and supplier invoices, optionally on disk.

With ``state_file`` set, every operation reloads the JSON file and writes it back under a
file lock, so a restarted sandbox or a second process serving the same tenant sees the same
documents - which is what a crash-and-rerun test of exactly-once posting needs. Amounts are
stored as strings (Decimal text), never floats.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from filelock import FileLock


def new_wid() -> str:
    """Workday IDs are 32 lowercase hex characters."""
    return uuid.uuid4().hex


class WorkdayStore:
    def __init__(self, state_file: Path | str | None = None) -> None:
        self.state_file = Path(state_file) if state_file else None
        self._lock = threading.RLock()
        self._file_lock = FileLock(f"{self.state_file}.lock") if self.state_file else None
        self.journals: dict[str, dict[str, Any]] = {}
        self.invoices: dict[str, dict[str, Any]] = {}
        self.sequence = 0

    @contextmanager
    def session(self, *, write: bool = False) -> Iterator[WorkdayStore]:
        """Exclusive access; reload before and (for writes) persist after."""
        with self._lock:
            if self._file_lock is None:
                yield self
                return
            with self._file_lock:
                self._load()
                yield self
                if write:
                    self._save()

    def next_number(self, prefix: str) -> str:
        self.sequence += 1
        return f"{prefix}-{self.sequence:06d}"

    def _load(self) -> None:
        assert self.state_file is not None
        if not self.state_file.exists():
            return
        data = json.loads(self.state_file.read_text(encoding="utf-8"))
        self.journals = data.get("journals", {})
        self.invoices = data.get("supplier_invoices", {})
        self.sequence = int(data.get("sequence", 0))

    def _save(self) -> None:
        assert self.state_file is not None
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(self.state_file.suffix + ".tmp")
        tmp.write_text(
            json.dumps(
                {
                    "journals": self.journals,
                    "supplier_invoices": self.invoices,
                    "sequence": self.sequence,
                },
                indent=1,
                sort_keys=True,
            ),
            encoding="utf-8",
        )
        tmp.replace(self.state_file)
