"""Finances client over real loopback HTTP: Amazon's static examples, the ledger-backed
sandbox, window rules, paging, the v0 deprecation fallback, throttling, raw pages."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from mlc_assets.clients.retry import FAST_TEST_POLICY
from mlc_assets.clients.spapi import SpapiClient
from mlc_assets.clients.spapi.errors import ErrorDetail, SpapiError
from mlc_assets.clients.spapi.finances import (
    MAX_WINDOW,
    FinancesApi,
    is_v0_gone,
    split_window,
)
from mlc_assets.clients.spapi.finances_models import FinancesV0Unavailable
from mlc_assets.domain.finance_events import flatten_transactions, flatten_v0_events
from mlc_assets.sandbox.finances_routes import finance_routes, finances_state
from mlc_assets.sandbox.reports_routes import reports_routes
from mlc_assets.sandbox.server import BackgroundServer
from mlc_assets.sandbox.stack import SandboxStack
from mlc_assets_tests.reference import AMAZON

SPEED = 1000.0


def _model(name: str) -> dict[str, Any]:
    path = AMAZON / name
    return json.loads(path.read_text())


def _static(model: dict[str, Any], path: str) -> list[Any]:
    responses = model["paths"][path]["get"]["responses"]["200"]["x-amzn-api-sandbox"]
    return [case["response"] for case in responses["static"]]


@pytest.fixture
def fin_stack() -> Iterator[SandboxStack]:
    with SandboxStack(
        seed=3, settlements=4, speed=SPEED, route_factories=[reports_routes, finance_routes]
    ) as stack:
        yield stack


@pytest.fixture
def make_finances(fin_stack: SandboxStack, tmp_path: Path) -> Iterator[Callable[..., FinancesApi]]:
    """``make_finances(mode=..., endpoint=...)`` → a FinancesApi on the sandbox LWA."""
    clients: list[SpapiClient] = []

    def make(mode: str = "auto", endpoint: str | None = None) -> FinancesApi:
        creds = fin_stack.credentials
        client = SpapiClient(
            client_id=creds["lwa_client_id"],
            client_secret=creds["lwa_client_secret"],
            refresh_token=creds["refresh_token"],
            endpoint=endpoint or fin_stack.endpoints["spapi"],
            lwa_endpoint=fin_stack.endpoints["lwa"],
            sandbox=True,
            speed=SPEED,
            state_dir=tmp_path / "state",
            retry_policy=FAST_TEST_POLICY,
        )
        clients.append(client)
        return FinancesApi(client.transport, mode=mode)  # type: ignore[arg-type]

    yield make
    for c in clients:
        c.close()


def _replay_app(extra_lists: dict[str, Any] | None = None) -> Starlette:
    """Replays every static 200 example of both Finances models (first page only; a
    follow-up page with the example's token comes back empty, ending the paging)."""
    v0 = _model("financesV0.json")
    v24 = _model("finances_2024-06-19.json")
    events = [
        r
        for p in (
            "/financialEventGroups/{eventGroupId}/financialEvents",
            "/orders/{orderId}/financialEvents",
            "/financialEvents",
        )
        for r in _static(v0, "/finances/v0" + p)
    ]

    def replay(body: Any, empty: Any) -> Callable[[Request], Any]:
        async def handler(request: Request) -> Response:
            token = request.query_params.get("NextToken") or request.query_params.get("nextToken")
            return JSONResponse(empty if token else body)

        return handler

    async def by_group(request: Request) -> Response:
        if request.query_params.get("NextToken"):
            return JSONResponse({"payload": {"FinancialEvents": {}}})
        gid = request.path_params["gid"]
        if gid == "unknown-lists":
            return JSONResponse({"payload": {"FinancialEvents": extra_lists or {}}})
        return JSONResponse(events[int(gid.removeprefix("ex"))])

    return Starlette(
        routes=[
            Route(
                "/finances/v0/financialEventGroups",
                replay(
                    _static(v0, "/finances/v0/financialEventGroups")[0],
                    {"payload": {"FinancialEventGroupList": []}},
                ),
            ),
            Route("/finances/v0/financialEventGroups/{gid}/financialEvents", by_group),
            Route(
                "/finances/2024-06-19/transactions",
                replay(
                    _static(v24, "/finances/2024-06-19/transactions")[0],
                    {"payload": {"transactions": []}},
                ),
            ),
            Route(
                "/finances/2024-06-19/summary",
                replay(_static(v24, "/finances/2024-06-19/summary")[0], {"summaries": []}),
            ),
        ]
    )


def test_client_parses_every_static_example(make_finances: Callable[..., FinancesApi]) -> None:
    with BackgroundServer(_replay_app(), name="replay") as replay:
        fin = make_finances(endpoint=replay.url)
        groups, pages = fin.financial_event_groups(datetime.now(UTC) - timedelta(days=30))
        assert [g.group_id for g in groups] == ["1"]
        assert groups[0].fund_transfer_status == "TRANSFERED"
        assert pages[0].next_token == "3493805734095308457308475"
        for i in range(3):
            v0_pages = list(fin.list_financial_events_by_group(f"ex{i}"))
            assert len(v0_pages) == 2  # the example page + the empty follow-up
            lines = flatten_v0_events(v0_pages, group_id=f"ex{i}")
            assert lines.height > 0 and lines["amount"].null_count() == 0
            assert all(p.unknown_lists == () for p in v0_pages)
        tx_pages = list(fin.list_transactions("FINANCIAL_EVENT_GROUP_ID", "4MVa"))
        assert tx_pages[0].next_token == "Next token value"
        assert flatten_transactions(tx_pages)["amount"].to_list() == [Decimal("10.00")]
        (summary_page, _) = list(fin.list_summary("123456789"))
        summary = summary_page.parsed["summaries"][0]
        assert summary["netProceeds"]["currencyAmount"] == 8000
        assert summary_page.next_token == "jehgri34yo7jr9e8f984tr9i4o"


def test_unknown_event_lists_are_reported_not_dropped(
    make_finances: Callable[..., FinancesApi], caplog: pytest.LogCaptureFixture
) -> None:
    lists = {
        "ShipmentEventList": [],
        "PerformanceBondRefundEventList": [
            {
                "PostedDate": "2026-01-01T00:00:00Z",
                "RefundAmount": {"CurrencyCode": "USD", "CurrencyAmount": 12.5},
            }
        ],
    }
    with BackgroundServer(_replay_app(lists), name="replay") as replay:
        fin = make_finances(endpoint=replay.url)
        with caplog.at_level(logging.WARNING):
            (page,) = list(fin.list_financial_events_by_group("unknown-lists"))
        assert page.unknown_lists == ("PerformanceBondRefundEventList",)
        assert "PerformanceBondRefundEventList" in caplog.text
        assert "PerformanceBondRefundEventList" in page.parsed["payload"]["FinancialEvents"]
        lines = flatten_v0_events([page], group_id="g")
        assert lines["amount"].to_list() == [Decimal("12.50")]  # Decimal, never float


def test_windows_are_split_and_clamped(make_finances: Callable[..., FinancesApi]) -> None:
    fin = make_finances()
    now = datetime.now(UTC)
    pages = list(fin.list_financial_event_groups(now - timedelta(days=400), now, page_size=100))
    windows = sorted(
        {
            (
                p.params["FinancialEventGroupStartedAfter"],
                p.params["FinancialEventGroupStartedBefore"],
            )
            for p in pages
        }
    )
    assert len(windows) == 3
    spans = [
        datetime.fromisoformat(b.replace("Z", "+00:00"))
        - datetime.fromisoformat(a.replace("Z", "+00:00"))
        for a, b in windows
    ]
    assert all(span <= MAX_WINDOW for span in spans)
    last_before = datetime.fromisoformat(windows[-1][1].replace("Z", "+00:00"))
    assert last_before <= now - timedelta(minutes=2)
    assert split_window(now, now) == []
    assert list(fin.list_financial_event_groups(now + timedelta(days=1))) == []


def test_groups_page_through_next_token(
    fin_stack: SandboxStack, make_finances: Callable[..., FinancesApi]
) -> None:
    fin = make_finances()
    after = datetime.now(UTC) - timedelta(days=170)
    pages = list(fin.list_financial_event_groups(after, page_size=3))
    assert len(pages) > 2
    assert all(len(p.parsed["payload"]["FinancialEventGroupList"]) <= 3 for p in pages)
    assert "NextToken" in pages[1].params
    groups, _ = fin.financial_event_groups(after)
    ids = {g.group_id for g in groups}
    assert {s.group_id for s in fin_stack.seller.settlements} <= ids


def test_raw_page_bytes_are_kept(
    fin_stack: SandboxStack, make_finances: Callable[..., FinancesApi]
) -> None:
    fin = make_finances()
    s = fin_stack.seller.settlements[0]
    (page,) = list(fin.list_financial_events_by_group(s.group_id))
    assert page.api == "v0" and page.operation == "listFinancialEventsByGroupId"
    assert page.sha256 == hashlib.sha256(page.body_bytes).hexdigest()
    reparsed = json.loads(page.body_bytes, parse_float=Decimal)
    assert flatten_v0_events([reparsed], group_id=s.group_id)["amount"].sum() == s.total


def test_auto_mode_falls_back_when_v0_is_gone(
    fin_stack: SandboxStack, make_finances: Callable[..., FinancesApi]
) -> None:
    finances_state(fin_stack.context).v0_events_enabled = False
    fin = make_finances("auto")
    s0, s1 = fin_stack.seller.settlements[:2]
    api, pages = fin.group_pages(s0.group_id)
    assert api == "2024-06-19" and fin.v0_gone
    assert flatten_transactions(pages)["amount"].sum() == s0.total
    before = fin_stack.counters.snapshot()["requests"]["listFinancialEventsByGroupId"]
    api, pages = fin.group_pages(s1.group_id)
    assert api == "2024-06-19"
    after = fin_stack.counters.snapshot()["requests"]["listFinancialEventsByGroupId"]
    assert after == before  # v0 not asked again once it said it is gone


def test_v0_mode_raises_and_2024_mode_never_calls_v0(
    fin_stack: SandboxStack, make_finances: Callable[..., FinancesApi]
) -> None:
    s = fin_stack.seller.settlements[0]
    finances_state(fin_stack.context).v0_events_enabled = False
    with pytest.raises(FinancesV0Unavailable, match="no longer available") as info:
        make_finances("v0").group_pages(s.group_id)
    assert info.value.status == 410
    finances_state(fin_stack.context).v0_events_enabled = True
    v0_calls = fin_stack.counters.snapshot()["requests"]["listFinancialEventsByGroupId"]
    api, pages = make_finances("2024-06-19").group_pages(s.group_id)
    assert api == "2024-06-19"
    assert fin_stack.counters.snapshot()["requests"]["listFinancialEventsByGroupId"] == v0_calls
    assert all(p.params["relatedIdentifierValue"] == s.group_id for p in pages)


def test_throttling_is_retried(
    fin_stack: SandboxStack, make_finances: Callable[..., FinancesApi]
) -> None:
    fin_stack.faults.arm("429", count=2)
    s = fin_stack.seller.settlements[0]
    api, pages = make_finances("v0").group_pages(s.group_id)
    assert api == "v0"
    assert flatten_v0_events(pages, group_id=s.group_id)["amount"].sum() == s.total
    assert fin_stack.counters.snapshot()["throttled_total"] >= 2


def test_gone_detection_and_argument_checks(make_finances: Callable[..., FinancesApi]) -> None:
    def err(status: int, message: str) -> SpapiError:
        return SpapiError("x", status=status, errors=[ErrorDetail("InvalidInput", message)])

    assert is_v0_gone(err(410, ""))
    assert is_v0_gone(err(400, "This operation is deprecated"))
    assert not is_v0_gone(err(400, "Bad event group ID provided."))
    assert not is_v0_gone(err(404, "Resource not found."))
    fin = make_finances()
    now = datetime.now(UTC)
    with pytest.raises(ValueError, match="PostedBefore requires PostedAfter"):
        list(fin.list_financial_events_by_group("g", posted_before=now))
    with pytest.raises(ValueError, match="naive"):
        list(fin.list_financial_event_groups(datetime(2026, 1, 1)))
    with pytest.raises(ValueError, match="FINANCIAL_EVENT_GROUP_ID or ORDER_ID"):
        list(fin.list_transactions("SETTLEMENT_ID", "1"))
    with pytest.raises(ValueError, match="finances_api"):
        FinancesApi(fin.transport, mode="v1")  # type: ignore[arg-type]


def test_posted_window_for_group_events_is_split(
    fin_stack: SandboxStack, make_finances: Callable[..., FinancesApi]
) -> None:
    s = fin_stack.seller.settlements[0]
    fin = make_finances("v0")
    pages = list(
        fin.list_financial_events_by_group(
            s.group_id, posted_after=datetime.now(UTC) - timedelta(days=400)
        )
    )
    assert len({p.params["PostedAfter"] for p in pages}) == 3
    assert flatten_v0_events(pages, group_id=s.group_id)["amount"].sum() == s.total
