"""Split the physical rows of a tab-separated report into trimmed cells, fast.

Two ways to the same frame: polars' native CSV reader (fast: one pass in Rust, no
per-cell string copies) and a split-into-lists fallback that is obviously correct. The reader
is only trusted when it returns exactly one row per input row; otherwise (or when a row holds
a bare carriage return, which a CSV reader may treat as a line end) the fallback runs. Tests
check that both give identical frames.

Rules: cells are trimmed of whitespace; empty cells are null; a row with fewer cells than
the header is padded with nulls (Amazon omits trailing empty cells); cells beyond the header
are an error unless all empty; blank rows are skipped but line numbers stay physical.
"""

from __future__ import annotations

import polars as pl

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
