"""Split the physical rows of a tab-separated report into trimmed cells, fast.

Two ways to the same frame: polars' native CSV reader (fast: one pass in Rust, no
per-cell string copies) and a split-into-lists fallback that is obviously correct. The reader
is only trusted when it returns exactly one row per input row; otherwise (or when a row holds
a bare carriage return, which a CSV reader may treat as a line end) the fallback runs. Tests
check that both give identical frames.

``split_body`` is the entry point for a whole file body: it hands the bytes to the reader
directly (no Python string per line, no second copy of the file) and only falls back on the
guarded list path when a cheap whole-buffer test says the reader's output might differ.

Rules: cells are trimmed of whitespace; empty cells are null; a row with fewer cells than
the header is padded with nulls (Amazon omits trailing empty cells); cells beyond the header
are an error unless all empty; blank rows are skipped but line numbers stay physical.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
import pyarrow as pa

from mlc_assets.domain.errors import SettlementFileError

_BLANK = r"^\s*$"
_NON_TAB_SPACE = r"[^\S\t]"
# A row needs trimming only if some whitespace (other than the tab itself) touches a tab or
# an end of the row; most rows do not, so only those rows pay for the regex rewrite.
_NEEDS_TRIM = rf"{_NON_TAB_SPACE}\t|\t{_NON_TAB_SPACE}|^{_NON_TAB_SPACE}|{_NON_TAB_SPACE}$"


def body_frame(rows: list[str]) -> pl.DataFrame:
    """Rows after the header → ``line_no`` (physical, header = 1) and ``raw``, blanks dropped."""
    return (
        pl.DataFrame({"raw": rows}, schema={"raw": pl.Utf8})
        .with_row_index("line_no", offset=2)
        .with_columns(pl.col("line_no").cast(pl.Int64), pl.col("raw").str.strip_suffix("\r"))
        .filter(pl.col("raw").str.contains(_BLANK).not_())
    )


def check_width(body: pl.DataFrame, width: int, *, file_name: str) -> None:
    """Refuse a row with non-empty cells beyond the header's width, naming its line."""
    candidates = body.filter(pl.col("raw").str.count_matches("\t", literal=True) >= width)
    if candidates.is_empty():
        return
    cells = candidates.select("line_no", cells=pl.col("raw").str.split("\t"))
    overflow = cells.filter(
        pl.col("cells").list.slice(width).list.join("").str.contains(_BLANK).not_()
    )
    if overflow.height:
        row = overflow.row(0, named=True)
        raise SettlementFileError(
            f"row has {len(row['cells'])} columns but the header has {width}",
            file=file_name,
            line=row["line_no"],
        )


