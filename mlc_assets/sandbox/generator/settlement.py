"""One simulated settlement's events: orders, refunds, fees, tax, reserves, ads."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from mlc_assets.sandbox.generator.ids import (
    _FEES,
    _ITEM_PRICE,
    _PROMO_NAMES,
    _TAX,
    _WITHHELD,
    ZERO,
    _digits,
    _money,
    _order_id,
    _Product,
    _q,
    _shipment_id,
)
from mlc_assets.sandbox.ledger import (
    Charge,
    LedgerEvent,
    Marketplace,
)


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
