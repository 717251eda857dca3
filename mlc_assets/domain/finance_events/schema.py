"""The canonical finance line and what the flattener knows of Amazon's event lists."""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Protocol

import polars as pl

from mlc_assets.domain.errors import MlcError
from mlc_assets.domain.money import MONEY_DTYPE

FINANCE_LINE_SCHEMA: dict[str, pl.DataType] = {
    "settlement_id": pl.Utf8(),
    "group_id": pl.Utf8(),
    "api": pl.Utf8(),  # "v0" | "2024-06-19"
    "event_family": pl.Utf8(),
    "charge_list": pl.Utf8(),
    "charge_type": pl.Utf8(),
    "order_id": pl.Utf8(),
    "posted_date": pl.Datetime("us", "UTC"),
    "amount": MONEY_DTYPE,
    "currency": pl.Utf8(),
    "marketplace": pl.Utf8(),
    "source_page": pl.Utf8(),  # sha256 of the raw page (or its index when no digest)
    "event_ref": pl.Utf8(),  # "<list>[i]" (v0) or the transactionId (2024-06-19)
}

# The 34 lists of the v0 model snapshot (docs/reference/amazon/NOTES.md §3). Anything else is
# reported as unknown.
KNOWN_V0_EVENT_LISTS: tuple[str, ...] = (
    "ShipmentEventList",
    "ShipmentSettleEventList",
    "RefundEventList",
    "GuaranteeClaimEventList",
    "ChargebackEventList",
    "EBTRefundReimbursementOnlyEventList",
    "PayWithAmazonEventList",
    "ServiceProviderCreditEventList",
    "RetrochargeEventList",
    "RentalTransactionEventList",
    "ProductAdsPaymentEventList",
    "ServiceFeeEventList",
    "SellerDealPaymentEventList",
    "DebtRecoveryEventList",
    "LoanServicingEventList",
    "AdjustmentEventList",
    "SAFETReimbursementEventList",
    "SellerReviewEnrollmentPaymentEventList",
    "FBALiquidationEventList",
    "CouponPaymentEventList",
    "ImagingServicesFeeEventList",
    "NetworkComminglingTransactionEventList",
    "AffordabilityExpenseEventList",
    "AffordabilityExpenseReversalEventList",
    "RemovalShipmentEventList",
    "RemovalShipmentAdjustmentEventList",
    "TrialShipmentEventList",
    "TDSReimbursementEventList",
    "AdhocDisbursementEventList",
    "TaxWithholdingEventList",
    "ChargeRefundEventList",
    "FailedAdhocDisbursementEventList",
    "ValueAddedServiceChargeEventList",
    "CapacityReservationBillingEventList",
)
_KNOWN_FOLDED = {name.casefold() for name in KNOWN_V0_EVENT_LISTS}

# Lists sharing the ShipmentEvent type.
SHIPMENT_LIKE = frozenset(
    {
        "ShipmentEventList",
        "ShipmentSettleEventList",
        "RefundEventList",
        "GuaranteeClaimEventList",
        "ChargebackEventList",
    }
)
_ORDER_LEVEL_LISTS = (
    "OrderChargeList",
    "OrderChargeAdjustmentList",
    "ShipmentFeeList",
    "ShipmentFeeAdjustmentList",
    "OrderFeeList",
    "OrderFeeAdjustmentList",
    "DirectPaymentList",
)
_ITEM_LISTS = (
    "ItemChargeList",
    "ItemChargeAdjustmentList",
    "ItemFeeList",
    "ItemFeeAdjustmentList",
    "ItemTaxWithheldList",
    "PromotionList",
    "PromotionAdjustmentList",
)
# Point costs are charged to the seller in JP; each is a single Currency on the item.
_ITEM_SINGLE_AMOUNTS = ("CostOfPointsGranted", "CostOfPointsReturned")
# Component shapes: (type field, amount field).
_COMPONENT_FIELDS = (
    ("ChargeType", "ChargeAmount"),
    ("FeeType", "FeeAmount"),
    ("PromotionType", "PromotionAmount"),
    ("DirectPaymentType", "DirectPaymentAmount"),
)
# Families whose v0 shape puts item money in the *Adjustment* lists.
_ADJUSTMENT_FAMILIES = frozenset({"Refund", "GuaranteeClaim", "Chargeback"})

# 2024-06-19 does not enumerate breakdownType. These parent names (the ones the sandbox
# emits, inferred from public responses) are translated to the v0 list holding the same
# money, so one GL mapping serves both APIs. (plain list, adjustment-family list)
BREAKDOWN_LIST_ALIASES: dict[str, tuple[str, str]] = {
    "ProductCharges": ("ItemChargeList", "ItemChargeAdjustmentList"),
    "AmazonFees": ("ItemFeeList", "ItemFeeAdjustmentList"),
    "ShipmentFees": ("ShipmentFeeList", "ShipmentFeeAdjustmentList"),
    "OrderFees": ("OrderFeeList", "OrderFeeAdjustmentList"),
    "PromotionDiscounts": ("PromotionList", "PromotionAdjustmentList"),
    "TaxWithheld": ("ItemTaxWithheldList", "ItemTaxWithheldList"),
    "ServiceFees": ("FeeList", "FeeList"),
    "Adjustments": ("AdjustmentAmount", "AdjustmentAmount"),
    "AdvertisingCharges": ("transactionValue", "transactionValue"),
}


# DECIMAL(18,2): sixteen integer digits.
_MONEY_LIMIT = Decimal(10) ** 16
_CURRENCY_CODE = re.compile(r"[A-Z]{3}")
# Nesting deeper than this is not a Finances payload (breakdowns nest 2-3 levels).
_MAX_DEPTH = 16

# Fields a known shape deliberately leaves unread because they repeat money read elsewhere.
_REPEATED_MONEY = {
    "AdjustmentEventList": frozenset({"adjustmentitemlist"}),
    "ProductAdsPaymentEventList": frozenset({"basevalue", "taxvalue"}),
    "SellerDealPaymentEventList": frozenset({"feeamount", "taxamount"}),
}


class FinanceEventError(MlcError):
    """A Finances page that cannot be flattened; names the page and the event."""

    def __init__(self, message: str, *, page: str, ref: str | None = None) -> None:
        self.page = page
        self.ref = ref
        self.reason = message
        where = f"page {page}" + (f", {ref}" if ref else "")
        super().__init__(f"{where}: {message}")


class PageLike(Protocol):
    """What the flatteners need from a fetched page (the client's FinancePage fits)."""

    @property
    def parsed(self) -> Mapping[str, Any]: ...

    @property
    def sha256(self) -> str: ...
