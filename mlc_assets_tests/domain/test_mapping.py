# ruff: noqa: E501  (YAML test data reads best unwrapped)
"""GL mapping: validation messages, precedence, overrides, classification, no catch-all."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlc_assets.domain.categories import Category
from mlc_assets.domain.mapping import (
    MappingError,
    _Glob,
    classify_finance_lines,
    classify_lines,
    load_mapping,
    parse_mapping,
    suggest_yaml,
    unmapped_finance_types,
    unmapped_types,
)
from mlc_assets.domain.settlement_schema import LINE_SCHEMA

ACCOUNTS = """
accounts:
  principal: {category: principal, workday: {ledger_account: "4000"}, deltek: {account: "4000.00"}}
  fees: {category: referral_fees, workday: {ledger_account: "6100"}}
  fba: {category: fba_fees, deltek: {account: "6110.00", wbs1: "AMZ-2026", org: "1:01:01"}}
  other: {category: other, workday: {ledger_account: "6190"}}
  clearing: {workday: {ledger_account: "1210"}, deltek: {account: "1210.00"}}
  payable: {workday: {ledger_account: "2100"}, deltek: {account: "2100.00"}}
"""


def mapping_text(rules: str, extra: str = "") -> str:
    return f"rules:\n{rules}\n{ACCOUNTS}\n{extra}"


def lines_frame(
    triples: list[tuple[str, str, str]], marketplace: str = "Amazon.com"
) -> pl.DataFrame:
    n = len(triples)
    data: dict[str, list] = {c: [None] * n for c in LINE_SCHEMA}
    data["settlement_id"] = ["11111111111"] * n
    data["line_no"] = list(range(2, n + 2))
    data["transaction_type"] = [t[0] for t in triples]
    data["amount_type"] = [t[1] for t in triples]
    data["amount_description"] = [t[2] for t in triples]
    data["amount"] = [Decimal("1.00")] * n
    data["marketplace_name"] = [marketplace] * n
    return pl.DataFrame(data, schema=LINE_SCHEMA)


# -- validation ---------------------------------------------------------------------------


def test_error_points_at_rule_field_and_line() -> None:
    text = mapping_text(
        """  - match: {transaction_type: Order, amount_type: ItemPrice, amount_description: Principal}
    category: principal
  - match: {transaction_type: Order, amount_type: "", amount_description: Commission}
    category: referral_fees
    account_key: fees
"""
    )
    with pytest.raises(MappingError) as exc:
        parse_mapping(text, source="mapping.yaml")
    msg = str(exc.value)
    assert "mapping.yaml: rules[1].match.amount_type (line 4)" in msg
    assert "must not be empty" in msg


def test_unknown_category_and_missing_account_are_named() -> None:
    text = mapping_text(
        """  - match: {transaction_type: Order, amount_type: ItemPrice, amount_description: Principal}
    category: sales
  - match: {transaction_type: Order, amount_type: ItemFees, amount_description: Commission}
    category: referral_fees
    account_key: comission
"""
    )
    with pytest.raises(MappingError) as exc:
        parse_mapping(text, source="m.yaml")
    msg = str(exc.value)
    assert "m.yaml: rules[0].category (line 3)" in msg
    # A bad category stops validation of the model, so fix it and look at the key typo.
    text = text.replace("category: sales", "category: principal")
    with pytest.raises(MappingError) as exc:
        parse_mapping(text, source="m.yaml")
    assert "rules[1].account_key: no account 'comission' under accounts" in str(exc.value)


def test_catch_all_rule_is_rejected() -> None:
    text = mapping_text(
        """  - match: {transaction_type: "*", amount_type: "*", amount_description: "*"}
    category: other
"""
    )
    with pytest.raises(MappingError, match=r"rules\[0\]\.match.*catch-all"):
        parse_mapping(text)


def test_special_accounts_required_and_not_rule_targets() -> None:
    text = mapping_text(
        """  - match: {transaction_type: Order, amount_type: ItemPrice, amount_description: Principal}
    category: principal
    account_key: clearing
""",
        "journal: {split_by_month: true}",
    )
    with pytest.raises(MappingError) as exc:
        parse_mapping(text)
    msg = str(exc.value)
    assert "'clearing' is computed, not a rule target" in msg
    assert "accounts.in_transit: required when journal.split_by_month" in msg


def test_unknown_field_and_bad_yaml() -> None:
    text = mapping_text(
        """  - match: {transaction_type: Order, amount_type: ItemPrice, amount_descripton: Principal}
    category: principal
"""
    )
    with pytest.raises(MappingError) as exc:
        parse_mapping(text)
    assert "rules[0].match.amount_descripton (line 2): Extra inputs are not permitted" in str(
        exc.value
    )
    with pytest.raises(MappingError, match="not valid YAML"):
        parse_mapping("rules: [\n")
    # A key holding a control character is quoted, so the message stays one line per problem.
    text = mapping_text(
        """  - match: {transaction_type: Order, amount_type: ItemPrice, amount_description: P,
      "a\\x1eb\\nc": x}
    category: principal
