"""Row splitting: the fast CSV-reader path must equal the reference list path exactly."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlc_assets.domain.errors import SettlementFileError
from mlc_assets.domain.report_rows import (
    body_frame,
    split_rows,
    split_with_lists,
    split_with_reader,
)

NAMES = ["a", "b", "c", "d"]
CELL = st.text(alphabet=" \u00a0x1,.-ßé\x00", max_size=5)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.lists(CELL, min_size=0, max_size=4).map("\t".join),
            st.sampled_from(["", "  ", "\t\t", "x\r", " \r"]),
        ),
        max_size=12,
    )
)
def test_reader_and_list_splitting_agree(rows: list[str]) -> None:
    body = body_frame(rows)
    reference = split_with_lists(body, NAMES)
    fast = split_with_reader(body, NAMES)
    if fast is not None:
        assert fast.equals(reference)
    assert split_rows(rows, NAMES, file_name="f").equals(reference)


def test_cells_are_trimmed_null_for_empty_and_padded() -> None:
    rows = [" x \t\t y", "", "  \t ", "1\t2\t3\t4", "p\r"]
    frame = split_rows(rows, NAMES, file_name="f")
    assert frame["line_no"].to_list() == [2, 5, 6]  # physical; blank rows skipped
    assert frame.rows() == [
        (2, "x", None, "y", None),
        (5, "1", "2", "3", "4"),
        (6, "p", None, None, None),
    ]
    assert frame.schema == pl.Schema(
        {"line_no": pl.Int64, "a": pl.Utf8, "b": pl.Utf8, "c": pl.Utf8, "d": pl.Utf8}
    )


def test_surplus_cells_name_the_line_unless_empty() -> None:
    assert split_rows(["1\t2\t3\t4\t \t"], NAMES, file_name="f").height == 1
    with pytest.raises(SettlementFileError) as info:
        split_rows(["1", "", "1\t2\t3\t4\t\t5"], NAMES, file_name="f")
    assert info.value.line == 4
    assert "6 columns but the header has 4" in info.value.reason
