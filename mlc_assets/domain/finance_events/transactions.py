"""Finances 2024-06-19 transaction pages to finance lines, breakdowns flattened once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import polars as pl

from mlc_assets.domain.finance_events.schema import (
    _ADJUSTMENT_FAMILIES,
    _MAX_DEPTH,
    BREAKDOWN_LIST_ALIASES,
    FinanceEventError,
    PageLike,
)
from mlc_assets.domain.finance_events.v0 import _page_key, _payload, _Rows
from mlc_assets.domain.finance_events.values import (
    _array,
    _object,
    _refuse_unread_money,
    _show,
    _text,
    parse_money,
    parse_timestamp,
    pick,
)
from mlc_assets.domain.money import ZERO

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
