"""Shortcuts in report_values must give exactly what the direct computation gives."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from mlc_assets.domain.report_values import _count_in

AMOUNTS = ["1.50", "2", "1,234", "3,5", "7.25"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from(AMOUNTS))), st.sets(st.sampled_from(AMOUNTS)))
def test_count_in_equals_a_direct_membership_count(values: list, subset: set) -> None:
    series = pl.Series(values, dtype=pl.Utf8)
    distinct = series.unique()
    chosen = distinct.filter(distinct.is_in(sorted(subset)))
    direct = int(series.is_in(chosen.implode()).sum())
    assert _count_in(series, distinct, chosen) == direct
