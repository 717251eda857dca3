"""Settlement lines to accounts and categories; what is unmapped and the YAML to add."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import polars as pl
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
)

from mlc_assets.domain.errors import MlcError
from mlc_assets.domain.mapping.model import GlMapping, _categories

# --------------------------------------------------------------------------------------
# Classification (vectorised: resolve the few distinct triples in Python, join back)

_TRIPLE = ("transaction_type", "amount_type", "amount_description")


def settlement_marketplace(lines: pl.DataFrame) -> str | None:
    """The settlement's marketplace: the most frequent Amazon marketplace name on its lines.

    MCF lines say ``Non-Amazon …``; they ride on the seller's marketplace settlement, so they
    are ignored here (ties broken alphabetically for determinism).

    Counted first, filtered after: the filter then looks at a handful of distinct names
    instead of lower-casing a million cells (same answer, ≈6× faster at 1M lines)."""
    if lines.height == 0 or "marketplace_name" not in lines.columns:
        return None
    counts = (
        lines.group_by("marketplace_name")
        .len()
        .filter(
            pl.col("marketplace_name").is_not_null()
            & (pl.col("marketplace_name").str.strip_chars() != "")
            & ~pl.col("marketplace_name").str.to_lowercase().str.starts_with("non-amazon")
        )
        .sort(["len", "marketplace_name"], descending=[True, False])
    )
    return counts["marketplace_name"][0] if counts.height else None


# Joins the four key cells of a line into one string; the unit separator cannot occur in a
# cell of the distinct key rows (checked), so the joined key is as exact as the four cells.
_KEY_SEP = "\x1f"


def classify_lines(
    lines: pl.DataFrame,
    mapping: GlMapping,
    *,
    marketplace: str | None = None,
    currency: str,
) -> pl.DataFrame:
    """Add ``category`` and ``account_key`` (both null when no rule matches) to report lines.

    ``marketplace`` fills in for lines without a marketplace-name.

    A million lines hold a few dozen distinct (type triple, marketplace) keys: each line's
    key is one joined string, the rules are looked up once per distinct key, and the
    answers are gathered back by key index — no join over four string columns."""
    mp_expr = (
        pl.when(pl.col("marketplace_name").is_null() | (pl.col("marketplace_name") == ""))
        .then(pl.lit(marketplace or "", dtype=pl.Utf8))
        .otherwise(pl.col("marketplace_name"))
    )
    parts = [*(pl.col(c).fill_null("") for c in _TRIPLE), mp_expr.fill_null("")]
    key = lines.select(pl.concat_str(parts, separator=_KEY_SEP).alias("key"))["key"]
    firsts = key.is_first_distinct()
    distinct = lines.filter(firsts).select(
        pl.concat_str(parts, separator=_KEY_SEP).alias("key"), *parts
    )
    if distinct.select(
        pl.any_horizontal(pl.all().exclude("key").str.contains(_KEY_SEP, literal=True)).any()
    ).item():
        return _classify_by_join(lines, mapping, mp_expr, currency=currency)
    cats: list[str | None] = []
    keys: list[str | None] = []
    for _, tt, at, ad, mp in distinct.iter_rows():
        rule = mapping.rule_for(tt, at, ad, marketplace=mp, currency=currency)
        cats.append(rule.category.value if rule else None)
        keys.append(rule.key if rule else None)
    index = (
        key.replace_strict(
            distinct["key"],
            pl.int_range(distinct.height, dtype=pl.UInt32, eager=True),
            return_dtype=pl.UInt32,
        )
        if key.len()
        else pl.Series(dtype=pl.UInt32)
    )
    base = lines.drop([c for c in ("category", "account_key") if c in lines.columns])
    return base.with_columns(
        pl.Series("category", cats, dtype=pl.Utf8).gather(index),
        pl.Series("account_key", keys, dtype=pl.Utf8).gather(index),
    )


def _classify_by_join(
    lines: pl.DataFrame, mapping: GlMapping, mp_expr: pl.Expr, *, currency: str
) -> pl.DataFrame:
    """classify_lines for cells that hold the key separator: join on the four columns."""
    keyed = lines.with_columns(
        *(pl.col(c).fill_null("").alias(f"__{c}") for c in _TRIPLE),
        mp_expr.fill_null("").alias("__mp"),
    )
    key_cols = [f"__{c}" for c in _TRIPLE] + ["__mp"]
    distinct = keyed.select(key_cols).unique()
    cats: list[str | None] = []
    keys: list[str | None] = []
    for tt, at, ad, mp in distinct.iter_rows():
        rule = mapping.rule_for(tt, at, ad, marketplace=mp, currency=currency)
        cats.append(rule.category.value if rule else None)
        keys.append(rule.key if rule else None)
    resolved = distinct.with_columns(
        pl.Series("category", cats, dtype=pl.Utf8),
        pl.Series("account_key", keys, dtype=pl.Utf8),
    )
    base = keyed.drop([c for c in ("category", "account_key") if c in keyed.columns])
    return base.join(resolved, on=key_cols, how="left", maintain_order="left").drop(key_cols)


class UnmappedType(BaseModel):
    """One distinct unmapped type triple, with where it occurs (for the error message)."""

    model_config = ConfigDict(frozen=True)

    transaction_type: str
    amount_type: str
    amount_description: str
    count: int
    line_nos: list[int] = Field(default_factory=list)  # first few, for finding it in the file
    settlement_ids: list[str] = Field(default_factory=list)

    @property
    def label(self) -> str:
        return (
            f"transaction-type '{self.transaction_type}', amount-type '{self.amount_type}', "
            f"amount-description '{self.amount_description}' ({self.count} line(s)"
            + (f", e.g. line {self.line_nos[0]}" if self.line_nos else "")
            + ")"
        )

    def yaml_snippet(self) -> str:
        return suggest_yaml([self])


def unmapped_types(classified: pl.DataFrame, *, sample: int = 5) -> list[UnmappedType]:
    """The distinct type triples of lines no rule maps, most frequent first."""
    missing = classified.filter(pl.col("account_key").is_null())
    if missing.height == 0:
        return []
    has_sid = "settlement_id" in missing.columns
    has_no = "line_no" in missing.columns
    grouped = (
        missing.with_columns(*(pl.col(c).fill_null("") for c in _TRIPLE))
        .group_by(list(_TRIPLE))
        .agg(
            pl.len().alias("count"),
            (pl.col("line_no").sort().head(sample) if has_no else pl.lit(None)).alias("nos"),
            (pl.col("settlement_id").unique().sort() if has_sid else pl.lit(None)).alias("sids"),
        )
        .sort(["count", *_TRIPLE], descending=[True, False, False, False])
    )
    out = []
    for row in grouped.iter_rows(named=True):
        out.append(
            UnmappedType(
                transaction_type=row["transaction_type"],
                amount_type=row["amount_type"],
                amount_description=row["amount_description"],
                count=row["count"],
                line_nos=[n for n in (row["nos"] or []) if n is not None] if has_no else [],
                settlement_ids=[s for s in (row["sids"] or []) if s] if has_sid else [],
            )
        )
    return out


def suggest_yaml(unmapped: Iterable[UnmappedType]) -> str:
    """YAML rule entries to paste under ``rules:``; the category must be chosen by a human."""
    blocks = []
    for u in unmapped:
        blocks.append(
            "- match:\n"
            f"    transaction_type: {_yaml_scalar(u.transaction_type)}\n"
            f"    amount_type: {_yaml_scalar(u.amount_type)}\n"
            f"    amount_description: {_yaml_scalar(u.amount_description)}\n"
            f"  category: other  # choose one of: {_categories()}\n"
            "  # account_key: <a key under accounts>  (optional; defaults to the category)"
        )
    return "\n".join(blocks)


def _yaml_scalar(value: str) -> str:
    # json-style double quoting is valid YAML and survives any characters.
    import json

    return json.dumps(value, ensure_ascii=False)


class UnmappedTypesError(MlcError):
    """Settlement lines whose type no rule maps; the message carries the YAML to add."""

    def __init__(self, settlement_id: str, unmapped: Sequence[UnmappedType]) -> None:
        self.settlement_id = settlement_id
        self.unmapped = list(unmapped)
        names = "; ".join(u.label for u in self.unmapped)
        super().__init__(
            f"settlement {settlement_id}: {len(self.unmapped)} unmapped type(s): {names}. "
            f"Add to the mapping's rules:\n{suggest_yaml(self.unmapped)}"
        )
