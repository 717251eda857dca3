"""Property tests: any valid settlement round-trips exactly; any damaged one fails cleanly.

The generator writes files the way Amazon's marketplaces do (US, DE, UK locales; V2 and V1
layouts; optional columns dropped; columns shuffled; ragged rows; padded cells; CRLF), from
known Decimal amounts. Parsing must give back exactly those amounts. Damaged files must give
either a correct parse (lines sum to the total) or SettlementFileError — nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlc_assets.domain.errors import SettlementFileError
from mlc_assets.domain.report_formats import V1_AMOUNT_COLUMNS, V1_COLUMNS, V2_COLUMNS
from mlc_assets.domain.settlement_report import parse_settlement_report
from mlc_assets.domain.settlement_schema import LINE_SCHEMA

DATA = Path(__file__).parent / "data"
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

KINDS = [
    ("Order", "ItemPrice", "Principal"),
    ("Order", "ItemPrice", "Tax"),
    ("Order", "ItemPrice", "Shipping"),
    ("Order", "ItemFees", "Commission"),
    ("Order", "ItemFees", "FBAPerUnitFulfillmentFee"),
    ("Order", "ItemWithheldTax", "MarketplaceFacilitatorTax-Principal"),
    ("Order", "Promotion", "Shipping"),
    ("Refund", "ItemPrice", "Principal"),
    ("Refund", "ItemFees", "RefundCommission"),
    ("ServiceFee", "ServiceFee", "Subscription Fee"),
    ("other-transaction", "other-transaction", "Current Reserve Amount"),
    ("other-transaction", "FBA Inventory Reimbursement", "REVERSAL_REIMBURSEMENT"),
]


@dataclass(frozen=True)
class Locale:
    currency: str
    decimal: str
    thousands: str
    header_date: str  # strftime
    posted_date: str


LOCALES = {
    "us": Locale("USD", ".", ",", "%Y-%m-%d %H:%M:%S UTC", "%Y-%m-%d"),
    "de": Locale("EUR", ",", ".", "%d.%m.%Y %H:%M:%S UTC", "%d.%m.%Y"),
    "uk": Locale("GBP", ".", ",", "%d.%m.%Y %H:%M:%S UTC", "%d.%m.%Y"),
    "iso": Locale("CAD", ".", ",", "%Y-%m-%dT%H:%M:%S+00:00", "%Y-%m-%dT%H:%M:%S+00:00"),
}


def render_amount(value: Decimal, loc: Locale, *, group: bool, whole: bool) -> str:
    sign = "-" if value < 0 else ""
    cents = abs(value)
    integer, frac = f"{cents:.2f}".split(".")
    if group:
        integer = f"{int(integer):,}".replace(",", loc.thousands)
    if whole and frac == "00":
        return sign + integer
    return f"{sign}{integer}{loc.decimal}{frac}"


@dataclass(frozen=True)
class Generated:
    data: bytes
    total: Decimal
    amounts: list[Decimal]  # in file order (line, then V1 amount column order)


@st.composite
def settlements(draw: st.DrawFn) -> Generated:
    loc = LOCALES[draw(st.sampled_from(sorted(LOCALES)))]
    fmt = draw(st.sampled_from(["v2", "v1"]))
    if fmt == "v2":
        columns = list(V2_COLUMNS)
        if draw(st.booleans()):
            columns.remove("promotion-id")
    else:
        columns = list(V1_COLUMNS)
        if draw(st.booleans()):
            for c in ("promotion-id", "promotion-type", "promotion-amount"):
                columns.remove(c)
    if draw(st.booleans()):
        columns = draw(st.permutations(columns))
    amount_specs = [s for s in V1_AMOUNT_COLUMNS if s.column in columns]
    group = draw(st.booleans())
    whole = draw(st.booleans())
    ragged = draw(st.booleans())
    pad = draw(st.sampled_from(["", " ", "  "]))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    cents = st.integers(min_value=-(10**10), max_value=10**10)
    sid = str(draw(st.integers(min_value=10**10, max_value=10**11 - 1)))
    start = date(2024, 1, 1) + timedelta(days=draw(st.integers(0, 700)))

    def cell_row(values: dict[str, str]) -> str:
        cells = [values.get(c, "") for c in columns]
        if ragged:
            while cells and cells[-1] == "":
                cells.pop()
        return "\t".join(cells)

    def amount_text(value: Decimal) -> str:
        return render_amount(value, loc, group=group, whole=whole) + pad

    rows: list[str] = []
    amounts: list[Decimal] = []
    for _ in range(draw(st.integers(min_value=0, max_value=12))):
        tt, at, ad = draw(st.sampled_from(KINDS))
        posted = start + timedelta(days=draw(st.integers(0, 13)))
        values = {
            "settlement-id": sid,
            "transaction-type": tt,
            "sku": draw(st.sampled_from(["", "SKU-1", "Größe-M"])),
            "posted-date": posted.strftime(loc.posted_date),
        }
        if fmt == "v2":
            value = Decimal(draw(cents)) / 100
            values |= {
                "amount-type": at,
                "amount-description": ad,
                "amount": amount_text(value),
                "posted-date-time": posted.strftime(loc.header_date),
            }
            amounts.append(value)
        else:
            picked = draw(
                st.lists(st.sampled_from(amount_specs), min_size=1, max_size=2, unique=True)
            )
            for spec in amount_specs:  # the parser's order within a row
                if spec in picked:
                    value = Decimal(draw(cents)) / 100
                    values[spec.column] = amount_text(value)
                    amounts.append(value)
        rows.append(cell_row(values))
    total = sum(amounts, Decimal("0.00"))
    summary = {
        "settlement-id": sid,
        "settlement-start-date": start.strftime(loc.header_date),
        "settlement-end-date": (start + timedelta(days=14)).strftime(loc.header_date),
        "deposit-date": (start + timedelta(days=16)).strftime(loc.header_date),
        "total-amount": amount_text(total),
        "currency": loc.currency,
    }
    position = draw(st.integers(min_value=0, max_value=len(rows)))
    rows.insert(position, cell_row(summary))
    text = newline.join(["\t".join(columns), *rows]) + newline
    encoding = draw(st.sampled_from(["utf-8", "iso-8859-1"]))
    return Generated(text.encode(encoding), total, amounts)


@SETTINGS
@given(settlements())
def test_valid_settlements_round_trip_exactly(gen: Generated) -> None:
    parsed = parse_settlement_report(gen.data, file_name="gen.txt")
    assert parsed.header.total_amount == gen.total
    assert parsed.lines["amount"].to_list() == gen.amounts
    assert dict(parsed.lines.schema) == LINE_SCHEMA
    assert parsed.lines.height == len(gen.amounts)
    if gen.amounts:
        assert parsed.lines["amount"].sum() == gen.total
    assert "Größe-M" in parsed.lines["sku"].to_list() or "Größe-M".encode() not in gen.data


MUTATION_CHARS = "\t\n\r 0123456789,.-+eE:/TZUTCabc\x00ßé\u00a0٣"


@st.composite
def damaged(draw: st.DrawFn) -> bytes:
    source = draw(
        st.one_of(
            settlements().map(lambda g: g.data),
            st.sampled_from(sorted(DATA.glob("*.txt"))).map(Path.read_bytes),
        )
    )
    text = source.decode("latin-1")
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        kind = draw(st.sampled_from(["insert", "delete", "replace", "truncate", "dup", "swap"]))
        if not text:
            break
        i = draw(st.integers(min_value=0, max_value=len(text) - 1))
        if kind == "insert":
            text = text[:i] + draw(st.text(alphabet=MUTATION_CHARS, max_size=3)) + text[i:]
        elif kind == "delete":
            text = text[:i] + text[i + draw(st.integers(1, 5)) :]
        elif kind == "replace":
            text = text[:i] + draw(st.sampled_from(MUTATION_CHARS)) + text[i + 1 :]
        elif kind == "truncate":
            text = text[:i]
        else:
            lines = text.split("\n")
            a = draw(st.integers(0, len(lines) - 1))
            b = draw(st.integers(0, len(lines) - 1))
            if kind == "dup":
                lines.insert(b, lines[a])
            else:
                lines[a], lines[b] = lines[b], lines[a]
            text = "\n".join(lines)
    return text.encode("latin-1", errors="replace")


def assert_clean_outcome(data: bytes) -> None:
    try:
        parsed = parse_settlement_report(data, file_name="fuzz.txt")
    except SettlementFileError as exc:
        assert exc.file == "fuzz.txt"
        assert str(exc).startswith("fuzz.txt")
        return
    assert dict(parsed.lines.schema) == LINE_SCHEMA
    lines_sum = parsed.lines["amount"].sum() if parsed.lines.height else Decimal("0")
    assert lines_sum == parsed.header.total_amount
    assert parsed.lines["amount"].null_count() == 0
    assert parsed.lines.filter(pl.col("settlement_id") != parsed.header.settlement_id).is_empty()


@SETTINGS
@given(damaged())
def test_damaged_files_parse_correctly_or_raise_settlement_file_error(data: bytes) -> None:
    assert_clean_outcome(data)


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=400))
def test_random_bytes_raise_settlement_file_error(data: bytes) -> None:
    assert_clean_outcome(data)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.lists(st.text(alphabet=MUTATION_CHARS, max_size=6), max_size=26),
        min_size=1,
        max_size=6,
    )
)
def test_random_cells_under_a_valid_header(rows: list[list[str]]) -> None:
    header = "\t".join(V2_COLUMNS)
    body = "\n".join("\t".join(r) for r in rows)
    assert_clean_outcome(f"{header}\n{body}".encode())
