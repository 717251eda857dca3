"""Flattening Finances pages (v0 events, 2024-06-19 transactions) into the canonical frame."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import polars as pl
import pytest

from mlc_assets.domain.finance_events import (
    FINANCE_LINE_SCHEMA,
    FinanceEventError,
    FinancialEventGroup,
    flag_late_events,
    flatten_transactions,
    flatten_v0_events,
    groups_from_pages,
    unknown_event_lists,
)
from mlc_assets_tests.reference import AMAZON


def _model(name: str) -> dict[str, Any]:
    path = AMAZON / name
    return json.loads(path.read_text(), parse_float=Decimal)


def _static(model: dict[str, Any], path: str, status: str = "200") -> list[dict[str, Any]]:
    sandbox = model["paths"][path]["get"]["responses"][status]["x-amzn-api-sandbox"]
    return [case["response"] for case in sandbox["static"]]


def _money(value: str, code: str = "USD") -> dict[str, Any]:
    return {"CurrencyCode": code, "CurrencyAmount": Decimal(value)}


def _shipment(order: str, posted: str, *items: dict[str, Any]) -> dict[str, Any]:
    return {
        "AmazonOrderId": order,
        "MarketplaceName": "Amazon.com",
        "PostedDate": posted,
        "ShipmentItemList": list(items),
    }


ITEM = {
    "SellerSKU": "SKU-1",
    "ItemChargeList": [
        {"ChargeType": "Principal", "ChargeAmount": _money("20.00")},
        {"ChargeType": "Tax", "ChargeAmount": _money("1.60")},
    ],
    "ItemFeeList": [{"FeeType": "Commission", "FeeAmount": _money("-3.00")}],
    "ItemTaxWithheldList": [
        {
            "TaxCollectionModel": "MarketplaceFacilitator",
            "TaxesWithheld": [
                {
                    "ChargeType": "MarketplaceFacilitatorTax-Principal",
                    "ChargeAmount": _money("-1.60"),
                }
            ],
        }
    ],
    "PromotionList": [
        {"PromotionType": "Shipping", "PromotionId": "P1", "PromotionAmount": _money("-0.50")}
    ],
}


def _v0_page(events: dict[str, Any]) -> dict[str, Any]:
    return {"payload": {"FinancialEvents": events}}


def test_every_static_v0_example_flattens() -> None:
    model = _model("financesV0.json")
    events_paths = [p for p in model["paths"] if p.endswith("financialEvents")]
    assert len(events_paths) == 3
    for path in events_paths:
        for response in _static(model, path):
            lines = flatten_v0_events([response], group_id="G")
            assert dict(lines.schema) == FINANCE_LINE_SCHEMA
            assert lines.height > 0
            assert unknown_event_lists(response["payload"]["FinancialEvents"]) == []
            # Every amount in the example is a multiple of the same placeholder 25.37 or
            # similar; what matters is that each component produced exactly one line.
            assert lines["amount"].null_count() == 0
    groups = groups_from_pages(_static(model, "/finances/v0/financialEventGroups"))
    assert [g.group_id for g in groups] == ["1"]
    assert groups[0].original_total == Decimal("10.34")
    assert groups[0].converted_total == Decimal("39.43")


def test_every_static_2024_example_flattens() -> None:
    model = _model("finances_2024-06-19.json")
    (response,) = _static(model, "/finances/2024-06-19/transactions")
    lines = flatten_transactions([response])
    assert lines.height == 1
    row = lines.row(0, named=True)
    assert row["group_id"] == "4MVaHcsAfaYAlwlaPWrXJxrfUiKfYZ2ooWtY7528FUA"
    assert row["order_id"] == "8129762527551"
    assert row["amount"] == Decimal("10.00")
    assert row["event_family"] == "Shipment"
    assert row["charge_list"] == "totalAmount"  # no breakdowns: the total is the line


def test_shipment_event_components_become_lines() -> None:
    page = _v0_page({"ShipmentEventList": [_shipment("111-1", "2026-01-02T03:04:05Z", ITEM)]})
    lines = flatten_v0_events([page], group_id="G", settlement_id="12345678901")
    got = {(r["charge_list"], r["charge_type"]): r["amount"] for r in lines.iter_rows(named=True)}
    assert got == {
        ("ItemChargeList", "Principal"): Decimal("20.00"),
        ("ItemChargeList", "Tax"): Decimal("1.60"),
        ("ItemFeeList", "Commission"): Decimal("-3.00"),
        ("ItemTaxWithheldList", "MarketplaceFacilitatorTax-Principal"): Decimal("-1.60"),
        ("PromotionList", "Shipping"): Decimal("-0.50"),
    }
    assert set(lines["event_family"]) == {"Shipment"}
    assert set(lines["settlement_id"]) == {"12345678901"}
    assert lines["posted_date"][0] == datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert lines["marketplace"][0] == "Amazon.com"


def test_mixed_casing_is_tolerated() -> None:
    item = {
        "sellerSKU": "x",
        "itemChargeList": [
            {
                "chargeType": "Principal",
                "chargeAmount": {"currencyCode": "EUR", "currencyAmount": 5},
            }
        ],
    }
    page = {
        "payload": {
            "financialEvents": {
                "shipmentEventList": [
                    {
                        "amazonOrderId": "302-1",
                        "postedDate": "2026-01-01T00:00:00.123Z",
                        "shipmentItemList": [item],
                    }
                ]
            }
        }
    }
    lines = flatten_v0_events([page], group_id="G")
    assert lines.select("event_family", "charge_list", "charge_type", "currency").row(0) == (
        "Shipment",
        "ItemChargeList",
        "Principal",
        "EUR",
    )
    assert lines["amount"][0] == Decimal("5.00")
    assert lines["order_id"][0] == "302-1"


def test_unknown_event_list_is_reported_and_its_money_kept() -> None:
    page = _v0_page(
        {
            "ShipmentEventList": [],
            "PerformanceBondRefundEventList": [
                {"PostedDate": "2026-01-01T00:00:00Z", "RefundAmount": _money("250.00")}
            ],
        }
    )
    assert unknown_event_lists(page["payload"]["FinancialEvents"]) == [
        "PerformanceBondRefundEventList"
    ]
    lines = flatten_v0_events([page], group_id="G")
    assert lines.select("event_family", "charge_list", "amount").row(0) == (
        "PerformanceBondRefund",
        "RefundAmount",
        Decimal("250.00"),
    )


def test_unknown_event_without_findable_amount_is_an_error() -> None:
    page = _v0_page({"MysteryEventList": [{"PostedDate": "2026-01-01T00:00:00Z", "Foo": "bar"}]})
    with pytest.raises(FinanceEventError, match=r"MysteryEventList\[0\].*no amount"):
        flatten_v0_events([page], group_id="G")


def test_single_amount_events() -> None:
    page = _v0_page(
        {
            "AdjustmentEventList": [
                {
                    "AdjustmentType": "ReserveEvent",
                    "PostedDate": "2026-01-14T00:00:00Z",
                    "AdjustmentAmount": _money("-40.00"),
                    # Item totals repeat the adjustment amount: they must not be added again.
                    "AdjustmentItemList": [{"TotalAmount": _money("-40.00")}],
                }
            ],
            "ProductAdsPaymentEventList": [
                {
                    "postedDate": "2026-01-10T00:00:00Z",
                    "transactionType": "charge",
                    "baseValue": _money("-10.00"),
                    "taxValue": _money("-1.00"),
                    "transactionValue": _money("-11.00"),
                }
            ],
            "ServiceFeeEventList": [
                {
                    "FeeReason": "Subscription",
                    "FeeList": [{"FeeType": "Subscription", "FeeAmount": _money("-39.99")}],
                }
            ],
        }
    )
    lines = flatten_v0_events([page], group_id="G")
    got = sorted(lines.select("event_family", "charge_list", "charge_type", "amount").rows())
    assert got == [
        ("Adjustment", "AdjustmentAmount", "ReserveEvent", Decimal("-40.00")),
        ("ProductAdsPayment", "transactionValue", "charge", Decimal("-11.00")),
        ("ServiceFee", "FeeList", "Subscription", Decimal("-39.99")),
    ]
    # ServiceFeeEvent has no PostedDate in the model: kept null, not invented.
    assert lines.filter(pl.col("event_family") == "ServiceFee")["posted_date"][0] is None


def test_float_and_sub_cent_amounts_are_refused() -> None:
    page = _v0_page(
        {
            "ServiceFeeEventList": [
                {
                    "FeeList": [
                        {
                            "FeeType": "X",
                            "FeeAmount": {"CurrencyCode": "USD", "CurrencyAmount": 1.5},
                        }
                    ]
                }
            ]
        }
    )
    with pytest.raises(FinanceEventError, match="float"):
        flatten_v0_events([page], group_id="G")
    page = _v0_page(
        {"ServiceFeeEventList": [{"FeeList": [{"FeeType": "X", "FeeAmount": _money("1.005")}]}]}
    )
    with pytest.raises(FinanceEventError, match="more than two decimals"):
        flatten_v0_events([page], group_id="G")


def _tx(tx_type: str, total: str, breakdowns: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "transactionId": f"T-{tx_type}",
        "transactionType": tx_type,
        "postedDate": "2026-01-05T00:00:00Z",
        "totalAmount": {"currencyCode": "USD", "currencyAmount": Decimal(total)},
        "relatedIdentifiers": [
            {"relatedIdentifierName": "ORDER_ID", "relatedIdentifierValue": "111-2"},
            {"relatedIdentifierName": "FINANCIAL_EVENT_GROUP_ID", "relatedIdentifierValue": "G"},
            {"relatedIdentifierName": "SETTLEMENT_ID", "relatedIdentifierValue": "98765432109"},
        ],
        "marketplaceDetails": {"marketplaceId": "ATVPDKIKX0DER", "marketplaceName": "Amazon.com"},
        "breakdowns": breakdowns,
    }


def _bd(kind: str, amount: str, children: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "breakdownType": kind,
        "breakdownAmount": {"currencyCode": "USD", "currencyAmount": Decimal(amount)},
        "breakdowns": children or [],
    }


def test_transactions_breakdown_leaves_map_to_v0_lists() -> None:
    page = {
        "payload": {
            "transactions": [
                _tx(
                    "Shipment",
                    "17.00",
                    [
                        _bd("ProductCharges", "20.00", [_bd("Principal", "20.00")]),
                        _bd("AmazonFees", "-3.00", [_bd("Commission", "-3.00")]),
                    ],
                ),
                _tx(
                    "Refund",
                    "-20.00",
                    [_bd("ProductCharges", "-20.00", [_bd("Principal", "-20.00")])],
                ),
                _tx(
                    "Retrocharge",
                    "-1.00",
                    [_bd("Sales", "-1.00", [_bd("Mystery", "-1.00", [_bd("Base", "-1.00")])])],
                ),
            ]
        }
    }
    lines = flatten_transactions([page])
    got = lines.select("event_family", "charge_list", "charge_type", "amount").rows()
    assert got == [
        ("Shipment", "ItemChargeList", "Principal", Decimal("20.00")),
        ("Shipment", "ItemFeeList", "Commission", Decimal("-3.00")),
        ("Refund", "ItemChargeAdjustmentList", "Principal", Decimal("-20.00")),
        ("Retrocharge", "Sales/Mystery", "Base", Decimal("-1.00")),  # unknown parent: verbatim
    ]
    assert set(lines["settlement_id"]) == {"98765432109"}
    assert set(lines["group_id"]) == {"G"}
    assert set(lines["api"]) == {"2024-06-19"}


def test_transaction_whose_breakdowns_do_not_add_up_is_refused() -> None:
    page = {
        "payload": {
            "transactions": [
                _tx(
                    "Shipment",
                    "18.00",
                    [_bd("ProductCharges", "20.00", [_bd("Principal", "20.00")])],
                )
            ]
        }
    }
    with pytest.raises(FinanceEventError, match=r"T-Shipment.*add up to 20.00.*18.00"):
        flatten_transactions([page])


def test_group_from_api_and_late_flag() -> None:
    group = FinancialEventGroup.from_api(
        {
            "FinancialEventGroupId": "abc",
            "ProcessingStatus": "Closed",
            "OriginalTotal": {"CurrencyCode": "CAD", "CurrencyAmount": Decimal("100.00")},
            "convertedTotal": {"currencyCode": "USD", "currencyAmount": Decimal("73.10")},
            "FinancialEventGroupStart": "2026-01-01T00:00:00Z",
            "FinancialEventGroupEnd": "2026-01-15T00:00:00Z",
        }
    )
    assert group.closed
    assert (group.original_currency, group.converted_currency) == ("CAD", "USD")
    page = _v0_page(
        {
            "ShipmentEventList": [
                _shipment("111-1", "2026-01-10T00:00:00Z", ITEM),
                _shipment("111-2", "2026-01-16T00:00:00Z", ITEM),
            ]
        }
    )
    flagged = flag_late_events(flatten_v0_events([page], group_id="abc"), group.end)
    late_orders = set(flagged.filter(pl.col("late"))["order_id"])
    assert late_orders == {"111-2"}


def test_money_fields_differing_only_in_case_are_refused() -> None:
    """Names are read case-tolerantly; two that fold together would hide one's money."""

    def flatten(event: dict[str, Any]) -> pl.DataFrame:
        return flatten_v0_events([_v0_page({"ServiceFeeEventList": [event]})], group_id="G")

    fee_x = {"FeeType": "X", "FeeAmount": _money("-1.00")}
    fee_y = {"FeeType": "Y", "FeeAmount": _money("-2.00")}
    with pytest.raises(FinanceEventError, match="'FeeList' and 'feeList' differ only in case"):
        flatten({"FeeList": [fee_x], "feeList": [fee_y]})
    with pytest.raises(FinanceEventError, match="differ only in case"):
        flatten({"FeeList": [{**fee_x, "feeAmount": _money("-2.00")}]})
    twice = {**_money("1.00"), "currencyAmount": Decimal("2.00")}
    with pytest.raises(FinanceEventError, match="CurrencyAmount twice"):
        flatten({"FeeList": [{"FeeType": "X", "FeeAmount": twice}]})
    # Case drift alone, or a duplicate without money, is still fine.
    lines = flatten({"FeeList": [fee_x], "sellerOrderId": "a", "SellerOrderId": "a"})
    assert lines["amount"].to_list() == [Decimal("-1.00")]
