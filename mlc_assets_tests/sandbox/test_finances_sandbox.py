"""Finances sandbox routes: wire format validated against Amazon's models, paging, rules,
deprecation switch, rate limits and distortions — over real loopback HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import jsonschema
import pytest

from mlc_assets.domain.finance_events import flatten_transactions, flatten_v0_events
from mlc_assets.sandbox.finances_routes import finance_routes, finances_state, late_events
from mlc_assets.sandbox.reports_routes import reports_routes
from mlc_assets.sandbox.stack import SandboxStack
from mlc_assets_tests.reference import AMAZON
from mlc_assets_tests.sandbox.conftest import lwa_token

V0 = "/finances/v0"
V24 = "/finances/2024-06-19"


def _definitions(name: str) -> dict[str, Any]:
    return json.loads((AMAZON / name).read_text())["definitions"]


def validate(body: Any, model: str, definition: str) -> None:
    schema = {"$ref": f"#/definitions/{definition}", "definitions": _definitions(model)}
    jsonschema.Draft4Validator(schema).validate(body)


class Api:
    """A raw HTTP caller with a valid sandbox access token."""

    def __init__(self, stack: SandboxStack, client: httpx.Client) -> None:
        self.stack = stack
        self.client = client
        self.base = stack.endpoints["spapi"]
        self.token = lwa_token(stack, client)

    def get(self, path: str, **params: Any) -> httpx.Response:
        return self.client.get(
            self.base + path, params=params, headers={"x-amz-access-token": self.token}
        )

    def admin(self, body: dict[str, Any]) -> dict[str, Any]:
        resp = self.client.post(self.base + "/_sandbox/finances", json=body)
        assert resp.status_code == 200, resp.text
        return resp.json()


def _stack(speed: float = 1000.0, **kw: Any) -> SandboxStack:
    return SandboxStack(
        seed=5, settlements=3, speed=speed, route_factories=[reports_routes, finance_routes], **kw
    ).start()


@pytest.fixture
def api() -> Iterator[Api]:
    stack = _stack()
    try:
        with httpx.Client(timeout=10.0) as client:
            yield Api(stack, client)
    finally:
        stack.stop()


def _decimal_json(resp: httpx.Response) -> Any:
    return json.loads(resp.content, parse_float=Decimal)


def _ago(days: int) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _all_groups(api: Api, **params: Any) -> list[dict[str, Any]]:
    params = {"FinancialEventGroupStartedAfter": _ago(170), **params}
    out: list[dict[str, Any]] = []
    token = None
    while True:
        resp = api.get(
            f"{V0}/financialEventGroups", **params, **({"NextToken": token} if token else {})
        )
        assert resp.status_code == 200, resp.text
        validate(resp.json(), "financesV0.json", "ListFinancialEventGroupsResponse")
        payload = resp.json()["payload"]
        out += payload["FinancialEventGroupList"]
        token = payload.get("NextToken")
        if not token:
            return out


def test_groups_validate_and_describe_the_ledger(api: Api) -> None:
    seller = api.stack.seller
    groups = _all_groups(api, MaxResultsPerPage=4)
    closed = [g for g in groups if g["ProcessingStatus"] == "Closed"]
    opened = [g for g in groups if g["ProcessingStatus"] == "Open"]
    assert len(closed) == len(seller.settlements)
    assert len(opened) == len(seller.marketplaces)
    assert groups[: len(opened)] == opened  # open groups come first
    assert len({g["FinancialEventGroupId"] for g in groups}) == len(groups)
    resp = api.get(
        f"{V0}/financialEventGroups",
        FinancialEventGroupStartedAfter=_ago(170),
        MaxResultsPerPage=100,
    )
    exact = {
        g["FinancialEventGroupId"]: g
        for g in _decimal_json(resp)["payload"]["FinancialEventGroupList"]
    }
    for s in seller.settlements:
        g = exact[s.group_id]
        assert len(s.group_id) == 43
        assert g["FundTransferStatus"] == "Succeeded"
        assert g["OriginalTotal"] == {"CurrencyCode": s.currency, "CurrencyAmount": s.total}
        assert g["ConvertedTotal"]["CurrencyAmount"] == s.total
        fund = datetime.fromisoformat(g["FundTransferDate"].replace("Z", "+00:00"))
        assert fund == s.deposit_date.replace(microsecond=0)
        assert g["FinancialEventGroupEnd"] == s.end.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_group_listing_rules(api: Api) -> None:
    now = datetime.now(UTC)
    too_recent = (now - timedelta(seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    resp = api.get(f"{V0}/financialEventGroups", FinancialEventGroupStartedAfter=too_recent)
    assert resp.status_code == 400
    validate(resp.json(), "financesV0.json", "ListFinancialEventGroupsResponse")
    resp = api.get(
        f"{V0}/financialEventGroups",
        FinancialEventGroupStartedAfter=_ago(10),
        FinancialEventGroupStartedBefore=_ago(20),
    )
    assert (
        resp.status_code == 400 and resp.json()["errors"][0]["message"] == "Date range is invalid."
    )
    # Wider than 180 days: no groups (not an error), as the model says.
    resp = api.get(
        f"{V0}/financialEventGroups",
        FinancialEventGroupStartedAfter=_ago(400),
        FinancialEventGroupStartedBefore=_ago(1),
    )
    assert resp.status_code == 200 and resp.json()["payload"]["FinancialEventGroupList"] == []
    # A token only works with the arguments that produced it.
    first = api.get(
        f"{V0}/financialEventGroups", FinancialEventGroupStartedAfter=_ago(170), MaxResultsPerPage=2
    ).json()
    token = first["payload"]["NextToken"]
    resp = api.get(
        f"{V0}/financialEventGroups",
        FinancialEventGroupStartedAfter=_ago(100),
        MaxResultsPerPage=2,
        NextToken=token,
    )
    assert resp.status_code == 400
    assert resp.headers["x-amzn-RateLimit-Limit"]
    assert resp.headers["x-amzn-RequestId"]


def _v0_pages(api: Api, group_id: str, **params: Any) -> list[Any]:
    pages = []
    token = None
    while True:
        extra = {"NextToken": token} if token else {}
        resp = api.get(f"{V0}/financialEventGroups/{group_id}/financialEvents", **params, **extra)
        assert resp.status_code == 200, resp.text
        validate(resp.json(), "financesV0.json", "ListFinancialEventsResponse")
        pages.append(_decimal_json(resp))
        token = pages[-1]["payload"].get("NextToken")
        if not token:
            return pages


def test_v0_events_validate_page_and_sum_to_the_deposit(api: Api) -> None:
    s = api.stack.seller.settlements[0]
    finances_state(api.stack.context).v0_page_cap = 10
    pages = _v0_pages(api, s.group_id)
    sizes = [sum(len(v) for v in p["payload"]["FinancialEvents"].values()) for p in pages]
    assert sum(sizes) == len(s.events)
    assert all(n == 10 for n in sizes[:-1]) and 0 < sizes[-1] <= 10
    lines = flatten_v0_events(pages, group_id=s.group_id)
    assert lines["amount"].sum() == s.total
    assert lines.height == s.line_count


def test_v0_event_errors(api: Api) -> None:
    resp = api.get(f"{V0}/financialEventGroups/BADID/financialEvents")
    assert resp.status_code == 400
    assert resp.json()["errors"][0]["message"] == "Bad event group ID provided."
    validate(resp.json(), "financesV0.json", "ListFinancialEventsResponse")
    gid = api.stack.seller.settlements[0].group_id
    resp = api.get(f"{V0}/financialEventGroups/{gid}/financialEvents", PostedBefore=_ago(1))
    assert resp.status_code == 400 and "PostedAfter" in resp.json()["errors"][0]["message"]
    resp = api.get(f"{V0}/financialEventGroups/{gid}/financialEvents", MaxResultsPerPage=101)
    assert resp.status_code == 400


def test_transactions_validate_and_carry_both_identifiers(api: Api) -> None:
    s = api.stack.seller.settlements[1]
    resp = api.get(
        f"{V24}/transactions",
        relatedIdentifierName="FINANCIAL_EVENT_GROUP_ID",
        relatedIdentifierValue=s.group_id,
    )
    assert resp.status_code == 200, resp.text
    validate(resp.json(), "finances_2024-06-19.json", "ListTransactionsResponse")
    body = _decimal_json(resp)
    txs = body["payload"]["transactions"]
    assert len(txs) == len(s.events) and "nextToken" not in body["payload"]
    for tx in txs:
        rel = {
            r["relatedIdentifierName"]: r["relatedIdentifierValue"]
            for r in tx["relatedIdentifiers"]
        }
        assert rel["FINANCIAL_EVENT_GROUP_ID"] == s.group_id
        assert rel["SETTLEMENT_ID"] == s.settlement_id
    lines = flatten_transactions([body])
    assert lines["amount"].sum() == s.total
    assert set(lines["settlement_id"]) == {s.settlement_id}
    # Paging: lowerCamel nextToken.
    finances_state(api.stack.context).transactions_page_size = 7
    resp = api.get(
        f"{V24}/transactions",
        relatedIdentifierName="FINANCIAL_EVENT_GROUP_ID",
        relatedIdentifierValue=s.group_id,
    )
    assert len(resp.json()["payload"]["transactions"]) == 7
    assert resp.json()["payload"]["nextToken"]


def test_transactions_rules_and_order_filter(api: Api) -> None:
    resp = api.get(f"{V24}/transactions")
    assert (
        resp.status_code == 400
        and resp.json()["errors"][0]["message"] == "Start date cannot be null"
    )
    validate(resp.json(), "finances_2024-06-19.json", "ErrorList")
    resp = api.get(
        f"{V24}/transactions", relatedIdentifierName="SETTLEMENT_ID", relatedIdentifierValue="1"
    )
    assert resp.status_code == 400
    order = next(e for e in api.stack.seller.settlements[0].events if e.order_id)
    resp = api.get(
        f"{V24}/transactions",
        relatedIdentifierName="ORDER_ID",
        relatedIdentifierValue=order.order_id,
    )
    txs = resp.json()["payload"]["transactions"]
    assert txs and all(
        {"relatedIdentifierName": "ORDER_ID", "relatedIdentifierValue": order.order_id}
        in t["relatedIdentifiers"]
        for t in txs
    )
    resp = api.get(f"{V24}/transactions", postedAfter=_ago(175))
    assert resp.status_code == 200
    validate(resp.json(), "finances_2024-06-19.json", "ListTransactionsResponse")


def test_summary_validates(api: Api) -> None:
    s = api.stack.seller.settlements[2]
    resp = api.get(
        f"{V24}/summary",
        relatedIdentifierName="SETTLEMENT_ID",
        relatedIdentifierValue=s.settlement_id,
    )
    assert resp.status_code == 200
    validate(resp.json(), "finances_2024-06-19.json", "SummaryResponse")
    (summary,) = _decimal_json(resp)["summaries"]
    assert summary["netProceeds"] == {"currencyCode": s.currency, "currencyAmount": s.total}


def test_v0_switch_off_and_fault(api: Api) -> None:
    gid = api.stack.seller.settlements[0].group_id
    path = f"{V0}/financialEventGroups/{gid}/financialEvents"
    api.admin({"v0_events": False})
    resp = api.get(path)
    assert resp.status_code == 410
    validate(resp.json(), "financesV0.json", "ListFinancialEventsResponse")
    assert resp.json()["errors"][0]["code"] == "Unsupported"
    assert "deprecated" in resp.json()["errors"][0]["message"]
    # listFinancialEventGroups is not deprecated.
    assert (
        api.get(f"{V0}/financialEventGroups", FinancialEventGroupStartedAfter=_ago(30)).status_code
        == 200
    )
    api.admin({"v0_events": True})
    api.client.post(api.base + "/_sandbox/faults", content="v0_gone:1").raise_for_status()
    assert api.get(path).status_code == 410
    assert api.get(path).status_code == 200


def test_distortions_and_ledger_derived_late_events(api: Api) -> None:
    s = api.stack.seller.settlements[0]
    api.admin({"distort": {s.settlement_id: ["late_event", "no_group"]}})
    (late,) = late_events(api.stack.context, s.settlement_id)
    assert late.posted > s.end and late.late
    pages = _v0_pages(api, s.group_id)
    posted = [
        e["PostedDate"]
        for p in pages
        for e in p["payload"]["FinancialEvents"].get("ShipmentEventList", [])
    ]
    assert late.posted.strftime("%Y-%m-%dT%H:%M:%SZ") in posted  # still served for the group
    ids = {g["FinancialEventGroupId"] for g in _all_groups(api)}
    assert s.group_id not in ids
    assert api.admin({"clear": True})["distortions"] == {}
    with pytest.raises(ValueError, match="unknown distortions"):
        finances_state(api.stack.context).distort(s.settlement_id, "nonsense")


def test_rate_limit_answers_429_like_amazon() -> None:
    stack = _stack(speed=1.0)
    try:
        with httpx.Client(timeout=10.0) as client:
            api = Api(stack, client)
            gid = stack.seller.settlements[0].group_id
            statuses = [
                api.get(
                    f"{V24}/transactions",
                    relatedIdentifierName="FINANCIAL_EVENT_GROUP_ID",
                    relatedIdentifierValue=gid,
                ).status_code
                for _ in range(11)
            ]
            assert statuses[:10] == [200] * 10  # burst 10
            assert statuses[10] == 429
            resp = api.get(
                f"{V24}/transactions",
                relatedIdentifierName="FINANCIAL_EVENT_GROUP_ID",
                relatedIdentifierValue=gid,
            )
            assert resp.status_code == 429
            assert resp.json()["errors"][0]["code"] == "QuotaExceeded"
            assert "x-amzn-RateLimit-Limit" not in resp.headers
    finally:
        stack.stop()
