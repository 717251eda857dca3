"""Client-side token buckets shared by every process that calls SP-API for one account.

Amazon's limits are per (application, selling partner) pair (docs/reference/amazon/NOTES.md §8), so
two Dagster runs
backfilling the same seller share one budget. Each bucket's state is a tiny JSON file under
the state dir, read-modified-written under a ``filelock``; the wait happens outside the
lock so other processes are never blocked by a sleeper. A 429 from Amazon drains the bucket
(their bucket is empty, ours must follow).

Rates come from the operation descriptions in the models (docs/reference/amazon/NOTES.md §3-5);
``speed`` multiplies
them for the accelerated sandbox.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

log = logging.getLogger(__name__)

# Real seconds added to every wait for a token (see BucketRegistry.acquire).
ARRIVAL_MARGIN = 0.1


@dataclass(frozen=True)
class RateLimit:
    rate: float  # tokens per second
    burst: int  # bucket capacity


RATE_LIMITS: dict[str, RateLimit] = {
    # Reports API 2021-06-30
    "getReports": RateLimit(0.0222, 10),
    "getReport": RateLimit(2.0, 15),
    "createReport": RateLimit(0.0167, 15),
    "cancelReport": RateLimit(0.0222, 10),
    "getReportDocument": RateLimit(0.0167, 15),
    "getReportSchedules": RateLimit(0.0222, 10),
    "createReportSchedule": RateLimit(0.0222, 10),
    "getReportSchedule": RateLimit(0.0222, 10),
    "cancelReportSchedule": RateLimit(0.0222, 10),
    # Finances v0
    "listFinancialEventGroups": RateLimit(0.5, 30),
    "listFinancialEventsByGroupId": RateLimit(0.5, 30),
    "listFinancialEventsByOrderId": RateLimit(0.5, 30),
    "listFinancialEvents": RateLimit(0.5, 30),
    # Finances 2024-06-19
    "listTransactions": RateLimit(0.5, 10),
    "listSummary": RateLimit(0.5, 10),
    "listBalances": RateLimit(0.5, 10),
}


@dataclass(frozen=True)
class BucketState:
    tokens: float
    updated: float  # wall-clock seconds (shared across processes)
    grants: int = 0
    waits: int = 0


def refill(state: BucketState, now: float, limit: RateLimit) -> BucketState:
    """Tokens after refilling from ``state.updated`` to ``now``, capped at the burst."""
    elapsed = max(0.0, now - state.updated)  # a clock stepping back never mints tokens
    tokens = min(float(limit.burst), state.tokens + elapsed * limit.rate)
    return BucketState(tokens, max(now, state.updated), state.grants, state.waits)


def take(state: BucketState, now: float, limit: RateLimit) -> tuple[BucketState, float]:
    """Try to spend one token: (new state, 0.0) or (state, seconds until one is there)."""
    state = refill(state, now, limit)
    if state.tokens >= 1.0:
        return BucketState(state.tokens - 1.0, state.updated, state.grants + 1, state.waits), 0.0
    return state, (1.0 - state.tokens) / limit.rate


def account_key_for(*parts: str) -> str:
    """A stable, non-reversible file-name-safe key for an (app, seller) pair."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:24]


_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


