"""Group matching and report-vs-events reconciliation (pure domain)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import polars as pl

from mlc_assets.domain.finance_events import FinancialEventGroup
from mlc_assets.domain.money import MONEY_DTYPE
from mlc_assets.domain.reconciliation import match_group, reconcile, reconcile_lines
from mlc_assets.domain.settlement_schema import SettlementHeader

START = datetime(2026, 3, 1, 14, 0, tzinfo=UTC)
END = START + timedelta(days=14)


def _header(total: str = "1234.56", currency: str = "USD") -> SettlementHeader:
    return SettlementHeader(
        settlement_id="12345678901",
        start=START,
        end=END,
        deposit_date=END + timedelta(days=2),
        total_amount=Decimal(total),
        currency=currency,
        file_format="v2",
        column_count=24,
    )


def _group(
    gid: str,
    *,
    shift: timedelta = timedelta(0),
    total: str = "1234.56",
    status: str = "Closed",
    currency: str = "USD",
) -> FinancialEventGroup:
    return FinancialEventGroup(
        group_id=gid,
        processing_status=status,
        original_total=Decimal(total),
        original_currency=currency,
        fund_transfer_date=END + shift + timedelta(days=2, hours=3),
        start=START + shift,
        end=END + shift,
    )


def test_match_picks_the_one_group_fitting_every_criterion() -> None:
    groups = [
        _group("prev", shift=-timedelta(days=14), total="99.00"),
        _group("this"),
        _group("next", shift=timedelta(days=14), total="0.00", status="Open"),
        _group("eur", currency="EUR"),
    ]
    match = match_group(_header(), groups)
    assert match.status == "matched"
    assert match.group is not None and match.group.group_id == "this"
    assert "this" in match.describe()


def test_missing_match_lists_candidates_with_reasons() -> None:
    match = match_group(_header(total="1000.00"), [_group("this"), _group("open", status="Open")])
    assert match.status == "missing"
    assert match.group is None
    reasons = {c.group_id: " ".join(c.reasons) for c in match.candidates}
    assert "OriginalTotal 1234.56 != settlement total 1000.00" in reasons["this"]
    assert "not Closed" in reasons["open"]
    text = match.describe()
    assert "missing" in text and "this" in text


def test_no_group_at_all() -> None:
    match = match_group(_header(), [_group("far", shift=timedelta(days=60))])
    assert match.status == "missing"
    assert match.candidates == ()
    assert "no group in the same currency" in match.describe()


def test_two_equally_good_groups_are_ambiguous_not_guessed() -> None:
    match = match_group(_header(), [_group("a"), _group("b", shift=timedelta(hours=1))])
    assert match.status == "ambiguous"
    assert match.group is None
    assert {c.group_id for c in match.candidates if c.accepted} == {"a", "b"}


def test_reconcile_exact_and_markdown() -> None:
    totals = {"principal": Decimal("100.00"), "referral_fees": Decimal("-15.00")}
    result = reconcile(totals, dict(totals), deposit=Decimal("85.00"), settlement_id="1")
    assert result.ok and result.findings == ()
    assert result.categories["within_tolerance"].all()
    assert result.categories.schema["difference"] == MONEY_DTYPE
    md = result.markdown()
    assert "reconciled" in md and "| principal | 100.00 | 100.00 | 0.00 | ✓ |" in md


def test_reconcile_names_each_difference() -> None:
    report = {"principal": Decimal("100.00"), "referral_fees": Decimal("-15.00")}
    events = {"principal": Decimal("101.00"), "service_fees": Decimal("-9.99")}
    result = reconcile(report, events, deposit=Decimal("85.00"))
    assert not result.ok
    messages = {f.message for f in result.findings}
    assert "principal: report 100.00, events 101.00, difference 1.00" in messages
    assert "referral_fees: report -15.00, events 0.00, difference 15.00" in messages
    assert "service_fees: report 0.00, events -9.99, difference -9.99" in messages
    assert "events_vs_deposit" in result.codes
    assert "report_vs_deposit" not in result.codes
    assert "NOT reconciled" in result.markdown()


def test_tolerance_is_respected() -> None:
    result = reconcile(
        {"principal": Decimal("100.00")}, {"principal": Decimal("100.01")}, Decimal("0.01")
    )
    assert result.ok


def _lines(rows: list[tuple[str, str | None, str, datetime | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "category": [r[0] for r in rows],
            "order_id": [r[1] for r in rows],
            "amount": [Decimal(r[2]) for r in rows],
            "posted_date": [r[3] for r in rows],
            "event_family": ["Shipment"] * len(rows),
            "event_ref": [f"e{i}" for i in range(len(rows))],
        },
        schema_overrides={"amount": MONEY_DTYPE, "posted_date": pl.Datetime("us", "UTC")},
    )


def test_order_level_findings_and_late_events() -> None:
    t = START + timedelta(days=1)
    report = _lines(
        [
            ("principal", "A", "10.00", t),
            ("principal", "B", "20.00", t),
            ("service_fees", None, "-5.00", t),
        ]
    )
    events = _lines(
        [
            ("principal", "A", "11.00", t),
            ("principal", "C", "20.00", END + timedelta(days=3)),
            ("service_fees", None, "-5.00", None),
        ]
    )
    result = reconcile_lines(report, events, deposit=Decimal("25.00"), group_end=END)
    codes = set(result.codes)
    assert {
        "missing_in_events",
        "extra_in_events",
        "order_amount_difference",
        "late_events",
        "category_difference",
        "events_vs_deposit",
    } <= codes
    by_code = {f.code: f.message for f in result.findings}
    assert "B (20.00)" in by_code["missing_in_events"]
    assert "C (20.00)" in by_code["extra_in_events"]
    assert "A report 10.00 vs events 11.00" in by_code["order_amount_difference"]
    assert "Shipment C posted" in by_code["late_events"]
    assert result.late_events.height == 1


def test_late_events_can_be_a_warning() -> None:
    t = START + timedelta(days=1)
    report = _lines([("principal", "A", "10.00", t)])
    events = _lines([("principal", "A", "10.00", END + timedelta(hours=5))])
    result = reconcile_lines(report, events, group_end=END, late_policy="warning")
    assert result.ok
    assert result.codes == ("late_events",)
    assert "with warnings" in result.markdown()
