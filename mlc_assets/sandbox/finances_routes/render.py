"""The Finances sandbox JSON: exact numbers, parameters and paging, v0 and 2024-06-19 objects."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from mlc_assets.sandbox.finances_routes.view import (
    _ADJUSTMENT_LIKE,
    _DESCRIPTIONS,
    _EVENT_FEE_LISTS,
    _ITEM_CHARGE_LISTS,
    _ITEM_FEE_LISTS,
    _ITEM_PROMO_LISTS,
    _SHIPMENT_LIKE,
    BREAKDOWN_PARENT,
    MIN_AGE,
    ViewEvent,
)
from mlc_assets.sandbox.ledger import Charge, SimSettlement

# ---------------------------------------------------------------- JSON with exact numbers

_DEC = "@@dec@@"
_DEC_RE = re.compile(rf'"{_DEC}(-?\d+(?:\.\d+)?)"')


def _encode(o: Any) -> Any:
    if isinstance(o, Decimal):
        return f"{_DEC}{o}"
    raise TypeError(f"cannot serialise {type(o).__name__}")


class ExactJSONResponse(Response):
    """JSON whose Decimal amounts are written as exact JSON numbers (never via float)."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        text = json.dumps(content, default=_encode, ensure_ascii=False, separators=(",", ":"))
        return _DEC_RE.sub(r"\1", text).encode("utf-8")


def _ts(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _money(amount: Decimal, currency: str, *, camel: bool = False) -> dict[str, Any]:
    if camel:
        return {"currencyCode": currency, "currencyAmount": amount}
    return {"CurrencyCode": currency, "CurrencyAmount": amount}


def _opaque(*parts: str) -> str:
    digest = hashlib.sha256(":".join(parts).encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


# ---------------------------------------------------------------- request parsing


class _BadRequest(Exception):
    def __init__(self, message: str) -> None:
        self.message = message


def _date_param(request: Request, name: str, now: datetime) -> datetime | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise _BadRequest(f"Invalid {name}: {raw!r} is not an ISO 8601 date.") from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if value > now - MIN_AGE:
        raise _BadRequest(f"{name} must be at least 2 minutes before the request time.")
    return value


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise _BadRequest(f"Invalid {name}: {raw!r}.") from None
    if not low <= value <= high:
        raise _BadRequest(f"{name} must be between {low} and {high}.")
    return value


def _query_key(request: Request, token_name: str) -> str:
    items = sorted((k, v) for k, v in request.query_params.multi_items() if k != token_name)
    return hashlib.sha256(json.dumps(items).encode()).hexdigest()[:16]


def _token(offset: int, key: str) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset, "k": key}).encode()).decode()


def _offset(request: Request, token_name: str) -> int:
    raw = request.query_params.get(token_name)
    if not raw:
        return 0
    try:
        data = json.loads(base64.urlsafe_b64decode(raw.encode()))
        offset, key = int(data["o"]), str(data["k"])
    except (ValueError, KeyError, TypeError):
        raise _BadRequest(f"Invalid {token_name}.") from None
    if key != _query_key(request, token_name):
        raise _BadRequest(f"{token_name} does not belong to these request parameters.")
    return offset


def _page_bounds(total: int, size: int, offset: int, dropped: int | None) -> tuple[int, int, int]:
    """(start, end, next offset or -1). A dropped page is skipped in the paging chain."""
    if dropped is not None and total <= size:
        return 0, 0, -1  # a single page to drop: the whole answer comes back empty
    start, end = offset, min(offset + size, total)
    nxt = end if end < total else -1
    if dropped is not None and nxt == dropped * size:
        nxt = nxt + size if nxt + size < total else -1
    return start, end, nxt


# ---------------------------------------------------------------- v0 renderers


def _charge_component(c: Charge, currency: str) -> dict[str, Any]:
    return {"ChargeType": c.finance_type, "ChargeAmount": _money(c.amount, currency)}


def _fee_component(c: Charge, currency: str) -> dict[str, Any]:
    return {"FeeType": c.finance_type, "FeeAmount": _money(c.amount, currency)}


