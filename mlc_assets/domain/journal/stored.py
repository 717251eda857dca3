"""How a journal is kept in the warehouse: the summary row, the lines, the source ranges apart."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import polars as pl

from mlc_assets.domain.money import MONEY_DTYPE

_HASH_APART = 4096
_RANGES_CHARS = b"0123456789,-"
_WITHOUT_RANGES: Any = {"entries": {"__all__": {"lines": {"__all__": {"source_ranges"}}}}}

if TYPE_CHECKING:  # the journal model stores itself through this module
    from mlc_assets.domain.journal.model import Journal


def _verbatim_in_json(text: str) -> bool:
    """Whether ``json.dumps`` writes ``text`` as it is (ranges characters only)."""
    return text.isascii() and not text.encode("ascii").translate(None, _RANGES_CHARS)


def _dumped(journal: Journal) -> str:
    return json.dumps(
        journal.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), default=str
    )


def ranges_stored_apart(journal_json: str) -> bool:
    """Whether a stored ``journal_json`` left the ranges to ``journal_lines``
    (:meth:`Journal.stored_json`). Inside JSON strings quotes are escaped, so the quoted
    key with its colon can only be a key."""
    return '"source_ranges":' not in journal_json and '"source_lines":' not in journal_json


JOURNAL_FRAME_SCHEMA: dict[str, pl.DataType] = {
    "settlement_id": pl.Utf8(),
    "entry_no": pl.Int64(),
    "reference": pl.Utf8(),
    "posting_date": pl.Date(),
    "currency": pl.Utf8(),
    "entry_memo": pl.Utf8(),
    "line_no": pl.Int64(),
    "account_key": pl.Utf8(),
    "category": pl.Utf8(),
    "memo": pl.Utf8(),
    "debit": MONEY_DTYPE,
    "credit": MONEY_DTYPE,
    "workday_ledger_account": pl.Utf8(),
    "workday_account_set": pl.Utf8(),
    "workday_spend_category": pl.Utf8(),
    "workday_worktags": pl.Utf8(),  # JSON object
    "deltek_account": pl.Utf8(),
    "deltek_wbs1": pl.Utf8(),
    "deltek_wbs2": pl.Utf8(),
    "deltek_wbs3": pl.Utf8(),
    "deltek_org": pl.Utf8(),
    "line_count": pl.Int64(),
    "source_ranges": pl.Utf8(),
}


# The `journals` table: one summary row per settlement (`journal_json` is
# :meth:`Journal.stored_json`, the ranges are in `journal_lines`).
JOURNALS_SCHEMA: dict[str, pl.DataType] = {
    "settlement_id": pl.Utf8(),
    "fingerprint": pl.Utf8(),
    "currency": pl.Utf8(),
    "deposit": MONEY_DTYPE,
    "entries": pl.Int64(),
    "debits": MONEY_DTYPE,
    "credits": MONEY_DTYPE,
    "mapping_source": pl.Utf8(),
    "journal_json": pl.Utf8(),
}


def stored_frames(journal: Journal, *, mapping_source: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The rows the ``journal_entries`` asset lands: the ``journals`` summary row and the
    ``journal_lines`` rows (one per journal line, with its ``source_ranges``). Shared with
    the benchmark so it measures what the asset writes."""
    summary = pl.DataFrame(
        [
            {
                "settlement_id": journal.settlement_id,
                "fingerprint": journal.fingerprint(),
                "currency": journal.currency,
                "deposit": journal.deposit,
                "entries": len(journal.entries),
                "debits": journal.total_debits,
                "credits": journal.total_credits,
                "mapping_source": mapping_source,
                "journal_json": journal.stored_json(),
            }
        ],
        schema=JOURNALS_SCHEMA,
    )
    return summary, journal.to_frame()
