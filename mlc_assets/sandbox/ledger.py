"""The simulated seller's ledger: one set of money facts that both sandbox views render.

A settlement report (flat file) and the Finances API events describe the same underlying
money. Keeping one ledger, where every component carries both its report-side names
(transaction-type / amount-type / amount-description) and its Finances v0 names (event list,
component list, ChargeType/FeeType/...), is what makes reconciliation in the connector
meaningful: the two sandbox views cannot drift apart.

Sign convention everywhere: money to the seller is positive, deductions are negative.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Marketplace:
    """A marketplace the simulated seller sells on, with its report locale."""

    marketplace_id: str
    name: str  # marketplace-name in reports / MarketplaceName in Finances, e.g. "Amazon.com"
    country: str  # "US", "DE", "UK", ...
    currency: str
    region: str  # "na" | "eu" | "fe"
    locale: str  # report rendering locale: "US" | "DE" | "FR" | "UK"


@dataclass(frozen=True, slots=True)
class Charge:
    """One money component: one detail row of the report, one component in Finances."""

    report_amount_type: str  # e.g. "ItemPrice"
    report_amount_description: str  # e.g. "Principal"
    finance_list: str  # v0 list holding the component, e.g. "ItemChargeList"
    finance_type: str  # v0 ChargeType/FeeType/PromotionType/AdjustmentType, e.g. "Principal"
    amount: Decimal  # signed, seller-positive, two places


@dataclass(frozen=True, slots=True)
class LedgerEvent:
    """One business event (an order item shipped, a refund, a fee, a reserve movement)."""

    event_id: str
    family: str  # "order" | "refund" | "service_fee" | "product_ads" | "reimbursement" | "reserve"
    report_transaction_type: str  # "Order", "Refund", "ServiceFee", "other-transaction", ...
    v0_event_list: str  # "ShipmentEventList", "RefundEventList", "AdjustmentEventList", ...
    posted: datetime  # UTC
    marketplace_id: str
    marketplace_name: str
    charges: tuple[Charge, ...]
    order_id: str = ""
    merchant_order_id: str = ""
    adjustment_id: str = ""
    shipment_id: str = ""
    sku: str = ""
    quantity: int | None = None
    order_item_code: str = ""
    merchant_order_item_id: str = ""
    merchant_adjustment_item_id: str = ""
    fulfillment_id: str = ""  # "AFN" | "MFN" | ""
    promotion_id: str = ""
    invoice_id: str = ""  # ProductAdsPaymentEvent.invoiceId
    description: str = ""  # ServiceFeeEvent.FeeDescription / FeeReason

    @property
    def total(self) -> Decimal:
        return sum((c.amount for c in self.charges), Decimal("0.00"))


@dataclass(frozen=True, slots=True)
class SimSettlement:
    """One settlement period of one marketplace, plus how it is published.

    ``total`` is the deposit (negative: Amazon charges the seller's card). ``listed_under``
    names every marketplace whose getReports listing returns this settlement's report —
    usually one, sometimes two (a real account quirk the connector must dedupe).
    """

    settlement_id: str  # 11 digits
    group_id: str  # Finances FinancialEventGroupId: opaque 43-char URL-safe
    marketplace_id: str
    currency: str
    start: datetime
    end: datetime
    deposit_date: datetime
    events: tuple[LedgerEvent, ...]
    total: Decimal
    listed_under: tuple[str, ...]
    report_id: str
    report_document_id: str
    report_created: datetime
    fund_transfer_status: str = "Succeeded"
    trace_id: str = ""
    account_tail: str = ""
    beginning_balance: Decimal = Decimal("0.00")

    def charges(self) -> Iterator[tuple[LedgerEvent, Charge]]:
        for event in self.events:
            for charge in event.charges:
                yield event, charge

    @property
    def line_count(self) -> int:
        return sum(len(e.charges) for e in self.events)


@dataclass
class SimulatedSeller:
    """Everything the sandbox serves for one seller account."""

    seller_id: str
    seed: int
    marketplaces: dict[str, Marketplace]
    settlements: list[SimSettlement]
    _by_settlement: dict[str, SimSettlement] = field(default_factory=dict, repr=False)
    _by_report: dict[str, SimSettlement] = field(default_factory=dict, repr=False)
    _by_document: dict[str, SimSettlement] = field(default_factory=dict, repr=False)
    _by_group: dict[str, SimSettlement] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for s in self.settlements:
            for index, key in (
                (self._by_settlement, s.settlement_id),
                (self._by_report, s.report_id),
                (self._by_document, s.report_document_id),
                (self._by_group, s.group_id),
            ):
                if key in index:
                    raise ValueError(f"duplicate id {key!r} in simulated seller")
                index[key] = s

    def by_settlement_id(self, settlement_id: str) -> SimSettlement | None:
        return self._by_settlement.get(settlement_id)

    def by_report_id(self, report_id: str) -> SimSettlement | None:
        return self._by_report.get(report_id)

    def by_document_id(self, document_id: str) -> SimSettlement | None:
        return self._by_document.get(document_id)

    def by_group_id(self, group_id: str) -> SimSettlement | None:
        return self._by_group.get(group_id)

    def marketplace(self, marketplace_id: str) -> Marketplace:
        return self.marketplaces[marketplace_id]