"""
    )
    with pytest.raises(MappingError) as exc:
        parse_mapping(text)
    assert str(exc.value).splitlines() == [
        "mapping.yaml: rules[0].match.'a\\x1eb\\nc' (line 3): Extra inputs are not permitted"
    ]


def test_load_mapping_names_unreadable_file(tmp_path) -> None:
    with pytest.raises(MappingError, match="cannot read mapping"):
        load_mapping(tmp_path / "nope.yaml")


# -- precedence ---------------------------------------------------------------------------

PRECEDENCE = mapping_text(
    """  - match: {transaction_type: "*", amount_type: ItemFees, amount_description: "FBA*"}
    category: fba_fees
    account_key: fba
  - match: {transaction_type: Order, amount_type: ItemFees, amount_description: "*"}
    category: referral_fees
    account_key: fees
  - match: {transaction_type: Order, amount_type: ItemFees, amount_description: "FBA*Fee"}
    category: fba_fees
    account_key: fba
  - match: {transaction_type: Order, amount_type: ItemFees, amount_description: FBAPerUnitFulfillmentFee, marketplace: Amazon.de}
    category: other
  - match: {transaction_type: [Order, Refund], amount_type: itemprice, amount_description: "Princip?l"}
    category: principal
  - match: {transaction_type: Order, amount_type: ItemPrice, amount_description: "Princip?l"}
    category: other
"""
)


def test_most_specific_rule_wins() -> None:
    m = parse_mapping(PRECEDENCE)
    # Two literal fields beat one: rule 1 (Order, ItemFees, *) over rule 0 (*, ItemFees, FBA*).
    assert m.rule_for("Order", "ItemFees", "FBAPerUnitFulfillmentFee").key == "fba"  # rule 2
    assert m.rule_for("Order", "ItemFees", "Commission").key == "fees"
    assert m.rule_for("Refund", "ItemFees", "FBAWeightBasedFee").key == "fba"  # only rule 0
    # Same literal count: more literal characters win (FBA*Fee beats *).
    assert m.rule_for("Order", "ItemFees", "FBAWeightBasedFee").key == "fba"
    # A literal marketplace adds a literal field.
    rule = m.rule_for("Order", "ItemFees", "FBAPerUnitFulfillmentFee", marketplace="amazon.DE")
    assert rule is not None and rule.category is Category.OTHER
    # Case-insensitive, list alternatives; ties on specificity go to the earlier rule.
    assert m.rule_for("order", "ITEMPRICE", "principal").category is Category.PRINCIPAL
    assert m.rule_for("Refund", "ItemPrice", "Principal").category is Category.PRINCIPAL
    assert m.rule_for("Order", "ItemPrice", "Principal ").category is Category.PRINCIPAL
    # '?' is one character; other characters are literal (no [] classes).
    assert m.rule_for("Order", "ItemPrice", "Principle") is None
    assert m.rule_for("Order", "ItemPrice", "Princi[p]al") is None


def test_currency_match_and_null_cells() -> None:
    m = parse_mapping(
        mapping_text(
            """  - match: {transaction_type: Order, amount_type: ItemPrice, amount_description: Principal}
    category: principal
  - match: {transaction_type: Order, amount_type: ItemPrice, amount_description: Principal, currency: EUR}
    category: other
  - match: {transaction_type: other-transaction, amount_type: other-transaction, amount_description: ""}
    category: other
"""
        ).replace('amount_description: ""', "amount_description: '?*'")
    )
    assert m.rule_for("Order", "ItemPrice", "Principal", currency="EUR").key == "other"
    assert m.rule_for("Order", "ItemPrice", "Principal", currency="USD").key == "principal"
    # A null description is the empty string, which '?*' (one or more) does not match.
    assert m.rule_for("other-transaction", "other-transaction", None) is None


# -- overrides ----------------------------------------------------------------------------


def test_overrides_per_marketplace_and_currency() -> None:
    m = parse_mapping(
        mapping_text(
            """  - match: {transaction_type: Order, amount_type: ItemPrice, amount_description: Principal}
    category: principal
""",
            """overrides:
  - marketplace: Amazon.de
    currency: EUR
    accounts:
      principal: {workday: {ledger_account: "4002"}}
  - currency: EUR
    accounts:
      principal: {workday: {ledger_account: "4001", worktags: {Region_Reference_ID: EU}}, deltek: {wbs1: "AMZ-EU"}}
""",
        )
    )
    base = m.account("principal", marketplace="Amazon.com", currency="USD")
    assert base.workday.ledger_account == "4000" and base.deltek.wbs1 is None
    fr = m.account("principal", marketplace="Amazon.fr", currency="EUR")
    assert fr.workday.ledger_account == "4001"
    assert fr.workday.worktags == {"Region_Reference_ID": "EU"}
    assert fr.deltek.account == "4000.00" and fr.deltek.wbs1 == "AMZ-EU"
    de = m.account("principal", marketplace="Amazon.de", currency="EUR")
    assert de.workday.ledger_account == "4002"  # marketplace+currency beats currency only
    assert de.deltek.wbs1 == "AMZ-EU"


def test_override_of_unknown_key_is_rejected() -> None:
    text = mapping_text(
        """  - match: {transaction_type: Order, amount_type: ItemPrice, amount_description: Principal}
    category: principal
