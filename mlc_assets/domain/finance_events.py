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
under their own family, which the mapping will refuse by name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal, Protocol

import polars as pl
from pydantic import BaseModel, ConfigDict

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

# The 34 lists of the v0 model snapshot (NOTES §3). Anything else is reported as unknown.
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
    if not obj:
        return None
    if name in obj:
        return obj[name]
    for variant in (name[:1].lower() + name[1:], name[:1].upper() + name[1:]):
        if variant in obj:
            return obj[variant]
    folded = name.casefold()
    for key, value in obj.items():
        if key.casefold() == folded:
            return value
    return None


def parse_money(obj: Any, *, page: str, ref: str) -> tuple[Decimal, str] | None:
    """A Currency object → (exact two-place Decimal, currency code); None when absent."""
    if obj is None:
        return None
    if not isinstance(obj, Mapping):
        raise FinanceEventError(f"expected a Currency object, got {obj!r}", page=page, ref=ref)
    raw = pick(obj, "CurrencyAmount")
    code = pick(obj, "CurrencyCode")
    if raw is None:
        return None
    if isinstance(raw, float):
        raise FinanceEventError(
            "amount parsed as float; parse JSON with parse_float=Decimal", page=page, ref=ref
        )
    try:
        value = Decimal(str(raw))
    except ArithmeticError as exc:
        raise FinanceEventError(f"not an amount: {raw!r}", page=page, ref=ref) from exc
    money = value.quantize(CENT)
    if money != value:
        # Rounding here would silently move money; stop and say where.
        raise FinanceEventError(f"amount {raw} has more than two decimals", page=page, ref=ref)
    return money, str(code or "")


def parse_timestamp(value: Any, *, page: str, ref: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as exc:
        raise FinanceEventError(f"not an ISO-8601 date: {value!r}", page=page, ref=ref) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def unknown_event_lists(financial_events: Mapping[str, Any] | None) -> list[str]:
    """Event list keys that the v0 model snapshot does not define (reported, not dropped)."""
    return sorted(k for k in (financial_events or {}) if k.casefold() not in _KNOWN_FOLDED)


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


def _parsed(page: Any) -> Mapping[str, Any]:
    return page.parsed if hasattr(page, "parsed") else page


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
) -> None:
    for j, comp in enumerate(components or ()):
        cref = f"{ref}.{charge_list}[{j}]"
        if pick(comp, "TaxesWithheld") is not None:
            _components(
                rows,
                pick(comp, "TaxesWithheld"),
                family=family,
                charge_list=charge_list,
                order_id=order_id,
                posted=posted,
                marketplace=marketplace,
                page=page,
                ref=cref,
            )
            continue
        for type_field, amount_field in _COMPONENT_FIELDS:
            amount = pick(comp, amount_field)
            if amount is not None:
                money = parse_money(amount, page=page, ref=cref)
                if money is not None:
                    rows.add(
                        family=family,
                        charge_list=charge_list,
                        charge_type=pick(comp, type_field),
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
                f"component without a known amount field: {sorted(comp)}", page=page, ref=cref
            )


def _is_currency(value: Any) -> bool:
    return isinstance(value, Mapping) and pick(value, "CurrencyAmount") is not None


