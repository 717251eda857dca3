"""Bad settlement files: each must raise SettlementFileError naming the line and column."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlc_assets.domain.errors import SettlementFileError, UnbalancedSettlementError
from mlc_assets.domain.settlement_report import decode_report_bytes, parse_settlement_report

DATA = Path(__file__).parent / "data"


def us_lines() -> list[str]:
    return (DATA / "us_v2.txt").read_text().split("\n")


def de_lines() -> list[str]:
    return (DATA / "de_v2.txt").read_text().replace("\r", "").split("\n")


def v1_lines() -> list[str]:
    return (DATA / "us_v1_36.txt").read_text().split("\n")


def set_cell(lines: list[str], line_no: int, column: str, value: str) -> list[str]:
    """Return a copy with one cell (by header name) of physical line ``line_no`` replaced."""
    out = list(lines)
    header = out[0].split("\t")
    cells = out[line_no - 1].split("\t")
    cells += [""] * (len(header) - len(cells))
    cells[header.index(column)] = value
    out[line_no - 1] = "\t".join(cells)
    return out


def fail(lines: list[str], error: type[SettlementFileError] = SettlementFileError):
    with pytest.raises(error) as info:
        parse_settlement_report("\n".join(lines).encode(), file_name="bad.txt")
    assert info.value.file == "bad.txt"
    assert str(info.value).startswith("bad.txt")
    return info.value


def test_too_many_columns_names_the_line() -> None:
    lines = us_lines()
    lines[5] += "\tsurplus"
    err = fail(lines)
    assert err.line == 6
    assert "25 columns" in err.reason and "24" in err.reason


def test_trailing_empty_cells_beyond_the_header_are_harmless() -> None:
    lines = us_lines()
    lines[5] += "\t\t "
    parsed = parse_settlement_report("\n".join(lines).encode(), file_name="ok.txt")
    assert parsed.lines.height == 16


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("12.345", "more than 2 decimal places"),
        ("12.3x", "not an amount"),
        ("1e5", "not an amount"),
        ("1,23.45", "not an amount"),
        ("--5.00", "not an amount"),
        ("12345678901234567.00", "too large"),
    ],
)
def test_bad_amount_names_line_and_column(value: str, reason: str) -> None:
    err = fail(set_cell(us_lines(), 9, "amount", value))
    assert (err.line, err.column) == (9, "amount")
    assert reason in err.reason


def test_empty_amount_on_a_v2_detail_row() -> None:
    err = fail(set_cell(us_lines(), 4, "amount", ""))
    assert (err.line, err.column) == (4, "amount")


def test_mixed_decimal_separators_are_refused() -> None:
    err = fail(set_cell(us_lines(), 10, "amount", "-187,50"))
    assert (err.line, err.column) == (10, "amount")
    assert "contradicts" in err.reason


def test_bad_total_amount_names_summary_line() -> None:
    err = fail(set_cell(de_lines(), 2, "total-amount", "357,8x"))
    assert (err.line, err.column) == (2, "total-amount")


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("posted-date", "2025-13-03"),
        ("posted-date", "03.06.2025"),  # other rows use yyyy-mm-dd: not this column's format
        ("posted-date-time", "2025-06-03 25:00:00 UTC"),
        ("posted-date", "yesterday"),
    ],
)
def test_bad_date_names_line_and_column(column: str, value: str) -> None:
    err = fail(set_cell(us_lines(), 12, column, value))
    assert (err.line, err.column) == (12, column)


def test_bad_header_date() -> None:
    err = fail(set_cell(de_lines(), 2, "deposit-date", "31.02.2025 22:07:18 UTC"))
    assert (err.line, err.column) == (2, "deposit-date")
    assert "not a valid date" in err.reason


def test_slash_dates_must_agree_on_day_or_month_first() -> None:
    lines = set_cell(us_lines(), 3, "posted-date", "06/13/2025")
    lines = set_cell(lines, 4, "posted-date", "13/06/2025")
    for n in range(5, 19):
        lines = set_cell(lines, n, "posted-date", "06/03/25")
    err = fail(lines)
    assert err.column == "posted-date"
    assert "day-first" in err.reason


def test_missing_summary_row() -> None:
    lines = us_lines()
    del lines[1]
    err = fail(lines)
    assert "no summary row" in err.reason


def test_second_summary_row() -> None:
    lines = us_lines()
    lines.insert(5, lines[1])
    err = fail(lines)
    assert err.line == 6
    assert "second summary row" in err.reason


def test_summary_row_lacking_a_field() -> None:
    err = fail(set_cell(us_lines(), 2, "currency", ""))
    assert (err.line, err.column) == (2, "currency")


def test_summary_row_carrying_detail_field() -> None:
    err = fail(set_cell(us_lines(), 2, "sku", "X"))
    assert (err.line, err.column) == (2, "sku")


def test_detail_row_of_another_settlement() -> None:
    err = fail(set_cell(us_lines(), 7, "settlement-id", "99999999999"))
    assert (err.line, err.column) == (7, "settlement-id")


def test_detail_row_without_settlement_id() -> None:
    err = fail(set_cell(us_lines(), 8, "settlement-id", " "))
    assert (err.line, err.column) == (8, "settlement-id")
    assert "lacks a settlement-id" in err.reason


def test_blank_lines_keep_line_numbers_physical() -> None:
    lines = set_cell(de_lines(), 6, "amount", "-4,0x")
    lines[3:3] = ["", "   ", "\t\t"]
    err = fail(lines)
    assert (err.line, err.column) == (9, "amount")


def test_unbalanced_file_shows_both_sums_and_difference() -> None:
    err = fail(set_cell(us_lines(), 5, "amount", "6.99"), UnbalancedSettlementError)
    assert (err.line, err.column) == (2, "total-amount")
    assert "856.23" in err.reason and "855.23" in err.reason and "1.00" in err.reason


@pytest.mark.parametrize(
    ("header", "expect"),
    [
        ("settlement-id\tfoo\tbar", "not a"),
        (us_lines()[0] + "\tmystery-amount", "unexpected mystery-amount"),
        (us_lines()[0].replace("\tsku", ""), "missing sku"),
        (us_lines()[0].replace("deposit-date", "settlement-id"), "appears twice"),
        (v1_lines()[0].replace("\tpromotion-type", ""), "partial optional group"),
    ],
)
def test_unknown_header_layout(header: str, expect: str) -> None:
    lines = us_lines()
    lines[0] = header
    err = fail(lines)
    assert err.line == 1
    assert "unknown header layout" in err.reason and expect in err.reason


def test_empty_file() -> None:
    err = fail([""])
    assert err.line == 1


def test_v1_row_without_any_amount() -> None:
    lines = set_cell(v1_lines(), 15, "misc-fee-amount", "")
    assert lines[14].split("\t")[6] == "Subscription Fee"
    err = fail(lines)
    assert err.line == 15
    assert "no amount" in err.reason


def test_bad_quantity() -> None:
    err = fail(set_cell(us_lines(), 3, "quantity-purchased", "2.5"))
    assert (err.line, err.column) == (3, "quantity-purchased")


def test_bad_currency() -> None:
    err = fail(set_cell(us_lines(), 2, "currency", "dollars"))
    assert (err.line, err.column) == (2, "currency")


def test_ambiguous_amounts_with_unknown_currency_are_refused() -> None:
    lines = [
        us_lines()[0],
        # A real currency whose decimal convention the parser does not know (Mauritius).
        "1\t2025-06-01\t2025-06-15\t2025-06-17\t1,234\tMUR",
        "1\t\t\t\t\t\tOrder\t\t\t\t\t\tItemPrice\tPrincipal\t1,234\t\t2025-06-03",
    ]
    err = fail(lines)
    assert (err.line, err.column) == (2, "total-amount")
    assert "cannot tell" in err.reason


@pytest.mark.parametrize("currency", ["XXX", "XTS", "XAU", "ABC"])
def test_a_currency_no_journal_can_be_booked_in_is_refused(currency: str) -> None:
    """ "XXX" (no currency), a testing code, a metal or an invented code: stopped at the
    header, before anything is journalled or posted, naming the field."""
    lines = [
        us_lines()[0],
        f"1\t2025-06-01\t2025-06-15\t2025-06-17\t1.00\t{currency}",
        "1\t\t\t\t\t\tOrder\t\t\t\t\t\tItemPrice\tPrincipal\t1.00\t\t2025-06-03",
    ]
    err = fail(lines)
    assert (err.line, err.column) == (2, "currency")
    assert currency in err.reason and "ISO 4217" in err.reason


def test_ambiguous_amounts_follow_the_currency_convention() -> None:
    rows = [
        us_lines()[0],
        "1\t2025-06-01\t2025-06-15\t2025-06-17\t{v}\t{cur}",
        "1\t\t\t\t\t\tOrder\t\t\t\t\t\tItemPrice\tPrincipal\t{v}\t\t2025-06-03",
    ]
    usd = "\n".join(rows).format(v="1,234", cur="USD").encode()
    assert parse_settlement_report(usd, file_name="x").header.total_amount == 1234
    eur = "\n".join(rows).format(v="1.234", cur="EUR").encode()
    assert parse_settlement_report(eur, file_name="x").header.total_amount == 1234
    # In EUR "1,234" would be a comma decimal with three places: refused, never 1234.
    bad = "\n".join(rows).format(v="1,234", cur="EUR").encode()
    with pytest.raises(SettlementFileError, match="more than 2 decimal places"):
        parse_settlement_report(bad, file_name="x")


def test_declared_charset_that_does_not_fit_names_the_line() -> None:
    data = "\n".join(us_lines()).encode().replace(b"KB-102-WHT", b"KB-102-W\xffT", 1)
    with pytest.raises(SettlementFileError) as info:
        decode_report_bytes(data, "utf-8", file_name="bad.txt")
    assert info.value.line == 12


def test_unknown_declared_charset() -> None:
    with pytest.raises(SettlementFileError, match="unknown charset"):
        decode_report_bytes(b"x", "klingon-8", file_name="bad.txt")


def test_a_type_cell_of_megabytes_is_refused_naming_its_place() -> None:
    """Tens of MB in one cell made `mlc mapping check` run for minutes rendering the YAML to
    add; such a file is no settlement report and stops at the parser, naming line and column."""
    lines = us_lines()
    cells = lines[2].split("\t")
    cells[13] = "X" * 5_000_000  # amount-description
    lines[2] = "\t".join(cells)
    err = fail(lines)
    assert (err.line, err.column) == (3, "amount-description")
    assert "5,000,000 characters" in err.reason


def test_a_first_line_of_megabytes_is_refused_before_reading_on() -> None:
    data = b"settlement-id\t" + b"Y" * 50_000_000  # one 50 MB line, no newline
    with pytest.raises(SettlementFileError, match="first line is longer") as info:
        parse_settlement_report(data, file_name="one-line.txt")
    assert info.value.line == 1
