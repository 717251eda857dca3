"""Shortcuts in report_values must give exactly what the direct computation gives."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from mlc_assets.domain.report_values import (
    COMMA,
    DOT,
    DecimalStyle,
    _count_in,
    _parse_amounts_full,
    parse_amounts,
)

AMOUNTS = ["1.50", "2", "1,234", "3,5", "7.25"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from(AMOUNTS))), st.sets(st.sampled_from(AMOUNTS)))
def test_count_in_equals_a_direct_membership_count(values: list, subset: set) -> None:
    series = pl.Series(values, dtype=pl.Utf8)
    distinct = series.unique()
    chosen = distinct.filter(distinct.is_in(sorted(subset)))
    direct = int(series.is_in(chosen.implode()).sum())
    assert _count_in(series, distinct, chosen) == direct


DOT_TEXTS = ["1.50", "-2", "+1,234.56", "0.1", "1,000,000", "12.5", "-0.01", "7"]
COMMA_TEXTS = ["1,50", "-2", "+1.234,56", "0,1", "1.000.000", "12,5", "-0,01", "7"]


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_distinct_value_amount_parsing_equals_casting_every_cell(data: st.DataObject) -> None:
    style = data.draw(st.sampled_from([DOT, COMMA]))
    texts = DOT_TEXTS if style == DOT else COMMA_TEXTS
    cells = data.draw(st.lists(st.one_of(st.none(), st.sampled_from(texts)), max_size=30))
    values = pl.Series("amount", cells, dtype=pl.Utf8)
    line_nos = pl.Series(range(2, 2 + len(cells)))
    kwargs = {"style": DecimalStyle(*style, reason="test"), "column": "amount", "file_name": "f"}
    fast = parse_amounts(values, line_nos, **kwargs)
    reference = _parse_amounts_full(values, line_nos, **kwargs)
    assert fast.dtype == reference.dtype
    assert fast.name == reference.name
    assert fast.to_list() == reference.to_list()
