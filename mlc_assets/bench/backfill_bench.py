"""Backfill benchmark: land N settlement reports from the sandbox under Amazon's rate limits.

The sandbox enforces Amazon's documented usage plans (getReports 0.0222/s burst 10,
getReportDocument 0.0167/s burst 15), multiplied by ``speed`` so the run takes seconds
instead of an hour and a half; every figure below is reported both as measured and scaled
back to Amazon's clock. The connector's own discovery service lands the reports (list once,
one getReportDocument + one download per new report, archive, index); the sandbox's
server-side counters, not the client's, count the calls and the 429s.

The minimum a backfill of N reports needs: one LWA token, ceil(N/100) getReports pages and
N getReportDocument calls each followed by one download. Its minimum wall time is the token
bucket's: the first ``burst`` document calls are free, then one per 1/rate seconds.
A second discovery run afterwards must list once and download nothing.
"""

from __future__ import annotations

import dataclasses
import math
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mlc_assets.clients.spapi import SpapiClient
from mlc_assets.clients.spapi.throttle import RATE_LIMITS
from mlc_assets.sandbox.generator import MARKETPLACES, generate_seller
from mlc_assets.sandbox.ledger import SimulatedSeller
from mlc_assets.sandbox.reports_routes import RETENTION, SETTLEMENT_V2
from mlc_assets.sandbox.stack import SandboxStack
from mlc_assets.services.discovery import discover_settlements
from mlc_assets.storage.archive import RawArchive
from mlc_assets.storage.report_index import ReportIndex

PAGE_SIZE = 100  # getReports pageSize maximum; the client always asks for it
TARGET_WALL_RATIO = 1.1
TOKEN_LIFETIME = 3600.0  # LWA access tokens (expires_in)
TOKEN_REFRESH_MARGIN = 60.0  # the client refreshes this long before expiry (LwaAuth default)


def backfill_seller(settlements: int, *, seed: int = 8, now: datetime) -> SimulatedSeller:
    """A seller with ``settlements`` reports, all still listable (created in the last 90 days).

    Four marketplaces settle every 14 days, so a real account holds ~26 reports in Amazon's
    90-day window; a backfill of 100 is what a seller with ~15 marketplaces (Pan-EU plus
    the Americas) sees. The generated periods are kept; only the report creation times are
    spread over the retention window so the listing returns all of them.
    """
    countries = tuple(MARKETPLACES)
    per_marketplace = math.ceil(settlements / len(countries))
    seller = generate_seller(seed, per_marketplace, marketplaces=countries, now=now)
    chosen = sorted(seller.settlements, key=lambda s: s.report_created)[-settlements:]
    window = RETENTION - timedelta(days=2)
    step = window / max(1, len(chosen))
    oldest = now - window
    spread = [
        dataclasses.replace(s, report_created=oldest + step * i) for i, s in enumerate(chosen)
    ]
    return SimulatedSeller(
        seller_id=seller.seller_id,
        seed=seed,
        marketplaces=seller.marketplaces,
        settlements=spread,
    )


def minimum_calls(reports: int, speed: float) -> dict[str, int]:
    # An access token lives an hour; a backfill longer than that needs another one.
    run = minimum_seconds(reports, speed) * speed
    return {
        "lwa_token": max(1, math.ceil(run / (TOKEN_LIFETIME - TOKEN_REFRESH_MARGIN))),
        "getReports": max(1, math.ceil(reports / PAGE_SIZE)),
        "getReportDocument": reports,
        "download": reports,
    }


def minimum_seconds(reports: int, speed: float) -> float:
    """Token-bucket minimum for the document calls (listing pages fit in their burst)."""
    doc = RATE_LIMITS["getReportDocument"]
    pages = math.ceil(reports / PAGE_SIZE)
    lst = RATE_LIMITS["getReports"]
    return max(
        max(0, reports - doc.burst) / (doc.rate * speed),
        max(0, pages - lst.burst) / (lst.rate * speed),
    )


