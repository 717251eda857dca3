"""Build balanced, ERP-neutral journal entries from classified settlement lines.

The journal is the one place where settlement money becomes debits and credits, so its
invariants are the accounting rules of docs/architecture.md:

* every entry balances to the cent;
* over all entries the clearing (bank) side equals the deposit exactly once;
* every report line lands on exactly one journal line (``source_ranges`` keeps the file line
  numbers for audit, e.g. ``"2-9,12,15-16"``, ``line_count`` their number);
* an unmapped type stops the settlement (:class:`UnmappedTypesError`), nothing is guessed.

Signs: report amounts are seller-positive. Per account key the lines are netted; a positive
net (money to the seller: sales, reimbursements, released reserve) is a **credit**, a negative
net (fees, refunds, newly held reserve) is a **debit**. A key whose lines net to exactly zero
still gets a 0/0 line so its source lines stay traceable; posting code may skip such lines
(:attr:`JournalLine.is_zero`). The balancing line: a positive deposit debits ``clearing``; a
negative one credits ``payable`` (Amazon charges the seller); a zero deposit has no clearing
line (the activity balances by itself).

Month split (``journal.split_by_month``, accrual): when a settlement's lines fall in more than
one calendar month (by ``posted_date``; a line without one belongs to the month of the
settlement end), the builder makes one entry per month, posting that month's activity and
balancing it against ``in_transit`` (net positive → debit in_transit), dated the last day of
the month (the settlement's last month: its end day). A final *deposit* entry, dated by
``journal.posting_date``, moves the whole in-transit balance (which equals the deposit) to
``clearing`` (or, when negative, to ``payable``). For a zero deposit the monthly in-transit
lines already cancel and there is no final entry. So clearing still sees the deposit once,
and in_transit nets to zero over the journal. A settlement inside one month is one entry.
"""

from __future__ import annotations

from mlc_assets.domain.journal.build import (
    _assert_invariants,
    _Ctx,
    build_journal,
)
from mlc_assets.domain.journal.model import (
    Journal,
    JournalEntry,
    JournalError,
    JournalLine,
)
from mlc_assets.domain.journal.ranges import (
    _INT64_MAX,
    _NUMBER,
    _RANGE,
    _RANGES_TEXT,
    _bad_part,
    _cell,
    _expand,
    _part_date,
    _range_bounds,
    _ranges,
    _same_numbers,
    _source_ranges,
    source_ranges,
)
from mlc_assets.domain.journal.stored import (
    _HASH_APART,
    _RANGES_CHARS,
    _WITHOUT_RANGES,
    JOURNAL_FRAME_SCHEMA,
    JOURNALS_SCHEMA,
    _dumped,
    _verbatim_in_json,
    ranges_stored_apart,
    stored_frames,
)
from mlc_assets.domain.mapping import UnmappedTypesError

__all__ = [
    "JOURNALS_SCHEMA",
    "JOURNAL_FRAME_SCHEMA",
    "_HASH_APART",
    "_INT64_MAX",
    "_NUMBER",
    "_RANGE",
    "_RANGES_CHARS",
    "_RANGES_TEXT",
    "_WITHOUT_RANGES",
    "Journal",
    "JournalEntry",
    "JournalError",
    "JournalLine",
    "UnmappedTypesError",
    "_Ctx",
    "_assert_invariants",
    "_bad_part",
    "_cell",
    "_dumped",
    "_expand",
    "_part_date",
    "_range_bounds",
    "_ranges",
    "_same_numbers",
    "_source_ranges",
    "_verbatim_in_json",
    "build_journal",
    "ranges_stored_apart",
    "source_ranges",
    "stored_frames",
]
