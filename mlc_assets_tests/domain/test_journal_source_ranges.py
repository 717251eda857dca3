"""Journal source lines as ranges text: built column-wise, checked on every build, stored compact.

The journal keeps, for each journal line, the report line numbers it sums (the audit trail).
They are ranges text (``"2-9,12,15-16"``) computed in polars; these tests pin the text to the
reference formatter, and show that the build refuses a journal whose ranges lose, repeat or
garble a line.
"""

from __future__ import annotations

import json
from collections import Counter

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlc_assets.domain import journal as journal_mod
from mlc_assets.domain.journal import (
    Journal,
    JournalError,
    JournalLine,
    _assert_invariants,
    _expand,
    _ranges,
    build_journal,
    source_ranges,
)
from mlc_assets.domain.settlement_schema import SettlementHeader
from mlc_assets_tests.domain.journal_fixtures import MAPPING, interleaved_settlement


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from("abc"), st.integers(min_value=0, max_value=3)), max_size=60)
)
def test_ranges_match_the_reference_formatter(steps: list[tuple[str, int]]) -> None:
    # Interleaved groups, gaps, and repeated numbers (step 0: V1 rows with several amounts).
    keys, numbers, no = [], [], 1
    for key, step in steps:
        no += step
        keys.append(key)
        numbers.append(no)
    frame = pl.DataFrame(
        {"k": keys, "line_no": numbers}, schema={"k": pl.Utf8, "line_no": pl.Int64}
    )
    got = dict(source_ranges(frame, ["k"]).iter_rows())
    want = {
        k: _ranges([n for kk, n in zip(keys, numbers, strict=True) if kk == k]) for k in set(keys)
    }
    assert got == want
    for k, text in got.items():
        assert Counter(_expand(text)) == Counter(
            n for kk, n in zip(keys, numbers, strict=True) if kk == k
        )


def test_ranges_text_shapes() -> None:
    frame = pl.DataFrame(
        {"k": ["a", "b", "a", "a", "b", "a", "a", "a"], "line_no": [2, 3, 4, 5, 6, 7, 7, 9]}
    )
    assert dict(source_ranges(frame, ["k"]).iter_rows()) == {"a": "2,4-5,7,7,9", "b": "3,6"}
    assert _expand("2,4-5,7,7,9") == (2, 4, 5, 7, 7, 9) and _expand("") == ()


def _settlement(n: int) -> tuple[SettlementHeader, pl.DataFrame]:
    return interleaved_settlement(n)


def test_interleaved_lines_make_one_range_list_per_account() -> None:
    header, classified = _settlement(10)
    journal = build_journal(header, classified, MAPPING)
    ranges = {ln.account_key: ln.source_ranges for ln in journal.entries[0].lines}
    assert ranges["principal"] == "2,6,10"
    assert ranges["referral_fees"] == "4,8"
    assert ranges["clearing"] == ""
    # The stored frame and JSON carry the same text, not a list of numbers.
    frame = journal.to_frame()
    assert frame.schema["source_ranges"] == pl.Utf8
    assert frame.filter(pl.col("account_key") == "principal")["source_ranges"][0] == "2,6,10"
    assert '"source_ranges":"2,6,10"' in journal.model_dump_json()


def _tamper(journal: Journal, key: str, **changes) -> Journal:
    (entry,) = journal.entries
    lines = tuple(
        ln.model_copy(update=changes) if ln.account_key == key else ln for ln in entry.lines
    )
    return journal.model_copy(update={"entries": (entry.model_copy(update={"lines": lines}),)})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        # a line dropped (and counted accordingly): the multiset check finds it
        ({"source_ranges": "2,6", "line_count": 2}, "not every line is journalled once"),
        # a line journalled twice
        ({"source_ranges": "2,4,6,10", "line_count": 4}, "not every line is journalled once"),
        # ranges and line_count disagree
        ({"source_ranges": "2,6"}, "counts 3 line\\(s\\) but its source ranges name 2"),
        # garbled text
        ({"source_ranges": "2,6-,10"}, "source ranges hold '6-'"),
        ({"source_ranges": "2,x,10"}, "source ranges hold 'x'"),
        ({"source_ranges": "10-2", "line_count": 9}, "source ranges hold '10-2'"),
    ],
)
def test_invariant_refuses_a_journal_that_loses_or_repeats_lines(changes, message) -> None:
    header, classified = _settlement(10)
    journal = build_journal(header, classified, MAPPING)
    lines = classified.select("line_no")
    _assert_invariants(journal, lines)  # the real one passes
    with pytest.raises(JournalError, match=message):
        _assert_invariants(_tamper(journal, "principal", **changes), lines)


def test_a_stored_journal_with_listed_source_lines_still_loads() -> None:
    # journal_json written before ranges listed every number; it reads back as ranges.
    header, classified = _settlement(10)
    journal = build_journal(header, classified, MAPPING)
    doc = json.loads(journal.model_dump_json())
    for entry in doc["entries"]:
        for line in entry["lines"]:
            line["source_lines"] = list(_expand(line.pop("source_ranges")))
    old = Journal.model_validate_json(json.dumps(doc))
    assert old == journal and old.fingerprint() == journal.fingerprint()
    assert JournalLine.model_validate(
        {**doc["entries"][0]["lines"][0], "source_lines": [7, 3, 4, 7]}
    ).source_ranges == ("3-4,7,7")


def test_a_large_settlement_builds_without_a_python_object_per_line(monkeypatch) -> None:
    # 200k interleaved lines: the ranges are text (no per-line Python ints are created by
    # the builder; _expand is the only expander and it must not be called).
    def forbidden(_: str) -> tuple[int, ...]:
        raise AssertionError("the builder expanded ranges into Python ints")

    monkeypatch.setattr(journal_mod, "_expand", forbidden)
    header, classified = _settlement(200_000)
    journal = build_journal(header, classified, MAPPING)
    counts = {ln.account_key: ln.line_count for ln in journal.entries[0].lines}
    assert counts["principal"] == 50_000 and sum(counts.values()) == 200_000
    principal = next(ln for ln in journal.entries[0].lines if ln.account_key == "principal")
    assert principal.source_ranges.startswith("2,6,10,14,")
    assert principal.source_ranges.endswith(",199998")
