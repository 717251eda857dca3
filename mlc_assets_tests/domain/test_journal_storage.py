"""How a journal is stored: ranges kept once (in ``journal_lines``), fingerprint unchanged.

``journals.journal_json`` leaves the lines' ``source_ranges`` out (a million-line
settlement's are megabytes, and ``journal_lines.source_ranges`` holds them); loading puts
them back from the ``journal_lines`` rows. Journals stored before, with the ranges (or the
listed ``source_lines``) in the JSON, load from the JSON alone. The fingerprint hashes the
same text as always — ``json.dumps(model_dump(mode="json"), sort_keys=True, ...)`` — so
fingerprints stored for journals already posted stay valid.
"""

from __future__ import annotations

import hashlib
import json
from decimal import Decimal

import polars as pl
import pytest

from mlc_assets.domain.journal import (
    JOURNALS_SCHEMA,
    Journal,
    JournalError,
    _expand,
    build_journal,
    ranges_stored_apart,
    stored_frames,
)
from mlc_assets_tests.domain.journal_fixtures import MAPPING, TYPES, interleaved_settlement


def _journal(n: int, *, memo_marketplace: str = "Amazon.com") -> Journal:
    header, classified = interleaved_settlement(
        n, types=TYPES[:3], amount=Decimal("1.25"), marketplace=memo_marketplace
    )
    return build_journal(header, classified, MAPPING)


def _reference_fingerprint(journal: Journal) -> str:
    payload = json.dumps(
        journal.model_dump(mode="json"), sort_keys=True, separators=(",", ":"), default=str
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@pytest.mark.parametrize("n", [1, 10, 5000])
def test_fingerprint_is_the_hash_of_the_dumped_journal(n) -> None:
    journal = _journal(n)
    longest = max(len(ln.source_ranges) for ln in journal.entries[0].lines)
    assert (longest > 4096) == (n == 5000)  # 5000 interleaved lines: ranges hashed apart
    assert journal.fingerprint() == _reference_fingerprint(journal)


def test_fingerprint_unchanged_when_a_memo_looks_like_the_placeholder() -> None:
    journal = _journal(5000)
    (entry,) = journal.entries
    for memo in ("\x000", "\x001", '"\\u0000"'):
        lines = tuple(ln.model_copy(update={"memo": memo}) for ln in entry.lines)
        odd = journal.model_copy(update={"entries": (entry.model_copy(update={"lines": lines}),)})
        assert odd.fingerprint() == _reference_fingerprint(odd)


def test_fingerprint_of_text_json_must_escape() -> None:
    # Not ranges text (a tampered journal): hashed as json.dumps writes it.
    journal = _journal(5000)
    (entry,) = journal.entries
    big = entry.lines[0].source_ranges
    for text in (big + '"', big + "\\", big + "é", big + "\x01"):
        lines = (entry.lines[0].model_copy(update={"source_ranges": text}), *entry.lines[1:])
        odd = journal.model_copy(update={"entries": (entry.model_copy(update={"lines": lines}),)})
        assert odd.fingerprint() == _reference_fingerprint(odd)
        assert odd.fingerprint() != journal.fingerprint()


def test_stored_json_keeps_the_ranges_out_and_loading_puts_them_back() -> None:
    journal = _journal(10)
    summary, frame = stored_frames(journal, mapping_source="test")
    assert summary.schema == pl.Schema(JOURNALS_SCHEMA)
    text = summary["journal_json"][0]
    assert "source_ranges" not in text and ranges_stored_apart(text)
    assert summary["fingerprint"][0] == journal.fingerprint()
    assert summary["debits"][0] == journal.total_debits == summary["credits"][0]
    back = Journal.from_stored(text, frame)
    assert back == journal and back.fingerprint() == journal.fingerprint()
    assert {ln.account_key: ln.source_ranges for ln in back.entries[0].lines}["principal"] == (
        "2,5,8,11"
    )


def test_journals_stored_with_ranges_in_the_json_still_load_alone() -> None:
    journal = _journal(10)
    full = journal.model_dump_json()  # how journal_json was written before
    assert not ranges_stored_apart(full)
    assert Journal.from_stored(full, None) == journal
    # and the older form, every number listed
    doc = json.loads(full)
    for entry in doc["entries"]:
        for line in entry["lines"]:
            line["source_lines"] = list(_expand(line.pop("source_ranges")))
    listed = json.dumps(doc)
    assert not ranges_stored_apart(listed)
    old = Journal.from_stored(listed, None)
    assert old == journal and old.fingerprint() == journal.fingerprint()


def test_a_journal_line_without_its_row_is_an_error_not_an_empty_trail() -> None:
    journal = _journal(10)
    summary, frame = stored_frames(journal, mapping_source="test")
    text = summary["journal_json"][0]
    with pytest.raises(JournalError, match="no journal_lines row"):
        Journal.from_stored(text, None)
    with pytest.raises(JournalError, match=r"journal line 1\.2 .* no journal_lines row"):
        Journal.from_stored(text, frame.filter(pl.col("line_no") != 2))
    swapped = frame.with_columns(pl.col("account_key").reverse())
    with pytest.raises(JournalError, match="no journal_lines row"):
        Journal.from_stored(text, swapped)


def test_a_memo_naming_the_key_does_not_fool_the_format_check() -> None:
    journal = _journal(10, memo_marketplace='"source_ranges":')
    text = journal.stored_json()
    assert '\\"source_ranges\\":' in text and ranges_stored_apart(text)
    assert Journal.from_stored(text, journal.to_frame()) == journal
