"""The shipped default mapping covers every type of docs/reference/amazon/NOTES.md §3/§4/§6, the
fixtures and the sandbox."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from mlc_assets.domain.categories import Category
from mlc_assets.domain.journal import build_journal
from mlc_assets.domain.mapping import (
    classify_finance_lines,
    classify_lines,
    load_mapping,
    settlement_marketplace,
    unmapped_finance_types,
    unmapped_types,
)
from mlc_assets.domain.settlement_report import parse_settlement_report

DATA = Path(__file__).parent / "data"

_ORDER_V2 = [
    ("Order", "ItemPrice", "Principal"),
    ("Order", "ItemPrice", "Tax"),
    ("Order", "ItemPrice", "Shipping"),
    ("Order", "ItemPrice", "ShippingTax"),
    ("Order", "ItemPrice", "GiftWrap"),
    ("Order", "ItemPrice", "GiftWrapTax"),
    ("Order", "ItemFees", "Commission"),
    ("Order", "ItemFees", "FBAPerUnitFulfillmentFee"),
    ("Order", "ItemFees", "FBAPerOrderFulfillmentFee"),
    ("Order", "ItemFees", "FBAWeightBasedFee"),
    ("Order", "ItemFees", "ShippingChargeback"),
    ("Order", "ItemFees", "GiftwrapChargeback"),
    ("Order", "ItemFees", "FixedClosingFee"),
    ("Order", "ItemFees", "VariableClosingFee"),
    ("Order", "ItemFees", "DigitalServicesFee"),
    ("Order", "ItemFees", "ShippingHB"),
    ("Order", "Promotion", "Shipping"),
    ("Order", "Promotion", "Principal"),
    ("Order", "Promotion", "TaxDiscount"),
    ("Refund", "ItemPrice", "Principal"),
    ("Refund", "ItemPrice", "Tax"),
    ("Refund", "ItemPrice", "Shipping"),
    ("Refund", "ItemPrice", "ShippingTax"),
    ("Refund", "ItemPrice", "RestockingFee"),
    ("Refund", "ItemPrice", "Goodwill"),
    ("Refund", "ItemFees", "Commission"),
    ("Refund", "ItemFees", "RefundCommission"),
    ("Refund", "ItemFees", "ShippingChargeback"),
    ("Refund", "ItemFees", "DigitalServicesFee"),
    ("Refund", "Promotion", "Shipping"),
    ("Chargeback Refund", "ItemPrice", "Principal"),
    ("Chargeback Refund", "ItemPrice", "Tax"),
    ("Chargeback Refund", "ItemFees", "Commission"),
    ("Chargeback Refund", "ItemFees", "RefundCommission"),
    ("ServiceFee", "Cost of Advertising", "TransactionTotalAmount"),
    ("ServiceFee", "ServiceFee", "Subscription Fee"),
    ("other-transaction", "other-transaction", "Current Reserve Amount"),
    ("other-transaction", "other-transaction", "Previous Reserve Amount Balance"),
    ("other-transaction", "other-transaction", "Storage Fee"),
    ("other-transaction", "other-transaction", "Subscription Fee"),
    ("other-transaction", "other-transaction", "RemovalComplete"),
    ("other-transaction", "other-transaction", "Micro Deposit"),
    ("other-transaction", "FBA Inventory Reimbursement", "REVERSAL_REIMBURSEMENT"),
    ("other-transaction", "FBA Inventory Reimbursement", "WAREHOUSE_DAMAGE"),
    ("other-transaction", "FBA Inventory Reimbursement", "WAREHOUSE_LOST"),
    ("FBAFees", "other-transaction", "Inbound Transportation Fee"),
    ("Liquidations", "Liquidations", "Liquidations"),
    ("Liquidations", "Liquidations", "LiquidationsBrokerageFee"),
    ("Transfer", "Transfer", "Previous Reserve Amount Balance"),
]
_US_ONLY = [
    ("Order", "ItemWithheldTax", "MarketplaceFacilitatorTax-Principal"),
    ("Order", "ItemWithheldTax", "MarketplaceFacilitatorTax-Shipping"),
    ("Order", "ItemWithheldTax", "MarketplaceFacilitatorTax-Giftwrap"),
    ("Refund", "ItemWithheldTax", "MarketplaceFacilitatorTax-Principal"),
    ("Refund", "ItemWithheldTax", "MarketplaceFacilitatorTax-Shipping"),
]
_EU_UK = [
    ("Order", "ItemWithheldTax", "MarketplaceFacilitatorVAT-Principal"),
    ("Order", "ItemWithheldTax", "MarketplaceFacilitatorVAT-Shipping"),
    ("Refund", "ItemWithheldTax", "MarketplaceFacilitatorVAT-Principal"),
    ("Refund", "ItemWithheldTax", "MarketplaceFacilitatorVAT-Shipping"),
]
# V1 files as the parser emits them (amount_type/amount_description from the V1 columns).
_V1 = [
    ("Order", "ItemPrice", "Principal"),
    ("Order", "ItemPrice", "Tax"),
    ("Order", "ItemPrice", "Shipping"),
    ("Order", "ItemFees", "Commission"),
    ("Order", "ItemFees", "FBAPerUnitFulfillmentFee"),
    ("Order", "ItemFees", "FBAWeightBasedFee"),
    ("Order", "ShipmentFees", "FBA transportation fee"),
    ("Order", "OrderFees", "Gift wrap chargeback"),
    ("Order", "Promotion", "Principal"),
    ("Order", "Promotion", "Shipping"),
    ("Order", "DirectPayment", "StorefrontDirectPayment"),
    ("Refund", "ItemPrice", "Principal"),
    ("Refund", "ItemPrice", "Tax"),
    ("Refund", "ItemFees", "Commission"),
    ("Refund", "ItemFees", "RefundCommission"),
    ("Subscription Fee", "MiscFee", "Subscription Fee"),
    ("Subscription Fee", "OtherFee", "Subscription Fee"),
    ("Storage Fee", "Other", "Storage Fee"),
    ("Storage Fee", "OtherFee", "Storage Fee"),
    ("WAREHOUSE_DAMAGE", "OtherFee", "WAREHOUSE_DAMAGE"),
    ("WAREHOUSE_DAMAGE", "Other", "WAREHOUSE_DAMAGE"),
    ("REVERSAL_REIMBURSEMENT", "OtherFee", "REVERSAL_REIMBURSEMENT"),
    ("Micro Deposit", "Other", "Micro Deposit"),
    ("Inbound Transportation Fee", "OtherFee", "Inbound Transportation Fee"),
    ("other-transaction", "OtherFee", "Inbound Transportation Fee"),
    ("Payable to Amazon", "Other", "Payable to Amazon"),
    ("Successful charge", "Other", "Successful charge"),
    ("Previous Reserve Amount Balance", "Other", "Previous Reserve Amount Balance"),
    ("Current Reserve Amount", "Other", "Current Reserve Amount"),
]

MARKETPLACES = {
    "US": ("Amazon.com", "USD", _ORDER_V2 + _US_ONLY),
    "CA": ("Amazon.ca", "CAD", _ORDER_V2 + _US_ONLY),
    "UK": ("Amazon.co.uk", "GBP", _ORDER_V2 + _EU_UK),
    "DE": ("Amazon.de", "EUR", _ORDER_V2 + _EU_UK),
    "FR": ("Amazon.fr", "EUR", _ORDER_V2 + _EU_UK),
}


def frame(triples: list[tuple[str, str, str]], marketplace: str) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "line_no": list(range(2, len(triples) + 2)),
            "transaction_type": [t[0] for t in triples],
            "amount_type": [t[1] for t in triples],
            "amount_description": [t[2] for t in triples],
            "marketplace_name": [marketplace] * len(triples),
        }
    )


@pytest.fixture(scope="module")
def mapping():
    return load_mapping()


@pytest.mark.parametrize("country", sorted(MARKETPLACES))
@pytest.mark.parametrize("version", ["v2", "v1"])
def test_default_mapping_covers_notes_types(mapping, country: str, version: str) -> None:
    name, currency, v2 = MARKETPLACES[country]
    triples = v2 if version == "v2" else _V1
    out = classify_lines(frame(triples, name), mapping, currency=currency)
    assert unmapped_types(out) == []


def test_default_mapping_categories_are_sensible(mapping) -> None:
    def cat(*t: str, mp: str = "Amazon.de") -> tuple[str, str]:
        r = mapping.rule_for(*t, marketplace=mp, currency="EUR")
        assert r is not None, t
        return r.category.value, r.key

    assert cat("Order", "ItemPrice", "Principal") == ("principal", "principal")
    assert cat("Refund", "ItemPrice", "Principal") == ("refunds", "refunds")
    assert cat("Order", "ItemPrice", "Tax") == ("tax", "tax")
    # On Amazon.com the collected tax nets against the facilitator withholding.
    assert cat("Order", "ItemPrice", "Tax", mp="Amazon.com") == ("tax", "facilitator_tax")
    assert cat("Order", "ItemWithheldTax", "MarketplaceFacilitatorTax-Principal") == (
        "facilitator_tax",
        "facilitator_tax",
    )
    assert cat("Order", "ItemFees", "FBAPerUnitFulfillmentFee") == ("fba_fees", "fba_fees")
    assert cat("other-transaction", "other-transaction", "Storage Fee") == (
        "fba_fees",
        "storage_fee",
    )
    assert cat("ServiceFee", "Cost of Advertising", "TransactionTotalAmount")[0] == "advertising"
    assert cat("other-transaction", "other-transaction", "Current Reserve Amount") == (
        "reserves",
        "reserve",
    )


def test_default_mapping_has_no_catch_all(mapping) -> None:
    for t in [
        ("Order", "ItemFees", "BrandNewFee2027"),
        ("NewTransactionType", "ItemPrice", "Principal"),
        ("other-transaction", "other-transaction", "Something new"),
        ("other-transaction", "FBA Inventory Reimbursement", "NEW_REASON"),
        ("", "", ""),
    ]:
        assert mapping.rule_for(*t, marketplace="Amazon.com", currency="USD") is None, t


# v0 types named in docs/reference/amazon/NOTES.md §3 (and what the Finances flattener emits for
# them).
FINANCE_TYPES = [
    ("Shipment", "ItemChargeList", t)
    for t in ("Principal", "Tax", "ShippingCharge", "ShippingTax", "Giftwrap", "GiftwrapTax")
] + [
    ("Shipment", "ItemChargeList", "Discount"),
    ("Shipment", "ItemChargeList", "TaxDiscount"),
    ("Refund", "ItemChargeAdjustmentList", "Principal"),
    ("Refund", "ItemChargeAdjustmentList", "Tax"),
    ("Refund", "ItemChargeAdjustmentList", "RestockingFee"),
    ("Refund", "ItemChargeAdjustmentList", "ReturnShipping"),
    ("Refund", "ItemChargeAdjustmentList", "Goodwill"),
    ("Refund", "ItemChargeAdjustmentList", "PointsFee"),
    ("Refund", "ItemChargeAdjustmentList", "GenericDeduction"),
    ("Shipment", "ItemChargeList", "PaymentMethodFee"),
    ("Shipment", "ItemChargeList", "ExportCharge"),
    ("Chargeback", "ItemChargeAdjustmentList", "Principal"),
    ("GuaranteeClaim", "ItemChargeAdjustmentList", "Principal"),
    *[
        ("Shipment", "ItemTaxWithheldList", f"MarketplaceFacilitatorTax-{s}")
        for s in ("Principal", "Shipping", "Giftwrap", "Other")
    ],
    ("Shipment", "ItemTaxWithheldList", "MarketplaceFacilitatorVAT-Principal"),
    ("Refund", "ItemTaxWithheldList", "MarketplaceFacilitatorTax-Principal"),
    *[
        ("Shipment", "ItemFeeList", f)
        for f in (
            "Commission",
            "FBAPerUnitFulfillmentFee",
            "FBAPerOrderFulfillmentFee",
            "FBAWeightBasedFee",
            "FixedClosingFee",
            "VariableClosingFee",
            "ShippingChargeback",
            "GiftwrapChargeback",
            "DigitalServicesFee",
        )
    ],
    ("Refund", "ItemFeeAdjustmentList", "Commission"),
    ("Refund", "ItemFeeAdjustmentList", "RefundCommission"),
    ("Shipment", "PromotionList", "PromotionMetaDataDefinitionValue"),
    ("Refund", "PromotionAdjustmentList", "PromotionMetaDataDefinitionValue"),
    ("ServiceFee", "FeeList", "FBAStorageFee"),
    ("ServiceFee", "FeeList", "Subscription"),
    ("ServiceFee", "FeeList", "FBAInboundTransportationFee"),
    ("ServiceFee", "FeeList", "FBADisposalFee"),
    ("ProductAdsPayment", "transactionValue", "charge"),
    ("ProductAdsPayment", "transactionValue", "refund"),
    *[
        ("Adjustment", "AdjustmentAmount", a)
        for a in (
            "FBAInventoryReimbursement",
            "ReserveEvent",
            "PostageBilling",
            "PostageRefund",
            "LostOrDamagedReimbursement",
        )
    ],
    ("ShipmentEventList", "ItemChargeList", "Principal"),  # suffixed family spelling
]


def test_default_finance_rules_cover_notes_types(mapping) -> None:
    f = pl.DataFrame(
        {
            "event_family": [t[0] for t in FINANCE_TYPES],
            "charge_list": [t[1] for t in FINANCE_TYPES],
            "charge_type": [t[2] for t in FINANCE_TYPES],
            "amount": pl.Series([None] * len(FINANCE_TYPES), dtype=pl.Decimal(18, 2)),
        }
    )
    out = classify_finance_lines(f, mapping)
    assert unmapped_finance_types(out) == []
    by = dict(zip(FINANCE_TYPES, out["category"].to_list(), strict=True))
    assert by[("Adjustment", "AdjustmentAmount", "ReserveEvent")] == Category.RESERVES
    assert by[("ProductAdsPayment", "transactionValue", "charge")] == Category.ADVERTISING
    assert by[("Refund", "ItemChargeAdjustmentList", "Principal")] == Category.REFUNDS


@pytest.mark.parametrize("path", sorted(DATA.glob("*.txt")), ids=lambda p: p.name)
def test_default_mapping_journals_every_fixture(mapping, path: Path) -> None:
    parsed = parse_settlement_report(path.read_bytes(), file_name=path.name)
    classified = classify_lines(
        parsed.lines,
        mapping,
        marketplace=settlement_marketplace(parsed.lines),
        currency=parsed.header.currency,
    )
    assert unmapped_types(classified) == []
    journal = build_journal(parsed.header, classified, mapping)
    assert journal.is_balanced and journal.clearing_total == parsed.header.total_amount


def test_default_mapping_covers_sandbox_data_both_sides(mapping) -> None:
    from mlc_assets.sandbox import generator
    from mlc_assets.sandbox import report_render as render

    seller = generator.generate_seller(11, 6)
    finance_rows = []
    for settlement in seller.settlements:
        data = render.render_v2(settlement)
        parsed = parse_settlement_report(data, file_name=f"{settlement.settlement_id}.txt")
        classified = classify_lines(
            parsed.lines,
            mapping,
            marketplace=settlement_marketplace(parsed.lines),
            currency=parsed.header.currency,
        )
        assert unmapped_types(classified) == [], settlement.settlement_id
        journal = build_journal(parsed.header, classified, mapping)
        assert journal.clearing_total == parsed.header.total_amount
        for event in settlement.events:
            for charge in event.charges:
                finance_rows.append((event.v0_event_list, charge.finance_list, charge.finance_type))
    f = pl.DataFrame(
        {
            "event_family": [r[0] for r in finance_rows],
            "charge_list": [r[1] for r in finance_rows],
            "charge_type": [r[2] for r in finance_rows],
        }
    )
    assert unmapped_finance_types(classify_finance_lines(f, mapping)) == []
