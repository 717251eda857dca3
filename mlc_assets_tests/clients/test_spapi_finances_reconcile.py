"""End to end: report (rendered by the sandbox, parsed by the connector) vs Finances events
(fetched over HTTP through v0 and 2024-06-19) reconcile exactly for 20 settlements; every
injected discrepancy produces a named failing result that says what differs."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from mlc_assets.clients.retry import FAST_TEST_POLICY
from mlc_assets.clients.spapi import SpapiClient
from mlc_assets.clients.spapi.finances import FinancesApi
from mlc_assets.domain.finance_events import (
    FinancialEventGroup,
    flatten_transactions,
    flatten_v0_events,
)
from mlc_assets.domain.mapping import (
    GlMapping,
    classify_finance_lines,
    classify_lines,
    load_mapping,
    settlement_marketplace,
    unmapped_finance_types,
)
from mlc_assets.domain.reconciliation import Reconciliation, match_group, reconcile, reconcile_lines
from mlc_assets.domain.settlement_report import parse_settlement_report
from mlc_assets.domain.settlement_schema import ParsedSettlement
from mlc_assets.sandbox.finances_routes import finance_routes, finances_state
from mlc_assets.sandbox.ledger import SimSettlement
from mlc_assets.sandbox.report_render import render_v2
from mlc_assets.sandbox.reports_routes import reports_routes
from mlc_assets.sandbox.stack import SandboxStack

SPEED = 1000.0
APIS = ("v0", "2024-06-19")


@dataclass
class Env:
    stack: SandboxStack
    client: SpapiClient
    mapping: GlMapping

    def finances(self, mode: str) -> FinancesApi:
        return FinancesApi(self.client.transport, mode=mode)  # type: ignore[arg-type]

    def groups(self) -> list[FinancialEventGroup]:
        first = min(s.start for s in self.stack.seller.settlements) - timedelta(days=1)
        groups, _ = self.finances("auto").financial_event_groups(first)
        return groups


def _env(stack: SandboxStack, tmp: Path) -> Env:
    creds = stack.credentials
    client = SpapiClient(
        client_id=creds["lwa_client_id"],
        client_secret=creds["lwa_client_secret"],
        refresh_token=creds["refresh_token"],
        endpoint=stack.endpoints["spapi"],
        lwa_endpoint=stack.endpoints["lwa"],
        sandbox=True,
        speed=SPEED,
        state_dir=tmp / "state",
        retry_policy=FAST_TEST_POLICY,
    )
    return Env(stack, client, load_mapping())


def _start(seed: int, settlements: int) -> SandboxStack:
    return SandboxStack(
        seed=seed,
        settlements=settlements,
        speed=SPEED,
        route_factories=[reports_routes, finance_routes],
    ).start()


@pytest.fixture(scope="module")
def big_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    stack = _start(seed=21, settlements=7)  # 3 marketplaces x 7 = 21 settlements
    env = _env(stack, tmp_path_factory.mktemp("fin"))
    try:
        yield env
    finally:
        env.client.close()
        stack.stop()


@pytest.fixture
def small_env(tmp_path: Path) -> Iterator[Env]:
    stack = _start(seed=4, settlements=2)
    env = _env(stack, tmp_path)
    try:
        yield env
    finally:
        env.client.close()
        stack.stop()


def report_side(s: SimSettlement, mapping: GlMapping) -> tuple[ParsedSettlement, pl.DataFrame]:
    parsed = parse_settlement_report(render_v2(s), file_name=f"{s.settlement_id}.txt")
    lines = classify_lines(
        parsed.lines,
        mapping,
        marketplace=settlement_marketplace(parsed.lines),
        currency=parsed.header.currency,
    )
    unmapped = lines.filter(pl.col("category").is_null())
    assert unmapped.height == 0, unmapped.select("transaction_type", "amount_type").unique()
    return parsed, lines


def events_side(env: Env, api: str, s: SimSettlement, group_id: str) -> pl.DataFrame:
    used, pages = env.finances(api).group_pages(group_id)
    assert used == api
    if api == "v0":
        frame = flatten_v0_events(pages, group_id=group_id, settlement_id=s.settlement_id)
    else:
        frame = flatten_transactions(pages, group_id=group_id)
    classified = classify_finance_lines(frame, env.mapping)
    assert unmapped_finance_types(classified) == []
    return classified


def run(env: Env, api: str, s: SimSettlement, **kw: Any) -> Reconciliation:
    parsed, report = report_side(s, env.mapping)
    match = match_group(parsed.header, env.groups())
    if not match.matched or match.group is None:
        return reconcile({}, {}, group_match=match, settlement_id=s.settlement_id)
    events = events_side(env, api, s, match.group.group_id)
    return reconcile_lines(
        report,
        events,
        deposit=parsed.header.total_amount,
        settlement_id=s.settlement_id,
        group_id=match.group.group_id,
        group_end=match.group.end,
        group_match=match,
        **kw,
    )


@pytest.mark.parametrize("api", APIS)
def test_twenty_settlements_reconcile_exactly(big_env: Env, api: str) -> None:
    settlements = big_env.stack.seller.settlements[:20]
    assert len(settlements) == 20
    for s in settlements:
        result = run(big_env, api, s)
        assert result.group_id == s.group_id, result.markdown()
        assert result.ok and result.findings == (), result.markdown()
        assert result.events_total == result.report_total == s.total
        assert result.categories.height >= 5
        assert result.categories["within_tolerance"].all()


def _finding(result: Reconciliation, code: str) -> str:
    by_code = {f.code: f.message for f in result.findings}
    assert code in by_code, result.markdown()
    return by_code[code]


def _distort(env: Env, name: str) -> SimSettlement:
    s = env.stack.seller.settlements[0]
    finances_state(env.stack.context).distort(s.settlement_id, name)
    return s


@pytest.mark.parametrize("api", APIS)
def test_missing_event_page(small_env: Env, api: str) -> None:
    state = finances_state(small_env.stack.context)
    state.v0_page_cap = state.transactions_page_size = 10
    s = _distort(small_env, "drop_page")
    result = run(small_env, api, s)
    assert not result.ok
    missing = _finding(result, "missing_in_events")
    assert "order(s) in the report have no Finances events" in missing
    assert "events_vs_deposit" in result.codes
    assert "category_difference" in result.codes
    assert "NOT reconciled" in result.markdown()


@pytest.mark.parametrize("api", APIS)
def test_extra_event(small_env: Env, api: str) -> None:
    s = _distort(small_env, "extra_event")
    result = run(small_env, api, s)
    assert not result.ok
    assert "difference -9.99" in _finding(result, "category_difference")
    rule = small_env.mapping.finance_rule_for("ServiceFee", "FeeList", "FBALongTermStorageFee")
    assert rule is not None
    assert _finding(result, "category_difference").startswith(f"{rule.category.value}: ")
    assert "(difference -9.99)" in _finding(result, "events_vs_deposit")


@pytest.mark.parametrize("api", APIS)
def test_changed_amount(small_env: Env, api: str) -> None:
    s = _distort(small_env, "change_amount")
    changed = next(
        e.order_id for e in s.events if any(c.finance_type == "Principal" for c in e.charges)
    )
    result = run(small_env, api, s)
    assert not result.ok
    assert "principal" in _finding(result, "category_difference")
    assert "difference 1.00" in _finding(result, "category_difference")
    assert changed in _finding(result, "order_amount_difference")


@pytest.mark.parametrize("api", APIS)
def test_late_event(small_env: Env, api: str) -> None:
    s = _distort(small_env, "late_event")
    late_order = next(
        e.order_id for e in reversed(s.events) if e.v0_event_list == "ShipmentEventList"
    )
    result = run(small_env, api, s)
    assert not result.ok  # default policy: a human confirms where late money belongs
    assert result.codes == ("late_events",)  # the money itself still agrees
    message = _finding(result, "late_events")
    assert late_order in message and "after the group closed" in message
    assert result.late_events.height >= 1
    assert run(small_env, api, s, late_policy="warning").ok


def test_settlement_with_no_group(small_env: Env) -> None:
    s = _distort(small_env, "no_group")
    result = run(small_env, "v0", s)
    assert not result.ok
    message = _finding(result, "no_group")
    assert s.settlement_id in message and "missing" in message
    assert datetime.now(UTC) > s.end
