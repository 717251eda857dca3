"""The simulated seller: deterministic, internally consistent, covering the nasty cases."""

from __future__ import annotations

import dataclasses
import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from mlc_assets.sandbox.generator import generate_seller
from mlc_assets.sandbox.report_render import V2_COLUMNS, content_type, render_v2

US, DE, UK = "ATVPDKIKX0DER", "A1PA6795UKMFR9", "A1F83G8C2ARO7P"
NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)


def _read_tsv(data: bytes, charset: str) -> tuple[dict[str, str], list[dict[str, str]]]:
    """A deliberately tiny reader: header row, summary row, detail rows."""
    lines = data.decode(charset).split("\n")
    assert lines[-1] == ""
    header = lines[0].split("\t")
    rows = [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:-1]]
    return rows[0], rows[1:]


def _dec(text: str, comma: bool) -> Decimal:
    if comma:
        assert "." not in text
        text = text.replace(",", ".")
    else:
        assert "," not in text
    return Decimal(text)


@pytest.fixture(scope="module")
def seller():
    return generate_seller(42, now=NOW)


def test_same_seed_gives_identical_reports() -> None:
    a = generate_seller(5, start=date(2026, 1, 1))
    b = generate_seller(5, start=date(2026, 1, 1))
    assert [s.settlement_id for s in a.settlements] == [s.settlement_id for s in b.settlements]
    assert [render_v2(s) for s in a.settlements] == [render_v2(s) for s in b.settlements]
    c = generate_seller(6, start=date(2026, 1, 1))
    assert {s.settlement_id for s in a.settlements}.isdisjoint(
        {s.settlement_id for s in c.settlements}
    )


def test_ids_do_not_depend_on_now() -> None:
    a = generate_seller(5, now=NOW)
    b = generate_seller(5, now=NOW + timedelta(days=40))
    assert [(s.settlement_id, s.total) for s in a.settlements] == [
        (s.settlement_id, s.total) for s in b.settlements
    ]


def test_shapes_and_dates(seller) -> None:
    assert len(seller.settlements) == 18
    for s in seller.settlements:
        assert len(s.settlement_id) == 11 and s.settlement_id.isdigit()
        assert len(s.group_id) == 43
        assert s.deposit_date == s.end + timedelta(days=2)
        assert timedelta(days=13) < s.end - s.start < timedelta(days=15)
        assert s.end < NOW and NOW - s.report_created < timedelta(days=90)
        assert s.total == sum(c.amount for _, c in s.charges())
        assert 30 <= s.line_count <= 400
    per_mp: dict[str, list] = {}
    for s in seller.settlements:
        per_mp.setdefault(s.marketplace_id, []).append(s)
    for settlements in per_mp.values():
        settlements.sort(key=lambda s: s.start)
        for prev, nxt in itertools.pairwise(settlements):
            assert prev.end == nxt.start
            held = [
                c.amount
                for _, c in prev.charges()
                if c.report_amount_description == "Current Reserve Amount"
            ]
            released = [
                c.amount
                for _, c in nxt.charges()
                if c.report_amount_description == "Previous Reserve Amount Balance"
            ]
            assert [-h for h in held] == released


def test_every_report_sums_to_its_total(seller) -> None:
    for s in seller.settlements:
        charset = content_type(s).split("charset=")[1]
        summary, details = _read_tsv(render_v2(s), charset)
        comma = s.currency == "EUR"
        assert summary["settlement-id"] == s.settlement_id
        assert summary["transaction-type"] == "" and summary["amount"] == ""
        total = _dec(summary["total-amount"], comma)
        assert total == s.total
        assert sum(_dec(r["amount"], comma) for r in details) == total
        assert len(details) == s.line_count
        assert all(r["settlement-id"] == s.settlement_id for r in details)
        assert all(r["total-amount"] == "" for r in details)


def test_negative_zero_and_cross_listed_settlements(seller) -> None:
    totals = [s.total for s in seller.settlements]
    assert any(t < 0 for t in totals)
    assert any(t == 0 for t in totals)
    multi = [s for s in seller.settlements if len(s.listed_under) > 1]
    assert len(multi) == 1 and set(multi[0].listed_under) == {DE, UK}


def test_locale_formats(seller) -> None:
    de = next(s for s in seller.settlements if s.marketplace_id == DE)
    us = next(s for s in seller.settlements if s.marketplace_id == US)
    uk = next(s for s in seller.settlements if s.marketplace_id == UK)
    assert content_type(de) == "text/plain; charset=iso-8859-1"
    de_summary, de_rows = _read_tsv(render_v2(de), "iso-8859-1")
    assert "," in de_summary["total-amount"]
    assert de_summary["settlement-start-date"] == de.start.strftime("%d.%m.%Y %H:%M:%S UTC")
    assert all("," in r["amount"] for r in de_rows)
    assert any("ü" in r["promotion-id"] for r in de_rows)
    us_summary, us_rows = _read_tsv(render_v2(us), "utf-8")
    assert us_summary["settlement-start-date"] == us.start.strftime("%Y-%m-%d %H:%M:%S UTC")
    assert us_rows[0]["posted-date"].count("-") == 2
    uk_summary, uk_rows = _read_tsv(render_v2(uk), "utf-8")
    assert "." in uk_summary["total-amount"] and uk_rows[0]["posted-date"].count(".") == 2
    assert render_v2(us).split(b"\n")[0].decode().split("\t") == list(V2_COLUMNS)


