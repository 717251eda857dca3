"""Parse a downloaded settlement report (V2 or V1 flat file) into the canonical shape.

The file is the source of truth for what Amazon paid, so parsing is strict: every cell is
checked, bad input raises :class:`SettlementFileError` naming the file, the physical line
(1 = header row) and the column, and the result is only returned when the detail amounts
sum exactly to the summary row's ``total-amount``.

Decisions (documented here because the canonical frame depends on them):

* Columns are found by header name; the layout (V2 with or without ``promotion-id``; V1
  with 36 or 33 columns) is detected from the names. See ``report_formats``.
* Every field is trimmed; an empty cell becomes null (never ``""``) in every text column.
* Rows may be ragged (trailing empty cells omitted). Cells beyond the header's width are an
  error unless they are all empty (a trailing tab carries nothing).
* Lines that are blank (only whitespace/tabs) carry nothing and are skipped; line numbers
  stay physical.
* Exactly one summary row (the row carrying start/end/deposit/total/currency); it must not
  carry detail fields, and every detail row must repeat its settlement-id.
* V1 rows become one canonical line per non-empty ``*-amount`` cell (``source_column`` names
  it); a V1 detail row without any amount is an error, since it cannot be accounted for.
* Dates are converted to UTC; a date-time without a zone is UTC. ``posted_date`` is the
  UTC date of ``posted-date`` (or of ``posted-date-time`` when ``posted-date`` is empty);
  ``posted_datetime`` is ``posted-date-time`` or, when absent (V1), ``posted-date`` if it
  carries a time of day, else null.
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl

from mlc_assets.domain.currency import is_booking_currency
from mlc_assets.domain.errors import SettlementFileError, UnbalancedSettlementError
from mlc_assets.domain.report_charsets import (
    ascii_codec,
    decode_report_bytes,
    decode_text,
    transcode_declared,
)
from mlc_assets.domain.report_formats import (
    SUMMARY_COLUMNS,
    V1_AMOUNT_COLUMNS,
    Layout,
    LayoutMismatch,
    detect_layout,
)
from mlc_assets.domain.report_rows import split_body
from mlc_assets.domain.report_values import (
    DecimalStyle,
    detect_decimal_style,
    parse_amounts,
    parse_datetimes,
)
from mlc_assets.domain.settlement_schema import LINE_SCHEMA, ParsedSettlement, SettlementHeader

__all__ = ["decode_report_bytes", "parse_settlement_report"]

# Amazon's header line is under 1 KB and its type cells are a few dozen characters. Far
# longer ones are not a settlement report: they are refused here, quickly and naming the
# place, instead of making every later stage (and the YAML a mapping check suggests) carry
# megabytes of text.
MAX_HEADER_BYTES = 16_384
MAX_TYPE_CELL_CHARS = 1_000
TYPE_COLUMNS = {
    "transaction_type": "transaction-type",
    "amount_type": "amount-type",
    "amount_description": "amount-description",
}


def parse_settlement_report(
    data: bytes, *, file_name: str, charset: str | None = None
) -> ParsedSettlement:
    """Parse and check one settlement report file; see the module docstring for the rules."""
    newline = data.find(b"\n", 0, MAX_HEADER_BYTES + 1)
    if newline < 0 and len(data) > MAX_HEADER_BYTES:
        raise SettlementFileError(
            f"the first line is longer than {MAX_HEADER_BYTES:,} bytes: not a settlement "
            "report's header (tab-separated column names, under 1 KB)",
            file=file_name,
            line=1,
        )
    codec_if_ascii = ascii_codec(data, charset)
    if codec_if_ascii is not None:
        # ASCII bytes read the same in every ASCII-compatible charset and are already UTF-8:
        # no decode and no copy; the reader skips the header line itself.
        encoding = codec_if_ascii
        first = (data[:newline] if newline >= 0 else data).decode()
        body = data
    elif (fast := transcode_declared(data, charset)) is not None:
        # A declared single-byte charset: only the non-ASCII bytes are rewritten.
        encoding, body = fast
        end = body.find(b"\n")
        first = (body[:end] if end >= 0 else body).decode()
    else:
        text, encoding = decode_text(data, charset, file_name=file_name)
        end = text.find("\n")
        first = text if end < 0 else text[:end]
        # The reader gets UTF-8 bytes: the download itself when it is UTF-8 (validated by
        # the decode above), else the decoded text re-encoded.
        body = (
            data
            if encoding == "utf-8" and not data.startswith(b"\xef\xbb\xbf")
            else text.encode("utf-8")
        )
        del text
    header = [name.strip() for name in first.removesuffix("\r").split("\t")]
    while header and header[-1] == "" and len(header) > 1:
        header.pop()
    if header == [""]:
        raise SettlementFileError("the file is empty (no header row)", file=file_name, line=1)
    try:
        layout = detect_layout(header)
    except LayoutMismatch as exc:
        raise SettlementFileError(f"unknown header layout: {exc}", file=file_name, line=1) from None

    fields = split_body(body, list(layout.positions), skip_lines=1, file_name=file_name)
    del body
    summary, details = _split_summary(fields, layout, file_name=file_name)
    sid = summary["settlement-id"]
    currency = summary["currency"]
    if not is_booking_currency(currency):
        raise SettlementFileError(
            f"currency {currency!r} is not an ISO 4217 currency a journal can be booked in "
            "(e.g. USD, EUR, GBP)",
            file=file_name,
            line=summary["line_no"],
            column="currency",
        )

    style = detect_decimal_style(
        _amount_cells(summary, details, layout), currency, file_name=file_name
    )
    detected = {
        "charset": encoding,
        "format": layout.file_format,
        "decimal": style.decimal,
        "decimal_detail": style.label,
    }
    summary_line = pl.Series([summary["line_no"]], dtype=pl.Int64)
    total = parse_amounts(
        pl.Series([summary["total-amount"]], dtype=pl.Utf8),
        summary_line,
        style=style,
        column="total-amount",
        file_name=file_name,
    )[0]
    header_dates = {}
    for column in SUMMARY_COLUMNS[1:4]:
        parsed = parse_datetimes(
            pl.Series([summary[column]], dtype=pl.Utf8),
            summary_line,
            column=column,
            file_name=file_name,
        )
        header_dates[column] = parsed.values[0]
        detected[f"date:{column}"] = parsed.label
    detected["date"] = detected["date:settlement-start-date"]

    build = _v2_lines if layout.file_format == "v2" else _v1_lines
    lines = build(details, layout, style, file_name=file_name, detected=detected)
    lines = lines.with_columns(settlement_id=pl.lit(sid, dtype=pl.Utf8))
    lines = lines.select(
        [
            (pl.col(name) if name in lines.columns else pl.lit(None)).cast(dtype).alias(name)
            for name, dtype in LINE_SCHEMA.items()
        ]
    )

    _refuse_huge_type_cells(lines, file_name=file_name)
    lines_sum = lines["amount"].sum() if lines.height else Decimal("0.00")
    if Decimal(lines_sum) != Decimal(total):
        raise UnbalancedSettlementError(
            f"detail amounts sum to {Decimal(lines_sum):.2f} but total-amount is "
            f"{Decimal(total):.2f} (difference {Decimal(lines_sum) - Decimal(total):.2f})",
            file=file_name,
            line=summary["line_no"],
            column="total-amount",
        )

    return ParsedSettlement(
        header=SettlementHeader(
            settlement_id=sid,
            start=header_dates["settlement-start-date"],
            end=header_dates["settlement-end-date"],
            deposit_date=header_dates["deposit-date"],
            total_amount=Decimal(total),
            currency=currency,
            file_format=layout.file_format,
            column_count=layout.column_count,
        ),
        lines=lines,
        file_name=file_name,
        detected=detected,
    )


def _split_summary(
    fields: pl.DataFrame, layout: Layout, *, file_name: str
) -> tuple[dict, pl.DataFrame]:
    summary_only = list(SUMMARY_COLUMNS[1:])
    detail_columns = [c for c in layout.positions if c not in SUMMARY_COLUMNS]
    is_summary = pl.any_horizontal([pl.col(c).is_not_null() for c in summary_only])
    summaries = fields.filter(is_summary)
    if summaries.height == 0:
        raise SettlementFileError(
            "no summary row (the row carrying settlement-start-date, settlement-end-date, "
            "deposit-date, total-amount and currency)",
            file=file_name,
        )
    if summaries.height > 1:
        raise SettlementFileError(
            f"a second summary row (the first is line {summaries['line_no'][0]}); a file must "
            "hold exactly one settlement",
            file=file_name,
            line=summaries["line_no"][1],
        )
    summary = summaries.row(0, named=True)
    for column in SUMMARY_COLUMNS:
        if summary[column] is None:
            raise SettlementFileError(
                "the summary row lacks this field",
                file=file_name,
                line=summary["line_no"],
                column=column,
            )
    for column in detail_columns:
        if summary[column] is not None:
            raise SettlementFileError(
                f"the summary row also carries a detail field ({summary[column]!r})",
                file=file_name,
                line=summary["line_no"],
                column=column,
            )
    # The summary row is the first row in Amazon's files: slicing it off shares the
    # columns instead of copying a million rows.
    first = fields.head(1).select(is_summary).item() if fields.height else False
    if first and summaries.height == 1:
        details = fields.slice(1)
    else:
        details = fields.filter(is_summary.not_())
    foreign = details.filter(pl.col("settlement-id").ne_missing(summary["settlement-id"]))
    if foreign.height:
        row = foreign.row(0, named=True)
        whose = (
            "lacks a settlement-id"
            if row["settlement-id"] is None
            else f"belongs to settlement {row['settlement-id']!r}"
        )
        raise SettlementFileError(
            f"detail row {whose}; the summary row is settlement {summary['settlement-id']!r}",
            file=file_name,
            line=row["line_no"],
            column="settlement-id",
        )
    return summary, details


def _amount_cells(summary: dict, details: pl.DataFrame, layout: Layout) -> pl.DataFrame:
    frames = [
        pl.DataFrame(
            {
                "value": [summary["total-amount"]],
                "line_no": [summary["line_no"]],
                "column": ["total-amount"],
            },
            schema={"value": pl.Utf8, "line_no": pl.Int64, "column": pl.Utf8},
        )
    ]
    for column in layout.amount_columns:
        frames.append(
            details.select(
                value=pl.col(column), line_no=pl.col("line_no"), column=pl.lit(column, pl.Utf8)
            ).drop_nulls("value")
        )
    return pl.concat(frames)


def _quantity(details: pl.DataFrame, *, file_name: str) -> pl.Series:
    values = details["quantity-purchased"]
    whole = r"^[+-]?[0-9]{1,15}$"
    distinct = values.drop_nulls().unique()  # a handful of distinct quantities
    if distinct.str.contains(whole).all():
        return (
            values.str.strip_prefix("+") if distinct.str.starts_with("+").any() else values
        ).cast(pl.Int64)
    bad = values.is_not_null() & values.str.contains(whole).not_()
    if bad.any():
        raise SettlementFileError(
            f"{values.filter(bad)[0]!r} is not a whole number",
            file=file_name,
            line=int(details["line_no"].filter(bad)[0]),
            column="quantity-purchased",
        )
    return values.str.strip_prefix("+").cast(pl.Int64)


def _posted(
    details: pl.DataFrame, layout: Layout, *, file_name: str, detected: dict[str, str]
) -> pl.DataFrame:
    """posted_date and posted_datetime for the detail rows (see module docstring)."""
    line_nos = details["line_no"]
    date = parse_datetimes(
        details["posted-date"], line_nos, column="posted-date", file_name=file_name
    )
    detected["date:posted-date"] = date.label

    def from_date() -> pl.Series:
        return pl.select(pl.when(pl.lit(date.has_time)).then(pl.lit(date.values))).to_series()

    if "posted-date-time" in layout.positions:
        stamp = parse_datetimes(
            details["posted-date-time"], line_nos, column="posted-date-time", file_name=file_name
        )
        detected["date:posted-date-time"] = stamp.label
        # Fallbacks are only built when a cell is empty (real V2 files fill both columns).
        posted_datetime = (
            stamp.values.fill_null(from_date()) if stamp.values.null_count() else stamp.values
        )
    else:
        posted_datetime = from_date()
    posted_date = date.values.dt.date()
    if posted_date.null_count():
        posted_date = posted_date.fill_null(posted_datetime.dt.date())
    return pl.DataFrame({"posted_date": posted_date, "posted_datetime": posted_datetime})


def _common(details: pl.DataFrame, layout: Layout, *, file_name: str, detected: dict[str, str]):
    """Columns shared by both layouts, named as in LINE_SCHEMA (one row per detail row)."""
    text_columns = [
        c
        for c, dtype in LINE_SCHEMA.items()
        if dtype == pl.Utf8
        and c.replace("_", "-") in layout.positions
        and c not in ("settlement_id", "amount_type", "amount_description")
    ]
    base = details.select(
        "line_no", *[pl.col(c.replace("_", "-")).alias(c) for c in text_columns]
    ).with_columns(quantity_purchased=_quantity(details, file_name=file_name))
    return pl.concat(
        [base, _posted(details, layout, file_name=file_name, detected=detected)], how="horizontal"
    )


def _v2_lines(
    details: pl.DataFrame,
    layout: Layout,
    style: DecimalStyle,
    *,
    file_name: str,
    detected: dict[str, str],
) -> pl.DataFrame:
    amount = parse_amounts(
        details["amount"],
        details["line_no"],
        style=style,
        column="amount",
        file_name=file_name,
        required=True,
    )
    return _common(details, layout, file_name=file_name, detected=detected).with_columns(
        source_column=pl.lit("amount", pl.Utf8),
        amount_type=details["amount-type"],
        amount_description=details["amount-description"],
        amount=amount,
    )


def _v1_lines(
    details: pl.DataFrame,
    layout: Layout,
    style: DecimalStyle,
    *,
    file_name: str,
    detected: dict[str, str],
) -> pl.DataFrame:
    amount_columns = [spec for spec in V1_AMOUNT_COLUMNS if spec.column in layout.positions]
    empty = details.filter(pl.all_horizontal([pl.col(s.column).is_null() for s in amount_columns]))
    if empty.height:
        raise SettlementFileError(
            "detail row has no amount in any *-amount column",
            file=file_name,
            line=empty["line_no"][0],
        )
    common = _common(details, layout, file_name=file_name, detected=detected)
    parts = []
    for order, spec in enumerate(amount_columns):
        amount = parse_amounts(
            details[spec.column],
            details["line_no"],
            style=style,
            column=spec.column,
            file_name=file_name,
        )
        description = details.select(
            pl.coalesce([pl.col(c) for c in spec.description_from])
        ).to_series()
        parts.append(
            common.with_columns(
                source_column=pl.lit(spec.column, pl.Utf8),
                amount_type=pl.lit(spec.amount_type, pl.Utf8),
                amount_description=description,
                amount=amount,
                _order=pl.lit(order, pl.Int32),
            ).filter(pl.col("amount").is_not_null())
        )
    return pl.concat(parts).sort("line_no", "_order").drop("_order")


def _refuse_huge_type_cells(lines: pl.DataFrame, *, file_name: str) -> None:
    """The mapping keys on these cells: one of megabytes is no Amazon type (one pass over
    three short columns)."""
    if lines.is_empty():
        return
    longest = lines.select(pl.col(c).str.len_chars().max() for c in TYPE_COLUMNS).row(0)
    for (column, header), length in zip(TYPE_COLUMNS.items(), longest, strict=True):
        if length is not None and length > MAX_TYPE_CELL_CHARS:
            at = lines.filter(pl.col(column).str.len_chars() > MAX_TYPE_CELL_CHARS)
            raise SettlementFileError(
                f"a cell of {length:,} characters (over {MAX_TYPE_CELL_CHARS:,}): not a "
                "settlement type",
                file=file_name,
                line=int(at["line_no"][0]),
                column=header,
            )
