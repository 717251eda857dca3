"""Finances API pages (v0 events or 2024-06-19 transactions) → one canonical line frame.

Both API versions describe the same money in different shapes; reconciliation and the GL
mapping must only ever see one shape, so both flatten to ``FINANCE_LINE_SCHEMA``: one row per
money component, seller-positive, exact Decimal(18,2).

Vocabulary (decided here, shared with the GL mapping):
* ``event_family`` is the v0 event list name without ``EventList`` (``Shipment``,
  ``Refund``, ``ServiceFee``, ``Adjustment``, ``ProductAdsPayment`` ...). These are also the
  2024-06-19 ``transactionType`` values, so both APIs land on the same family.
* ``charge_list`` is the v0 list that holds the component (``ItemChargeList``,
  ``ItemFeeList``, ``PromotionList``, ``ItemTaxWithheldList``, ``FeeList``...) or, for
  single-amount events, the amount field (``AdjustmentAmount``, ``transactionValue``).
  2024-06-19 breakdown parents are translated to the same names via
  ``BREAKDOWN_LIST_ALIASES``; unknown parents are kept verbatim (the mapping then stops on
  them by name rather than guessing).
* ``charge_type`` is ChargeType / FeeType / PromotionType / AdjustmentType /
  transactionType (v0) or the leaf ``breakdownType`` (2024-06-19).

Nothing is dropped: event lists this module has no shape for are flattened generically
(every Currency amount found in a component list or at the event's top level) and show up
under their own family, which the mapping will refuse by name. Known shapes are read by
rule; a field this module does not read that still holds money (a renamed or new field) stops
the page with its path rather than being skipped.

Wrong types anywhere (a list where an object belongs, a number as a currency code, an amount
that is not a finite two-place number within DECIMAL(18,2)) raise ``FinanceEventError`` with
the page and the event path, never a bare Python error.
"""

from __future__ import annotations

import re
import reprlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal, Protocol

import polars as pl
from pydantic import BaseModel, ConfigDict, ValidationError

from mlc_assets.domain.errors import MlcError
from mlc_assets.domain.money import CENT, MONEY_DTYPE, ZERO

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


# ---------------------------------------------------------------- case-tolerant access


def pick(obj: Mapping[str, Any] | None, name: str) -> Any:
    """Field by name, tolerating PascalCase/lowerCamel drift (e.g. CurrencyAmount vs
    currencyAmount): Amazon mixes both within one v0 response."""
    if not obj or not isinstance(obj, Mapping):
        return None
    if name in obj:
        return obj[name]
    for variant in (name[:1].lower() + name[1:], name[:1].upper() + name[1:]):
        if variant in obj:
            return obj[variant]
    folded = name.casefold()
    for key, value in obj.items():
        if isinstance(key, str) and key.casefold() == folded:
            return value
    return None


def _show(value: Any) -> str:
    """Short, type-revealing rendering of bad input for a message (payloads can be huge)."""
    return f"{type(value).__name__} {reprlib.repr(value)}"


def _object(value: Any, what: str, *, page: str, ref: str | None = None) -> Mapping[str, Any]:
    """An optional JSON object; absent is empty, any other type stops the page."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return value
    raise FinanceEventError(f"{what}: expected an object, got {_show(value)}", page=page, ref=ref)


def _array(value: Any, what: str, *, page: str, ref: str | None = None) -> Sequence[Any]:
    """An optional JSON array; absent is empty, any other type stops the page."""
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return value
    raise FinanceEventError(f"{what}: expected a list, got {_show(value)}", page=page, ref=ref)


def _text(value: Any, what: str, *, page: str, ref: str | None = None) -> str | None:
    """An optional identifier/label; numbers are accepted as their text, objects are not."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(value)
    raise FinanceEventError(f"{what}: expected a string, got {_show(value)}", page=page, ref=ref)


