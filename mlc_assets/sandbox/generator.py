"""Deterministic generator of a simulated Amazon seller.

Determinism contract: identifiers, amounts, line composition and ordering depend only on
``seed`` (and ``settlements``/``lines_scale``/``marketplaces``). Dates depend on ``start``
when given; otherwise they are anchored to ``now`` floored to the UTC day, so that the
newest settlement ended a few days ago and every report was created within the last 90
days — which is what a real account looks like whenever the demo is started. Hence the
same seed gives byte-identical reports for the same ``start`` (or the same UTC day).

Report-side (transaction-type, amount-type, amount-description) triples are the real ones
seen in V2 settlement files (see docs/reference/amazon/NOTES.md §6); every component
also carries its Finances v0 naming so the Finances sandbox can render the same money.
"""

from __future__ import annotations

import base64
import hashlib
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from mlc_assets.sandbox.ledger import (
    Charge,
    LedgerEvent,
    Marketplace,
    SimSettlement,
    SimulatedSeller,
)

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
SETTLEMENT_DAYS = 14
DEPOSIT_LAG = timedelta(days=2)

MARKETPLACES: dict[str, Marketplace] = {
    "US": Marketplace("ATVPDKIKX0DER", "Amazon.com", "US", "USD", "na", "US"),
    "DE": Marketplace("A1PA6795UKMFR9", "Amazon.de", "DE", "EUR", "eu", "DE"),
    "UK": Marketplace("A1F83G8C2ARO7P", "Amazon.co.uk", "UK", "GBP", "eu", "UK"),
    "FR": Marketplace("A13V1IB3VIYZZH", "Amazon.fr", "FR", "EUR", "eu", "FR"),
}
DEFAULT_MARKETPLACES = ("US", "DE", "UK")

# Order-id prefixes as they appear on each marketplace (3-7-7 digits).
_ORDER_PREFIX = {"US": ("111", "112", "113", "114"), "DE": ("302", "303", "304", "305")}
_ORDER_PREFIX["UK"] = ("202", "203", "204", "026")
_ORDER_PREFIX["FR"] = ("402", "403", "404", "171")

_TAX = {  # (rate range, facilitator collects?) per country
    "US": (Decimal("0.0625"), Decimal("0.0950")),
    "DE": (Decimal("0.19"), Decimal("0.19")),
    "UK": (Decimal("0.20"), Decimal("0.20")),
    "FR": (Decimal("0.20"), Decimal("0.20")),
}
_PROMO_NAMES = {
    "US": "Core Free Shipping Promotion",
    "DE": "Versandkostenfrei für Prime",  # non-ASCII on purpose: DE files are ISO-8859-1
    "UK": "Free Delivery Promotion",
    "FR": "Livraison gratuite à partir",
}
_SUBSCRIPTION = {"USD": Decimal("-39.99"), "EUR": Decimal("-39.00"), "GBP": Decimal("-25.00")}

# Report-side triple → Finances v0 (list, type) for order/refund components.
_ITEM_PRICE = "ItemPrice"
_FEES = "ItemFees"
_WITHHELD = "ItemWithheldTax"


def _q(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_EVEN)


def _money(rng: random.Random, low: str, high: str) -> Decimal:
    lo, hi = int(Decimal(low) * 100), int(Decimal(high) * 100)
    return Decimal(rng.randint(lo, hi)).scaleb(-2)


@dataclass(frozen=True)
class _Product:
    sku: str
    price: Decimal
    fba_fee: Decimal  # negative, per unit


def _digits(rng: random.Random, n: int) -> str:
    return str(rng.randint(10 ** (n - 1), 10**n - 1))


def _order_id(rng: random.Random, country: str) -> str:
    return f"{rng.choice(_ORDER_PREFIX[country])}-{_digits(rng, 7)}-{_digits(rng, 7)}"


def _shipment_id(rng: random.Random) -> str:
    alphabet = "BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789"
    return "D" + "".join(rng.choice(alphabet) for _ in range(8))


def _group_id(seed: int, settlement_id: str) -> str:
    digest = hashlib.sha256(f"group:{seed}:{settlement_id}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")  # 43 chars


def _document_id(seed: int, settlement_id: str, region: str) -> str:
    digest = hashlib.sha256(f"doc:{seed}:{settlement_id}".encode()).digest()
    doc_uuid = uuid.UUID(bytes=digest[:16])
    return f"amzn1.spdoc.1.4.{region}.{doc_uuid}.T{digest[16:20].hex().upper()}.{digest[20]:03d}"