def _flatten_v0_event(
    rows: _Rows, list_name: str, event: Mapping[str, Any], *, page: str, ref: str
) -> None:
    family = family_of(list_name)
    posted = parse_timestamp(pick(event, "PostedDate"), page=page, ref=ref)
    order_id = pick(event, "AmazonOrderId")
    marketplace = pick(event, "MarketplaceName") or pick(event, "MarketplaceId")
    common = {"order_id": order_id, "posted": posted, "marketplace": marketplace, "page": page}
    if list_name in SHIPMENT_LIKE:
        for lst in _ORDER_LEVEL_LISTS:
            _components(rows, pick(event, lst), family=family, charge_list=lst, ref=ref, **common)
        for item_list in ("ShipmentItemList", "ShipmentItemAdjustmentList"):
            for i, item in enumerate(pick(event, item_list) or ()):
                iref = f"{ref}.{item_list}[{i}]"
                for lst in _ITEM_LISTS:
                    _components(
                        rows, pick(item, lst), family=family, charge_list=lst, ref=iref, **common
                    )
                for single in _ITEM_SINGLE_AMOUNTS:
                    money = parse_money(pick(item, single), page=page, ref=iref)
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
        _components(
            rows, pick(event, "FeeList"), family=family, charge_list="FeeList", ref=ref, **common
        )
        return
    if list_name == "AdjustmentEventList":
        money = parse_money(pick(event, "AdjustmentAmount"), page=page, ref=ref)
        if money is None:
            raise FinanceEventError("AdjustmentEvent without AdjustmentAmount", page=page, ref=ref)
        rows.add(
            family=family,
            charge_list="AdjustmentAmount",
            charge_type=pick(event, "AdjustmentType"),
            money=money,
            ref=ref,
            **common,
        )
        return
    if list_name in ("ProductAdsPaymentEventList", "SellerDealPaymentEventList"):
        total_field = "transactionValue" if "ProductAds" in list_name else "totalAmount"
        money = parse_money(pick(event, total_field), page=page, ref=ref)
        if money is None:
            raise FinanceEventError(f"event without {total_field}", page=page, ref=ref)
        type_field = "transactionType" if "ProductAds" in list_name else "eventType"
        rows.add(
            family=family,
            charge_list=total_field,
            charge_type=pick(event, type_field),
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
    point is that the money is visible, not that it is classified here."""
    common = {"order_id": order_id, "posted": posted, "marketplace": marketplace, "page": page}
    found = False
    for key, value in event.items():
        if _is_currency(value):
            money = parse_money(value, page=page, ref=ref)
            if money is not None:
                rows.add(
                    family=family,
                    charge_list=key,
                    charge_type=key,
                    money=money,
                    ref=f"{ref}.{key}",
                    **common,
                )
                found = True
        elif isinstance(value, list) and value and isinstance(value[0], Mapping):
            if any(pick(value[0], a) is not None for _, a in _COMPONENT_FIELDS):
                _components(rows, value, family=family, charge_list=key, ref=ref, **common)
                found = True
    if not found and event:
        raise FinanceEventError(
            f"{family} event with no amount this flattener can find: {sorted(event)}",
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
        payload = pick(_parsed(page), "payload") or {}
        events = pick(payload, "FinancialEvents") or {}
        for list_name, items in events.items():
            canonical = next(
                (k for k in KNOWN_V0_EVENT_LISTS if k.casefold() == list_name.casefold()),
                list_name,
            )
            for i, event in enumerate(items or ()):
                _flatten_v0_event(rows, canonical, event, page=key, ref=f"{canonical}[{i}]")
    return rows.frame()


# ---------------------------------------------------------------- 2024-06-19


def related_identifier(transaction: Mapping[str, Any], name: str) -> str | None:
    for rel in pick(transaction, "relatedIdentifiers") or ():
        if pick(rel, "relatedIdentifierName") == name:
            value = pick(rel, "relatedIdentifierValue")
            return str(value) if value is not None else None
    return None


def _leaves(
    breakdowns: Sequence[Mapping[str, Any]] | None, parents: tuple[str, ...] = ()
) -> Iterable[tuple[tuple[str, ...], Mapping[str, Any]]]:
    for b in breakdowns or ():
        children = pick(b, "breakdowns")
        btype = str(pick(b, "breakdownType") or "")
        if children:
            yield from _leaves(children, (*parents, btype))
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
    ``totalAmount`` or the page is refused, naming the transaction."""
    rows = _Rows(api="2024-06-19", group_id=group_id, settlement_id=settlement_id)
    for index, page in enumerate(pages):
        key = _page_key(page, index)
        payload = pick(_parsed(page), "payload") or {}
        for i, tx in enumerate(pick(payload, "transactions") or ()):
            ref = str(pick(tx, "transactionId") or f"transactions[{i}]")
            family = str(pick(tx, "transactionType") or "")
            posted = parse_timestamp(pick(tx, "postedDate"), page=key, ref=ref)
            details = pick(tx, "marketplaceDetails") or {}
            meta = pick(tx, "sellingPartnerMetadata") or {}
            marketplace = pick(details, "marketplaceId") or pick(meta, "marketplaceId")
            total = parse_money(pick(tx, "totalAmount"), page=key, ref=ref)
            if total is None:
                raise FinanceEventError("transaction without totalAmount", page=key, ref=ref)
            common = {
                "order_id": related_identifier(tx, "ORDER_ID"),
                "posted": posted,
                "marketplace": marketplace,
                "page": key,
                "group_id": related_identifier(tx, "FINANCIAL_EVENT_GROUP_ID"),
                "settlement_id": related_identifier(tx, "SETTLEMENT_ID"),
            }
            breakdowns = pick(tx, "breakdowns")
            if not breakdowns:
                breakdowns = [
                    b for item in pick(tx, "items") or () for b in pick(item, "breakdowns") or ()
                ]
            leaves = list(_leaves(breakdowns))
            if not leaves:
                rows.add(
                    family=family,
                    charge_list="totalAmount",
                    charge_type=str(pick(tx, "description") or family),
                    money=total,
                    ref=ref,
                    **common,
                )
                continue
            subtotal = ZERO
            for j, (parents, leaf) in enumerate(leaves):
                money = parse_money(pick(leaf, "breakdownAmount"), page=key, ref=ref)
                if money is None:
                    raise FinanceEventError(
                        f"breakdown {'/'.join((*parents, str(pick(leaf, 'breakdownType'))))} "
                        "without breakdownAmount",
                        page=key,
                        ref=ref,
                    )
                subtotal += money[0]
                rows.add(
                    family=family,
                    charge_list=_list_for(family, parents),
                    charge_type=str(pick(leaf, "breakdownType") or ""),
                    money=money,
                    ref=f"{ref}#{j}",
                    **common,
                )
            if subtotal != total[0]:
                raise FinanceEventError(
                    f"breakdowns add up to {subtotal}, totalAmount is {total[0]}",
                    page=key,
                    ref=ref,
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
        gid = pick(raw, "FinancialEventGroupId")
        if not gid:
            raise FinanceEventError("group without FinancialEventGroupId", page=page)
        ref = f"group {gid}"
        orig = parse_money(pick(raw, "OriginalTotal"), page=page, ref=ref)
        conv = parse_money(pick(raw, "ConvertedTotal"), page=page, ref=ref)
        begin = parse_money(pick(raw, "BeginningBalance"), page=page, ref=ref)
        return cls(
            group_id=str(gid),
            processing_status=pick(raw, "ProcessingStatus"),
            fund_transfer_status=pick(raw, "FundTransferStatus"),
            original_total=orig[0] if orig else None,
            original_currency=orig[1] if orig else None,
            converted_total=conv[0] if conv else None,
            converted_currency=conv[1] if conv else None,
            beginning_balance=begin[0] if begin else None,
            fund_transfer_date=parse_timestamp(pick(raw, "FundTransferDate"), page=page, ref=ref),
            trace_id=pick(raw, "TraceId"),
            account_tail=pick(raw, "AccountTail"),
            start=parse_timestamp(pick(raw, "FinancialEventGroupStart"), page=page, ref=ref),
            end=parse_timestamp(pick(raw, "FinancialEventGroupEnd"), page=page, ref=ref),
        )


def groups_from_pages(pages: Iterable[PageLike | Mapping[str, Any]]) -> list[FinancialEventGroup]:
    out: list[FinancialEventGroup] = []
    for index, page in enumerate(pages):
        payload = pick(_parsed(page), "payload") or {}
        for raw in pick(payload, "FinancialEventGroupList") or ():
            out.append(FinancialEventGroup.from_api(raw, page=_page_key(page, index)))
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
