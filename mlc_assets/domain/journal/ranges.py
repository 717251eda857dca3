"""Source ranges: which report lines a journal line stands for, as compact text, proven exact."""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import polars as pl

from mlc_assets.domain.money import money_str

_NUMBER = r"(?:0|[1-9][0-9]*)"
_RANGE = rf"{_NUMBER}(?:-{_NUMBER})?"
_RANGES_TEXT = rf"^(?:{_RANGE}(?:,{_RANGE})*)?$"
_INT64_MAX = (1 << 63) - 1


def _bad_part(text: str) -> str | None:
    """The first part of ``text`` that is not a range (error path only: Python per part)."""
    for part in text.split(",") if text else ():
        first, dash, last = part.partition("-")
        numbers = (first, last) if dash else (first,)
        if not all(n.isascii() and n.isdigit() and (n == "0" or n[0] != "0") for n in numbers):
            return part
        if int(numbers[0]) > int(numbers[-1]) or int(numbers[-1]) > _INT64_MAX:
            return part
    return None


def _range_bounds(texts: list[str]) -> pl.DataFrame:
    """``journal_line`` (index into ``texts``), ``first`` and ``last`` of every range the
    texts name, column-wise and without expanding ranges into numbers; ValueError naming
    the part when a text is not ranges.

    The texts are checked against the ranges grammar first (one regex pass), so splitting at
    ``,`` and before ``-`` leaves only numbers, each range's last one marked by its ``-``."""
    series = pl.Series("text", texts, dtype=pl.Utf8)
    well_formed = series.str.contains(_RANGES_TEXT)
    if not well_formed.all():
        text = series.filter(~well_formed)[0]
        raise ValueError(f"source ranges hold {_bad_part(text)!r}, not a number or range")
    part, value, closes = pl.col("part"), pl.col("value"), pl.col("closes")
    bounds = (
        pl.DataFrame({"part": series})
        .with_row_index("journal_line")
        .lazy()
        .with_columns(part.str.replace_all("-", ",-", literal=True).str.split(","))
        .explode("part")
        .filter(part != "")
        .select(
            "journal_line",
            part.cast(pl.Int64, strict=False).alias("value"),
            part.str.starts_with("-").alias("closes"),
        )
        .select(
            "journal_line",
            closes,
            value.alias("first"),
            pl.when(closes.shift(-1)).then(-value.shift(-1)).otherwise(value).alias("last"),
        )
        .filter(~closes)
        .drop("closes")
        .collect()
    )
    bad = bounds.filter(
        pl.col("first").is_null() | pl.col("last").is_null() | (pl.col("first") > pl.col("last"))
    )
    if bad.height:
        text = texts[int(bad["journal_line"][0])]
        raise ValueError(f"source ranges hold {_bad_part(text)!r}, not a number or range")
    return bounds


def _same_numbers(bounds: pl.DataFrame, line_nos: pl.Series) -> bool:
    """Whether the ranges, expanded, are exactly the multiset ``line_nos`` — proved without
    expanding them.

    Unique line numbers (V2 files): the ranges' lengths sum to the number of lines and
    every line lies inside a range (the range starting at or before it, latest first). Then
    no range can reach outside the lines or overlap another: the lengths would sum to more.

    Repeated numbers (V1 rows with several amounts, ``"7,7"``): how many ranges cover a
    number, minus how often the number occurs, changes only where a range or a run of
    consecutive line numbers starts or ends; the two are equal everywhere exactly when the
    changes cancel at every such point."""
    numbers = line_nos if line_nos.is_sorted() else line_nos.sort()
    size = pl.col("last") - pl.col("first") + 1
    if (bounds.select(size.sum()).item() or 0) != numbers.len():
        return False
    if numbers.len() == 0:
        return True
    no = pl.col("line_no")
    lines = pl.DataFrame({"line_no": numbers}, schema={"line_no": pl.Int64})
    if bool((numbers.diff().drop_nulls() > 0).all()):
        inside = lines.lazy().join_asof(
            bounds.lazy().select("first", "last").sort("first"),
            left_on="line_no",
            right_on="first",
            strategy="backward",
        )
        return bool(inside.select((no <= pl.col("last")).fill_null(False).all()).collect().item())
    runs = lines.lazy().select(
        no,
        (no.diff() != 1).fill_null(True).alias("opens"),
        (no.diff(-1) != -1).fill_null(True).alias("closes"),
    )
    changes = pl.concat(
        [
            bounds.lazy().select(pl.col("first").alias("at"), pl.lit(1).alias("by")),
            bounds.lazy().select((pl.col("last") + 1).alias("at"), pl.lit(-1).alias("by")),
            runs.filter("opens").select(no.alias("at"), pl.lit(-1).alias("by")),
            runs.filter("closes").select((no + 1).alias("at"), pl.lit(1).alias("by")),
        ]
    )
    uncancelled = changes.group_by("at").agg(pl.col("by").sum()).filter(pl.col("by") != 0)
    return uncancelled.collect().height == 0


