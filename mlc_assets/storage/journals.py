"""Store a settlement's journal in the warehouse and read it back.

Shared by the ``journal_entries`` asset, the posting assets and the benchmark, so the
benchmark measures the asset's own landing and read-back rather than a copy of them.
"""

from __future__ import annotations

from mlc_assets.domain.journal import Journal, ranges_stored_apart, stored_frames
from mlc_assets.storage.tables import JOURNAL_LINES, JOURNALS
from mlc_assets.storage.warehouse import Warehouse, WarehouseSession


def store_journal(
    warehouse: Warehouse | WarehouseSession, journal: Journal, *, mapping_source: str
) -> int:
    """Replace the settlement's journal (summary row and lines) in one transaction;
    returns the number of journal lines written."""
    summary, frame = stored_frames(journal, mapping_source=mapping_source)
    warehouse.replace_partition(
        {JOURNALS.name: summary, JOURNAL_LINES.name: frame}, key=journal.settlement_id
    )
    return frame.height


def read_journal(warehouse: Warehouse | WarehouseSession, settlement_id: str) -> Journal | None:
    """The stored journal, source ranges included: since they are kept once, in
    ``journal_lines``, those rows are read too (journals stored with the ranges in
    ``journal_json`` load from it alone)."""
    if isinstance(warehouse, WarehouseSession):
        return _read_journal(warehouse, settlement_id)
    if not warehouse.path.exists():
        return None  # reading must not create an empty warehouse
    with warehouse.session() as session:
        return _read_journal(session, settlement_id)


def _read_journal(session: WarehouseSession, settlement_id: str) -> Journal | None:
    rows = session.read_partition(JOURNALS.name, settlement_id)
    if rows.is_empty() or rows["journal_json"][0] is None:
        return None
    text = rows["journal_json"][0]
    lines = (
        session.read_partition(JOURNAL_LINES.name, settlement_id)
        if ranges_stored_apart(text)
        else None
    )
    return Journal.from_stored(text, lines)
