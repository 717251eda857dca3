"""The whole-buffer splitter (CSV reader on the file's bytes) equals the guarded list path."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlc_assets.domain.errors import SettlementFileError
from mlc_assets.domain.report_rows import (
    _ByteScan,
    _scan_bytes,
    _scan_bytes_python,
    byte_series,
    split_body,
    split_bytes_with_reader,
    split_rows,
)

NAMES = ["a", "b", "c", "d"]
# Spaces of every kind the trimming rules know: ASCII, vertical tab, NBSP, U+2003, U+3000,
# plus a non-space character that shares U+2003's lead bytes (U+2019) and a quote.
CELL = st.text(alphabet=' \u00a0\u2003\u3000\u2019\x0bx1,.-ßé"', max_size=5)
ROW = st.one_of(
    st.lists(CELL, min_size=0, max_size=5).map("\t".join),
    st.sampled_from(["", "  ", "\t\t", "x\r", " \r", "\r"]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(ROW, max_size=12), st.booleans())
def test_bytes_reader_equals_list_splitting(rows: list[str], trailing_newline: bool) -> None:
    text = "h1\th2\th3\th4\n" + "\n".join(rows) + ("\n" if trailing_newline and rows else "")
    data = text.encode("utf-8")
    body_rows = text.split("\n")[1:]
    try:
        reference = split_rows(body_rows, NAMES, file_name="f")
    except SettlementFileError as exc:
        with pytest.raises(SettlementFileError) as info:
            split_body(data, NAMES, skip_lines=1, file_name="f")
        assert (info.value.line, info.value.reason) == (exc.line, exc.reason)
        return
    fast = split_bytes_with_reader(data, NAMES, skip_lines=1)
    if fast is not None:
        assert fast.equals(reference), (fast, reference)
    assert split_body(data, NAMES, skip_lines=1, file_name="f").equals(reference)
    # Same result from the body alone (the path for re-encoded non-UTF-8 files).
    body = "\n".join(body_rows).encode("utf-8")
    assert split_body(body, NAMES, file_name="f").equals(reference)


def test_plain_file_takes_the_reader_path_and_keeps_physical_line_numbers() -> None:
    data = b"h\th\th\th\nx\t \ty\n\n  \t\n1\t2\t3\t4\n"
    fast = split_bytes_with_reader(data, NAMES, skip_lines=1)
    assert fast is not None
    assert fast.rows() == [(2, "x", None, "y", None), (5, "1", "2", "3", "4")]


def test_wider_rows_fall_back_and_name_the_line() -> None:
    data = b"h\th\th\th\n1\n\n1\t2\t3\t4\t\t5\n"
    assert split_bytes_with_reader(data, NAMES, skip_lines=1) is None
    with pytest.raises(SettlementFileError) as info:
        split_body(data, NAMES, skip_lines=1, file_name="f")
    assert info.value.line == 4


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from(list(b" \t\n\rx\x00\x0b\x0c\x0e\x7f\x80\xc3")), max_size=40).map(bytes)
)
def test_byte_scan_counts_newlines_and_never_misses_an_edge_space(data: bytes) -> None:
    for scan in (_scan_bytes(data), _scan_bytes_python(data)):
        _check_scan(data, scan)


def _check_scan(data: bytes, scan: _ByteScan) -> None:
    assert scan.newlines == data.count(b"\n")
    assert scan.ascii == data.isascii()
    if scan.tab_lf_only:
        assert not any(b in data for b in (b"\r", b"\x0b", b"\x0c"))
    # Any cell (split on LF and tab, CRLF's CR dropped) that starts or ends with a space
    # must have been flagged; a flag without such a cell is allowed (conservative).
    cells = [c for line in data.split(b"\n") for c in line.removesuffix(b"\r").split(b"\t")]
    if any(c.startswith(b" ") or c.endswith(b" ") for c in cells):
        assert scan.space_at_cell_edge


def test_byte_view_is_the_bytes() -> None:
    data = bytes(range(256)) * 3
    assert byte_series(data).to_list() == list(data)


def test_byte_scan_of_a_plain_file() -> None:
    scan = _scan_bytes(b"h\th\nx\ty\n")
    assert (scan.newlines, scan.space_at_cell_edge, scan.tab_lf_only, scan.ascii) == (
        2,
        False,
        True,
        True,
    )
    scan = _scan_bytes("h\th\r\nx \t\u00e9\n".encode())
    assert (scan.newlines, scan.space_at_cell_edge, scan.tab_lf_only, scan.ascii) == (
        2,
        True,
        False,
        False,
    )