def source_ranges(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Per group of ``keys``: its ``line_no`` values as ranges text (as :func:`_ranges`).
    ``frame`` must be sorted by ``line_no``."""
    return _source_ranges(frame, keys).collect()


def _source_ranges(frame: pl.DataFrame, keys: list[str]) -> pl.LazyFrame:
    """:func:`source_ranges` as a lazy query (the builder runs it with the group sums).

    Column-wise, no Python per line: a number is *inside* a range on the left when it
    follows its group's previous number by one, on the right when its group's next number
    follows it by one; numbers inside on both sides are not rendered. ``frame`` must be
    sorted by ``line_no``.

    Two shortcuts, each taken only when it gives the same text:

    * Line numbers strictly increasing (V2 files, every line number once): a group's
      previous number is ``n - 1`` only if the frame's previous row is line ``n - 1``, so
      plain shifts over the frame replace the per-group windows.
    * Line numbers positive (file lines always are): a range's last number is rendered as
      its negative, the group's numbers are joined by ``,`` and ``,-`` becomes ``-``: one
      integer cast per number instead of a cast plus a two-piece concatenation.
    """
    no = pl.col("line_no")
    numbers = frame["line_no"]
    increasing = numbers.len() < 2 or bool((numbers.diff().drop_nulls() > 0).all())
    positive = numbers.len() == 0 or (numbers.min() or 0) > 0  # type: ignore[operator]
    if increasing:
        same_prev = pl.all_horizontal([pl.col(k).eq_missing(pl.col(k).shift(1)) for k in keys])
        same_next = pl.all_horizontal([pl.col(k).eq_missing(pl.col(k).shift(-1)) for k in keys])
        after = (same_prev & (no.diff() == 1)).fill_null(False)
        before = (same_next & (no.diff(-1) == -1)).fill_null(False)
    else:
        after = (no.diff().over(keys) == 1).fill_null(False)
        before = (no.diff(-1).over(keys) == -1).fill_null(False)
    if positive:
        text = (
            pl.when(pl.col("_after"))
            .then(-no)
            .otherwise(no)
            .cast(pl.Utf8)
            .str.join(",")
            .str.replace_all(",-", "-", literal=True)
        )
    else:
        token = pl.concat_str(
            [
                no.cast(pl.Utf8),
                pl.when(~pl.col("_after") & pl.col("_before"))
                .then(pl.lit("-"))
                .otherwise(pl.lit(",")),
            ]
        )
        text = token.str.join("").str.strip_suffix(",")
    return (
        frame.lazy()
        .select(*dict.fromkeys([*keys, "line_no"]), after.alias("_after"), before.alias("_before"))
        .filter(~(pl.col("_after") & pl.col("_before")))
        .group_by(keys)
        .agg(text.alias("source_ranges"))
    )


def _part_date(month: date, end_day: date) -> date:
    """Last day of the month; the settlement's last month posts on its end day instead."""
    last = month.replace(day=calendar.monthrange(month.year, month.month)[1])
    return last if last < end_day else max(end_day, month)


def _cell(value: Decimal) -> str:
    return money_str(value) if value else ""


def _expand(ranges: str) -> tuple[int, ...]:
    out: list[int] = []
    for part in ranges.split(",") if ranges else ():
        first, _, last = part.partition("-")
        out.extend(range(int(first), int(last or first) + 1))
    return tuple(out)


def _ranges(numbers: Sequence[int]) -> str:
    parts: list[str] = []
    nums = sorted(numbers)
    i = 0
    while i < len(nums):
        j = i
        while j + 1 < len(nums) and nums[j + 1] == nums[j] + 1:
            j += 1
        parts.append(str(nums[i]) if i == j else f"{nums[i]}-{nums[j]}")
        i = j + 1
    return ",".join(parts)