def v0_event(v: ViewEvent, currency: str) -> tuple[str, dict[str, Any]]:
    """(event list name, v0 event object) for one view event."""
    e = v.event
    lst = e.v0_event_list
    if lst in _SHIPMENT_LIKE:
        item: dict[str, Any] = {"SellerSKU": e.sku, "OrderItemId": e.order_item_code}
        if lst in _ADJUSTMENT_LIKE:
            item["OrderAdjustmentItemId"] = e.adjustment_id
        if e.quantity is not None:
            item["QuantityShipped"] = e.quantity
        body: dict[str, Any] = {
            "AmazonOrderId": e.order_id,
            "SellerOrderId": e.merchant_order_id or e.order_id,
            "MarketplaceName": e.marketplace_name,
            "PostedDate": _ts(v.posted),
        }
        withheld: list[dict[str, Any]] = []
        for c in v.charges:
            if c.finance_list in _ITEM_CHARGE_LISTS:
                item.setdefault(c.finance_list, []).append(_charge_component(c, currency))
            elif c.finance_list in _ITEM_FEE_LISTS:
                item.setdefault(c.finance_list, []).append(_fee_component(c, currency))
            elif c.finance_list in _ITEM_PROMO_LISTS:
                item.setdefault(c.finance_list, []).append(
                    {
                        "PromotionType": c.finance_type,
                        "PromotionId": e.promotion_id,
                        "PromotionAmount": _money(c.amount, currency),
                    }
                )
            elif c.finance_list == "ItemTaxWithheldList":
                withheld.append(_charge_component(c, currency))
            elif c.finance_list in _EVENT_FEE_LISTS:
                body.setdefault(c.finance_list, []).append(_fee_component(c, currency))
            else:
                raise ValueError(f"ledger charge list {c.finance_list!r} has no v0 rendering")
        if withheld:
            item["ItemTaxWithheldList"] = [
                {"TaxCollectionModel": "MarketplaceFacilitator", "TaxesWithheld": withheld}
            ]
        item_key = "ShipmentItemAdjustmentList" if lst in _ADJUSTMENT_LIKE else "ShipmentItemList"
        body[item_key] = [item]
        return lst, body
    if lst == "ServiceFeeEventList":
        # The model's ServiceFeeEvent has no PostedDate; neither do we.
        body = {
            "FeeReason": e.description,
            "FeeList": [_fee_component(c, currency) for c in v.charges],
            "FeeDescription": e.description,
        }
        if e.order_id:
            body["AmazonOrderId"] = e.order_id
        if e.sku:
            body["SellerSKU"] = e.sku
        return lst, body
    if lst == "ProductAdsPaymentEventList":
        total = v.total
        return lst, {  # lowerCamel event, PascalCase Currency inside (as in the model)
            "postedDate": _ts(v.posted),
            "transactionType": v.charges[0].finance_type,
            "invoiceId": e.invoice_id,
            "baseValue": _money(total, currency),
            "taxValue": _money(Decimal("0.00"), currency),
            "transactionValue": _money(total, currency),
        }
    if lst == "AdjustmentEventList":
        c = v.charges[0]
        body = {
            "AdjustmentType": c.finance_type,
            "PostedDate": _ts(v.posted),
            "AdjustmentAmount": _money(v.total, currency),
        }
        if e.sku:
            adj_item: dict[str, Any] = {
                "Quantity": str(e.quantity or 1),
                "TotalAmount": _money(v.total, currency),
                "SellerSKU": e.sku,
                "ProductDescription": e.description,
            }
            per_unit = v.total / (e.quantity or 1)
            if per_unit == per_unit.quantize(Decimal("0.01")):
                adj_item["PerUnitAmount"] = _money(per_unit.quantize(Decimal("0.01")), currency)
            body["AdjustmentItemList"] = [adj_item]
        return lst, body
    raise ValueError(f"ledger event list {lst!r} has no v0 rendering")


