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

from mlc_assets.sandbox.finances_routes.render import (
    _DEC,
    _DEC_RE,
    ExactJSONResponse,
    _BadRequest,
    _breakdowns,
    _charge_component,
    _date_param,
    _encode,
    _fee_component,
    _int_param,
    _money,
    _offset,
    _opaque,
    _open_groups,
    _page_bounds,
    _query_key,
    _token,
    _ts,
    group_object,
    transaction_object,
    v0_event,
)
from mlc_assets.sandbox.finances_routes.routes import (
    _deprecated,
    finance_routes,
    late_events,
)
from mlc_assets.sandbox.finances_routes.view import (
    _ADJUSTMENT_LIKE,
    _DESCRIPTIONS,
    _EVENT_FEE_LISTS,
    _ITEM_CHARGE_LISTS,
    _ITEM_FEE_LISTS,
    _ITEM_PROMO_LISTS,
    _SHIPMENT_LIKE,
    BREAKDOWN_PARENT,
    DISTORTIONS,
    LATE_BY,
    MAX_WINDOW,
    MIN_AGE,
    STATE_KEY,
    FinancesSandboxState,
    ViewEvent,
    _build_view,
    _View,
    _view,
    finances_state,
)

__all__ = [
    "BREAKDOWN_PARENT",
    "DISTORTIONS",
    "LATE_BY",
    "MAX_WINDOW",
    "MIN_AGE",
    "STATE_KEY",
    "_ADJUSTMENT_LIKE",
    "_DEC",
    "_DEC_RE",
    "_DESCRIPTIONS",
    "_EVENT_FEE_LISTS",
    "_ITEM_CHARGE_LISTS",
    "_ITEM_FEE_LISTS",
    "_ITEM_PROMO_LISTS",
    "_SHIPMENT_LIKE",
    "ExactJSONResponse",
    "FinancesSandboxState",
    "ViewEvent",
    "_BadRequest",
    "_View",
    "_breakdowns",
    "_build_view",
    "_charge_component",
    "_date_param",
    "_deprecated",
    "_encode",
    "_fee_component",
    "_int_param",
    "_money",
    "_offset",
    "_opaque",
    "_open_groups",
    "_page_bounds",
    "_query_key",
    "_token",
    "_ts",
    "_view",
    "finance_routes",
    "finances_state",
    "group_object",
    "late_events",
    "transaction_object",
    "v0_event",
]
