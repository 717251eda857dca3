"""Which Deltek accounting period a transaction goes to, and what a closed period means.

Pure decisions over the tenant's period list (read by the client), so the policy is one
function a test can read [3P: period-by-date; INF: the next-open policy].
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Literal

from mlc_assets.clients.deltek.errors import DeltekClosedPeriodError, DeltekPeriodNotFoundError
from mlc_assets.clients.deltek.models import AccountingPeriod

log = logging.getLogger(__name__)

PeriodPolicy = Literal["fail", "next_open"]


def period_for_day(
    periods: list[AccountingPeriod], day: date, policy: PeriodPolicy
) -> AccountingPeriod:
    """The period a transaction dated ``day`` goes to. A closed period is refused
    (``DeltekClosedPeriodError`` names it) unless ``policy="next_open"``, which moves to the
    first open period after it."""
    match = next((p for p in periods if p.contains(day)), None)
    if match is None:
        raise DeltekPeriodNotFoundError(
            f"no Deltek accounting period covers {day.isoformat()} "
            f"(periods known: {periods[0].period if periods else '-'}.."
            f"{periods[-1].period if periods else '-'})"
        )
    if not match.closed:
        return match
    if policy != "next_open":
        raise DeltekClosedPeriodError(match.period)
    nxt = next((p for p in periods if p.start > match.start and not p.closed), None)
    if nxt is None:
        raise DeltekPeriodNotFoundError(
            f"Deltek period {match.period} is closed and no open period follows it"
        )
    log.info("Deltek period %s is closed; using next open period %s", match.period, nxt.period)
    return nxt


def open_period(periods: list[AccountingPeriod], period: int) -> int:
    """``period`` if the tenant has it and it is open."""
    known = {p.period: p for p in periods}
    p = known.get(period)
    if p is None:
        raise DeltekPeriodNotFoundError(f"Deltek accounting period {period} is not set up")
    if p.closed:
        raise DeltekClosedPeriodError(period)
    return period