""",
        "overrides:\n  - currency: EUR\n    accounts: {sales: {workday: {ledger_account: '1'}}}\n",
    )
    with pytest.raises(MappingError, match=r"overrides\[0\]\.accounts\.sales: no such account"):
        parse_mapping(text)


# -- classification -----------------------------------------------------------------------


def test_classify_lines_keeps_rows_order_and_marks_unmapped() -> None:
    m = parse_mapping(PRECEDENCE)
    triples = [
        ("Order", "ItemPrice", "Principal"),
        ("Order", "ItemFees", "Commission"),
        ("Mystery", "Thing", "Whatever"),
        ("Order", "ItemPrice", "Principal"),
    ]
    out = classify_lines(lines_frame(triples), m, currency="USD")
    assert out.columns == [*LINE_SCHEMA, "category", "account_key"]
    assert out["line_no"].to_list() == [2, 3, 4, 5]
    assert out["account_key"].to_list() == ["principal", "fees", None, "principal"]
    missing = unmapped_types(out)
    assert [(u.transaction_type, u.count, u.line_nos) for u in missing] == [("Mystery", 1, [4])]
    snippet = suggest_yaml(missing)
    assert 'transaction_type: "Mystery"' in snippet and "category: other" in snippet


def test_suggested_yaml_is_valid_and_fixes_the_gap() -> None:
    m = parse_mapping(PRECEDENCE)
    weird = ("Order", "Item: Fees", 'Quote " and # hash')
    missing = unmapped_types(classify_lines(lines_frame([weird]), m, currency="USD"))
    snippet = "\n".join("  " + ln for ln in suggest_yaml(missing).splitlines())
    fixed = parse_mapping(PRECEDENCE.replace("rules:\n", f"rules:\n{snippet}\n", 1))
    assert fixed.rule_for(*weird) is not None


def test_line_marketplace_falls_back_to_settlement_marketplace() -> None:
    m = parse_mapping(PRECEDENCE)
    frame = lines_frame([("Order", "ItemFees", "FBAPerUnitFulfillmentFee")], marketplace="")
    out = classify_lines(frame, m, marketplace="Amazon.de", currency="EUR")
    assert out["category"].to_list() == ["other"]


def test_finance_rules_and_event_list_alias() -> None:
    m = parse_mapping(
        mapping_text(
            """  - match: {transaction_type: Order, amount_type: ItemPrice, amount_description: Principal}
    category: principal
""",
            """finance_rules:
  - match: {event_list: ShipmentEventList, list: ItemChargeList, type: Principal}
    category: principal
  - match: {event_family: "*", list: ItemFeeList, type: Commission}
    category: referral_fees
""",
        )
    )
    frame = pl.DataFrame(
        {
            "event_family": ["Shipment", "ShipmentEventList", "Refund", "Adjustment"],
            "charge_list": ["ItemChargeList", "ItemChargeList", "ItemFeeList", "AdjustmentAmount"],
            "charge_type": ["Principal", "Principal", "Commission", "Surprise"],
            "amount": pl.Series([Decimal("1.00")] * 4, dtype=pl.Decimal(18, 2)),
        }
    )
    out = classify_finance_lines(frame, m)
    assert out["category"].to_list() == ["principal", "principal", "referral_fees", None]
    (u,) = unmapped_finance_types(out)
    assert (u.event_family, u.charge_list, u.charge_type, u.count) == (
        "Adjustment",
        "AdjustmentAmount",
        "Surprise",
        1,
    )
    assert 'type: "Surprise"' in u.yaml_snippet()


def _glob_reference(glob: str, value: str) -> bool:
    """Textbook glob matching by dynamic programming: no regex, polynomial."""
    g, v = glob.lower(), value.lower()
    # reach[j]: the glob's first i characters can match the value's first j characters
    reach = [True] + [False] * len(v)
    for ch in g:
        if ch == "*":
            for j in range(1, len(v) + 1):
                reach[j] = reach[j] or reach[j - 1]
        else:
            reach = [False] + [reach[j] and (ch == "?" or ch == v[j]) for j in range(len(v))]
    return reach[-1]


@settings(max_examples=300, deadline=None)
@given(
    glob=st.text(alphabet="ab*?.[", min_size=1, max_size=8).filter(lambda g: g.strip()),
    value=st.text(alphabet="abAB.[", max_size=10),
)
def test_glob_matching_equals_the_textbook_definition(glob: str, value: str) -> None:
    assert _Glob(glob).matches(value) == _glob_reference(glob.strip(), value.strip())


def test_pathological_glob_answers() -> None:
    """``*a*a*…*b`` on a long run of ``a`` backtracked exponentially with ``.*`` per star."""
    glob = _Glob("*a" * 12 + "*b")
    assert not glob.matches("a" * 200)
    assert glob.matches("a" * 200 + "b")
    assert _Glob("a*a*a*a*a*a*a*a*a*a*c").matches("a" * 100 + "c")
