"""Journal builder: debit/credit semantics, clearing/payable, month split, audit, errors."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import polars as pl
import pytest

from mlc_assets.domain.journal import JournalError, build_journal
from mlc_assets.domain.mapping import (
    GlMapping,
    MappingError,
    UnmappedTypesError,
    classify_lines,
    load_mapping,
    parse_mapping,
)
from mlc_assets.domain.money import MONEY_DTYPE
from mlc_assets.domain.settlement_schema import LINE_SCHEMA, SettlementHeader

SID = "12345678901"
PRINCIPAL = ("Order", "ItemPrice", "Principal")
TAX = ("Order", "ItemPrice", "Tax")
MFT = ("Order", "ItemWithheldTax", "MarketplaceFacilitatorTax-Principal")
COMMISSION = ("Order", "ItemFees", "Commission")
RESERVE_NEW = ("other-transaction", "other-transaction", "Current Reserve Amount")
ADS = ("ServiceFee", "Cost of Advertising", "TransactionTotalAmount")


def lines(rows: list[tuple[tuple[str, str, str], str, date]], mp: str = "Amazon.com"):
    n = len(rows)
    data: dict[str, list] = {c: [None] * n for c in LINE_SCHEMA}
    data["settlement_id"] = [SID] * n
    data["line_no"] = list(range(2, n + 2))
    data["source_column"] = ["amount"] * n
    data["transaction_type"] = [r[0][0] for r in rows]
    data["amount_type"] = [r[0][1] for r in rows]
    data["amount_description"] = [r[0][2] for r in rows]
    data["amount"] = [Decimal(r[1]) for r in rows]
    data["posted_date"] = [r[2] for r in rows]
    data["marketplace_name"] = [mp] * n
    return pl.DataFrame(data, schema=LINE_SCHEMA)


def header(total: str, currency: str = "USD", start=date(2026, 9, 24), end=date(2026, 10, 8)):
    return SettlementHeader(
        settlement_id=SID,
        start=datetime(start.year, start.month, start.day, 7, tzinfo=UTC),
        end=datetime(end.year, end.month, end.day, 7, tzinfo=UTC),
        deposit_date=datetime(end.year, end.month, end.day + 2, 7, tzinfo=UTC),
        total_amount=Decimal(total),
        currency=currency,
        file_format="v2",
        column_count=24,
    )


def with_journal(mapping: GlMapping, **changes) -> GlMapping:
    return mapping.model_copy(update={"journal": mapping.journal.model_copy(update=changes)})


@pytest.fixture(scope="module")
def mapping() -> GlMapping:
    return load_mapping()


def journal_for(mapping, rows, total, currency="USD", mp="Amazon.com", **kw):
    frame = classify_lines(lines(rows, mp), mapping, currency=currency)
    return build_journal(header(total, currency), frame, mapping, **kw)


def by_key(entry) -> dict[str, tuple[Decimal, Decimal]]:
    return {ln.account_key: (ln.debit, ln.credit) for ln in entry.lines}


D = Decimal
SEP29, SEP30, OCT2, OCT5 = (
    date(2026, 9, 29),
    date(2026, 9, 30),
    date(2026, 10, 2),
    date(2026, 10, 5),
)


def test_positive_settlement_single_entry(mapping) -> None:
    rows = [
        (PRINCIPAL, "20.00", SEP29),
        (PRINCIPAL, "10.00", OCT2),
        (COMMISSION, "-4.50", SEP29),
        (TAX, "1.60", OCT2),
        (MFT, "-1.60", OCT2),
        (RESERVE_NEW, "-5.00", OCT5),
    ]
    j = journal_for(mapping, rows, "20.50")
    (e,) = j.entries
    assert e.reference == f"AMZ-{SID}-1" and e.posting_date == date(2026, 10, 8)
    assert e.memo == f"Amazon settlement {SID} 2026-09-24..2026-10-08 (Amazon.com)"
    assert by_key(e) == {
        "principal": (D("0"), D("30.00")),
        "referral_fees": (D("4.50"), D("0")),
        "facilitator_tax": (D("0"), D("0")),  # collected and withheld: nets to zero
        "reserve": (D("5.00"), D("0")),
        "clearing": (D("20.50"), D("0")),
    }
    assert e.is_balanced and e.total_debits == D("30.00")
    lines_ = {ln.account_key: ln for ln in e.lines}
    assert lines_["principal"].source_lines == (2, 3) and lines_["principal"].line_count == 2
    assert lines_["facilitator_tax"].is_zero and lines_["facilitator_tax"].source_ranges == "5-6"
    assert [ln.account_key for ln in e.postable_lines()] == [
        "principal",
        "referral_fees",
        "reserve",
        "clearing",
    ]
    assert lines_["principal"].workday.ledger_account == "4000"
    assert lines_["clearing"].deltek.account == "1210.00"


def test_negative_settlement_credits_payable(mapping) -> None:
    j = journal_for(mapping, [(PRINCIPAL, "10.00", SEP29), (ADS, "-35.25", SEP30)], "-25.25")
    (e,) = j.entries
    assert by_key(e)["payable"] == (D("0"), D("25.25"))
    assert "clearing" not in by_key(e)
    assert e.is_balanced and j.clearing_total == D("-25.25")


def test_zero_settlement_has_no_clearing_line(mapping) -> None:
    rows = [(PRINCIPAL, "12.00", SEP29), (RESERVE_NEW, "-12.00", OCT5)]
    (e,) = journal_for(mapping, rows, "0.00").entries
    assert set(by_key(e)) == {"principal", "reserve"} and e.is_balanced


def test_month_split_parts_balance_via_in_transit(mapping) -> None:
    m = with_journal(mapping, split_by_month=True)
    rows = [
        (PRINCIPAL, "20.00", SEP29),
        (COMMISSION, "-3.00", SEP30),
        (TAX, "1.60", OCT2),
        (MFT, "-1.60", OCT2),
        (RESERVE_NEW, "-5.00", OCT5),
    ]
    j = journal_for(m, rows, "12.00")
    sep, octo, dep = j.entries
    assert (sep.posting_date, octo.posting_date, dep.posting_date) == (
        date(2026, 9, 30),
        date(2026, 10, 8),  # the settlement's last month posts on its end day
        date(2026, 10, 8),
    )
    assert by_key(sep)["in_transit"] == (D("17.00"), D("0"))
    assert by_key(octo)["in_transit"] == (D("0"), D("5.00"))
    assert by_key(dep) == {"in_transit": (D("0"), D("12.00")), "clearing": (D("12.00"), D("0"))}
    assert all(e.is_balanced for e in j.entries)
    assert [e.reference for e in j.entries] == [f"AMZ-{SID}-{n}" for n in (1, 2, 3)]
    assert "part 1/2 2026-09" in sep.memo
    # A settlement inside one month is a single entry even with the split on.
    one = journal_for(m, [(PRINCIPAL, "1.00", OCT2)], "1.00")
    assert len(one.entries) == 1 and "clearing" in by_key(one.entries[0])


def test_posting_date_rule_and_reference_prefix(mapping) -> None:
    m = with_journal(mapping, posting_date="deposit_date", reference_prefix="SC")
    (e,) = journal_for(m, [(PRINCIPAL, "1.00", SEP29)], "1.00").entries
    assert e.posting_date == date(2026, 10, 10) and e.reference == f"SC-{SID}-1"


def test_summarise_off_keeps_one_journal_line_per_report_line(mapping) -> None:
    m = with_journal(mapping, summarise=False)
    rows = [(PRINCIPAL, "20.00", SEP29), (PRINCIPAL, "10.00", OCT2)]
    (e,) = journal_for(m, rows, "30.00").entries
    principal = [ln for ln in e.lines if ln.account_key == "principal"]
    assert [ln.source_lines for ln in principal] == [(2,), (3,)]


def test_unknown_type_stops_with_yaml_to_add(mapping) -> None:
    rows = [(PRINCIPAL, "20.00", SEP29), (("Order", "ItemFees", "NewFee"), "-1.00", SEP29)]
    with pytest.raises(UnmappedTypesError) as exc:
        journal_for(mapping, rows, "19.00")
    msg = str(exc.value)
    assert f"settlement {SID}" in msg
    assert "transaction-type 'Order', amount-type 'ItemFees', amount-description 'NewFee'" in msg
    assert 'amount_description: "NewFee"' in msg and "e.g. line 3" in msg


def test_lines_not_summing_to_deposit_are_refused(mapping) -> None:
    with pytest.raises(JournalError, match=r"lines sum to 20.00 but the deposit .* is 21.00"):
        journal_for(mapping, [(PRINCIPAL, "20.00", SEP29)], "21.00")


def test_overrides_reach_journal_lines(mapping) -> None:
    rows = [(PRINCIPAL, "100.00", SEP29), (TAX, "19.00", SEP29)]
    (e,) = journal_for(mapping, rows, "119.00", currency="EUR", mp="Amazon.de").entries
    tax = next(ln for ln in e.lines if ln.account_key == "tax")
    assert tax.workday.ledger_account == "2205" and tax.deltek.account == "2205.00"
    principal = next(ln for ln in e.lines if ln.account_key == "principal")
    assert principal.workday.worktags["Region_Reference_ID"] == "REG_Amazon_EU"


def test_target_neutral_false_requires_both_erps() -> None:
    m = parse_mapping(
        """
