"""Finances API stand-in (v0 and 2024-06-19), answered from the simulated seller's ledger.

The settlement report and these events are two renderings of the same ledger, so the
connector's reconciliation is meaningful. Mounted into the SP-API app as a route factory
(``finance_routes``), so it shares tokens, rate limits, counters and faults with Reports.

Served:
* ``GET /finances/v0/financialEventGroups`` — per marketplace one Open group for the current
  period, then the Closed groups (one per settlement), newest first;
* ``GET /finances/v0/financialEventGroups/{id}/financialEvents`` — ≤100 events per page;
* ``GET /finances/2024-06-19/transactions`` — ≤500 transactions per page, filterable by
  FINANCIAL_EVENT_GROUP_ID / ORDER_ID or a posted-date window;
* ``GET /finances/2024-06-19/summary`` — listSummary by SETTLEMENT_ID.

Deprecation: with ``FinancesSandboxState.v0_events_enabled = False`` (or the fault
``v0_gone``) the v0 *event* operations answer HTTP 410 with code ``Unsupported`` and a
"deprecated … no longer supported" message. Amazon has not documented what a removed
operation returns; 410 plus a telling message is our choice, and the client recognises it.
listFinancialEventGroups is not on Amazon's deprecation list and keeps working.

Distortions (per settlement, for tests and demos; ``POST /_sandbox/finances``):
``drop_page`` (one page of events vanishes from the paging), ``extra_event`` (a fee that
is not in the report), ``change_amount`` (one Principal +1.00), ``late_event`` (an event
posted three days after the group closed, still in the group), ``no_group`` (the
settlement's group is not listed).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from mlc_assets.sandbox.ledger import Charge, LedgerEvent, SimSettlement
from mlc_assets.sandbox.spapi_app import SpApiContext, invalid_input, operation, spapi_error

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


# ---------------------------------------------------------------- routes


def _deprecated() -> Response:
    return spapi_error(
        410,
        "Unsupported",
        "This operation has been deprecated and is no longer supported. "
        "Use listTransactions (Finances API 2024-06-19).",
    )


def finance_routes(ctx: SpApiContext) -> list[BaseRoute]:
    """Route factory for ``build_spapi_app``."""
    state = finances_state(ctx)
    seller = ctx.seller

    def guarded(fn: Callable[[Request], Response]) -> Callable[[Request], Any]:
        async def handler(request: Request) -> Response:
            try:
                return fn(request)
            except _BadRequest as exc:
                return invalid_input(exc.message)

        handler.__name__ = fn.__name__
        return handler

    def settlements(request: Request | None = None) -> list[SimSettlement]:
        return list(seller.settlements)

    # -- v0 -------------------------------------------------------------------------------

    def list_groups(request: Request) -> Response:
        now = ctx.now()
        size = _int_param(request, "MaxResultsPerPage", 10, 1, 100)
        after = _date_param(request, "FinancialEventGroupStartedAfter", now)
        before = _date_param(request, "FinancialEventGroupStartedBefore", now)
        if before is not None and after is not None and before <= after:
            raise _BadRequest("Date range is invalid.")
        hi = before or now - MIN_AGE
        lo = after or hi - MAX_WINDOW
        key = _query_key(request, "NextToken")
        offset = _offset(request, "NextToken")
        groups: list[tuple[datetime, dict[str, Any]]] = []
        if hi - lo <= MAX_WINDOW:  # wider windows return no groups (model text)
            for og in _open_groups(seller.settlements, seller.seller_id):
                start = og.pop("_start")
                if lo <= start < hi:
                    groups.append((start, og))
            closed = [
                (s.start, group_object(s))
                for s in settlements()
                if lo <= s.start < hi
                and "no_group" not in state.distortions.get(s.settlement_id, set())
            ]
            closed.sort(key=lambda t: t[0], reverse=True)
            groups += closed
        start, end, nxt = _page_bounds(len(groups), size, offset, None)
        payload: dict[str, Any] = {"FinancialEventGroupList": [g for _, g in groups[start:end]]}
        if nxt >= 0:
            payload["NextToken"] = _token(nxt, key)
        return ExactJSONResponse({"payload": payload})

    def list_events_by_group(request: Request) -> Response:
        if not state.v0_events_enabled or ctx.faults.take("v0_gone"):
            return _deprecated()
        now = ctx.now()
        group_id = request.path_params["eventGroupId"]
        s = seller.by_group_id(group_id)
        size = min(_int_param(request, "MaxResultsPerPage", 100, 1, 100), state.v0_page_cap)
        after = _date_param(request, "PostedAfter", now)
        before = _date_param(request, "PostedBefore", now)
        if before is not None and after is None:
            raise _BadRequest("PostedBefore requires PostedAfter.")
        if before is not None and after is not None and before <= after:
            raise _BadRequest("Date range is invalid.")
        if s is None:
            if any(
                og["FinancialEventGroupId"] == group_id
                for og in _open_groups(seller.settlements, seller.seller_id)
            ):
                return ExactJSONResponse({"payload": {"FinancialEvents": {}}})
            raise _BadRequest("Bad event group ID provided.")
        view = _view(state, s)
        hi = before or now - MIN_AGE
        events = list(view.events)
        if after is not None:
            events = (
                [v for v in events if after <= v.posted < hi] if hi - after <= MAX_WINDOW else []
            )
        key = _query_key(request, "NextToken")
        offset = _offset(request, "NextToken")
        start, end, nxt = _page_bounds(len(events), size, offset, view.dropped_page)
        lists: dict[str, list[dict[str, Any]]] = {}
        for v in events[start:end]:
            name, body = v0_event(v, s.currency)
            lists.setdefault(name, []).append(body)
        payload: dict[str, Any] = {"FinancialEvents": lists}
        if nxt >= 0:
            payload["NextToken"] = _token(nxt, key)
        return ExactJSONResponse({"payload": payload})

    # -- 2024-06-19 -----------------------------------------------------------------------

    def list_transactions(request: Request) -> Response:
        now = ctx.now()
        name = request.query_params.get("relatedIdentifierName")
        value = request.query_params.get("relatedIdentifierValue")
        after = _date_param(request, "postedAfter", now)
        before = _date_param(request, "postedBefore", now)
        marketplace = request.query_params.get("marketplaceId")
        if name and name not in ("FINANCIAL_EVENT_GROUP_ID", "ORDER_ID"):
            raise _BadRequest(f"relatedIdentifierName {name} is not supported for filtering.")
        if name and not value:
            raise _BadRequest("relatedIdentifierValue is required with relatedIdentifierName.")
        if not name and after is None:
            raise _BadRequest("Start date cannot be null")
        if before is not None and after is not None and before <= after:
            raise _BadRequest("Date range is invalid.")
        dropped: int | None = None
        selected: list[tuple[ViewEvent, SimSettlement]] = []
        if name == "FINANCIAL_EVENT_GROUP_ID":
            s = seller.by_group_id(value or "")
            if s is not None:
                view = _view(state, s)
                selected = [(v, s) for v in view.events]
                dropped = view.dropped_page
        else:
            for s in settlements():
                for v in _view(state, s).events:
                    if name == "ORDER_ID" and v.event.order_id != value:
                        continue
                    selected.append((v, s))
        if after is not None:
            hi = before or now - MIN_AGE
            selected = (
                [(v, s) for v, s in selected if after <= v.posted < hi]
                if hi - after <= MAX_WINDOW
                else []
            )
        if marketplace:
            selected = [(v, s) for v, s in selected if v.event.marketplace_id == marketplace]
        selected.sort(key=lambda t: (t[0].posted, t[0].event.event_id))
        key = _query_key(request, "nextToken")
        offset = _offset(request, "nextToken")
        start, end, nxt = _page_bounds(len(selected), state.transactions_page_size, offset, dropped)
        payload: dict[str, Any] = {
            "transactions": [
                transaction_object(v, s, seller.seller_id) for v, s in selected[start:end]
            ]
        }
        if nxt >= 0:
            payload["nextToken"] = _token(nxt, key)
        return ExactJSONResponse({"payload": payload})

    def list_summary(request: Request) -> Response:
        name = request.query_params.get("relatedIdentifierName")
        value = request.query_params.get("relatedIdentifierValue")
        if name and name != "SETTLEMENT_ID":
            raise _BadRequest("relatedIdentifierName must be SETTLEMENT_ID.")
        chosen = [s for s in settlements() if not value or s.settlement_id == value]
        summaries = []
        for s in chosen:
            view = _view(state, s)
            charges = [c for v in view.events for c in v.charges]
            summaries.append(
                {
                    "partnerMetadata": {
                        "partnerId": seller.seller_id,
                        "accountType": "Standard Orders",
                        "marketplaceId": s.marketplace_id,
                    },
                    "netProceeds": _money(
                        sum((c.amount for c in charges), Decimal("0.00")), s.currency, camel=True
                    ),
                    "relatedIdentifiers": [
                        {
                            "relatedIdentifierName": "SETTLEMENT_ID",
                            "relatedIdentifierValue": s.settlement_id,
                        }
                    ],
                    "breakdowns": _breakdowns(charges, s.currency),
                    "periodStart": _ts(s.start),
                    "periodEnd": _ts(s.end),
                }
            )
        return ExactJSONResponse({"summaries": summaries})

    # -- admin ----------------------------------------------------------------------------

    async def admin(request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse(state.snapshot())
        try:
            body = json.loads(await request.body() or b"{}")
            if not isinstance(body, Mapping):
                raise ValueError("body must be a JSON object")
            if "v0_events" in body:
                state.v0_events_enabled = bool(body["v0_events"])
            if "v0_page_cap" in body:
                state.v0_page_cap = int(body["v0_page_cap"])
                state._views.clear()
            if "transactions_page_size" in body:
                state.transactions_page_size = int(body["transactions_page_size"])
            if body.get("clear"):
                state.clear()
            for sid, names in (body.get("distort") or {}).items():
                state.distort(str(sid), *[str(n) for n in names])
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(state.snapshot())

    return [
        Route(
            "/finances/v0/financialEventGroups",
            operation(ctx, "listFinancialEventGroups")(guarded(list_groups)),
            methods=["GET"],
        ),
        Route(
            "/finances/v0/financialEventGroups/{eventGroupId}/financialEvents",
            operation(ctx, "listFinancialEventsByGroupId")(guarded(list_events_by_group)),
            methods=["GET"],
        ),
        Route(
            "/finances/2024-06-19/transactions",
            operation(ctx, "listTransactions")(guarded(list_transactions)),
            methods=["GET"],
        ),
        Route(
            "/finances/2024-06-19/summary",
            operation(ctx, "listSummary")(guarded(list_summary)),
            methods=["GET"],
        ),
        Route("/_sandbox/finances", admin, methods=["GET", "POST"]),
    ]


def late_events(ctx: SpApiContext, settlement_id: str) -> list[ViewEvent]:
    """Ledger-derived truth for tests: events the API shows after their group's end."""
    s = ctx.seller.by_settlement_id(settlement_id)
    if s is None:
        return []
    return [v for v in _view(finances_state(ctx), s).events if v.late]