def group_object(s: SimSettlement) -> dict[str, Any]:
    return {
        "FinancialEventGroupId": s.group_id,
        "ProcessingStatus": "Closed",
        "FundTransferStatus": s.fund_transfer_status,
        "OriginalTotal": _money(s.total, s.currency),
        "ConvertedTotal": _money(s.total, s.currency),
        "FundTransferDate": _ts(s.deposit_date),
        "TraceId": s.trace_id,
        "AccountTail": s.account_tail,
        "BeginningBalance": _money(s.beginning_balance, s.currency),
        "FinancialEventGroupStart": _ts(s.start),
        "FinancialEventGroupEnd": _ts(s.end),
    }


def _open_groups(settlements: Iterable[SimSettlement], seller_id: str) -> list[dict[str, Any]]:
    """The current, still-open period per marketplace (starts where the last one ended)."""
    last: dict[str, SimSettlement] = {}
    for s in settlements:
        if s.marketplace_id not in last or s.end > last[s.marketplace_id].end:
            last[s.marketplace_id] = s
    return [
        {
            "FinancialEventGroupId": _opaque("open", seller_id, mid),
            "ProcessingStatus": "Open",
            "FundTransferStatus": "Unknown",
            "OriginalTotal": _money(Decimal("0.00"), s.currency),
            "BeginningBalance": _money(Decimal("0.00"), s.currency),
            "FinancialEventGroupStart": _ts(s.end),
            "_start": s.end,
        }
        for mid, s in sorted(last.items())
    ]


# ---------------------------------------------------------------- 2024-06-19 renderers


def _breakdowns(charges: Iterable[Charge], currency: str) -> list[dict[str, Any]]:
    parents: dict[str, list[Charge]] = {}
    for c in charges:
        parent = BREAKDOWN_PARENT.get(c.finance_list)
        if parent is None:
            raise ValueError(f"ledger charge list {c.finance_list!r} has no 2024-06-19 parent")
        parents.setdefault(parent, []).append(c)
    return [
        {
            "breakdownType": parent,
            "breakdownAmount": _money(
                sum((c.amount for c in cs), Decimal("0.00")), currency, camel=True
            ),
            "breakdowns": [
                {
                    "breakdownType": c.finance_type,
                    "breakdownAmount": _money(c.amount, currency, camel=True),
                    "breakdowns": [],
                }
                for c in cs
            ],
        }
        for parent, cs in parents.items()
    ]


def transaction_object(v: ViewEvent, s: SimSettlement, seller_id: str) -> dict[str, Any]:
    e = v.event
    family = e.v0_event_list.removesuffix("EventList")
    related = []
    if e.order_id:
        related.append({"relatedIdentifierName": "ORDER_ID", "relatedIdentifierValue": e.order_id})
    related += [
        {"relatedIdentifierName": "FINANCIAL_EVENT_GROUP_ID", "relatedIdentifierValue": s.group_id},
        {"relatedIdentifierName": "SETTLEMENT_ID", "relatedIdentifierValue": s.settlement_id},
    ]
    item: dict[str, Any] = {
        "description": e.sku or e.description or family,
        "totalAmount": _money(v.total, s.currency, camel=True),
        "breakdowns": _breakdowns(v.charges, s.currency),
    }
    if e.sku:
        item["contexts"] = [
            {
                "contextType": "ProductContext",
                "sku": e.sku,
                "quantityShipped": e.quantity or 0,
                "fulfillmentNetwork": e.fulfillment_id or "AFN",
            }
        ]
    return {
        "sellingPartnerMetadata": {
            "sellingPartnerId": seller_id,
            "accountType": "Standard Orders",
            "marketplaceId": e.marketplace_id,
        },
        "relatedIdentifiers": related,
        "transactionType": family,
        "transactionId": _opaque("tx", e.event_id),
        "transactionStatus": "RELEASED",
        "description": _DESCRIPTIONS.get(e.v0_event_list)
        or e.description
        or v.charges[0].finance_type,
        "postedDate": _ts(v.posted),
        "totalAmount": _money(v.total, s.currency, camel=True),
        "marketplaceDetails": {
            "marketplaceId": e.marketplace_id,
            "marketplaceName": e.marketplace_name,
        },
        "items": [item],
        "breakdowns": _breakdowns(v.charges, s.currency),
    }
