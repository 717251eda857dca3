"""Render a simulated settlement as the flat file Amazon serves.

Formats follow real files (docs/reference/amazon/NOTES.md §6): US files use ISO-like dates
and dot decimals in UTF-8; Amazon.de/.fr use ``dd.mm.yyyy`` dates and comma decimals and are
served as ISO-8859-1; Amazon.co.uk uses ``dd.mm.yyyy`` with dot decimals. The connector must
detect these per file, so the sandbox must produce all of them.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from mlc_assets.sandbox.ledger import SimSettlement

V2_COLUMNS = (
    "settlement-id",
    "settlement-start-date",
    "settlement-end-date",
    "deposit-date",
    "total-amount",
    "currency",
    "transaction-type",
    "order-id",
    "merchant-order-id",
    "adjustment-id",
    "shipment-id",
    "marketplace-name",
    "amount-type",
    "amount-description",
    "amount",
    "fulfillment-id",
    "posted-date",
    "posted-date-time",
    "order-item-code",
    "merchant-order-item-id",
    "merchant-adjustment-item-id",
    "sku",
    "quantity-purchased",
    "promotion-id",
)


@dataclass(frozen=True)
class ReportLocale:
    name: str
    date_format: str  # strftime for dates
    datetime_format: str  # strftime for header dates and posted-date-time
    decimal_comma: bool
    charset: str


LOCALES: dict[str, ReportLocale] = {
    "US": ReportLocale("US", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S UTC", False, "utf-8"),
    "DE": ReportLocale("DE", "%d.%m.%Y", "%d.%m.%Y %H:%M:%S UTC", True, "iso-8859-1"),
    "FR": ReportLocale("FR", "%d.%m.%Y", "%d.%m.%Y %H:%M:%S UTC", True, "iso-8859-1"),
    "UK": ReportLocale("UK", "%d.%m.%Y", "%d.%m.%Y %H:%M:%S UTC", False, "utf-8"),
}

_LOCALE_BY_MARKETPLACE = {
    "ATVPDKIKX0DER": "US",
    "A1PA6795UKMFR9": "DE",
    "A13V1IB3VIYZZH": "FR",
    "A1F83G8C2ARO7P": "UK",
}


def locale_for(settlement: SimSettlement) -> ReportLocale:
    return LOCALES[_LOCALE_BY_MARKETPLACE.get(settlement.marketplace_id, "US")]


def _amount(value: Decimal, loc: ReportLocale) -> str:
    text = f"{value:.2f}"
    return text.replace(".", ",") if loc.decimal_comma else text


def _dt(value: datetime, fmt: str) -> str:
    return value.strftime(fmt)


def render_v2_text(settlement: SimSettlement, locale: str | None = None) -> str:
    loc = LOCALES[locale] if locale else locale_for(settlement)
    sid = settlement.settlement_id
    out: list[str] = ["\t".join(V2_COLUMNS)]
    summary = [
        sid,
        _dt(settlement.start, loc.datetime_format),
        _dt(settlement.end, loc.datetime_format),
        _dt(settlement.deposit_date, loc.datetime_format),
        _amount(settlement.total, loc),
        settlement.currency,
    ]
    out.append("\t".join(summary + [""] * (len(V2_COLUMNS) - len(summary))))
    for event in settlement.events:
        posted_date = _dt(event.posted, loc.date_format)
        posted_dt = _dt(event.posted, loc.datetime_format)
        qty = "" if event.quantity is None else str(event.quantity)
        for charge in event.charges:
            promo = event.promotion_id if charge.report_amount_type == "Promotion" else ""
            row = (
                sid,
                "",
                "",
                "",
                "",
                "",
                event.report_transaction_type,
                event.order_id,
                event.merchant_order_id,
                event.adjustment_id,
                event.shipment_id,
                event.marketplace_name,
                charge.report_amount_type,
                charge.report_amount_description,
                _amount(charge.amount, loc),
                event.fulfillment_id,
                posted_date,
                posted_dt,
                event.order_item_code,
                event.merchant_order_item_id,
                event.merchant_adjustment_item_id,
                event.sku,
                qty,
                promo,
            )
            out.append("\t".join(row))
    out.append("")
    return "\n".join(out)


def render_v2(settlement: SimSettlement, locale: str | None = None) -> bytes:
    """The V2 flat file (``GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2``) in its charset."""
    loc = LOCALES[locale] if locale else locale_for(settlement)
    return render_v2_text(settlement, loc.name).encode(loc.charset)


def content_type(settlement: SimSettlement, locale: str | None = None) -> str:
    loc = LOCALES[locale] if locale else locale_for(settlement)
    return f"text/plain; charset={loc.charset}"


def gzip_document(data: bytes) -> bytes:
    """Gzip with a fixed mtime so the same report always compresses to the same bytes."""
    return gzip.compress(data, compresslevel=6, mtime=0)


V1_COLUMNS = (
    *V2_COLUMNS[:12],
    "shipment-fee-type",
    "shipment-fee-amount",
    "order-fee-type",
    "order-fee-amount",
    "fulfillment-id",
    "posted-date",
    "order-item-code",
    "merchant-order-item-id",
    "merchant-adjustment-item-id",
    "sku",
    "quantity-purchased",
    "price-type",
    "price-amount",
    "item-related-fee-type",
    "item-related-fee-amount",
    "misc-fee-amount",
    "other-fee-amount",
    "other-fee-reason-description",
    "promotion-id",
    "promotion-type",
    "promotion-amount",
    "direct-payment-type",
    "direct-payment-amount",
    "other-amount",
)
_V1_PROMOTION_COLUMNS = ("promotion-id", "promotion-type", "promotion-amount")
_V1_ITEM_COLUMNS = {  # report amount-type → (type column, amount column)
    "ItemPrice": ("price-type", "price-amount"),
    "ItemFees": ("item-related-fee-type", "item-related-fee-amount"),
    # Assumption: withheld tax sits with the item-related fees in V1 (no public V1 sample).
    "ItemWithheldTax": ("item-related-fee-type", "item-related-fee-amount"),
    "Promotion": ("promotion-type", "promotion-amount"),
}


def render_v1_text(settlement: SimSettlement, locale: str | None = None) -> str:
    """The deprecated V1 flat file (``GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE``).

    One money component per row, in the column its kind belongs to; account-level items
    become transaction-types with ``other-amount`` (as V1 files show: ``Subscription Fee``,
    ``WAREHOUSE_DAMAGE``, ...). Dates are ISO-8601 (seen in real V1 files); decimals follow
    the locale. Like real files, the three promotion columns are dropped when the
    settlement has no promotion (33 instead of 36 columns).
    """
    loc = LOCALES[locale] if locale else locale_for(settlement)
    iso_fmt = "%Y-%m-%dT%H:%M:%S+00:00"
    has_promotions = any(c.report_amount_type == "Promotion" for _, c in settlement.charges())
    columns = [c for c in V1_COLUMNS if has_promotions or c not in _V1_PROMOTION_COLUMNS]
    out = ["\t".join(columns)]
    summary = {
        "settlement-id": settlement.settlement_id,
        "settlement-start-date": settlement.start.strftime(iso_fmt),
        "settlement-end-date": settlement.end.strftime(iso_fmt),
        "deposit-date": settlement.deposit_date.strftime(iso_fmt),
        "total-amount": _amount(settlement.total, loc),
        "currency": settlement.currency,
    }
    out.append("\t".join(summary.get(c, "") for c in columns))
    for event, charge in settlement.charges():
        row = {
            "settlement-id": settlement.settlement_id,
            "transaction-type": event.report_transaction_type,
            "order-id": event.order_id,
            "merchant-order-id": event.merchant_order_id,
            "adjustment-id": event.adjustment_id,
            "shipment-id": event.shipment_id,
            "marketplace-name": event.marketplace_name,
            "fulfillment-id": event.fulfillment_id,
            "posted-date": event.posted.strftime(iso_fmt),
            "order-item-code": event.order_item_code,
            "merchant-order-item-id": event.merchant_order_item_id,
            "merchant-adjustment-item-id": event.merchant_adjustment_item_id,
            "sku": event.sku,
            "quantity-purchased": "" if event.quantity is None else str(event.quantity),
        }
        amount = _amount(charge.amount, loc)
        placed = _V1_ITEM_COLUMNS.get(charge.report_amount_type)
        if placed is not None:
            row[placed[0]] = charge.report_amount_description
            row[placed[1]] = amount
            if charge.report_amount_type == "Promotion":
                row["promotion-id"] = event.promotion_id
        else:
            row["transaction-type"] = charge.report_amount_description
            row["other-amount"] = amount
        out.append("\t".join(row.get(c, "") for c in columns))
    out.append("")
    return "\n".join(out)


def render_v1(settlement: SimSettlement, locale: str | None = None) -> bytes:
    loc = LOCALES[locale] if locale else locale_for(settlement)
    return render_v1_text(settlement, loc.name).encode(loc.charset)
