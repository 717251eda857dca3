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

from mlc_assets.domain.finance_events.groups import (
    FinancialEventGroup,
    SourceApi,
    flag_late_events,
    groups_from_pages,
)
from mlc_assets.domain.finance_events.schema import (
    _ADJUSTMENT_FAMILIES,
    _COMPONENT_FIELDS,
    _CURRENCY_CODE,
    _ITEM_LISTS,
    _ITEM_SINGLE_AMOUNTS,
    _KNOWN_FOLDED,
    _MAX_DEPTH,
    _MONEY_LIMIT,
    _ORDER_LEVEL_LISTS,
    _REPEATED_MONEY,
    BREAKDOWN_LIST_ALIASES,
    FINANCE_LINE_SCHEMA,
    KNOWN_V0_EVENT_LISTS,
    SHIPMENT_LIKE,
    FinanceEventError,
    PageLike,
)
from mlc_assets.domain.finance_events.transactions import (
    _leaves,
    _list_for,
    flatten_transactions,
    related_identifier,
)
from mlc_assets.domain.finance_events.v0 import (
    _components,
    _flatten_generic,
    _flatten_v0_event,
    _is_currency,
    _page_key,
    _parsed,
    _payload,
    _Rows,
    flatten_v0_events,
)
from mlc_assets.domain.finance_events.values import (
    _array,
    _object,
    _refuse_unread_money,
    _show,
    _text,
    family_of,
    holds_money,
    parse_money,
    parse_timestamp,
    pick,
    unknown_event_lists,
)

__all__ = [
    "BREAKDOWN_LIST_ALIASES",
    "FINANCE_LINE_SCHEMA",
    "KNOWN_V0_EVENT_LISTS",
    "SHIPMENT_LIKE",
    "_ADJUSTMENT_FAMILIES",
    "_COMPONENT_FIELDS",
    "_CURRENCY_CODE",
    "_ITEM_LISTS",
    "_ITEM_SINGLE_AMOUNTS",
    "_KNOWN_FOLDED",
    "_MAX_DEPTH",
    "_MONEY_LIMIT",
    "_ORDER_LEVEL_LISTS",
    "_REPEATED_MONEY",
    "FinanceEventError",
    "FinancialEventGroup",
    "PageLike",
    "SourceApi",
    "_Rows",
    "_array",
    "_components",
    "_flatten_generic",
    "_flatten_v0_event",
    "_is_currency",
    "_leaves",
    "_list_for",
    "_object",
    "_page_key",
    "_parsed",
    "_payload",
    "_refuse_unread_money",
    "_show",
    "_text",
    "family_of",
    "flag_late_events",
    "flatten_transactions",
    "flatten_v0_events",
    "groups_from_pages",
    "holds_money",
    "parse_money",
    "parse_timestamp",
    "pick",
    "related_identifier",
    "unknown_event_lists",
]