class BucketRegistry:
    """All buckets of one account. ``acquire(op)`` blocks until a token is granted."""

    def __init__(
        self,
        state_dir: Path | str,
        account_key: str,
        speed: float = 1.0,
        *,
        limits: Mapping[str, RateLimit] | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        lock_timeout: float = 30.0,
    ) -> None:
        if speed <= 0:
            raise ValueError(f"bucket speed must be > 0, got {speed}")
        if not account_key or _SAFE.search(account_key):
            raise ValueError("account_key must be non-empty and file-name safe ([A-Za-z0-9_.-])")
        self.dir = Path(state_dir) / "spapi-buckets" / account_key
        self.dir.mkdir(parents=True, exist_ok=True)
        self.account_key = account_key
        self.speed = speed
        self._limits = dict(RATE_LIMITS if limits is None else limits)
        self._clock = clock
        self._sleep = sleep
        self._lock_timeout = lock_timeout
        self._counter_lock = threading.Lock()
        # In-process counters for benchmarks (the files keep cross-process totals).
        self.waits = 0
        self.waited_seconds = 0.0
        self.grants: Counter[str] = Counter()
        self.drains: Counter[str] = Counter()

    def limit(self, op: str) -> RateLimit:
        """The effective (speed-scaled) limit of an operation."""
        try:
            base = self._limits[op]
        except KeyError:
            raise ValueError(
                f"no rate limit known for SP-API operation {op!r}; add it to RATE_LIMITS"
            ) from None
        return RateLimit(base.rate * self.speed, base.burst)

    def _paths(self, op: str) -> tuple[Path, FileLock]:
        if _SAFE.search(op):
            raise ValueError(f"bad operation name {op!r}")
        path = self.dir / f"{op}.json"
        return path, FileLock(str(path) + ".lock", timeout=self._lock_timeout)

    def _read(self, path: Path, now: float, limit: RateLimit) -> BucketState:
        try:
            raw = json.loads(path.read_text())
            return BucketState(
                float(raw["tokens"]),
                float(raw["updated"]),
                int(raw.get("grants", 0)),
                int(raw.get("waits", 0)),
            )
        except FileNotFoundError:
            return BucketState(float(limit.burst), now)  # Amazon's buckets start full
        except (ValueError, KeyError, TypeError, OSError):
            # Conservative: a damaged file means "empty now", never "full".
            log.warning("bucket state %s unreadable; starting it empty", path.name)
            return BucketState(0.0, now)

    def _write(self, path: Path, state: BucketState) -> None:
        tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_text(
            json.dumps(
                {
                    "tokens": state.tokens,
                    "updated": state.updated,
                    "grants": state.grants,
                    "waits": state.waits,
                }
            )
        )
        os.replace(tmp, path)

    def try_acquire(self, op: str, *, count_wait: bool = True) -> float:
        """Take a token if one is there (→ 0.0), else the seconds to wait before retrying."""
        limit = self.limit(op)
        path, lock = self._paths(op)
        with lock:
            now = self._clock()
            state, wait = take(self._read(path, now, limit), now, limit)
            if wait > 0 and count_wait:
                state = BucketState(state.tokens, state.updated, state.grants, state.waits + 1)
            self._write(path, state)
        return wait

    def acquire(self, op: str) -> float:
        """Block until ``op`` may be called; returns the seconds spent waiting."""
        waited = 0.0
        first = True
        while True:
            wait = self.try_acquire(op, count_wait=first)
            if wait <= 0:
                with self._counter_lock:
                    self.grants[op] += 1
                    if waited > 0:
                        self.waits += 1
                        self.waited_seconds += waited
                return waited
            first = False
            # Sleep outside the lock, a little past the computed refill: Amazon's bucket is
            # refilled on its own clock, and a request that arrives a few milliseconds
            # "early" after network jitter is a 429. The extra is a phase shift, not a slower
            # rate (the bucket keeps the tokens that refill meanwhile).
            wait = max(wait, 0.001) + ARRIVAL_MARGIN
            self._sleep(wait)
            waited += wait

    def drain(self, op: str) -> None:
        """Amazon said 429: its bucket is empty, so empty ours too."""
        limit = self.limit(op)
        path, lock = self._paths(op)
        with lock:
            now = self._clock()
            state = refill(self._read(path, now, limit), now, limit)
            self._write(path, BucketState(0.0, now, state.grants, state.waits))
        with self._counter_lock:
            self.drains[op] += 1

    def state(self, op: str) -> BucketState:
        """Current (refilled) state, for diagnostics and benchmarks."""
        limit = self.limit(op)
        path, lock = self._paths(op)
        with lock:
            now = self._clock()
            return refill(self._read(path, now, limit), now, limit)
