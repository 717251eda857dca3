"""The deterministic simulated seller: settlements in a row per marketplace, from one seed."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from mlc_assets.sandbox.generator.ids import (
    _SUBSCRIPTION,
    DEFAULT_MARKETPLACES,
    DEPOSIT_LAG,
    MARKETPLACES,
    SETTLEMENT_DAYS,
    ZERO,
    _digits,
    _document_id,
    _group_id,
    _money,
    _Product,
    _q,
)
from mlc_assets.sandbox.generator.settlement import _SettlementBuilder
from mlc_assets.sandbox.ledger import (
    LedgerEvent,
    SimSettlement,
    SimulatedSeller,
)


def _products(rng: random.Random, currency: str) -> list[_Product]:
    out = []
    for i in range(12):
        price = _money(rng, "7.99", "89.99")
        price = price.to_integral_value() - Decimal("0.01") if rng.random() < 0.6 else price
        out.append(
            _Product(
                sku=f"MLC-{currency[:2]}-{i + 1:03d}-{_digits(rng, 4)}",
                price=max(price, Decimal("4.99")),
                fba_fee=-_money(rng, "3.22", "7.50"),
            )
        )
    return out


def _default_start(now: datetime, settlements: int, offset_days: int, days: int) -> datetime:
    today = datetime.combine(now.astimezone(UTC).date(), time(0), tzinfo=UTC)
    last_end = today - timedelta(days=3 + offset_days)
    return last_end - timedelta(days=days * settlements)


def generate_seller(
    seed: int,
    settlements: int = 6,
    *,
    start: date | None = None,
    lines_scale: int = 1,
    now: datetime | None = None,
    marketplaces: Sequence[str] = DEFAULT_MARKETPLACES,
    settlement_days: int = SETTLEMENT_DAYS,
) -> SimulatedSeller:
    """Build a seller with ``settlements`` consecutive settlements per marketplace.

    With ``settlements >= 6`` (and US+DE present) there is always an exactly-zero settlement
    (US, whole balance held as reserve), a negative one (DE, advertising exceeds sales) and
    one settlement listed under two marketplaces (DE, also listed under UK or US).

    ``settlement_days`` is the period length: 14 is Amazon's standard cycle; a seller who
    requests disbursements more often closes shorter periods, which is how many settlements
    fit in Amazon's 90-day report retention.
    """
    if settlements < 1:
        raise ValueError("settlements must be >= 1")
    if lines_scale < 1:
        raise ValueError("lines_scale must be >= 1")
    if not 1 <= settlement_days <= 31:
        raise ValueError("settlement_days must be between 1 and 31")
    now = now or datetime.now(UTC)
    master = random.Random(f"mlc-seller:{seed}")
    seller_id = "A" + "".join(
        master.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") for _ in range(13)
    )
    mps = {MARKETPLACES[c].marketplace_id: MARKETPLACES[c] for c in marketplaces}
    used_ids: set[str] = set()
    result: list[SimSettlement] = []
    account_tail = _digits(master, 3)
    for mp_index, country in enumerate(marketplaces):
        mp = MARKETPLACES[country]
        rng = random.Random(f"mlc-seller:{seed}:{country}")
        products = _products(rng, mp.currency)
        if start is not None:
            first = datetime.combine(start, time(0), tzinfo=UTC)
        else:
            first = _default_start(now, settlements, mp_index % 3, settlement_days)
        first += timedelta(seconds=rng.randint(3600, 20 * 3600))  # real periods start mid-day
        held = _q(_money(rng, "50", "400"))  # reserve carried in from before the window
        recent_orders: list[LedgerEvent] = []
        for index in range(settlements):
            settlement_id = _digits(rng, 11)
            while settlement_id in used_ids:
                settlement_id = _digits(rng, 11)
            used_ids.add(settlement_id)
            s_start = first + timedelta(days=settlement_days * index)
            s_end = s_start + timedelta(days=settlement_days)
            b = _SettlementBuilder(rng, mp, settlement_id, s_start, s_end)
            make_zero = country == "US" and settlements >= 6 and index == 3
            make_negative = country == "DE" and settlements >= 6 and index == 4
            n_orders = (rng.randint(3, 5) if make_negative else rng.randint(10, 28)) * lines_scale
            promo_serial = _digits(rng, 7)
            orders = [b.order(rng.choice(products), promo_serial)[0] for _ in range(n_orders)]
            pool = recent_orders + orders
            for _ in range(min(len(pool), rng.randint(1, 4) * lines_scale)):
                b.refund(rng.choice(pool))
            recent_orders = orders[-50:]
            b.service_fee("Subscription Fee", "Subscription", _SUBSCRIPTION[mp.currency])
            if index % 2 == 0:
                b.service_fee("Storage Fee", "FBAStorageFee", -_money(rng, "5", "60"))
            for _ in range(rng.randint(1, 2)):
                b.advertising(-_money(rng, "15", "120"))
            for _ in range(rng.randint(0, 2)):
                b.reimbursement(rng.choice(products))
            if held:
                b.reserve("Previous Reserve Amount Balance", held)
            subtotal = b.subtotal()
            if make_negative:
                target = _money(rng, "40", "250")
                extra = -(subtotal + target)
                if extra < 0:
                    b.advertising(extra)
                held = ZERO
            elif make_zero:
                if subtotal <= 0:  # need a positive balance to hold all of it
                    b.reimbursement(products[0])
                    subtotal = b.subtotal()
                    if subtotal <= 0:
                        raise AssertionError("cannot build a zero settlement")  # pragma: no cover
                held = subtotal
                b.reserve("Current Reserve Amount", -held)
            elif subtotal > 0:
                held = _q(subtotal * Decimal(rng.randint(5, 20)) / 100)
                if held:
                    b.reserve("Current Reserve Amount", -held)
            else:
                held = ZERO
            events = tuple(sorted(b.events, key=lambda e: (e.posted, e.event_id)))
            total = sum((e.total for e in events), ZERO)
            listed = (mp.marketplace_id,)
            if country == "DE" and index == 1:
                other = "UK" if "UK" in marketplaces else "US"
                if other in marketplaces:
                    listed = (mp.marketplace_id, MARKETPLACES[other].marketplace_id)
            report_created = s_end + timedelta(hours=rng.randint(2, 20), minutes=rng.randint(0, 59))
            result.append(
                SimSettlement(
                    settlement_id=settlement_id,
                    group_id=_group_id(seed, settlement_id),
                    marketplace_id=mp.marketplace_id,
                    currency=mp.currency,
                    start=s_start,
                    end=s_end,
                    deposit_date=s_end + DEPOSIT_LAG,
                    events=events,
                    total=total,
                    listed_under=listed,
                    report_id=_digits(rng, 11),
                    report_document_id=_document_id(seed, settlement_id, mp.region),
                    report_created=report_created,
                    fund_transfer_status="Succeeded",
                    trace_id=_digits(rng, 15) if total else "",
                    account_tail=account_tail,
                )
            )
    result.sort(key=lambda s: (s.report_created, s.settlement_id))
    return SimulatedSeller(seller_id=seller_id, seed=seed, marketplaces=mps, settlements=result)
