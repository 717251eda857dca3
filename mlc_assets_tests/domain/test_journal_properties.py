"""Property-based: any settlement of known types journals balanced, complete and once."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlc_assets.domain.journal import build_journal
from mlc_assets.domain.mapping import IN_TRANSIT, classify_lines, load_mapping
from mlc_assets.domain.money import ZERO
from mlc_assets.domain.settlement_schema import LINE_SCHEMA, SettlementHeader

MAPPING = load_mapping()

KNOWN = [
    ("Order", "ItemPrice", "Principal"),
    ("Order", "ItemPrice", "Tax"),
    ("Order", "ItemPrice", "Shipping"),
    ("Order", "ItemWithheldTax", "MarketplaceFacilitatorTax-Principal"),
    ("Order", "ItemFees", "Commission"),
    ("Order", "ItemFees", "FBAPerUnitFulfillmentFee"),
    ("Order", "Promotion", "Shipping"),
    ("Refund", "ItemPrice", "Principal"),
    ("Refund", "ItemFees", "RefundCommission"),
    ("ServiceFee", "Cost of Advertising", "TransactionTotalAmount"),
    ("other-transaction", "other-transaction", "Storage Fee"),
    ("other-transaction", "FBA Inventory Reimbursement", "WAREHOUSE_DAMAGE"),
    ("other-transaction", "other-transaction", "Current Reserve Amount"),
    ("other-transaction", "other-transaction", "Previous Reserve Amount Balance"),
    ("Subscription Fee", "MiscFee", "Subscription Fee"),
]
RESERVE = ("other-transaction", "other-transaction", "Current Reserve Amount")

line_st = st.tuples(
    st.sampled_from(KNOWN),
    st.integers(min_value=-500_000, max_value=500_000),  # cents
    st.integers(min_value=0, max_value=45),  # day offset from the start
    st.booleans(),  # posted date missing
)


@st.composite
def settlements(draw):
    rows = draw(st.lists(line_st, min_size=0, max_size=40))
    start = draw(st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 12, 1)))
    length = draw(st.integers(min_value=1, max_value=45))
    balance = draw(st.sampled_from(["free", "zero", "negative"]))
    cents = sum(r[1] for r in rows)
    if balance == "zero" and cents:
        rows.append((RESERVE, -cents, length, False))
    elif balance == "negative" and cents >= 0:
        rows.append((("ServiceFee", "Cost of Advertising", "TransactionTotalAmount"),
                     -cents - draw(st.integers(1, 10_000)), 0, False))  # fmt: skip
    # V1 files give several money cells the same physical line number.
    line_nos, no = [], 1
    for _ in rows:
        no += draw(st.sampled_from([0, 1, 1, 1])) if line_nos else 1
        line_nos.append(no)
    return start, length, rows, line_nos


def frame(start: date, rows, line_nos) -> pl.DataFrame:
    n = len(rows)
    data: dict[str, list] = {c: [None] * n for c in LINE_SCHEMA}
    data["settlement_id"] = ["98765432109"] * n
    data["line_no"] = line_nos
    data["transaction_type"] = [r[0][0] for r in rows]
    data["amount_type"] = [r[0][1] for r in rows]
    data["amount_description"] = [r[0][2] for r in rows]
    data["amount"] = [Decimal(r[1]).scaleb(-2) for r in rows]
    data["posted_date"] = [None if r[3] else start + timedelta(days=r[2]) for r in rows]
    data["marketplace_name"] = ["Amazon.com"] * n
    return pl.DataFrame(data, schema=LINE_SCHEMA)


@pytest.mark.parametrize("split", [False, True], ids=["single", "month_split"])
@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    case=settlements(),
    summarise=st.booleans(),
    rule=st.sampled_from(["settlement_end", "deposit_date"]),
)
def test_journal_invariants(split: bool, case, summarise: bool, rule: str) -> None:
    start, length, rows, line_nos = case
    lines = frame(start, rows, line_nos)
    deposit = sum((Decimal(r[1]).scaleb(-2) for r in rows), ZERO)
    s = datetime(start.year, start.month, start.day, tzinfo=UTC)
    header = SettlementHeader(
        settlement_id="98765432109",
        start=s,
        end=s + timedelta(days=length),
        deposit_date=s + timedelta(days=length + 2),
        total_amount=deposit,
        currency="USD",
        file_format="v2",
        column_count=24,
    )
    mapping = MAPPING.model_copy(
        update={
            "journal": MAPPING.journal.model_copy(
                update={"split_by_month": split, "summarise": summarise, "posting_date": rule}
            )
        }
    )
    journal = build_journal(header, classify_lines(lines, mapping, currency="USD"), mapping)

    for entry in journal.entries:
        assert entry.total_debits == entry.total_credits  # to the cent
        for ln in entry.lines:
            assert ln.debit >= 0 and ln.credit >= 0 and (ln.debit == 0 or ln.credit == 0)
            assert ln.debit == ln.debit.quantize(Decimal("0.01"))
    # The bank side sees the deposit exactly once.
    assert journal.clearing_total == deposit
    clearing_lines = [
        ln for e in journal.entries for ln in e.lines if ln.account_key in ("clearing", "payable")
    ]
    assert len(clearing_lines) == (0 if deposit == 0 else 1)
    # Every source line lands on exactly one journal line (multiset equality).
    used = Counter(n for e in journal.entries for ln in e.lines for n in ln.source_lines)
    assert used == Counter(line_nos)
    assert sum(ln.line_count for e in journal.entries for ln in e.lines) == len(rows)
    # Month parts: in-transit of the parts sums to the deposit; overall it nets to zero.
    transit = [
        (e, ln.debit - ln.credit)
        for e in journal.entries
        for ln in e.lines
        if ln.account_key == IN_TRANSIT
    ]
    months = {(start + timedelta(days=r[2])).replace(day=1) if not r[3] else None for r in rows}
    if not split:
        assert transit == [] and len(journal.entries) == 1
    else:
        assert sum((t for _, t in transit), ZERO) == 0
        parts = [e for e in journal.entries if not e.memo.endswith(" deposit")]
        part_transit = sum(
            (ln.debit - ln.credit for e in parts for ln in e.lines if ln.account_key == IN_TRANSIT),
            ZERO,
        )
        if len(parts) > 1:
            assert part_transit == deposit
            # Month parts are dated inside their month, in order.
            dates = [e.posting_date for e in parts]
            assert dates == sorted(dates)
        assert len(parts) <= max(1, len(months))