def test_report_pairs_are_the_real_ones(seller) -> None:
    allowed = {
        ("Order", "ItemPrice"): {"Principal", "Tax", "Shipping", "ShippingTax"},
        ("Order", "ItemWithheldTax"): {
            "MarketplaceFacilitatorTax-Principal",
            "MarketplaceFacilitatorTax-Shipping",
            "MarketplaceFacilitatorVAT-Principal",
            "MarketplaceFacilitatorVAT-Shipping",
        },
        ("Order", "ItemFees"): {"Commission", "FBAPerUnitFulfillmentFee", "ShippingChargeback"},
        ("Order", "Promotion"): {"Shipping"},
        ("Refund", "ItemPrice"): {"Principal", "Tax"},
        ("Refund", "ItemWithheldTax"): {
            "MarketplaceFacilitatorTax-Principal",
            "MarketplaceFacilitatorVAT-Principal",
        },
        ("Refund", "ItemFees"): {"Commission", "RefundCommission"},
        ("other-transaction", "other-transaction"): {
            "Subscription Fee",
            "Storage Fee",
            "Current Reserve Amount",
            "Previous Reserve Amount Balance",
        },
        ("other-transaction", "FBA Inventory Reimbursement"): {
            "WAREHOUSE_DAMAGE",
            "REVERSAL_REIMBURSEMENT",
        },
        ("ServiceFee", "Cost of Advertising"): {"TransactionTotalAmount"},
    }
    seen = set()
    for s in seller.settlements:
        for event, charge in s.charges():
            key = (event.report_transaction_type, charge.report_amount_type)
            assert charge.report_amount_description in allowed[key], (key, charge)
            seen.add((*key, charge.report_amount_description))
            assert charge.amount == charge.amount.quantize(Decimal("0.01"))
    # every family shows up somewhere in a default seller
    assert {e.family for s in seller.settlements for e in s.events} >= {
        "order",
        "refund",
        "service_fee",
        "product_ads",
        "reimbursement",
        "reserve",
    }
    assert ("Order", "ItemWithheldTax", "MarketplaceFacilitatorVAT-Principal") in seen


def test_lines_scale_multiplies_orders() -> None:
    small = generate_seller(3, 1, start=date(2026, 1, 1), marketplaces=("US",))
    big = generate_seller(3, 1, start=date(2026, 1, 1), lines_scale=20, marketplaces=("US",))
    assert big.settlements[0].line_count > 10 * small.settlements[0].line_count


def test_lookups(seller) -> None:
    s = seller.settlements[3]
    assert seller.by_settlement_id(s.settlement_id) is s
    assert seller.by_report_id(s.report_id) is s
    assert seller.by_document_id(s.report_document_id) is s
    assert seller.by_group_id(s.group_id) is s
    assert seller.by_report_id("nope") is None


def test_v1_rendering_sums_and_drops_promotion_columns(seller) -> None:
    from mlc_assets.sandbox.report_render import V1_COLUMNS, render_v1

    for s in seller.settlements:
        charset = content_type(s).split("charset=")[1]
        summary, details = _read_tsv(render_v1(s), charset)
        comma = s.currency == "EUR"
        amount_cols = [c for c in summary if c.endswith("-amount") and c != "total-amount"]
        total = sum(_dec(r[c], comma) for r in details for c in amount_cols if r[c] != "")
        assert total == _dec(summary["total-amount"], comma) == s.total
        assert len(details) == s.line_count
        assert len(summary) in (33, 36) and len(V1_COLUMNS) == 36
        assert ("promotion-id" in summary) == any(
            c.report_amount_type == "Promotion" for _, c in s.charges()
        )
    # a settlement without promotions renders the 33-column variant
    lean = generate_seller(11, 1, start=date(2026, 1, 1), marketplaces=("US",))
    s = dataclasses.replace(
        lean.settlements[0],
        events=tuple(
            e
            for e in lean.settlements[0].events
            if all(c.report_amount_type != "Promotion" for c in e.charges)
        ),
    )
    header = render_v1(s).split(b"\n")[0].split(b"\t")
    assert len(header) == 33


def test_short_periods_fit_fifty_settlements_in_amazons_90_day_window() -> None:
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    seller = generate_seller(7, 17, now=now, settlement_days=5)
    assert len(seller.settlements) == 51
    for s in seller.settlements:
        assert s.end - s.start == timedelta(days=5)
        assert now - timedelta(days=90) < s.report_created <= now
    with pytest.raises(ValueError, match="settlement_days"):
        generate_seller(7, 2, now=now, settlement_days=0)
