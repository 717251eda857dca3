"""An audit replay: a settlement's stages rebuilt from the archived raw payloads alone.

No Amazon call: the report file and the Finances pages come from the content-addressed archive
(each checked against its hash), go through the same parser, flattener, mapping and journal
builder as the pipeline, and the result is compared with what the warehouse holds. Identical
fingerprints prove the journal follows from the bytes Amazon sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from mlc_assets.clients.spapi.base import loads
from mlc_assets.clients.spapi.finances_models import FinancePage
from mlc_assets.domain.finance_events import flatten_transactions, flatten_v0_events
from mlc_assets.domain.journal import build_journal
from mlc_assets.domain.mapping import GlMapping, classify_lines, unmapped_types
from mlc_assets.domain.settlement_report import parse_settlement_report
from mlc_assets.errors import MlcError
from mlc_assets.storage.archive import FINANCES_PAGE_KIND, SETTLEMENT_REPORT_KIND, RawArchive
from mlc_assets.storage.journals import read_journal
from mlc_assets.storage.report_index import ReportIndex
from mlc_assets.storage.tables import FINANCE_GROUP_MATCHES, FINANCE_LINES
from mlc_assets.storage.warehouse import Warehouse


class ReplayError(MlcError):
    """The settlement cannot be replayed (never landed, or its raw payloads are missing)."""


@dataclass(frozen=True)
class Replay:
    settlement_id: str
    report_sha256: str
    finance_pages: int
    journal_fingerprint: str
    stored_fingerprint: str | None
    events_total: Decimal
    stored_events_total: Decimal | None

    @property
    def journal_identical(self) -> bool:
        return self.journal_fingerprint == self.stored_fingerprint

    @property
    def events_identical(self) -> bool:
        return self.stored_events_total is None or self.events_total == self.stored_events_total


def replay_settlement(
    warehouse: Warehouse,
    archive: RawArchive,
    index: ReportIndex,
    mapping: GlMapping,
    settlement_id: str,
) -> Replay:
    records = index.for_settlement(settlement_id)
    if not records:
        raise ReplayError(f"settlement {settlement_id} was never landed in this data home")
    record = records[-1]  # the report the pipeline used: the newest listing
    data = archive.get(SETTLEMENT_REPORT_KIND, record.raw.sha256)
    name = f"archived report {record.report_id} ({record.raw.sha256[:12]})"
    parsed = parse_settlement_report(data, file_name=name, charset=record.charset)
    classified = classify_lines(parsed.lines, mapping, currency=parsed.header.currency)
    missing = unmapped_types(classified)
    if missing:
        raise ReplayError(
            f"settlement {settlement_id}: unmapped with this mapping: "
            + ", ".join(m.label for m in missing)
        )
    journal = build_journal(parsed.header, classified, mapping)
    stored = read_journal(warehouse, settlement_id)

    match = warehouse.read_partition(FINANCE_GROUP_MATCHES.name, settlement_id)
    pages: list[FinancePage] = []
    events_total = Decimal("0.00")
    stored_events: Decimal | None = None
    if match.height and match["group_id"][0]:
        api, group_id = match["api"][0], match["group_id"][0]
        for sha in filter(None, (match["page_sha256"][0] or "").split(",")):
            body = archive.get(FINANCES_PAGE_KIND, sha)
            pages.append(FinancePage(api, "archived", {}, body, loads(body)))
        if api == "v0":
            lines = flatten_v0_events(pages, group_id=group_id, settlement_id=settlement_id)
        else:
            lines = flatten_transactions(pages, group_id=group_id)
        events_total = Decimal(lines["amount"].sum()) if lines.height else events_total
        held = warehouse.read_partition(FINANCE_LINES.name, settlement_id)
        stored_events = Decimal(held["amount"].sum()) if held.height else Decimal("0.00")
    return Replay(
        settlement_id=settlement_id,
        report_sha256=record.raw.sha256,
        finance_pages=len(pages),
        journal_fingerprint=journal.fingerprint(),
        stored_fingerprint=None if stored is None else stored.fingerprint(),
        events_total=events_total,
        stored_events_total=stored_events,
    )