def _calls(snapshot: dict[str, Any]) -> dict[str, int]:
    requests = snapshot["requests"]
    return {
        "lwa_token": int(snapshot["tokens_issued"]),
        "getReports": int(requests.get("getReports", 0)),
        "getReportDocument": int(requests.get("getReportDocument", 0)),
        "download": int(snapshot["downloads"]),
    }


def _diff(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {k: after[k] - before.get(k, 0) for k in after}


def run_backfill_bench(
    workdir: Path, *, settlements: int = 100, speed: float = 200.0, seed: int = 8
) -> dict[str, Any]:
    now = datetime.now(UTC).replace(microsecond=0)
    seller = backfill_seller(settlements, seed=seed, now=now)
    state = workdir / "backfill-state"
    # A backfill starts from nothing landed; a reused workdir must not count as landed.
    for leftover in (state, workdir / "backfill-raw"):
        shutil.rmtree(leftover, ignore_errors=True)
    archive = RawArchive(workdir / "backfill-raw")
    index = ReportIndex(state / "reports")
    # The client's refresh margin is in real seconds, not scaled by ``speed``; a sandbox
    # token of 3600/speed s would make it refresh after half the lifetime instead of after
    # 59 of 60 minutes. This lifetime puts its refresh where it falls on Amazon's clock.
    refresh_at = (TOKEN_LIFETIME - TOKEN_REFRESH_MARGIN) / speed
    # LwaAuth refreshes min(margin, lifetime / 2) before expiry.
    token_ttl = (
        refresh_at + TOKEN_REFRESH_MARGIN
        if refresh_at >= TOKEN_REFRESH_MARGIN
        else (2 * refresh_at)
    )
    with SandboxStack(seller=seller, speed=speed, now=now, token_ttl=token_ttl) as stack:
        creds = stack.credentials
        endpoints = stack.endpoints
        with SpapiClient(
            client_id=creds["lwa_client_id"],
            client_secret=creds["lwa_client_secret"],
            refresh_token=creds["refresh_token"],
            endpoint=endpoints["spapi"],
            lwa_endpoint=endpoints["lwa"],
            sandbox=True,
            speed=speed,
            state_dir=state,
        ) as client:
            marketplaces = list(seller.marketplaces)
            start = time.perf_counter()
            first = discover_settlements(
                client.reports,
                archive,
                index,
                report_type=SETTLEMENT_V2,
                marketplace_ids=marketplaces,
                cursor=None,
                now=now,
            )
            wall = time.perf_counter() - start
            after_first = stack.counters.snapshot()
            second = discover_settlements(
                client.reports,
                archive,
                index,
                report_type=SETTLEMENT_V2,
                marketplace_ids=marketplaces,
                cursor=first.newest_created,
                now=now,
            )
            after_second = stack.counters.snapshot()
    calls = _calls(after_first)
    rerun = _diff(_calls(after_second), calls)
    minimum = minimum_calls(settlements, speed)
    floor = minimum_seconds(settlements, speed)
    landed = len(first.settlement_ids)
    throttled = int(after_first["throttled_total"])
    return {
        "settlements": settlements,
        "landed": landed,
        "speed": speed,
        "calls": calls,
        "minimum_calls": minimum,
        "calls_per_settlement": round(sum(calls.values()) / settlements, 3),
        "minimum_calls_per_settlement": round(sum(minimum.values()) / settlements, 3),
        "throttled_429": throttled,
        "wall_seconds": round(wall, 3),
        "minimum_seconds": round(floor, 3),
        "wall_vs_minimum": round(wall / floor, 3) if floor else None,
        "wall_seconds_at_amazon_rate": round(wall * speed, 1),
        "minimum_seconds_at_amazon_rate": round(floor * speed, 1),
        "rerun_calls": rerun,
        "rerun_throttled_429": int(after_second["throttled_total"]) - throttled,
        "rerun_downloaded": second.downloaded,
        "rerun_already_known": second.already_known,
        "targets_met": {
            "minimum_calls": calls == minimum and landed == settlements,
            "zero_429": throttled == 0,
            "within_1_1x_of_minimum": landed == settlements
            and (not floor or wall / floor <= TARGET_WALL_RATIO),
            "rerun_downloads_nothing": rerun["getReportDocument"] == 0 and rerun["download"] == 0,
        },
    }
