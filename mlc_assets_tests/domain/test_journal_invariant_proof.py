"""The journal's line-once proof without expanding ranges, and the builder's shortcuts.

``_assert_invariants`` proves that the journal's source ranges, expanded, are exactly the
report's line numbers (as a multiset), but never builds one number per line: it parses the
ranges text into (first, last) pairs and reasons about those. These tests pin that proof to
the plain one (expand everything, compare Counters) on random ranges and lines, both with
unique line numbers (V2) and repeated ones (V1 rows holding several amounts), and show that
text outside the ranges grammar is refused by name. They also pin ``source_ranges``'s
shortcuts (strictly increasing / positive line numbers) and ``settlement_marketplace`` to
reference implementations.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlc_assets.domain.journal import (
    Journal,
    JournalEntry,
    JournalError,
    JournalLine,
    _assert_invariants,
    _expand,
    _range_bounds,
    _ranges,
    _same_numbers,
    build_journal,
    source_ranges,
)
from mlc_assets.domain.mapping import classify_lines, load_mapping, settlement_marketplace
from mlc_assets.domain.settlement_schema import LINE_SCHEMA, SettlementHeader

MAPPING = load_mapping()
SID = "12345678901"

ranges_st = st.lists(
    st.tuples(st.integers(min_value=0, max_value=40), st.integers(min_value=0, max_value=4)),
    max_size=8,
)


def _text(pairs: list[tuple[int, int]]) -> str:
    return ",".join(str(a) if w == 0 else f"{a}-{a + w}" for a, w in pairs)


def _plain_proof(texts: list[str], line_nos: list[int]) -> bool:
    return Counter(n for t in texts for n in _expand(t)) == Counter(line_nos)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(ranges_st, min_size=1, max_size=4),
    st.lists(st.integers(min_value=0, max_value=45), max_size=40),
    st.booleans(),
)
def test_range_proof_equals_expanding_everything(journal_ranges, numbers, unique) -> None:
    texts = [_text(pairs) for pairs in journal_ranges]
    line_nos = sorted(set(numbers)) if unique else sorted(numbers)
    bounds = _range_bounds(texts)
    assert _same_numbers(bounds, pl.Series(line_nos, dtype=pl.Int64)) == _plain_proof(
        texts, line_nos
    )


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=30), max_size=40), st.randoms())
def test_range_proof_accepts_any_split_of_the_lines(numbers, rnd) -> None:
    # The lines dealt to journal lines at random (repeats allowed): always a valid journal.
    groups: list[list[int]] = [[], [], []]
    for n in numbers:
        groups[rnd.randrange(3)].append(n)
    texts = [_ranges(g) for g in groups]
    bounds = _range_bounds(texts)
    assert _same_numbers(bounds, pl.Series(sorted(numbers), dtype=pl.Int64))
    # unsorted lines are fine too
    assert _same_numbers(bounds, pl.Series(numbers, dtype=pl.Int64))


def test_range_bounds_reads_first_and_last_per_journal_line() -> None:
    bounds = _range_bounds(["2-9,12,15-16", "", "0,3-3,7,7"])
    assert bounds.rows() == [
        (0, 2, 9),
        (0, 12, 12),
        (0, 15, 16),
        (2, 0, 0),
        (2, 3, 3),
        (2, 7, 7),
        (2, 7, 7),
    ]


@pytest.mark.parametrize(
    ("text", "part"),
    [
        ("1-2-3", "1-2-3"),  # two dashes: not read as 1-2
        ("2,,6", ""),
        (",2", ""),
        ("2,", ""),
        ("-5", "-5"),
        ("05", "05"),  # numbers are written without leading zeros
        ("5-0", "5-0"),
        ("+5", "+5"),
        (" 5", " 5"),
        ("5-٣", "5-٣"),  # a non-ASCII digit
        ("2,99999999999999999999", "99999999999999999999"),  # beyond Int64
    ],
)
def test_range_bounds_names_text_that_is_not_ranges(text, part) -> None:
    with pytest.raises(ValueError, match="source ranges hold") as info:
        _range_bounds(["1,3", text])
    assert f"hold {part!r}," in str(info.value)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from("ab"), st.sampled_from("xy"), st.integers(0, 3)), max_size=50
    ),
    st.integers(min_value=-3, max_value=3),
    st.booleans(),
)
def test_source_ranges_shortcuts_match_the_reference(steps, first, strictly) -> None:
    # Strictly increasing numbers take the shift shortcut; a number <= 0 the plain render.
    keys_a, keys_b, numbers, no = [], [], [], first
    for a, b, step in steps:
        no += max(step, 1) if strictly else step
        keys_a.append(a)
        keys_b.append(b)
        numbers.append(no)
    frame = pl.DataFrame(
        {"a": keys_a, "b": keys_b, "line_no": numbers},
        schema={"a": pl.Utf8, "b": pl.Utf8, "line_no": pl.Int64},
    )
    for keys in (["a"], ["a", "b"], ["a", "line_no"]):
        got = {tuple(row[:-1]): row[-1] for row in source_ranges(frame, keys).iter_rows()}
        want: dict[tuple, list[int]] = {}
        for row in frame.iter_rows(named=True):
            want.setdefault(tuple(row[k] for k in keys), []).append(row["line_no"])
        assert got == {k: _ranges(v) for k, v in want.items()}


def _journal(texts_counts: list[tuple[str, int]]) -> Journal:
    lines = tuple(
        JournalLine(
            account_key=f"k{i}",
            category=None,
            memo="",
            debit=Decimal(0),
            credit=Decimal(0),
            workday=None,
            deltek=None,
            line_count=count,
            source_ranges=text,
        )
        for i, (text, count) in enumerate(texts_counts)
    )
    entry = JournalEntry(
        settlement_id=SID,
        entry_no=1,
        reference="AMZ-1",
        posting_date=datetime(2026, 10, 8).date(),
        currency="USD",
        memo="",
        lines=lines,
    )
    return Journal(settlement_id=SID, currency="USD", deposit=Decimal(0), entries=(entry,))


@pytest.mark.parametrize(
    ("texts_counts", "line_nos", "ok"),
    [
        # V1: line 7 holds two amounts, in two journal lines or twice in one
        ([("2-6,7", 6), ("7-9", 3)], [2, 3, 4, 5, 6, 7, 7, 8, 9], True),
        ([("2-7,7-9", 9)], [2, 3, 4, 5, 6, 7, 7, 8, 9], True),
        # ... but not three times, nor once
        ([("2-7,7-9", 9), ("7", 1)], [2, 3, 4, 5, 6, 7, 7, 8, 9], False),
        ([("2-9", 8), ("3", 1)], [2, 3, 4, 5, 6, 7, 7, 8, 9], False),  # 3 twice, 7 once
        # V2: overlap hidden by an equal count (3 twice, 9 never)
        ([("2-5", 4), ("3,6-8", 4)], [2, 3, 4, 5, 6, 7, 8, 9], False),
        ([("2-5", 4), ("6-9", 4)], [2, 3, 4, 5, 6, 7, 8, 9], True),
        # a range reaching past the last line, the count still matching
        ([("2-5", 4), ("7-10", 4)], [2, 3, 4, 5, 6, 7, 8, 9], False),
    ],
)
def test_invariant_on_repeated_and_overlapping_lines(texts_counts, line_nos, ok) -> None:
    journal = _journal(texts_counts)
    lines = pl.DataFrame({"line_no": line_nos}, schema={"line_no": pl.Int64})
    if ok:
        _assert_invariants(journal, lines)
    else:
        with pytest.raises(JournalError, match="not every line is journalled once"):
            _assert_invariants(journal, lines)


def test_v1_style_repeated_line_numbers_build_and_prove() -> None:
    # Two amounts on one file line (V1): both land, the line number twice.
    n = 12
    data: dict[str, list] = {c: [None] * n for c in LINE_SCHEMA}
    data["settlement_id"] = [SID] * n
    data["line_no"] = [2, 2, 3, 4, 4, 5, 6, 6, 7, 8, 8, 9]
    kinds = [("Order", "ItemPrice", "Principal"), ("Order", "ItemFees", "Commission")]
    which = [0, 0, 1, 0, 1, 0, 0, 1, 0, 1, 1, 1]
    data["transaction_type"] = [kinds[k][0] for k in which]
    data["amount_type"] = [kinds[k][1] for k in which]
    data["amount_description"] = [kinds[k][2] for k in which]
    data["amount"] = [Decimal("1.00")] * n
    data["marketplace_name"] = ["Amazon.com"] * n
    header = SettlementHeader(
        settlement_id=SID,
        start=datetime(2026, 9, 24, 7, tzinfo=UTC),
        end=datetime(2026, 10, 8, 7, tzinfo=UTC),
        deposit_date=datetime(2026, 10, 10, 7, tzinfo=UTC),
        total_amount=Decimal(n),
        currency="USD",
        file_format="v1",
        column_count=24,
    )
    classified = classify_lines(pl.DataFrame(data, schema=LINE_SCHEMA), MAPPING, currency="USD")
    journal = build_journal(header, classified, MAPPING)
    got = {ln.account_key: ln.source_ranges for ln in journal.entries[0].lines}
    assert got["principal"] == "2,2,4-7"
    assert got["referral_fees"] == "3-4,6,8,8-9"
    counts = Counter(n for ln in journal.entries[0].lines for n in ln.source_lines)
    assert counts == Counter(data["line_no"])


def _reference_marketplace(lines: pl.DataFrame) -> str | None:
    names = [
        m
        for m in lines["marketplace_name"].to_list()
        if m is not None and m.strip() != "" and not m.lower().startswith("non-amazon")
    ]
    if not names:
        return None
    counts = Counter(names)
    return sorted(counts, key=lambda m: (-counts[m], m))[0]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [None, "", "  ", "Amazon.com", "Amazon.de", "Non-Amazon US", "NON-AMAZON", "amazon.com"]
        ),
        max_size=30,
    )
)
def test_settlement_marketplace_matches_the_reference(names) -> None:
    frame = pl.DataFrame({"marketplace_name": names}, schema={"marketplace_name": pl.Utf8})
    assert settlement_marketplace(frame) == _reference_marketplace(frame)
