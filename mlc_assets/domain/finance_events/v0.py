"""Finances v0 event pages to finance lines: every money object, by its path, once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import polars as pl

from mlc_assets.domain.finance_events.schema import (
    _COMPONENT_FIELDS,
    _ITEM_LISTS,
    _ITEM_SINGLE_AMOUNTS,
    _MAX_DEPTH,
    _ORDER_LEVEL_LISTS,
    _REPEATED_MONEY,
    FINANCE_LINE_SCHEMA,
    KNOWN_V0_EVENT_LISTS,
    SHIPMENT_LIKE,
    FinanceEventError,
    PageLike,
)
from mlc_assets.domain.finance_events.values import (
    _array,
    _object,
    _refuse_unread_money,
    _show,
    _text,
    family_of,
    parse_money,
    parse_timestamp,
    pick,
)

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
