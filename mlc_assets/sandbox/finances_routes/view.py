"""What the Finances sandbox shows of the simulated ledger, with the distortions a test can arm."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from mlc_assets.sandbox.ledger import Charge, LedgerEvent, SimSettlement
from mlc_assets.sandbox.spapi_app import SpApiContext

STATE_KEY = "finances"
DISTORTIONS = frozenset({"drop_page", "extra_event", "change_amount", "late_event", "no_group"})
MAX_WINDOW = timedelta(days=180)
MIN_AGE = timedelta(minutes=2)
LATE_BY = timedelta(days=3)

# v0 ShipmentEvent lists that hang off the item vs the event (others are not generated).
_ITEM_CHARGE_LISTS = {"ItemChargeList", "ItemChargeAdjustmentList"}
_ITEM_FEE_LISTS = {"ItemFeeList", "ItemFeeAdjustmentList"}
_ITEM_PROMO_LISTS = {"PromotionList", "PromotionAdjustmentList"}
_EVENT_FEE_LISTS = {"ShipmentFeeList", "ShipmentFeeAdjustmentList", "OrderFeeList"}
_SHIPMENT_LIKE = {
    "ShipmentEventList",
    "RefundEventList",
    "GuaranteeClaimEventList",
    "ChargebackEventList",
    "ShipmentSettleEventList",
}
_ADJUSTMENT_LIKE = {"RefundEventList", "GuaranteeClaimEventList", "ChargebackEventList"}
# v0 list → 2024-06-19 breakdown parent (the connector's flattener knows the inverse).
BREAKDOWN_PARENT = {
    "ItemChargeList": "ProductCharges",
    "ItemChargeAdjustmentList": "ProductCharges",
    "ItemFeeList": "AmazonFees",
    "ItemFeeAdjustmentList": "AmazonFees",
    "ShipmentFeeList": "ShipmentFees",
    "ShipmentFeeAdjustmentList": "ShipmentFees",
    "OrderFeeList": "OrderFees",
    "PromotionList": "PromotionDiscounts",
    "PromotionAdjustmentList": "PromotionDiscounts",
    "ItemTaxWithheldList": "TaxWithheld",
    "FeeList": "ServiceFees",
    "AdjustmentAmount": "Adjustments",
    "transactionValue": "AdvertisingCharges",
}
_DESCRIPTIONS = {"ShipmentEventList": "Order Payment", "RefundEventList": "Refund Order"}


@dataclass
class FinancesSandboxState:
    """Per-seller Finances switches; lives in ``ctx.extras["finances"]``."""

    v0_events_enabled: bool = True
    v0_page_cap: int = 100  # Amazon's maximum MaxResultsPerPage
    transactions_page_size: int = 500
    distortions: dict[str, set[str]] = field(default_factory=dict)
    _views: dict[str, _View] = field(default_factory=dict, repr=False)

    def distort(self, settlement_id: str, *names: str) -> None:
        unknown = set(names) - DISTORTIONS
        if unknown:
            raise ValueError(f"unknown distortions {sorted(unknown)}; known {sorted(DISTORTIONS)}")
        self.distortions.setdefault(settlement_id, set()).update(names)
        self._views.pop(settlement_id, None)

    def clear(self) -> None:
        self.distortions.clear()
        self._views.clear()

    def snapshot(self) -> dict[str, Any]:
        return {
            "v0_events_enabled": self.v0_events_enabled,
            "v0_page_cap": self.v0_page_cap,
            "transactions_page_size": self.transactions_page_size,
            "distortions": {k: sorted(v) for k, v in self.distortions.items()},
        }


def finances_state(ctx: SpApiContext) -> FinancesSandboxState:
    state = ctx.extras.get(STATE_KEY)
    if state is None:
        state = ctx.extras[STATE_KEY] = FinancesSandboxState()
    return state  # type: ignore[no-any-return]


# ---------------------------------------------------------------- view of the ledger


@dataclass(frozen=True)
class ViewEvent:
    """A ledger event as the Finances API shows it (possibly distorted)."""

    event: LedgerEvent
    posted: datetime
    charges: tuple[Charge, ...]
    late: bool = False
    synthetic: bool = False  # not in the ledger (extra_event distortion)

    @property
    def total(self) -> Decimal:
        return sum((c.amount for c in self.charges), Decimal("0.00"))


@dataclass(frozen=True)
class _View:
    settlement: SimSettlement
    events: tuple[ViewEvent, ...]
    dropped_page: int | None  # which v0/2024 page index is skipped (drop_page)


def _build_view(s: SimSettlement, distortions: set[str]) -> _View:
    events = [ViewEvent(e, e.posted, e.charges) for e in s.events]
    if "change_amount" in distortions:
        for i, v in enumerate(events):
            for j, c in enumerate(v.charges):
                if c.finance_type == "Principal" and c.amount > 0:
                    changed = replace(c, amount=c.amount + Decimal("1.00"))
                    events[i] = replace(v, charges=(*v.charges[:j], changed, *v.charges[j + 1 :]))
                    break
            else:
                continue
            break
    if "late_event" in distortions:
        # The last order event is posted after the group closed but still belongs to it.
        for i in range(len(events) - 1, -1, -1):
            if events[i].event.v0_event_list == "ShipmentEventList":
                events[i] = replace(events[i], posted=s.end + LATE_BY, late=True)
                break
    if "extra_event" in distortions:
        extra = LedgerEvent(
            event_id=f"{s.settlement_id}-extra",
            family="service_fee",
            report_transaction_type="other-transaction",
            v0_event_list="ServiceFeeEventList",
            posted=s.start + (s.end - s.start) / 2,
            marketplace_id=s.marketplace_id,
            marketplace_name=events[0].event.marketplace_name if events else "",
            description="FBA Long-Term Storage Fee",
            charges=(
                Charge(
                    "other-transaction",
                    "StorageRenewalBilling",
                    "FeeList",
                    "FBALongTermStorageFee",
                    Decimal("-9.99"),
                ),
            ),
        )
        events.append(ViewEvent(extra, extra.posted, extra.charges, synthetic=True))
    events.sort(key=lambda v: (v.posted, v.event.event_id))
    return _View(s, tuple(events), 1 if "drop_page" in distortions else None)


def _view(state: FinancesSandboxState, s: SimSettlement) -> _View:
    view = state._views.get(s.settlement_id)
    if view is None:
        view = state._views[s.settlement_id] = _build_view(
            s, state.distortions.get(s.settlement_id, set())
        )
    return view