def split_with_lists(body: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """Reference splitter: ``str.split`` into lists, one ``list.get`` per column."""
    cells = pl.col("raw").str.split("\t")
    return body.select(
        "line_no",
        *[
            cells.list.get(i, null_on_oob=True).str.strip_chars().replace("", None).alias(name)
            for i, name in enumerate(names)
        ],
    )


def split_with_reader(body: pl.DataFrame, names: list[str]) -> pl.DataFrame | None:
    """Fast splitter via ``pl.read_csv``; None when its output cannot be trusted."""
    raw = body["raw"]
    if raw.str.contains("\r", literal=True).any():
        return None
    dirty = raw.str.contains(_NEEDS_TRIM)
    if dirty.any():
        cleaned = (
            raw.filter(dirty)
            .str.replace_all(rf"{_NON_TAB_SPACE}*\t{_NON_TAB_SPACE}*", "\t")
            .str.replace_all(rf"^{_NON_TAB_SPACE}+|{_NON_TAB_SPACE}+$", "")
        )
        raw = raw.scatter(dirty.arg_true(), cleaned)
    # Synthetic unique column names: the real ones were validated already and a CSV reader
    # must not interpret them.
    synthetic = [f"c{i}" for i in range(len(names))]
    blob = "\t".join(synthetic) + "\n" + raw.str.join("\n").item() + "\n"
    try:
        cells = pl.read_csv(
            blob.encode(),
            separator="\t",
            has_header=True,
            infer_schema=False,
            quote_char=None,
            truncate_ragged_lines=True,
            raise_if_empty=False,
        )
    except pl.exceptions.PolarsError:
        return None
    if cells.columns != synthetic or cells.height != body.height:
        return None
    return pl.concat(
        [
            body.select("line_no"),
            cells.select(
                [
                    pl.col(s).cast(pl.Utf8).replace("", None).alias(n)
                    for s, n in zip(synthetic, names, strict=True)
                ]
            ),
        ],
        how="horizontal",
    )


def split_rows(rows: list[str], names: list[str], *, file_name: str) -> pl.DataFrame:
    """Physical rows → ``line_no`` plus one trimmed, null-for-empty Utf8 column per name."""
    body = body_frame(rows)
    check_width(body, len(names), file_name=file_name)
    fast = split_with_reader(body, names)
    return fast if fast is not None else split_with_lists(body, names)


# polars indexes rows with u32: longer buffers take the pure-Python checks.
MAX_BYTE_VIEW = 2**32 - 2


def byte_series(data: bytes) -> pl.Series:
    """The bytes as a UInt8 series, without a copy (the series keeps ``data`` alive).

    Whole-buffer scans (count a byte, test neighbouring bytes) then run as vectorised polars
    kernels: counting the newlines of a 170 MB file this way takes a fifth of the time of
    ``bytes.count``.
    """
    return pl.Series(pa.Array.from_buffers(pa.uint8(), len(data), [None, pa.py_buffer(data)]))


# Unicode whitespace that is not ASCII (what Rust's ``char::is_whitespace`` and hence polars'
# ``strip_chars`` strip), as UTF-8 byte sequences. U+2000..U+200A, U+2028, U+2029 and U+202F
# share the lead bytes E2 80 and are checked by their third byte.
_WIDE_SPACES = (b"\xc2\x85", b"\xc2\xa0", b"\xe1\x9a\x80", b"\xe2\x81\x9f", b"\xe3\x80\x80")
_E280_SPACES = frozenset([*range(0x80, 0x8B), 0xA8, 0xA9, 0xAF])


_ASCII_BYTES = bytes(range(0x80))
_WIDE_LEADS = (b"\xc2", b"\xe1", b"\xe2", b"\xe3")


def _has_wide_lead(body: bytes) -> bool:
    """Any of the wide spaces' lead bytes? One vectorised pass instead of four memchr."""
    if len(body) > MAX_BYTE_VIEW:
        return any(lead in body for lead in _WIDE_LEADS)
    byte = pl.col("byte")
    return (
        pl.LazyFrame({"byte": byte_series(body)})
        .select(((byte == 0xC2) | byte.is_between(0xE1, 0xE3)).any())
        .collect()
        .item()
    )


def _has_wide_space(body: bytes) -> bool:
    """Any non-ASCII Unicode space in valid UTF-8 ``body``?

    A test for the spaces' lead bytes rules most files out: German or French text uses
    the lead byte C3, none of the spaces' leads. Otherwise the ASCII bytes are dropped first
    — multi-byte characters stay whole, so a match in the rest is a match in the file.
    """
    if not _has_wide_lead(body):
        return False
    rest = body.translate(None, _ASCII_BYTES)
    if any(seq in rest for seq in _WIDE_SPACES):
        return True
    at = rest.find(b"\xe2\x80")
    while at != -1:
        if at + 2 < len(rest) and rest[at + 2] in _E280_SPACES:
            return True
        at = rest.find(b"\xe2\x80", at + 2)
    return False


@dataclass(frozen=True)
class _ByteScan:
    newlines: int
    space_at_cell_edge: bool  # conservative: True may be a false alarm, False is a proof
    tab_lf_only: bool  # no control byte below 0x0E but tab and LF (so no CR, VT, FF)
    ascii: bool


_CONTROLS = frozenset(range(14)) - {9, 10}


def _scan_bytes(data: bytes) -> _ByteScan:
    """The whole-buffer facts the reader path needs, in one pass over the bytes.

    A cell's first byte follows a tab, a newline or the buffer start; its last byte precedes
    a tab, a newline, a CRLF's carriage return or the buffer end. So when no space sits next
    to a byte below 0x0E (which covers tab, LF and CR) nor at either end of the buffer, no
    cell of any row can need an ASCII-space trim. Bytes below 0x0E that are neither tab nor
    LF are counted rather than looked for one by one: when there are none, the CR and
    VT/FF tests need no further scan.
    """
    if len(data) < 2 or len(data) > MAX_BYTE_VIEW:
        return _scan_bytes_python(data)
    view = byte_series(data)
    pairs = pl.LazyFrame({"a": view.slice(0, len(data) - 1), "b": view.slice(1)})
    a, b = pl.col("a"), pl.col("b")
    # Lazy, so the shared comparisons (a < 14, ...) are computed once.
    scan = (
        pairs.select(
            newlines=(a == 10).sum(),
            tabs=(a == 9).sum(),
            controls=(a < 14).sum(),
            high=(a >= 0x80).any(),
            space_then_edge=((a == 32) & (b < 14)).any(),
            edge_then_space=((a < 14) & (b == 32)).any(),
        )
        .collect()
        .row(0, named=True)
    )
    last = data[-1]
    return _ByteScan(
        newlines=scan["newlines"] + (last == 10),
        space_at_cell_edge=scan["space_then_edge"]
        or scan["edge_then_space"]
        or data[0] == 32
        or last == 32,
        tab_lf_only=scan["controls"] == scan["newlines"] + scan["tabs"] and last not in _CONTROLS,
        ascii=not scan["high"] and last < 0x80,
    )


def _scan_bytes_python(data: bytes) -> _ByteScan:
    """The same facts by several passes of bytes methods (tiny or >4 GiB buffers)."""
    return _ByteScan(
        newlines=data.count(b"\n"),
        space_at_cell_edge=any(p in data for p in (b" \t", b"\t ", b" \n", b"\n ", b" \r"))
        or data.startswith(b" ")
        or data.endswith(b" "),
        tab_lf_only=False,  # not established: the callers run the precise tests
        ascii=data.isascii(),
    )


def _expected_rows(data: bytes, newlines: int, skip_lines: int) -> int:
    return newlines + (0 if not data or data.endswith(b"\n") else 1) - skip_lines


def split_bytes_with_reader(
    data: bytes, names: list[str], *, skip_lines: int = 0, first_line_no: int = 2
) -> pl.DataFrame | None:
    """Fast splitter on UTF-8 bytes (after ``skip_lines`` header lines); None when untrusted.

    ``first_line_no`` is the physical line number of the first line read.

    Trusted only when: carriage returns occur only as CRLF line ends, the reader accepts
    every row (a row wider than the header is an error there → the guarded path words it
    or accepts trailing empty cells), and it returns one row per physical line (so line
    numbers stay physical). Trimming is done per column and only where a cell can carry
    whitespace at an end: when the byte scan cannot rule out an ASCII space at a cell edge,
    per-column prefix/suffix tests find the columns; vertical tab, form feed or any
    non-ASCII Unicode space anywhere in the file trims every column.
    """
    scan = _scan_bytes(data)
    if not scan.tab_lf_only and b"\r" in data and data.count(b"\r") != data.count(b"\r\n"):
        return None
    synthetic = [f"c{i}" for i in range(len(names))]
    try:
        cells = pl.read_csv(
            data,
            has_header=False,
            skip_lines=skip_lines,
            schema=dict.fromkeys(synthetic, pl.Utf8),
            separator="\t",
            quote_char=None,
            raise_if_empty=False,
            missing_columns="insert",  # a short first row is padded like any other
        )
    except pl.exceptions.PolarsError:
        return None
    if (
        cells.height != _expected_rows(data, scan.newlines, skip_lines)
        or cells.columns != synthetic
    ):
        return None
    vertical = not scan.tab_lf_only and (b"\x0b" in data or b"\x0c" in data)
    if vertical or (not scan.ascii and _has_wide_space(data)):
        to_trim = synthetic
    elif not scan.space_at_cell_edge:
        to_trim = []
    else:
        ends = cells.select(
            [
                (pl.col(c).str.starts_with(" ") | pl.col(c).str.ends_with(" ")).any()
                for c in synthetic
            ]
        ).row(0)
        to_trim = [c for c, dirty in zip(synthetic, ends, strict=True) if dirty]
    if to_trim:
        cells = cells.with_columns([pl.col(c).str.strip_chars().replace("", None) for c in to_trim])
    blank = pl.all_horizontal([pl.col(c).is_null() for c in synthetic])
    numbered = cells.with_row_index("line_no", offset=first_line_no).with_columns(
        pl.col("line_no").cast(pl.Int64)
    )
    # Filtering copies every column; a file without blank lines (the usual case) skips it.
    if numbered.select(blank.any()).item():
        numbered = numbered.filter(blank.not_())
    return numbered.rename(dict(zip(synthetic, names, strict=True)))


def split_body(
    data: bytes,
    names: list[str],
    *,
    skip_lines: int = 0,
    first_line_no: int = 2,
    file_name: str,
) -> pl.DataFrame:
    """UTF-8 bytes → the same frame as :func:`split_rows` on the lines after ``skip_lines``.

    ``first_line_no`` numbers the first line read (2 when the header row was line 1).
    """
    fast = split_bytes_with_reader(data, names, skip_lines=skip_lines, first_line_no=first_line_no)
    if fast is not None:
        return fast
    rows = data.decode("utf-8").split("\n")[skip_lines:]
    frame = split_rows(rows, names, file_name=file_name)
    # split_rows numbers its first row 2 (the line after one header line).
    shift = first_line_no - 2
    return frame.with_columns(pl.col("line_no") + shift) if shift else frame
