"""Server-side SP-API usage plans: one token bucket per operation, as Amazon enforces them.

Amazon refills each operation's bucket at *rate* tokens/s up to *burst*; a call on an empty
bucket gets 429 (docs/reference/amazon/NOTES.md §5, §8). The sandbox multiplies every rate
by ``speed`` so tests and demos can run a realistic call pattern in seconds while still
exercising throttling. Bursts are not scaled: they are what makes 429s reachable.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

# operation → (rate per second, burst). Finances limits are here too so the Finances routes
# only need to name their operation.
OPERATION_LIMITS: dict[str, tuple[float, int]] = {
    # Reports 2021-06-30
    "getReports": (0.0222, 10),
    "createReport": (0.0167, 15),
    "getReport": (2.0, 15),
    "cancelReport": (0.0222, 10),
    "getReportSchedules": (0.0222, 10),
    "createReportSchedule": (0.0222, 10),
    "getReportSchedule": (0.0222, 10),
    "cancelReportSchedule": (0.0222, 10),
    "getReportDocument": (0.0167, 15),
    # Finances v0
    "listFinancialEventGroups": (0.5, 30),
    "listFinancialEventsByGroupId": (0.5, 30),
    "listFinancialEventsByOrderId": (0.5, 30),
    "listFinancialEvents": (0.5, 30),
    # Finances 2024-06-19
    "listTransactions": (0.5, 10),
    "listBalances": (0.5, 10),
    "listSummary": (0.5, 10),
}


class TokenBucket:
    """A classic token bucket; starts full, like a fresh Amazon usage plan."""

    def __init__(
        self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be > 0 and burst >= 1")
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._stamp = clock()
        self._lock = threading.Lock()

    def try_take(self) -> bool:
        with self._lock:
            now = self._clock()
            self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
            self._stamp = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False


@dataclass
class SandboxCounters:
    """What the sandbox served; read by tests and benchmarks (also via GET /_sandbox/stats)."""

    requests: Counter[str] = field(default_factory=Counter)
    throttled: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    tokens_issued: int = 0
    downloads: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def count_request(self, operation: str) -> None:
        with self._lock:
            self.requests[operation] += 1

    def count_throttle(self, operation: str) -> None:
        with self._lock:
            self.throttled[operation] += 1

    def count_status(self, status: int) -> None:
        with self._lock:
            self.statuses[status] += 1

    def count_token(self) -> None:
        with self._lock:
            self.tokens_issued += 1

    def count_download(self) -> None:
        with self._lock:
            self.downloads += 1

    @property
    def throttled_total(self) -> int:
        with self._lock:
            return sum(self.throttled.values())

    def snapshot(self) -> dict[str, object]:
        with self._lock:
            return {
                "requests": dict(self.requests),
                "throttled": dict(self.throttled),
                "throttled_total": sum(self.throttled.values()),
                "statuses": {str(k): v for k, v in self.statuses.items()},
                "tokens_issued": self.tokens_issued,
                "downloads": self.downloads,
            }


class RateLimiter:
    """Per-operation buckets for one application + selling-partner pair."""

    def __init__(
        self,
        speed: float = 1.0,
        limits: dict[str, tuple[float, int]] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if speed <= 0:
            raise ValueError("speed must be > 0")
        self.speed = speed
        self._limits = dict(OPERATION_LIMITS if limits is None else limits)
        self._clock = clock
        self._buckets: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()

    def limit(self, operation: str) -> tuple[float, int]:
        rate, burst = self._limits[operation]
        return rate * self.speed, burst

    def header_value(self, operation: str) -> str:
        """``x-amzn-RateLimit-Limit``: the effective rate, so clients pace correctly."""
        rate, _ = self.limit(operation)
        return f"{rate:.6g}"

    def try_acquire(self, operation: str) -> bool:
        with self._lock:
            bucket = self._buckets.get(operation)
            if bucket is None:
                rate, burst = self.limit(operation)
                bucket = self._buckets[operation] = TokenBucket(rate, burst, self._clock)
        return bucket.try_take()