rules:
  - match: {transaction_type: Order, amount_type: ItemPrice, amount_description: Principal}
    category: principal
accounts:
  principal: {category: principal, workday: {ledger_account: "4000"}}
  clearing: {workday: {ledger_account: "1210"}, deltek: {account: "1210.00"}}
  payable: {workday: {ledger_account: "2100"}, deltek: {account: "2100.00"}}
"""
    )
    rows = [(PRINCIPAL, "5.00", SEP29)]
    j = journal_for(m, rows, "5.00")
    assert j.entries[0].lines[0].deltek is None
    with pytest.raises(MappingError, match=r"accounts\.principal: needs both"):
        journal_for(m, rows, "5.00", target_neutral=False)


def test_frame_markdown_and_fingerprint(mapping) -> None:
    rows = [(PRINCIPAL, "20.00", SEP29), (COMMISSION, "-3.00", SEP29)]
    j = journal_for(mapping, rows, "17.00")
    f = j.to_frame()
    assert f.schema["debit"] == MONEY_DTYPE and f.schema["credit"] == MONEY_DTYPE
    assert f["debit"].sum() == f["credit"].sum() == D("20.00")
    assert f.filter(pl.col("account_key") == "principal")["source_ranges"].to_list() == ["2"]
    md = j.preview_markdown()
    assert "| AMZ-12345678901-1 | 2026-10-08 | principal | 4000 | 4000.00 |  | 20.00 | 1 |" in md
    assert "**20.00**" in md
    again = journal_for(mapping, rows, "17.00")
    assert j.fingerprint() == again.fingerprint() and len(j.fingerprint()) == 64
    changed = journal_for(
        mapping, [(PRINCIPAL, "20.01", SEP29), (COMMISSION, "-3.01", SEP29)], "17.00"
    )
    assert changed.fingerprint() != j.fingerprint()