def holds_money(value: Any) -> bool:
    """Whether a value has a Currency amount anywhere inside (iterative: input may be deep)."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, Mapping):
            if pick(node, "CurrencyAmount") is not None:
                return True
            stack.extend(node.values())
        elif isinstance(node, list | tuple):
            stack.extend(node)
    return False


def _refuse_unread_money(
    obj: Mapping[str, Any], read: Iterable[str], *, page: str, ref: str
) -> None:
    """A field holding money that no rule reads would vanish from the ledger: stop instead."""
    folded = {name.casefold() for name in read}
    seen: dict[str, Any] = {}
    for key, value in obj.items():
        name = str(key).casefold()
        if name not in folded and holds_money(value):
            raise FinanceEventError(
                f"field {key!r} holds money this flattener does not read", page=page, ref=ref
            )
        # Field names are read case-tolerantly, so two that differ only in case would be
        # one field: the other's money would vanish unseen.
        if name in seen and (holds_money(value) or holds_money(obj[seen[name]])):
            raise FinanceEventError(
                f"fields {seen[name]!r} and {key!r} differ only in case and hold money; "
                "which one counts is unknown",
                page=page,
                ref=ref,
            )
        seen[name] = key


def parse_money(obj: Any, *, page: str, ref: str) -> tuple[Decimal, str] | None:
    """A Currency object → (exact two-place Decimal, currency code); None when absent."""
    if obj is None:
        return None
    if not isinstance(obj, Mapping):
        raise FinanceEventError(f"expected a Currency object, got {_show(obj)}", page=page, ref=ref)
    raw = pick(obj, "CurrencyAmount")
    code = pick(obj, "CurrencyCode")
    if len({str(k) for k in obj if str(k).casefold() == "currencyamount"}) > 1:
        raise FinanceEventError(
            f"Currency object has CurrencyAmount twice (names differing only in case): "
            f"{_show(obj)}",
            page=page,
            ref=ref,
        )
    if raw is None:
        # An empty object is "no amount"; a currency without an amount is a hole in the data.
        if obj:
            raise FinanceEventError(
                f"Currency object without CurrencyAmount: {_show(obj)}", page=page, ref=ref
            )
        return None
    if isinstance(raw, float):
        raise FinanceEventError(
            "amount parsed as float; parse JSON with parse_float=Decimal", page=page, ref=ref
        )
    if isinstance(raw, bool) or not isinstance(raw, int | Decimal | str):
        raise FinanceEventError(f"not an amount: {_show(raw)}", page=page, ref=ref)
    try:
        value = Decimal(raw.strip() if isinstance(raw, str) else raw)
    except ArithmeticError as exc:
        raise FinanceEventError(f"not an amount: {_show(raw)}", page=page, ref=ref) from exc
    if not value.is_finite():
        raise FinanceEventError(f"not a finite amount: {_show(raw)}", page=page, ref=ref)
    if abs(value) >= _MONEY_LIMIT:
        raise FinanceEventError(f"amount {_show(raw)} exceeds DECIMAL(18,2)", page=page, ref=ref)
    money = value.quantize(CENT)
    if money != value:
        # Rounding here would silently move money; stop and say where.
        raise FinanceEventError(
            f"amount {_show(raw)} has more than two decimals", page=page, ref=ref
        )
    if not isinstance(code, str) or not _CURRENCY_CODE.fullmatch(code.strip().upper()):
        raise FinanceEventError(
            f"amount {money} without an ISO 4217 CurrencyCode (got {_show(code)})",
            page=page,
            ref=ref,
        )
    return money, code.strip().upper()


def parse_timestamp(value: Any, *, page: str, ref: str) -> datetime | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise FinanceEventError(f"not an ISO-8601 date: {_show(value)}", page=page, ref=ref)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError) as exc:  # OverflowError: year 1 or 9999 moved to UTC
        raise FinanceEventError(
            f"not an ISO-8601 date: {_show(value)}", page=page, ref=ref
        ) from exc


def unknown_event_lists(financial_events: Mapping[str, Any] | None) -> list[str]:
    """Event list keys that the v0 model snapshot does not define (reported, not dropped)."""
    if not isinstance(financial_events, Mapping):
        return []
    return sorted(str(k) for k in financial_events if str(k).casefold() not in _KNOWN_FOLDED)


def family_of(list_name: str) -> str:
    """``ShipmentEventList`` → ``Shipment`` (also the 2024-06-19 transactionType)."""
    for suffix in ("EventList", "List"):
        if list_name.endswith(suffix):
            return list_name[: -len(suffix)]
    return list_name


# ---------------------------------------------------------------- row collection


@dataclass
class _Rows:
    """Column lists; built in Python (the JSON is nested) and turned into one frame."""

    api: str
    group_id: str | None
    settlement_id: str | None

    def __post_init__(self) -> None:
        self.cols: dict[str, list[Any]] = {k: [] for k in FINANCE_LINE_SCHEMA}

    def add(
        self,
        *,
        family: str,
        charge_list: str,
        charge_type: str | None,
        money: tuple[Decimal, str],
        order_id: str | None,
        posted: datetime | None,
        marketplace: str | None,
        page: str,
        ref: str,
        group_id: str | None = None,
        settlement_id: str | None = None,
    ) -> None:
        c = self.cols
        c["settlement_id"].append(settlement_id or self.settlement_id)
        c["group_id"].append(group_id or self.group_id)
        c["api"].append(self.api)
        c["event_family"].append(family)
        c["charge_list"].append(charge_list)
        c["charge_type"].append(charge_type or "")
        c["order_id"].append(order_id or None)
        c["posted_date"].append(posted)
        c["amount"].append(money[0])
        c["currency"].append(money[1])
        c["marketplace"].append(marketplace or None)
        c["source_page"].append(page)
        c["event_ref"].append(ref)

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame(self.cols, schema=FINANCE_LINE_SCHEMA)


def _page_key(page: Any, index: int) -> str:
    digest = getattr(page, "sha256", None)
    return str(digest) if digest else str(index)


def _parsed(page: Any) -> Any:
    return page.parsed if hasattr(page, "parsed") else page


def _payload(page: Any, key: str) -> Mapping[str, Any]:
    body = _object(_parsed(page), "page body", page=key)
    return _object(pick(body, "payload"), "payload", page=key)


def _components(
    rows: _Rows,
    components: Any,
    *,
    family: str,
    charge_list: str,
    order_id: str | None,
    posted: datetime | None,
    marketplace: str | None,
    page: str,
    ref: str,
    depth: int = 0,
) -> None:
    for j, comp in enumerate(_array(components, charge_list, page=page, ref=ref)):
        cref = f"{ref}.{charge_list}[{j}]"
        if not isinstance(comp, Mapping):
            raise FinanceEventError(f"expected an object, got {_show(comp)}", page=page, ref=cref)
        withheld = pick(comp, "TaxesWithheld")
        if withheld is not None:
            if depth >= _MAX_DEPTH:
                raise FinanceEventError("TaxesWithheld nested too deep", page=page, ref=cref)
            _refuse_unread_money(comp, ("TaxesWithheld",), page=page, ref=cref)
            _components(
                rows,
                withheld,
                family=family,
                charge_list=charge_list,
                order_id=order_id,
                posted=posted,
                marketplace=marketplace,
                page=page,
                ref=cref,
                depth=depth + 1,
            )
            continue
        for type_field, amount_field in _COMPONENT_FIELDS:
            amount = pick(comp, amount_field)
            if amount is not None:
                # One component, one amount: a second one would be silently ignored.
                _refuse_unread_money(comp, (amount_field,), page=page, ref=cref)
                money = parse_money(amount, page=page, ref=cref)
                if money is not None:
                    rows.add(
                        family=family,
                        charge_list=charge_list,
                        charge_type=_text(pick(comp, type_field), type_field, page=page, ref=cref),
                        money=money,
                        order_id=order_id,
                        posted=posted,
                        marketplace=marketplace,
                        page=page,
                        ref=cref,
                    )
                break
        else:
            raise FinanceEventError(
                f"component without a known amount field: {sorted(map(str, comp))}",
                page=page,
                ref=cref,
            )


def _is_currency(value: Any) -> bool:
    return isinstance(value, Mapping) and pick(value, "CurrencyAmount") is not None


def _flatten_v0_event(rows: _Rows, list_name: str, event: Any, *, page: str, ref: str) -> None:
    if not isinstance(event, Mapping):
        raise FinanceEventError(f"expected an event object, got {_show(event)}", page=page, ref=ref)
    family = family_of(list_name)
    posted = parse_timestamp(pick(event, "PostedDate"), page=page, ref=ref)
    order_id = _text(pick(event, "AmazonOrderId"), "AmazonOrderId", page=page, ref=ref)
    marketplace = _text(
        pick(event, "MarketplaceName") or pick(event, "MarketplaceId"),
        "MarketplaceName",
        page=page,
        ref=ref,
    )
    common = {"order_id": order_id, "posted": posted, "marketplace": marketplace, "page": page}
    if list_name in SHIPMENT_LIKE:
        item_lists = ("ShipmentItemList", "ShipmentItemAdjustmentList")
        _refuse_unread_money(event, (*_ORDER_LEVEL_LISTS, *item_lists), page=page, ref=ref)
        for lst in _ORDER_LEVEL_LISTS:
            _components(rows, pick(event, lst), family=family, charge_list=lst, ref=ref, **common)
        for item_list in item_lists:
            for i, item in enumerate(_array(pick(event, item_list), item_list, page=page, ref=ref)):
                iref = f"{ref}.{item_list}[{i}]"
                if not isinstance(item, Mapping):
                    raise FinanceEventError(
                        f"expected an item object, got {_show(item)}", page=page, ref=iref
                    )
                _refuse_unread_money(
                    item, (*_ITEM_LISTS, *_ITEM_SINGLE_AMOUNTS), page=page, ref=iref
                )
                for lst in _ITEM_LISTS:
                    _components(
                        rows, pick(item, lst), family=family, charge_list=lst, ref=iref, **common
                    )
                for single in _ITEM_SINGLE_AMOUNTS:
                    money = parse_money(pick(item, single), page=page, ref=f"{iref}.{single}")
                    if money is not None:
                        rows.add(
                            family=family,
                            charge_list=single,
                            charge_type=single,
                            money=money,
                            ref=f"{iref}.{single}",
                            **common,
                        )
        return
    if list_name == "ServiceFeeEventList":
        _refuse_unread_money(event, ("FeeList",), page=page, ref=ref)
        _components(
            rows, pick(event, "FeeList"), family=family, charge_list="FeeList", ref=ref, **common
        )
        return
    if list_name == "AdjustmentEventList":
        _refuse_unread_money(
            event, ("AdjustmentAmount", *_REPEATED_MONEY[list_name]), page=page, ref=ref
        )
        money = parse_money(pick(event, "AdjustmentAmount"), page=page, ref=ref)
        if money is None:
            raise FinanceEventError("AdjustmentEvent without AdjustmentAmount", page=page, ref=ref)
        rows.add(
            family=family,
            charge_list="AdjustmentAmount",
            charge_type=_text(pick(event, "AdjustmentType"), "AdjustmentType", page=page, ref=ref),
            money=money,
            ref=ref,
            **common,
        )
        return
    if list_name in ("ProductAdsPaymentEventList", "SellerDealPaymentEventList"):
        total_field = "transactionValue" if "ProductAds" in list_name else "totalAmount"
        _refuse_unread_money(event, (total_field, *_REPEATED_MONEY[list_name]), page=page, ref=ref)
        money = parse_money(pick(event, total_field), page=page, ref=ref)
        if money is None:
            raise FinanceEventError(f"event without {total_field}", page=page, ref=ref)
        type_field = "transactionType" if "ProductAds" in list_name else "eventType"
        rows.add(
            family=family,
            charge_list=total_field,
            charge_type=_text(pick(event, type_field), type_field, page=page, ref=ref),
            money=money,
            ref=ref,
            **common,
        )
        return
    _flatten_generic(rows, family, event, ref=ref, **common)


def _flatten_generic(
    rows: _Rows,
    family: str,
    event: Mapping[str, Any],
    *,
    ref: str,
    order_id: str | None,
    posted: datetime | None,
    marketplace: str | None,
    page: str,
) -> None:
    """Shapes without a dedicated rule: every component list plus top-level amounts.

    Lines land under their own family, so the mapping names them instead of guessing; the
    point is that the money is visible, not that it is classified here. Deeper money (item
    lists such as DebtRecoveryItemList) is detail that repeats the top-level totals and is
    not read. A single component object (PayWithAmazon ``Charge``) is read only when the
    event has no top-level amount: CouponPayment-like events carry a TotalAmount that
    already includes their Fee/ChargeComponent."""
    common = {"order_id": order_id, "posted": posted, "marketplace": marketplace, "page": page}
    component_fields = (*(a for _, a in _COMPONENT_FIELDS), "TaxesWithheld")

    def is_component(value: Any) -> bool:
        return isinstance(value, Mapping) and any(
            pick(value, a) is not None for a in component_fields
        )

    has_total = any(_is_currency(value) for value in event.values())
    found = False
    for key, value in event.items():
        if _is_currency(value):
            money = parse_money(value, page=page, ref=f"{ref}.{key}")
            if money is not None:
                rows.add(
                    family=family,
                    charge_list=str(key),
                    charge_type=str(key),
                    money=money,
                    ref=f"{ref}.{key}",
                    **common,
                )
                found = True
        elif isinstance(value, list) and value and is_component(value[0]):
            # TaxWithheldComponent lists (RetrochargeTaxWithheldList) nest their amounts
            # under TaxesWithheld; they used to be skipped here.
            _components(rows, value, family=family, charge_list=str(key), ref=ref, **common)
            found = True
        elif not has_total and is_component(value):
            _components(rows, [value], family=family, charge_list=str(key), ref=ref, **common)
            found = True
    if not found and event:
        raise FinanceEventError(
            f"{family} event with no amount this flattener can find: {sorted(map(str, event))}",
            page=page,
            ref=ref,
        )


def flatten_v0_events(
    pages: Iterable[PageLike | Mapping[str, Any]],
    *,
    group_id: str,
    settlement_id: str | None = None,
) -> pl.DataFrame:
    """Pages of listFinancialEventsByGroupId → canonical lines (``FINANCE_LINE_SCHEMA``)."""
    rows = _Rows(api="v0", group_id=group_id, settlement_id=settlement_id)
    for index, page in enumerate(pages):
        key = _page_key(page, index)
        payload = _payload(page, key)
        events = _object(pick(payload, "FinancialEvents"), "FinancialEvents", page=key)
        for list_name, items in events.items():
            canonical = next(
                (k for k in KNOWN_V0_EVENT_LISTS if k.casefold() == str(list_name).casefold()),
                str(list_name),
            )
            for i, event in enumerate(_array(items, canonical, page=key, ref=canonical)):
                _flatten_v0_event(rows, canonical, event, page=key, ref=f"{canonical}[{i}]")
    return rows.frame()


# ---------------------------------------------------------------- 2024-06-19


def related_identifier(
    transaction: Mapping[str, Any], name: str, *, page: str = "?", ref: str | None = None
) -> str | None:
    relations = _array(
        pick(transaction, "relatedIdentifiers"), "relatedIdentifiers", page=page, ref=ref
    )
    for rel in relations:
        if pick(rel, "relatedIdentifierName") == name:
            return _text(pick(rel, "relatedIdentifierValue"), name, page=page, ref=ref)
    return None


def _leaves(
    breakdowns: Any, *, page: str, ref: str, parents: tuple[str, ...] = ()
) -> Iterable[tuple[tuple[str, ...], Mapping[str, Any]]]:
    if len(parents) > _MAX_DEPTH:
        raise FinanceEventError(f"breakdowns nested deeper than {_MAX_DEPTH}", page=page, ref=ref)
    for b in _array(breakdowns, "breakdowns", page=page, ref=ref):
        if not isinstance(b, Mapping):
            raise FinanceEventError(
                f"breakdowns: expected an object, got {_show(b)}", page=page, ref=ref
            )
        _refuse_unread_money(
            b, ("breakdownAmount", "breakdowns"), page=page, ref=f"{ref} {'/'.join(parents)}"
        )
        children = pick(b, "breakdowns")
        btype = _text(pick(b, "breakdownType"), "breakdownType", page=page, ref=ref) or ""
        if children:
            yield from _leaves(children, page=page, ref=ref, parents=(*parents, btype))
        else:
            yield parents, b


def _list_for(family: str, parents: tuple[str, ...]) -> str:
    if not parents:
        return "breakdowns"
    alias = BREAKDOWN_LIST_ALIASES.get(parents[-1])
    if alias is None:
        return "/".join(parents)
    return alias[1] if family in _ADJUSTMENT_FAMILIES else alias[0]


def flatten_transactions(
    pages: Iterable[PageLike | Mapping[str, Any]],
    *,
    group_id: str | None = None,
    settlement_id: str | None = None,
) -> pl.DataFrame:
    """Pages of listTransactions → canonical lines.

    Transaction-level breakdown leaves become lines (item breakdowns repeat the same money,
    so they are only used when the transaction has none); leaves must add up to
    ``totalAmount`` in its currency or the page is refused, naming the transaction."""
    rows = _Rows(api="2024-06-19", group_id=group_id, settlement_id=settlement_id)
    for index, page in enumerate(pages):
        key = _page_key(page, index)
        payload = _payload(page, key)
        for i, tx in enumerate(_array(pick(payload, "transactions"), "transactions", page=key)):
            where = f"transactions[{i}]"
            if not isinstance(tx, Mapping):
                raise FinanceEventError(
                    f"expected a transaction object, got {_show(tx)}", page=key, ref=where
                )
            tid = _text(pick(tx, "transactionId"), "transactionId", page=key, ref=where)
            ref = tid or where
            where = f"{where} {tid}" if tid else where
            _refuse_unread_money(tx, ("totalAmount", "breakdowns", "items"), page=key, ref=where)
            family = _text(pick(tx, "transactionType"), "transactionType", page=key, ref=where)
            if not family:
                raise FinanceEventError("transaction without transactionType", page=key, ref=where)
            posted = parse_timestamp(pick(tx, "postedDate"), page=key, ref=where)
            details = _object(
                pick(tx, "marketplaceDetails"), "marketplaceDetails", page=key, ref=where
            )
            meta = _object(
                pick(tx, "sellingPartnerMetadata"), "sellingPartnerMetadata", page=key, ref=where
            )
            marketplace = _text(
                pick(details, "marketplaceId") or pick(meta, "marketplaceId"),
                "marketplaceId",
                page=key,
                ref=where,
            )
            total = parse_money(pick(tx, "totalAmount"), page=key, ref=f"{where}.totalAmount")
            if total is None:
                raise FinanceEventError("transaction without totalAmount", page=key, ref=where)
            common = {
                "order_id": related_identifier(tx, "ORDER_ID", page=key, ref=where),
                "posted": posted,
                "marketplace": marketplace,
                "page": key,
                "group_id": related_identifier(tx, "FINANCIAL_EVENT_GROUP_ID", page=key, ref=where),
                "settlement_id": related_identifier(tx, "SETTLEMENT_ID", page=key, ref=where),
            }
            breakdowns = pick(tx, "breakdowns")
            if not breakdowns:
                breakdowns = []
                for j, item in enumerate(_array(pick(tx, "items"), "items", page=key, ref=where)):
                    item_obj = _object(item, f"items[{j}]", page=key, ref=where)
                    breakdowns += _array(
                        pick(item_obj, "breakdowns"), f"items[{j}].breakdowns", page=key, ref=where
                    )
            leaves = list(_leaves(breakdowns, page=key, ref=where))
            if not leaves:
                rows.add(
                    family=family,
                    charge_list="totalAmount",
                    charge_type=_text(pick(tx, "description"), "description", page=key, ref=where)
                    or family,
                    money=total,
                    ref=ref,
                    **common,
                )
                continue
            subtotal = ZERO
            for j, (parents, leaf) in enumerate(leaves):
                btype = str(pick(leaf, "breakdownType") or "")
                path = "/".join((*parents, btype))
                money = parse_money(
                    pick(leaf, "breakdownAmount"), page=key, ref=f"{where} breakdown {path}"
                )
                if money is None:
                    raise FinanceEventError(
                        f"breakdown {path} without breakdownAmount", page=key, ref=where
                    )
                if money[1] != total[1]:
                    raise FinanceEventError(
                        f"breakdown {path} is in {money[1]}, totalAmount in {total[1]}",
                        page=key,
                        ref=where,
                    )
                subtotal += money[0]
                rows.add(
                    family=family,
                    charge_list=_list_for(family, parents),
                    charge_type=btype,
                    money=money,
                    ref=f"{ref}#{j}",
                    **common,
                )
            if subtotal != total[0]:
                raise FinanceEventError(
                    f"breakdowns add up to {subtotal}, totalAmount is {total[0]}",
                    page=key,
                    ref=where,
                )
    return rows.frame()


# ---------------------------------------------------------------- groups


class FinancialEventGroup(BaseModel):
    """One v0 financial event group, normalised (amounts Decimal, dates UTC)."""

    model_config = ConfigDict(frozen=True)

    group_id: str
    processing_status: str | None = None  # "Open" | "Closed"
    fund_transfer_status: str | None = None
    original_total: Decimal | None = None
    original_currency: str | None = None
    converted_total: Decimal | None = None
    converted_currency: str | None = None
    beginning_balance: Decimal | None = None
    fund_transfer_date: datetime | None = None
    trace_id: str | None = None
    account_tail: str | None = None
    start: datetime | None = None
    end: datetime | None = None

    @property
    def closed(self) -> bool:
        return (self.processing_status or "").casefold() == "closed"

    @classmethod
    def from_api(cls, raw: Mapping[str, Any], *, page: str = "?") -> FinancialEventGroup:
        if not isinstance(raw, Mapping):
            raise FinanceEventError(f"expected a group object, got {_show(raw)}", page=page)
        gid = _text(pick(raw, "FinancialEventGroupId"), "FinancialEventGroupId", page=page)
        if not gid:
            raise FinanceEventError("group without FinancialEventGroupId", page=page)
        ref = f"group {gid}"

        def text(name: str) -> str | None:
            return _text(pick(raw, name), name, page=page, ref=ref)

        def money(name: str) -> tuple[Decimal, str] | None:
            return parse_money(pick(raw, name), page=page, ref=f"{ref}.{name}")

        def when(name: str) -> datetime | None:
            return parse_timestamp(pick(raw, name), page=page, ref=f"{ref}.{name}")

        orig = money("OriginalTotal")
        conv = money("ConvertedTotal")
        begin = money("BeginningBalance")
        try:
            return cls(
                group_id=gid,
                processing_status=text("ProcessingStatus"),
                fund_transfer_status=text("FundTransferStatus"),
                original_total=orig[0] if orig else None,
                original_currency=orig[1] if orig else None,
                converted_total=conv[0] if conv else None,
                converted_currency=conv[1] if conv else None,
                beginning_balance=begin[0] if begin else None,
                fund_transfer_date=when("FundTransferDate"),
                trace_id=text("TraceId"),
                account_tail=text("AccountTail"),
                start=when("FinancialEventGroupStart"),
                end=when("FinancialEventGroupEnd"),
            )
        except ValidationError as exc:  # every field is checked above; kept as a backstop
            raise FinanceEventError(f"invalid group: {exc}", page=page, ref=ref) from exc


def groups_from_pages(pages: Iterable[PageLike | Mapping[str, Any]]) -> list[FinancialEventGroup]:
    out: list[FinancialEventGroup] = []
    for index, page in enumerate(pages):
        key = _page_key(page, index)
        groups = pick(_payload(page, key), "FinancialEventGroupList")
        for raw in _array(groups, "FinancialEventGroupList", page=key):
            out.append(FinancialEventGroup.from_api(raw, page=key))
    return out


def flag_late_events(lines: pl.DataFrame, group_end: datetime | None) -> pl.DataFrame:
    """Add ``late``: posted after the group closed but still returned for the group.

    Such events are easy to lose with a posted-date window; listing them lets a controller
    see why a group and its settlement report may differ."""
    if group_end is None:
        return lines.with_columns(pl.lit(False).alias("late"))
    return lines.with_columns(
        (pl.col("posted_date") > pl.lit(group_end).dt.convert_time_zone("UTC"))
        .fill_null(False)
        .alias("late")
    )


SourceApi = Literal["v0", "2024-06-19"]
