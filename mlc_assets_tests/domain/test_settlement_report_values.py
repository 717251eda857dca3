"""Date and amount cell parsing used by the settlement parser, on whole columns."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import polars as pl
import pytest

from mlc_assets.domain.errors import SettlementFileError
from mlc_assets.domain.report_values import COMMA, DOT, DecimalStyle, parse_amounts, parse_datetimes


def dates(*values: str | None) -> tuple[list[datetime | None], list[bool], str]:
    parsed = parse_datetimes(
        pl.Series(values, dtype=pl.Utf8),
        pl.Series(range(2, 2 + len(values))),
        column="posted-date",
        file_name="f.txt",
    )
    return parsed.values.to_list(), parsed.has_time.to_list(), parsed.label


@pytest.mark.parametrize(
    ("text", "expected", "has_time"),
    [
        ("2025-06-05", datetime(2025, 6, 5, tzinfo=UTC), False),
        ("2025-06-05 22:07:18", datetime(2025, 6, 5, 22, 7, 18, tzinfo=UTC), True),
        ("2025-06-05 22:07:18 UTC", datetime(2025, 6, 5, 22, 7, 18, tzinfo=UTC), True),
        ("05.06.2025", datetime(2025, 6, 5, tzinfo=UTC), False),
        ("05.06.2025 22:07:18 UTC", datetime(2025, 6, 5, 22, 7, 18, tzinfo=UTC), True),
        ("2025-06-05T22:07:18+00:00", datetime(2025, 6, 5, 22, 7, 18, tzinfo=UTC), True),
        ("2025-06-06T00:07:18+02:00", datetime(2025, 6, 5, 22, 7, 18, tzinfo=UTC), True),
        ("2025-06-05T15:07:18-0700", datetime(2025, 6, 5, 22, 7, 18, tzinfo=UTC), True),
        ("2025-06-05T22:07:18Z", datetime(2025, 6, 5, 22, 7, 18, tzinfo=UTC), True),
        ("06/05/25", datetime(2025, 6, 5, tzinfo=UTC), False),  # Amazon: MM/DD/YY
        ("06/05/2025 22:07:18 UTC", datetime(2025, 6, 5, 22, 7, 18, tzinfo=UTC), True),
    ],
)
def test_each_documented_date_format(text: str, expected: datetime, has_time: bool) -> None:
    values, times, _ = dates(text, None, text)
    assert values == [expected, None, expected]
    assert times == [has_time, False, has_time]


def test_mixed_shapes_of_one_family_in_a_column() -> None:
    values, times, label = dates(
        "2025-06-05 22:07:18 UTC", "2025-06-06", "2025-06-07T01:00:00+01:00"
    )
    assert values == [
        datetime(2025, 6, 5, 22, 7, 18, tzinfo=UTC),
        datetime(2025, 6, 6, tzinfo=UTC),
        datetime(2025, 6, 7, 0, 0, tzinfo=UTC),
    ]
    assert times == [True, False, True]
    assert label == "yyyy-mm-dd HH:MM:SS UTC"


def test_slash_dates_turn_day_first_when_a_day_exceeds_12() -> None:
    values, _, label = dates("05/06/2025", "25/06/2025")
    assert values == [datetime(2025, 6, 5, tzinfo=UTC), datetime(2025, 6, 25, tzinfo=UTC)]
    assert label.startswith("dd/mm/yyyy")


@pytest.mark.parametrize("bad", ["2025-02-29", "29.02.2025 24:00:00 UTC", "2025-06-05 UTC+1"])
def test_invalid_dates_name_their_line(bad: str) -> None:
    with pytest.raises(SettlementFileError) as info:
        dates("2025-06-05", bad) if bad[4] == "-" else dates("01.01.2025", bad)
    assert (info.value.line, info.value.column) == (3, "posted-date")


@pytest.mark.parametrize(
    ("style", "text", "expected"),
    [
        (DOT, "1,234,567.89", "1234567.89"),
        (DOT, "-0.5", "-0.50"),
        (DOT, "+7", "7.00"),
        (COMMA, "-1.234,56", "-1234.56"),
        (COMMA, "1141,18", "1141.18"),
        # Exactness near the Decimal(18,2) limit: a float would round these.
        (DOT, "9999999999999999.99", "9999999999999999.99"),
        (DOT, "1234567890123456.78", "1234567890123456.78"),
        (DOT, "0.07", "0.07"),
    ],
)
def test_amounts_are_exact(style: tuple[str, str], text: str, expected: str) -> None:
    parsed = parse_amounts(
        pl.Series([text, None]),
        pl.Series([2, 3]),
        style=DecimalStyle(*style, reason="test"),
        column="amount",
        file_name="f.txt",
    )
    assert parsed.dtype == pl.Decimal(18, 2)
    assert parsed.to_list() == [Decimal(expected), None]