class _SettlementBuilder:
    """Builds the events of one settlement; keeps the event counter and id RNG together."""

    def __init__(
        self,
        rng: random.Random,
        mp: Marketplace,
        settlement_id: str,
        start: datetime,
        end: datetime,
    ) -> None:
        self.rng = rng
        self.mp = mp
        self.settlement_id = settlement_id
        self.start = start
        self.end = end
        self.events: list[LedgerEvent] = []
        self._n = 0

    def _posted(self) -> datetime:
        span = int((self.end - self.start).total_seconds()) - 3600
        return self.start + timedelta(seconds=self.rng.randint(60, max(span, 61)))

    def _next_id(self) -> str:
        self._n += 1
        return f"{self.settlement_id}-{self._n:06d}"

    def add(self, **kwargs: object) -> LedgerEvent:
        event = LedgerEvent(
            event_id=self._next_id(),
            marketplace_id=self.mp.marketplace_id,
            marketplace_name=self.mp.name,
            **kwargs,  # type: ignore[arg-type]
        )
        self.events.append(event)
        return event

    # -- orders and refunds -------------------------------------------------------------

    def order(self, product: _Product, promo_serial: str) -> tuple[LedgerEvent, Decimal, Decimal]:
        rng, country = self.rng, self.mp.country
        qty = rng.choice((1, 1, 1, 1, 2, 2, 3))
        principal = _q(product.price * qty)
        afn = rng.random() < 0.8
        low, high = _TAX[country]
        rate = low if low == high else _money(rng, str(low * 100), str(high * 100)).scaleb(-2)
        tax = _q(principal * rate)
        shipping = _money(rng, "2.99", "6.99") if rng.random() < 0.45 else ZERO
        ship_tax = _q(shipping * rate) if shipping else ZERO
        charges: list[Charge] = [
            Charge(_ITEM_PRICE, "Principal", "ItemChargeList", "Principal", principal),
            Charge(_ITEM_PRICE, "Tax", "ItemChargeList", "Tax", tax),
        ]
        if shipping:
            charges.append(
                Charge(_ITEM_PRICE, "Shipping", "ItemChargeList", "ShippingCharge", shipping)
            )
            charges.append(
                Charge(_ITEM_PRICE, "ShippingTax", "ItemChargeList", "ShippingTax", ship_tax)
            )
        # Who remits the tax: in the US Amazon always does (marketplace facilitator laws);
        # in Europe only for deemed-supplier sales, so only some orders carry the pair.
        withheld = country == "US" or rng.random() < 0.15
        kind = "MarketplaceFacilitatorTax" if country == "US" else "MarketplaceFacilitatorVAT"
        if withheld:
            charges.append(
                Charge(
                    _WITHHELD, f"{kind}-Principal", "ItemTaxWithheldList", f"{kind}-Principal", -tax
                )
            )
            if ship_tax:
                charges.append(
                    Charge(
                        _WITHHELD,
                        f"{kind}-Shipping",
                        "ItemTaxWithheldList",
                        f"{kind}-Shipping",
                        -ship_tax,
                    )
                )
        promotion_id = ""
        if shipping and rng.random() < 0.5:
            promotion_id = f"{_PROMO_NAMES[country]} {promo_serial}"
            charges.append(
                Charge(
                    "Promotion",
                    "Shipping",
                    "PromotionList",
                    "PromotionMetaDataDefinitionValue",
                    -shipping,
                )
            )
        commission = -_q((principal + shipping) * Decimal("0.15"))
        charges.append(Charge(_FEES, "Commission", "ItemFeeList", "Commission", commission))
        if afn:
            fba = _q(product.fba_fee * qty)
            charges.append(
                Charge(
                    _FEES,
                    "FBAPerUnitFulfillmentFee",
                    "ItemFeeList",
                    "FBAPerUnitFulfillmentFee",
                    fba,
                )
            )
            if shipping:
                charges.append(
                    Charge(
                        _FEES, "ShippingChargeback", "ItemFeeList", "ShippingChargeback", -shipping
                    )
                )
        order_id = _order_id(rng, country)
        event = self.add(
            family="order",
            report_transaction_type="Order",
            v0_event_list="ShipmentEventList",
            posted=self._posted(),
            order_id=order_id,
            merchant_order_id="" if afn else f"SO-{_digits(rng, 6)}",
            shipment_id=_shipment_id(rng),
            sku=product.sku,
            quantity=qty,
            order_item_code=_digits(rng, 14),
            fulfillment_id="AFN" if afn else "MFN",
            promotion_id=promotion_id,
            charges=tuple(charges),
        )
        return event, principal, tax

    def refund(self, order: LedgerEvent) -> LedgerEvent:
        """A full or partial refund of an earlier order (possibly from an earlier period)."""
        rng = self.rng
        by_type = {(c.report_amount_type, c.report_amount_description): c for c in order.charges}
        share = Decimal(1) if rng.random() < 0.7 else Decimal("0.5")
        principal = _q(by_type[(_ITEM_PRICE, "Principal")].amount * share)
        tax = _q(by_type[(_ITEM_PRICE, "Tax")].amount * share)
        commission = by_type[(_FEES, "Commission")].amount
        returned_commission = _q(-commission * share)
        # Amazon keeps a refund administration fee: 20% of the commission, max 5.00.
        admin_fee = -min(_q(returned_commission * Decimal("0.20")), Decimal("5.00"))
        charges = [
            Charge(_ITEM_PRICE, "Principal", "ItemChargeAdjustmentList", "Principal", -principal),
            Charge(_ITEM_PRICE, "Tax", "ItemChargeAdjustmentList", "Tax", -tax),
        ]
        for desc in ("MarketplaceFacilitatorTax-Principal", "MarketplaceFacilitatorVAT-Principal"):
            if (_WITHHELD, desc) in by_type:
                charges.append(Charge(_WITHHELD, desc, "ItemTaxWithheldList", desc, tax))
        charges.append(
            Charge(_FEES, "Commission", "ItemFeeAdjustmentList", "Commission", returned_commission)
        )
        charges.append(
            Charge(
                _FEES, "RefundCommission", "ItemFeeAdjustmentList", "RefundCommission", admin_fee
            )
        )
        return self.add(
            family="refund",
            report_transaction_type="Refund",
            v0_event_list="RefundEventList",
            posted=self._posted(),
            order_id=order.order_id,
            merchant_order_id=order.merchant_order_id,
            adjustment_id=_digits(rng, 14),
            sku=order.sku,
            quantity=order.quantity,
            order_item_code=order.order_item_code,
            merchant_adjustment_item_id="",
            fulfillment_id=order.fulfillment_id,
            charges=tuple(charges),
        )

    # -- account-level events -----------------------------------------------------------

    def service_fee(self, description: str, fee_type: str, amount: Decimal) -> LedgerEvent:
        return self.add(
            family="service_fee",
            report_transaction_type="other-transaction",
            v0_event_list="ServiceFeeEventList",
            posted=self._posted(),
            description=description,
            charges=(Charge("other-transaction", description, "FeeList", fee_type, amount),),
        )

    def advertising(self, amount: Decimal) -> LedgerEvent:
        return self.add(
            family="product_ads",
            report_transaction_type="ServiceFee",
            v0_event_list="ProductAdsPaymentEventList",
            posted=self._posted(),
            invoice_id=f"{self.mp.country}{_digits(self.rng, 10)}",
            description="Cost of Advertising",
            charges=(
                Charge(
                    "Cost of Advertising",
                    "TransactionTotalAmount",
                    "transactionValue",
                    "charge",
                    amount,
                ),
            ),
        )

    def reimbursement(self, product: _Product) -> LedgerEvent:
        rng = self.rng
        qty = rng.randint(1, 3)
        reversal = rng.random() < 0.2
        amount = _q(product.price * Decimal("0.55") * qty)
        desc = "REVERSAL_REIMBURSEMENT" if reversal else "WAREHOUSE_DAMAGE"
        return self.add(
            family="reimbursement",
            report_transaction_type="other-transaction",
            v0_event_list="AdjustmentEventList",
            posted=self._posted(),
            order_id=_digits(rng, 10) if not reversal else "",
            sku=product.sku,
            quantity=qty,
            description=desc,
            charges=(
                Charge(
                    "FBA Inventory Reimbursement",
                    desc,
                    "AdjustmentAmount",
                    "FBAInventoryReimbursement",
                    -amount if reversal else amount,
                ),
            ),
        )

    def reserve(self, description: str, amount: Decimal) -> LedgerEvent:
        # Reserve movements are booked when the period closes, i.e. at its end.
        return self.add(
            family="reserve",
            report_transaction_type="other-transaction",
            v0_event_list="AdjustmentEventList",
            posted=self.end - timedelta(seconds=1),
            description=description,
            charges=(
                Charge(
                    "other-transaction", description, "AdjustmentAmount", "ReserveEvent", amount
                ),
            ),
        )

    def subtotal(self) -> Decimal:
        return sum((e.total for e in self.events), ZERO)


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
