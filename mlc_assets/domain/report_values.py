"""Vectorised parsing of the locale-dependent cells of a settlement file: amounts and dates.

Amazon writes amounts and dates in the marketplace's locale (``1141,18`` and
``05.06.2025 22:07:18 UTC`` on Amazon.de, ``1,234.56`` and ``2025-06-05`` in the US, dot
decimals with ``dd.mm.yyyy`` dates in the UK), so the format is detected from the file itself
rather than configured. Everything here works on whole polars columns: a 1M-line file must
parse in seconds, so Python only runs per line to build the message of an error.

Rules that keep a wrong number from ever getting through:
* an amount must match the detected style completely (thousands groups of exactly three
  digits, at most two decimals); anything else is an error, never a best effort;
* the decimal separator is decided by unambiguous values (``12,50``, ``1.234,56``); a file
  whose values contradict each other is refused; a file with only ambiguous values
  (``1,234``) falls back on the currency's convention and otherwise is refused;
* text is validated by regex BEFORE the Decimal cast, because polars' string→Decimal cast
  silently truncates extra decimals and accepts exponents.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from mlc_assets.domain.errors import SettlementFileError
from mlc_assets.domain.money import MONEY_DTYPE

# Currencies of Amazon marketplaces whose Seller Central locale writes decimal commas, and
# those that write decimal points. Only consulted when the file itself cannot tell.
COMMA_DECIMAL_CURRENCIES = frozenset({"EUR", "SEK", "PLN", "TRY", "BRL", "DKK", "NOK", "CZK"})
DOT_DECIMAL_CURRENCIES = frozenset(
    {"USD", "CAD", "MXN", "GBP", "JPY", "AUD", "SGD", "INR", "AED", "SAR", "EGP", "CNY"}
)

_DOT_DECISIVE = r"^[+-]?[0-9,]*[0-9]\.[0-9]{1,2}$"  # 12.5, 1,234.56: never a thousands point
_COMMA_DECISIVE = r"^[+-]?[0-9.]*[0-9],[0-9]{1,2}$"  # 12,5, 1.234,56
_AMBIGUOUS = r"^[+-]?[0-9]{1,3}([.,][0-9]{3})+$"  # 1,234 / 1.234: thousands or 3 decimals?
_MAX_INTEGER_DIGITS = 16  # Decimal(18, 2)


@dataclass(frozen=True)
class DecimalStyle:
    decimal: str  # "." or ","
    thousands: str  # "," or "."
    reason: str  # how it was decided, kept in ParsedSettlement.detected

    @property
    def label(self) -> str:
        return f"decimal '{self.decimal}', thousands '{self.thousands}' ({self.reason})"


DOT = (".", ",")
COMMA = (",", ".")


def detect_decimal_style(
    cells: pl.DataFrame, currency: str | None, *, file_name: str
) -> DecimalStyle:
    """Decide the file's decimal separator from every amount cell in it.

    ``cells`` has columns ``value`` (trimmed, non-null), ``line_no`` and ``column``.
    A million-line file holds a few thousand distinct amounts, so the patterns run on the
    distinct values; anything but a clear answer goes through the full path, which words
    the error with the first offending line.
    """
    values = cells["value"]
    distinct = values.unique()
    dots = distinct.filter(distinct.str.contains(_DOT_DECISIVE))
    commas = distinct.filter(distinct.str.contains(_COMMA_DECISIVE))
    if dots.len() and not commas.len():
        return DecimalStyle(
            *DOT, reason=f"{_count_in(values, distinct, dots)} point-decimal values"
        )
    if commas.len() and not dots.len():
        count = _count_in(values, distinct, commas)
        return DecimalStyle(*COMMA, reason=f"{count} comma-decimal values")
    return _detect_decimal_style_full(cells, currency, file_name=file_name)


def _count_in(values: pl.Series, distinct: pl.Series, subset: pl.Series) -> int:
    """How many of ``values`` are in ``subset`` (of their ``distinct`` values).

    Counted on the smaller side: usually every amount is decisive and the rest is empty,
    so no pass over the million cells is needed.
    """
    if values.null_count():
        return int(values.is_in(subset.implode()).sum())
    if subset.len() == distinct.len():
        return values.len()
    others = distinct.filter(distinct.is_in(subset.implode()).not_())
    return values.len() - int(values.is_in(others.implode()).sum())


def _detect_decimal_style_full(
    cells: pl.DataFrame, currency: str | None, *, file_name: str
) -> DecimalStyle:
    flagged = cells.with_columns(
        dot=pl.col("value").str.contains(_DOT_DECISIVE),
        comma=pl.col("value").str.contains(_COMMA_DECISIVE),
        ambiguous=pl.col("value").str.contains(_AMBIGUOUS),
    )
    dots = flagged.filter("dot")
    commas = flagged.filter("comma")
    if dots.height and commas.height:
        minority = dots if dots.height < commas.height else commas
        majority_sep = "," if minority is dots else "."
        row = minority.row(0, named=True)
        raise SettlementFileError(
            f"amount {row['value']!r} contradicts the decimal separator '{majority_sep}' used by "
            f"the other amounts of this file ({commas.height} comma-decimal, "
            f"{dots.height} point-decimal values)",
            file=file_name,
            line=row["line_no"],
            column=row["column"],
        )
    if dots.height:
        return DecimalStyle(*DOT, reason=f"{dots.height} point-decimal values")
    if commas.height:
        return DecimalStyle(*COMMA, reason=f"{commas.height} comma-decimal values")
    cur = (currency or "").upper()
    if cur in COMMA_DECIMAL_CURRENCIES:
        return DecimalStyle(*COMMA, reason=f"no decisive value; {cur} convention")
    if cur in DOT_DECIMAL_CURRENCIES:
        return DecimalStyle(*DOT, reason=f"no decisive value; {cur} convention")
    ambiguous = flagged.filter("ambiguous")
    if ambiguous.height:
        row = ambiguous.row(0, named=True)
        raise SettlementFileError(
            f"cannot tell whether {row['value']!r} uses a decimal or a thousands separator: no "
            f"other amount in the file decides it and currency {currency!r} has no known "
            "convention",
            file=file_name,
            line=row["line_no"],
            column=row["column"],
        )
    # Only whole numbers: the separator never matters.
    return DecimalStyle(*DOT, reason="whole numbers only")


def _first_bad(line_nos: pl.Series, bad: pl.Series) -> int:
    return int(line_nos.filter(bad)[0])


def parse_amounts(
    values: pl.Series,
    line_nos: pl.Series,
    *,
    style: DecimalStyle,
    column: str,
    file_name: str,
    required: bool = False,
) -> pl.Series:
    """Trimmed text (nulls allowed unless ``required``) → exact Decimal(18, 2).

    The checks run on the distinct values (a few thousand in a million-line file); only
    when one fails does the full column get scanned, to name the first offending line.
    """
    if required and values.null_count():
        raise SettlementFileError(
            "amount is empty",
            file=file_name,
            line=_first_bad(line_nos, values.is_null()),
            column=column,
        )
    distinct = values.drop_nulls().unique()
    shape = _amount_shape(style)
    if not distinct.str.contains(shape).all():
        return _parse_amounts_full(
            values, line_nos, style=style, column=column, file_name=file_name
        )
    plain = _plain_amounts(distinct, style)
    if (
        plain.str.contains(r"\.[0-9]{3,}$").any()
        or plain.str.contains(rf"^-?[0-9]{{{_MAX_INTEGER_DIGITS + 1},}}").any()
    ):
        return _parse_amounts_full(
            values, line_nos, style=style, column=column, file_name=file_name
        )
    # Each distinct text is converted once and the results are looked up per cell: a cast
    # is a pure function of the text, so this equals casting the column, at a fraction of
    # the string rewrites and Decimal parses.
    parsed = pl.DataFrame({"text": distinct, "amount": plain.cast(MONEY_DTYPE, strict=True)})
    return (
        values.to_frame("text")
        .join(parsed, on="text", how="left", maintain_order="left")
        .get_column("amount")
        .alias(values.name)
    )


def _amount_shape(style: DecimalStyle) -> str:
    dec = re.escape(style.decimal)
    tho = re.escape(style.thousands)
    return rf"^[+-]?([0-9]+|[0-9]{{1,3}}({tho}[0-9]{{3}})+)({dec}[0-9]+)?$"


def _plain_amounts(values: pl.Series, style: DecimalStyle) -> pl.Series:
    plain = values.str.replace_all(style.thousands, "", literal=True)
    if style.decimal == ",":
        plain = plain.str.replace(",", ".", literal=True)
    return plain.str.strip_prefix("+")


def _parse_amounts_full(
    values: pl.Series,
    line_nos: pl.Series,
    *,
    style: DecimalStyle,
    column: str,
    file_name: str,
) -> pl.Series:
    """Every check on every cell, raising with the first offending line."""
    dec = re.escape(style.decimal)
    tho = re.escape(style.thousands)
    shape = rf"^[+-]?([0-9]+|[0-9]{{1,3}}({tho}[0-9]{{3}})+)({dec}[0-9]+)?$"
    ok = values.str.contains(shape)
    bad = ok.not_() & values.is_not_null()
    if bad.any():
        line = _first_bad(line_nos, bad)
        value = values.filter(bad)[0]
        raise SettlementFileError(
            f"{value!r} is not an amount in this file's number format ({style.label})",
            file=file_name,
            line=line,
            column=column,
        )
    plain = values.str.replace_all(style.thousands, "", literal=True)
    if style.decimal == ",":
        plain = plain.str.replace(",", ".", literal=True)
    plain = plain.str.strip_prefix("+")
    too_precise = plain.str.contains(r"\.[0-9]{3,}$")
    if too_precise.any():
        line = _first_bad(line_nos, too_precise)
        raise SettlementFileError(
            f"{values.filter(too_precise)[0]!r} has more than 2 decimal places",
            file=file_name,
            line=line,
            column=column,
        )
    too_big = plain.str.contains(rf"^-?[0-9]{{{_MAX_INTEGER_DIGITS + 1},}}")
    if too_big.any():
        raise SettlementFileError(
            f"{values.filter(too_big)[0]!r} is too large for an amount",
            file=file_name,
            line=_first_bad(line_nos, too_big),
            column=column,
        )
    return plain.cast(MONEY_DTYPE, strict=True)


# --- dates -------------------------------------------------------------------------------

_TIME = r"(?:[ T](?<H>[0-9]{1,2}):(?<M>[0-9]{2})(?::(?<S>[0-9]{2})(?:\.(?<f>[0-9]{1,6}))?)?)?"
_ZONE = r"\s*(?<tz>UTC|GMT|Z|[+-][0-9]{2}:?[0-9]{2})?"


@dataclass(frozen=True)
class _DateFamily:
    name: str
    pattern: str  # named groups y, m, d (or a, b for the slash family), H, M, S, f, tz


_D = "[0-9]"  # ASCII only: regex \d also matches other scripts' digits, which casts reject
_FAMILIES = (
    _DateFamily(
        "yyyy-mm-dd", rf"^(?<y>{_D}{{4}})-(?<m>{_D}{{1,2}})-(?<d>{_D}{{1,2}}){_TIME}{_ZONE}$"
    ),
    _DateFamily(
        "dd.mm.yyyy", rf"^(?<d>{_D}{{1,2}})\.(?<m>{_D}{{1,2}})\.(?<y>{_D}{{4}}){_TIME}{_ZONE}$"
    ),
    _DateFamily(
        "slash",
        rf"^(?<a>{_D}{{1,2}})/(?<b>{_D}{{1,2}})/(?<y>{_D}{{4}}|{_D}{{2}}){_TIME}{_ZONE}$",
    ),
)


@dataclass(frozen=True)
class ParsedDates:
    values: pl.Series  # Datetime("us", "UTC")
    has_time: pl.Series  # Boolean: the cell carried a time of day
    label: str  # detected format, for ParsedSettlement.detected


def _label(family: str, first: dict[str, str | None]) -> str:
    if first.get("T"):
        tz = first.get("tz")
        zone = "" if tz is None else "Z" if tz == "Z" else "±hh:mm"
        return "ISO-8601 yyyy-mm-ddTHH:MM:SS" + zone
    label = family
    if first.get("H") is not None:
        label += " HH:MM" + (":SS" if first.get("S") is not None else "")
    tz = first.get("tz")
    if tz is not None:
        label += f" {tz}" if tz in ("UTC", "GMT") else " ±hh:mm" if tz != "Z" else " Z"
    return label


def parse_datetimes(
    values: pl.Series, line_nos: pl.Series, *, column: str, file_name: str
) -> ParsedDates:
    """Detect the column's date format from its first value, then parse the whole column.

    Times without a zone are UTC (Amazon writes settlement times in UTC); offsets are
    converted to UTC.
    """
    present = values.is_not_null()
    if not present.any():
        empty = pl.Series(column, [None] * len(values), dtype=pl.Datetime("us", "UTC"))
        return ParsedDates(empty, pl.Series([False] * len(values), dtype=pl.Boolean), "empty")
    first_value = values.filter(present)[0]
    first_line = _first_bad(line_nos, present)
    family = next(
        (f for f in _FAMILIES if pl.Series([first_value]).str.contains(f.pattern)[0]), None
    )
    if family is None:
        raise SettlementFileError(
            f"unrecognised date {first_value!r} (expected yyyy-mm-dd, dd.mm.yyyy, mm/dd/yyyy or "
            "ISO-8601, optionally with a time and UTC/offset)",
            file=file_name,
            line=first_line,
            column=column,
        )
    fast = _parse_uniform(values, present, family, first_value)
    if fast is not None:
        return fast
    parts = values.str.extract_groups(family.pattern).struct.unnest()
    unmatched = present & parts["y"].is_null()
    if unmatched.any():
        raise SettlementFileError(
            f"date {values.filter(unmatched)[0]!r} does not match this column's format "
            f"{family.name} (seen first on line {first_line})",
            file=file_name,
            line=_first_bad(line_nos, unmatched),
            column=column,
        )
    label = _label(family.name, _first_parts(family, first_value))
    if family.name == "slash":
        a = parts["a"].cast(pl.Int32)
        b = parts["b"].cast(pl.Int32)
        day_first, month_first = bool((a > 12).any()), bool((b > 12).any())
        if day_first and month_first:
            raise SettlementFileError(
                "slash dates are day-first on some lines and month-first on others "
                f"(e.g. {values.filter(a > 12)[0]!r} and {values.filter(b > 12)[0]!r})",
                file=file_name,
                line=_first_bad(line_nos, (a > 12) | (b > 12)),
                column=column,
            )
        if day_first:
            day, month = parts["a"], parts["b"]
            label = label.replace("slash", "dd/mm/yyyy")
        else:  # Amazon documents posted-date as MM/DD/YY
            day, month = parts["b"], parts["a"]
            label = label.replace("slash", "mm/dd/yyyy")
        year = parts["y"]
        year = pl.select(
            pl.when(year.str.len_chars() == 2).then("20" + year).otherwise(year)
        ).to_series()
        parts = parts.with_columns(y=year, m=month, d=day)
    frame = parts.select(
        text=pl.concat_str(
            pl.col("y"),
            pl.lit("-"),
            pl.col("m").str.zfill(2),
            pl.lit("-"),
            pl.col("d").str.zfill(2),
            pl.lit(" "),
            pl.col("H").fill_null("0").str.zfill(2),
            pl.lit(":"),
            pl.col("M").fill_null("0").str.zfill(2),
            pl.lit(":"),
            pl.col("S").fill_null("0").str.zfill(2),
            pl.lit("."),
            pl.col("f").fill_null("0").str.pad_end(6, "0"),
        ),
        offset_minutes=_offset_minutes(pl.col("tz")),
        has_time=pl.col("H").is_not_null(),
    )
    naive = frame["text"].str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S%.f", strict=False)
    invalid = present & naive.is_null()
    if invalid.any():
        raise SettlementFileError(
            f"{values.filter(invalid)[0]!r} is not a valid date",
            file=file_name,
            line=_first_bad(line_nos, invalid),
            column=column,
        )
    utc = (
        frame.select(
            (pl.lit(naive) - pl.duration(minutes=pl.col("offset_minutes"))).dt.replace_time_zone(
                "UTC"
            )
        )
        .to_series()
        .alias(column)
    )
    return ParsedDates(utc, frame["has_time"] & present, label)


def _offset_minutes(tz: pl.Expr) -> pl.Expr:
    digits = tz.str.replace(":", "", literal=True)
    sign = pl.when(digits.str.starts_with("-")).then(-1).otherwise(1)
    hours = digits.str.slice(1, 2).cast(pl.Int64, strict=False)
    minutes = digits.str.slice(3, 2).cast(pl.Int64, strict=False)
    numeric = tz.str.contains(r"^[+-]")
    return pl.when(numeric).then(sign * (hours * 60 + minutes)).otherwise(0).fill_null(0)


_FAST_DATE = {"yyyy-mm-dd": "%Y-%m-%d", "dd.mm.yyyy": "%d.%m.%Y"}
_FAST_TAIL = (
    r"^(?P<sep>[ T])[0-9]{1,2}:[0-9]{2}(?P<sec>:[0-9]{2}(?P<frac>\.[0-9]+)?)?(?P<ws>\s*)(?P<tz>.*)$"
)


def _parse_uniform(
    values: pl.Series, present: pl.Series, family: _DateFamily, first_value: str
) -> ParsedDates | None:
    """Fast path: one strptime with the format of the column's first value.

    Real files write every date of a column the same way, and one native strptime is an
    order of magnitude faster than the regex decomposition. None (→ the general path,
    which also words the errors) as soon as any value does not fit that exact format.
    """
    if family.name not in _FAST_DATE:
        return None
    date_part = re.match(r"^[0-9]+[-.][0-9]+[-.][0-9]+", first_value)
    if date_part is None:  # pragma: no cover - the family regex already matched
        return None
    fmt = _FAST_DATE[family.name]
    tail = first_value[date_part.end() :]
    aware = False
    has_time = False
    if tail:
        m = re.match(_FAST_TAIL, tail)
        if m is None:
            m = re.match(r"^(?P<ws>\s*)(?P<tz>UTC|GMT|Z)$", tail)
            if m is None:
                return None
        else:
            has_time = True
            fmt += m["sep"] + "%H:%M" + (":%S" if m["sec"] else "") + ("%.f" if m["frac"] else "")
        tz = m["tz"]
        if tz in ("UTC", "GMT", "Z"):
            fmt += m["ws"] + tz
        elif re.fullmatch(r"[+-][0-9]{2}:[0-9]{2}", tz):
            fmt += m["ws"] + "%:z"
            aware = True
        elif re.fullmatch(r"[+-][0-9]{4}", tz):
            fmt += m["ws"] + "%z"
            aware = True
        elif tz:
            return None
    dtype = pl.Datetime("us", "UTC") if aware else pl.Datetime("us")
    parsed = values.str.strptime(dtype, fmt, strict=False, exact=True)
    if (present & parsed.is_null()).any():
        return None
    if not aware:
        parsed = parsed.dt.replace_time_zone("UTC")
    # Every present cell has the first value's format, so it has a time iff that one has.
    has = present if has_time else present & False
    label = _label(family.name, _first_parts(family, first_value))
    return ParsedDates(parsed.alias(values.name), has, label)


def _first_parts(family: _DateFamily, value: str) -> dict[str, str | None]:
    parts = pl.Series([value]).str.extract_groups(family.pattern).struct.unnest()
    iso = "T" if re.search(r"[0-9]T[0-9]", value) else None
    return {k: parts[k][0] for k in ("H", "S", "tz")} | {"T": iso}
