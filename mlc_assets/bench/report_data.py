"""A settlement report of an exact number of detail lines, for benchmarks.

Built from the sandbox generator (one US settlement scaled up), trimmed to exactly ``lines``
money components — the last event may keep only some of its charges — so the file still
balances: Σ detail amounts == total-amount. The same settlement is rendered in each locale,
so the US and DE files carry the same money in different number/date formats.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import date
from decimal import Decimal
from pathlib import Path

from mlc_assets.sandbox.generator import _PROMO_NAMES, MARKETPLACES, generate_seller
from mlc_assets.sandbox.ledger import SimSettlement
from mlc_assets.sandbox.report_render import render_v2

# Detail lines the generator produces per unit of lines_scale for one settlement (measured:
# ≈114); a little below so one generation always yields enough lines.
_LINES_PER_SCALE = 110
BENCH_START = date(2025, 1, 6)


def settlement_with_lines(lines: int, *, seed: int = 8) -> SimSettlement:
    """One balanced US settlement with exactly ``lines`` detail lines."""
    if lines < 1:
        raise ValueError("lines must be >= 1")
    scale = max(1, math.ceil(lines / _LINES_PER_SCALE))
    while True:
        seller = generate_seller(
            seed, 1, lines_scale=scale, start=BENCH_START, marketplaces=("US",)
        )
        settlement = seller.settlements[0]
        if settlement.line_count >= lines:
            break
        scale *= 2  # pragma: no cover - the estimate above is conservative
    kept = []
    remaining = lines
    for event in settlement.events:
        if remaining <= 0:
            break
        if len(event.charges) > remaining:
            event = dataclasses.replace(event, charges=event.charges[:remaining])
        kept.append(event)
        remaining -= len(event.charges)
    total = sum((e.total for e in kept), Decimal("0.00"))
    return dataclasses.replace(settlement, events=tuple(kept), total=total)


def write_reports(
    lines: int, directory: Path, locales: tuple[str, ...] = ("US", "DE"), *, seed: int = 8
) -> dict[str, Path]:
    """Write one V2 file per locale (reusing files a previous run left in ``directory``)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {loc: directory / f"settlement-v2-{loc}-{lines}-s{seed}.txt" for loc in locales}
    missing = [loc for loc, p in paths.items() if not p.exists()]
    if missing:
        settlement = settlement_with_lines(lines, seed=seed)
        for loc in missing:
            tmp = paths[loc].with_suffix(".tmp")
            tmp.write_bytes(render_v2(as_marketplace(settlement, loc), loc))
            tmp.replace(paths[loc])
    return paths


def as_marketplace(settlement: SimSettlement, country: str) -> SimSettlement:
    """The same money as if it were settled on another marketplace (name and currency)."""
    mp = MARKETPLACES[country]
    if mp.marketplace_id == settlement.marketplace_id:
        return settlement
    # Promotion names in the marketplace's language: a DE file then carries non-ASCII
    # text ("für") as real ones do, so its ISO-8859-1 decode is part of what is measured.
    here = _PROMO_NAMES[_country_of(settlement.marketplace_id)]
    there = _PROMO_NAMES[country]
    events = tuple(
        dataclasses.replace(
            e,
            marketplace_id=mp.marketplace_id,
            marketplace_name=mp.name,
            promotion_id=e.promotion_id.replace(here, there),
        )
        for e in settlement.events
    )
    return dataclasses.replace(
        settlement,
        events=events,
        marketplace_id=mp.marketplace_id,
        currency=mp.currency,
        listed_under=(mp.marketplace_id,),
    )


def _country_of(marketplace_id: str) -> str:
    return next(c for c, m in MARKETPLACES.items() if m.marketplace_id == marketplace_id)
