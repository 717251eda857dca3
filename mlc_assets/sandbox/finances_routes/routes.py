"""The Finances API routes of the sandbox: v0 groups and events, 2024-06-19 transactions."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from mlc_assets.sandbox.finances_routes.render import (
    ExactJSONResponse,
    _BadRequest,
    _breakdowns,
    _date_param,
    _int_param,
    _money,
    _offset,
    _open_groups,
    _page_bounds,
    _query_key,
    _token,
    _ts,
    group_object,
    transaction_object,
    v0_event,
)
from mlc_assets.sandbox.finances_routes.view import (
    MAX_WINDOW,
    MIN_AGE,
    ViewEvent,
    _view,
    finances_state,
)
from mlc_assets.sandbox.ledger import SimSettlement
from mlc_assets.sandbox.spapi_app import SpApiContext, invalid_input, operation, spapi_error

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
