"""Token buckets: pure refill math, speed scaling, 429 drain, and two processes sharing one
bucket through the state dir."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path
from typing import Any

import pytest

from mlc_assets.clients.spapi.throttle import (
    ARRIVAL_MARGIN,
    RATE_LIMITS,
    BucketRegistry,
    BucketState,
    RateLimit,
    account_key_for,
    refill,
    take,
)

LIMIT = RateLimit(rate=2.0, burst=5)


class FakeClock:
    def __init__(self, t: float = 1000.0) -> None:
        self.t = t
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds


def test_refill_adds_rate_times_elapsed_and_caps_at_burst() -> None:
    s = BucketState(tokens=1.0, updated=100.0)
    assert refill(s, 101.0, LIMIT).tokens == pytest.approx(3.0)
    assert refill(s, 101.5, LIMIT).tokens == pytest.approx(4.0)
    assert refill(s, 200.0, LIMIT).tokens == 5.0  # capped at burst


def test_clock_stepping_back_mints_nothing() -> None:
    s = BucketState(tokens=1.0, updated=100.0)
    after = refill(s, 50.0, LIMIT)
    assert after.tokens == 1.0
    assert after.updated == 100.0


def test_take_spends_one_token_or_reports_the_wait() -> None:
    s, wait = take(BucketState(tokens=1.5, updated=10.0), 10.0, LIMIT)
    assert wait == 0.0
    assert s.tokens == pytest.approx(0.5)
    assert s.grants == 1
    s2, wait2 = take(s, 10.0, LIMIT)
    assert s2.tokens == pytest.approx(0.5)  # nothing spent
    assert wait2 == pytest.approx(0.25)  # half a token at 2/s


def test_documented_rates_are_in_the_table() -> None:
    assert RATE_LIMITS["getReports"] == RateLimit(0.0222, 10)
    assert RATE_LIMITS["getReport"] == RateLimit(2.0, 15)
    assert RATE_LIMITS["createReport"] == RateLimit(0.0167, 15)
    assert RATE_LIMITS["getReportDocument"] == RateLimit(0.0167, 15)
    assert RATE_LIMITS["listFinancialEventGroups"] == RateLimit(0.5, 30)
    assert RATE_LIMITS["listFinancialEventsByGroupId"] == RateLimit(0.5, 30)
    assert RATE_LIMITS["listTransactions"] == RateLimit(0.5, 10)
    assert RATE_LIMITS["listSummary"] == RateLimit(0.5, 10)


def test_new_bucket_starts_full_then_waits_at_rate(tmp_path: Path) -> None:
    clock = FakeClock()
    reg = BucketRegistry(tmp_path, "acct", limits={"op": LIMIT}, clock=clock, sleep=clock.sleep)
    start = clock.t
    for _ in range(5):
        assert reg.acquire("op") == 0.0
    assert clock.sleeps == []
    # The 6th to 9th calls each wait one refill interval (1/rate = 0.5 s); the arrival
    # margin shifts the phase once and does not accumulate (the rate stays 2/s).
    for _ in range(4):
        reg.acquire("op")
    assert clock.t - start == pytest.approx(4 * 0.5 + ARRIVAL_MARGIN)
    assert reg.waits == 4
    assert reg.waited_seconds == pytest.approx(2.0 + ARRIVAL_MARGIN)
    assert reg.grants["op"] == 9
    persisted = reg.state("op")
    assert persisted.grants == 9
    assert persisted.waits == 4


def test_speed_multiplies_rate_not_burst(tmp_path: Path) -> None:
    clock = FakeClock()
    reg = BucketRegistry(
        tmp_path, "acct", speed=100.0, limits={"getReports": RateLimit(0.0222, 10)}, clock=clock
    )
    lim = reg.limit("getReports")
    assert lim.rate == pytest.approx(2.22)
    assert lim.burst == 10
    for _ in range(10):
        assert reg.try_acquire("getReports") == 0.0
    assert reg.try_acquire("getReports") == pytest.approx(1 / 2.22)


def test_drain_after_429_empties_the_bucket(tmp_path: Path) -> None:
    clock = FakeClock()
    reg = BucketRegistry(tmp_path, "acct", limits={"op": LIMIT}, clock=clock, sleep=clock.sleep)
    reg.acquire("op")
    reg.drain("op")
    assert reg.state("op").tokens == 0.0
    assert reg.try_acquire("op") == pytest.approx(0.5)
    assert reg.drains["op"] == 1


def test_state_is_shared_between_registries_of_the_same_account(tmp_path: Path) -> None:
    clock = FakeClock()
    a = BucketRegistry(tmp_path, "acct", limits={"op": LIMIT}, clock=clock)
    b = BucketRegistry(tmp_path, "acct", limits={"op": LIMIT}, clock=clock)
    other = BucketRegistry(tmp_path, "other", limits={"op": LIMIT}, clock=clock)
    for _ in range(3):
        assert a.try_acquire("op") == 0.0
    for _ in range(2):
        assert b.try_acquire("op") == 0.0
    assert a.try_acquire("op") > 0  # 5 = burst spent between a and b
    assert other.try_acquire("op") == 0.0  # another seller has its own budget


def test_damaged_state_file_is_treated_as_empty_not_full(tmp_path: Path) -> None:
    clock = FakeClock()
    reg = BucketRegistry(tmp_path, "acct", limits={"op": LIMIT}, clock=clock)
    (reg.dir / "op.json").write_text("{not json")
    assert reg.try_acquire("op") == pytest.approx(0.5)


def test_unknown_operation_and_bad_keys_are_refused(tmp_path: Path) -> None:
    reg = BucketRegistry(tmp_path, "acct")
    with pytest.raises(ValueError, match="no rate limit known for SP-API operation 'nope'"):
        reg.acquire("nope")
    with pytest.raises(ValueError, match="file-name safe"):
        BucketRegistry(tmp_path, "../escape")
    with pytest.raises(ValueError, match="speed"):
        BucketRegistry(tmp_path, "acct", speed=0)


def test_account_key_does_not_contain_the_refresh_token() -> None:
    key = account_key_for("amzn1.application-oa2-client.x", "Atzr|secret-refresh")
    assert "secret" not in key
    assert key == account_key_for("amzn1.application-oa2-client.x", "Atzr|secret-refresh")
    assert key != account_key_for("amzn1.application-oa2-client.x", "Atzr|other")


# ------------------------------------------------------------- two processes, one bucket
SHARED = RateLimit(rate=40.0, burst=6)


def _hammer(state_dir: str, ready: Any, duration: float, out: multiprocessing.Queue) -> None:
    last = [0.0]

    def clock() -> float:
        # The value read under the file lock is the exact grant time.
        last[0] = time.time()
        return last[0]

    reg = BucketRegistry(state_dir, "seller-1", limits={"op": SHARED}, clock=clock)
    ready.wait(timeout=120)  # both workers imported: start hammering together
    start_at = time.time()
    stamps: list[float] = []
    while time.time() < start_at + duration:
        reg.acquire("op")
        stamps.append(last[0])
    out.put(stamps)


def test_two_processes_never_exceed_burst_plus_rate_times_elapsed(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("spawn")
    out: multiprocessing.Queue = ctx.Queue()
    ready = ctx.Barrier(2)
    duration = 0.8
    procs = [
        ctx.Process(target=_hammer, args=(str(tmp_path), ready, duration, out)) for _ in range(2)
    ]
    for p in procs:
        p.start()
    results = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    assert all(results), "both processes must have been granted tokens"
    stamps = sorted(s for r in results for s in r)
    # Every window [t_i, t_j] holds at most burst + rate * (t_j - t_i) grants.
    for i in range(len(stamps)):
        for j in range(i, len(stamps)):
            allowed = SHARED.burst + SHARED.rate * (stamps[j] - stamps[i]) + 1e-6
            assert j - i + 1 <= allowed, (i, j, stamps[j] - stamps[i])
    # ... and the shared bucket is not needlessly strict either.
    elapsed = stamps[-1] - stamps[0]
    assert len(stamps) >= 0.7 * (SHARED.burst + SHARED.rate * elapsed)
