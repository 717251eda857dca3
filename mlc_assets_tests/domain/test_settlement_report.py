"""Parsing the hand-written settlement files: one per layout/locale Amazon is known to ship."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from mlc_assets.domain.settlement_report import decode_report_bytes, parse_settlement_report
from mlc_assets.domain.settlement_schema import LINE_SCHEMA, ParsedSettlement

DATA = Path(__file__).parent / "data"


def parse(name: str, charset: str | None = None) -> ParsedSettlement:
    return parse_settlement_report((DATA / name).read_bytes(), file_name=name, charset=charset)


def line(parsed: ParsedSettlement, line_no: int, source_column: str = "amount") -> dict:
    rows = parsed.lines.filter(
        (pl.col("line_no") == line_no) & (pl.col("source_column") == source_column)
    )
    assert rows.height == 1
    return rows.row(0, named=True)


def test_us_v2_dot_decimals_and_iso_dates() -> None:
    parsed = parse("us_v2.txt")
    h = parsed.header
    assert h.settlement_id == "12345678901"
    assert h.start == datetime(2025, 6, 1, 7, 0, tzinfo=UTC)
    assert h.end == datetime(2025, 6, 15, 7, 0, tzinfo=UTC)
    assert h.deposit_date == datetime(2025, 6, 17, 7, 0, tzinfo=UTC)
    assert h.total_amount == Decimal("855.23")
    assert h.currency == "USD"
    assert (h.file_format, h.column_count) == ("v2", 24)
    assert parsed.lines.height == 16
    assert parsed.lines["amount"].sum() == Decimal("855.23")
    assert parsed.detected["decimal"] == "."
    assert parsed.detected["date:posted-date"] == "yyyy-mm-dd"
    first = line(parsed, 3)
    # "1,249.99": a thousands comma, not a decimal comma.
    assert first["amount"] == Decimal("1249.99")
    assert (first["amount_type"], first["amount_description"]) == ("ItemPrice", "Principal")
    assert first["order_id"] == "111-4821736-1029384"
    assert first["quantity_purchased"] == 2
    assert first["posted_date"] == date(2025, 6, 3)
    assert first["posted_datetime"] == datetime(2025, 6, 3, 14, 22, 10, tzinfo=UTC)
    assert first["merchant_order_id"] is None  # empty cells are null, never ""
    promo = line(parsed, 7)
    assert promo["promotion_id"] == "Core Free Shipping Promotion 7733"
    assert promo["amount"] == Decimal("-5.99")
    facilitator = line(parsed, 8)
    assert facilitator["amount_description"] == "MarketplaceFacilitatorTax-Principal"
    reimb = line(parsed, 16)
    assert (reimb["amount_type"], reimb["amount_description"], reimb["amount"]) == (
        "FBA Inventory Reimbursement",
        "REVERSAL_REIMBURSEMENT",
        Decimal("18.40"),
    )
    assert line(parsed, 17)["amount_description"] == "Previous Reserve Amount Balance"
    assert line(parsed, 18)["amount"] == Decimal("-650.00")


def test_frame_has_exactly_the_canonical_schema() -> None:
    for name in sorted(p.name for p in DATA.glob("*.txt")):
        parsed = parse(name)
        assert dict(parsed.lines.schema) == LINE_SCHEMA, name
        assert parsed.lines["settlement_id"].unique().to_list() == [parsed.header.settlement_id]
        assert parsed.lines["line_no"].is_sorted()


def test_de_v2_comma_decimals_ragged_rows_trailing_spaces_crlf() -> None:
    parsed = parse("de_v2.txt")
    h = parsed.header
    assert h.settlement_id == "19482314502"
    assert h.start == datetime(2025, 6, 1, 22, 7, 18, tzinfo=UTC)
    assert h.end == datetime(2025, 6, 15, 22, 7, 18, tzinfo=UTC)
    assert h.deposit_date == datetime(2025, 6, 17, 22, 7, 18, tzinfo=UTC)
    assert h.total_amount == Decimal("357.82")
    assert h.currency == "EUR"
    assert parsed.lines.height == 12
    assert parsed.lines["amount"].sum() == Decimal("357.82")
    assert parsed.detected["decimal"] == ","
    assert parsed.detected["date"] == "dd.mm.yyyy HH:MM:SS UTC"
    assert parsed.detected["date:posted-date"] == "dd.mm.yyyy"
    principal = line(parsed, 3)
    assert principal["amount"] == Decimal("1141.18")  # written "1.141,18  "
    assert principal["posted_date"] == date(2025, 6, 4)
    assert principal["posted_datetime"] == datetime(2025, 6, 4, 9, 15, 42, tzinfo=UTC)
    assert principal["sku"] == "LAMP-DE-01"  # last cell before the CR of a CRLF line
    assert line(parsed, 7)["amount_description"] == "MarketplaceFacilitatorVAT-Principal"
    assert line(parsed, 8)["promotion_id"] == "Kostenloser Versand 1842"
    assert line(parsed, 9)["amount"] == Decimal("-1234.56")  # "-1.234,56"
    reserve = line(parsed, 13)  # a ragged row: ends after posted-date-time
    assert reserve["amount"] == Decimal("-1800.50")
    assert reserve["quantity_purchased"] is None
    assert reserve["promotion_id"] is None
    fees = parsed.lines.filter(pl.col("amount_type") == "ItemFees")
    assert fees["amount"].sum() == Decimal("-27.09")


def test_uk_v2_dot_decimals_with_day_first_dates_and_23_columns() -> None:
    parsed = parse("uk_v2.txt")
    h = parsed.header
    assert (h.settlement_id, h.currency, h.column_count) == ("20118834015", "GBP", 23)
    assert h.start == datetime(2025, 5, 29, 8, 14, 55, tzinfo=UTC)
    assert h.deposit_date == datetime(2025, 6, 14, 8, 14, 55, tzinfo=UTC)
    assert h.total_amount == Decimal("28.62")
    assert parsed.lines.height == 7
    assert parsed.lines["amount"].sum() == Decimal("28.62")
    assert parsed.detected["decimal"] == "."
    assert parsed.detected["date:posted-date"] == "dd.mm.yyyy"
    assert parsed.lines["promotion_id"].null_count() == 7  # the column is absent
    assert line(parsed, 3)["posted_date"] == date(2025, 6, 5)
    assert line(parsed, 5)["amount"] == Decimal("-5.99")


def test_v1_36_columns_spread_amounts_and_offset_dates() -> None:
    parsed = parse("us_v1_36.txt")
    h = parsed.header
    assert (h.settlement_id, h.file_format, h.column_count) == ("11203948571", "v1", 36)
    assert h.start == datetime(2025, 6, 1, tzinfo=UTC)
    # "2025-06-17T02:00:00+02:00" is midnight UTC
    assert h.deposit_date == datetime(2025, 6, 17, 0, 0, tzinfo=UTC)
    assert h.total_amount == Decimal("-64.12")
    assert parsed.lines.height == 16  # 15 rows, one of them carries two amounts
    assert parsed.lines["amount"].sum() == Decimal("-64.12")
    kinds = {
        (r["source_column"], r["amount_type"], r["amount_description"], r["amount"])
        for r in parsed.lines.iter_rows(named=True)
    }
    assert kinds == {
        ("price-amount", "ItemPrice", "Principal", Decimal("59.98")),
        ("price-amount", "ItemPrice", "Tax", Decimal("4.80")),
        ("item-related-fee-amount", "ItemFees", "Commission", Decimal("-9.00")),
        ("item-related-fee-amount", "ItemFees", "FBAPerUnitFulfillmentFee", Decimal("-7.38")),
        ("shipment-fee-amount", "ShipmentFees", "FBA transportation fee", Decimal("-1.20")),
        ("order-fee-amount", "OrderFees", "Gift wrap chargeback", Decimal("-0.50")),
        ("promotion-amount", "Promotion", "Principal", Decimal("-5.00")),
        ("direct-payment-amount", "DirectPayment", "StorefrontDirectPayment", Decimal("2.00")),
        ("price-amount", "ItemPrice", "Principal", Decimal("-29.99")),
        ("item-related-fee-amount", "ItemFees", "Commission", Decimal("4.50")),
        ("other-amount", "Other", "Storage Fee", Decimal("-12.34")),
        ("other-fee-amount", "OtherFee", "Inbound Transportation Fee", Decimal("-25.00")),
        ("other-fee-amount", "OtherFee", "REVERSAL_REIMBURSEMENT", Decimal("15.00")),
        ("misc-fee-amount", "MiscFee", "Subscription Fee", Decimal("-39.99")),
        ("other-amount", "Other", "Previous Reserve Amount Balance", Decimal("80.00")),
        ("other-amount", "Other", "Current Reserve Amount", Decimal("-100.00")),
    }
    refund_price = line(parsed, 11, "price-amount")
    refund_fee = line(parsed, 11, "item-related-fee-amount")
    assert refund_price["transaction_type"] == refund_fee["transaction_type"] == "Refund"
    # "2025-06-09T03:30:00-07:00" → 10:30 UTC
    assert refund_price["posted_datetime"] == datetime(2025, 6, 9, 10, 30, tzinfo=UTC)
    assert refund_price["posted_date"] == date(2025, 6, 9)
    assert line(parsed, 9, "promotion-amount")["promotion_id"] == "Summer Toys 10%"


def test_v1_33_columns_negative_settlement() -> None:
    parsed = parse("uk_v1_33_negative.txt")
    h = parsed.header
    assert (h.settlement_id, h.currency, h.column_count) == ("11203948999", "GBP", 33)
    assert h.total_amount == Decimal("-69.90")
    assert parsed.lines.height == 6
    assert parsed.lines["amount"].sum() == Decimal("-69.90")
    assert parsed.lines["promotion_id"].null_count() == 6
    pairs = parsed.lines.filter(pl.col("source_column") == "other-amount")
    assert dict(zip(pairs["amount_description"], pairs["amount"], strict=True)) == {
        "Storage Fee": Decimal("-55.10"),
        "Payable to Amazon": Decimal("-69.90"),
        "Successful charge": Decimal("69.90"),
    }


def test_zero_settlement_reserve_held_equals_released() -> None:
    parsed = parse("fr_v2_zero.txt")
    assert parsed.header.total_amount == Decimal("0.00")
    assert parsed.lines["amount"].to_list() == [Decimal("312.40"), Decimal("-312.40")]
    assert parsed.header.deposit_date == datetime(2025, 7, 17, 22, 7, 18, tzinfo=UTC)


def test_iso_8859_1_file_without_declared_charset() -> None:
    parsed = parse("de_v2_latin1.txt")
    assert parsed.detected["charset"] == "iso-8859-1"
    assert parsed.lines["sku"].unique().to_list() == ["BÜRSTE-GRÖßE-M"]
    assert line(parsed, 5)["promotion_id"] == "Frühlingsaktion Bürsten"
    assert parsed.header.total_amount == Decimal("14.99")
    assert parsed.lines["amount"].sum() == Decimal("14.99")


def test_declared_charset_wins_over_detection() -> None:
    parsed = parse("de_v2_latin1.txt", charset='"ISO-8859-1"')
    assert parsed.detected["charset"] == "iso8859-1"
    assert "Frühlingsaktion Bürsten" in parsed.lines["promotion_id"].to_list()


def test_decode_maps_windows_31j_to_cp932() -> None:
    text = "settlement-id\t注文\n"
    assert decode_report_bytes(text.encode("cp932"), "windows-31j", file_name="jp.txt") == text


def test_decode_strips_utf8_bom_and_prefers_utf8() -> None:
    assert decode_report_bytes(b"\xef\xbb\xbfa\xc3\xa9", None, file_name="x") == "aé"
    assert decode_report_bytes("Größe".encode("latin-1"), None, file_name="x") == "Größe"


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("1.234.567,89", Decimal("1234567.89")),
        ("-0,01", Decimal("-0.01")),
        ("12", Decimal("12.00")),
        ("12,5", Decimal("12.50")),
        ("9.999.999.999.999.999,99", Decimal("9999999999999999.99")),
    ],
)
def test_comma_locale_amounts_are_exact(amount: str, expected: Decimal) -> None:
    text = (DATA / "fr_v2_zero.txt").read_text()
    text = text.replace("0,00\tEUR", f"{amount}\tEUR").replace("312,40", amount, 1)
    text = text.replace("-312,40", "0,00")
    parsed = parse_settlement_report(text.encode(), file_name="fr.txt")
    assert parsed.header.total_amount == expected
    assert parsed.lines["amount"].sum() == expected
