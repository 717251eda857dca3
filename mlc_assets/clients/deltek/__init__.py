"""Deltek Vantagepoint REST client (httpx): tokens, periods, reference data, DataEntry
journal-entry and AR-invoice files, posting and ledger read-back.

No Dagster, no DuckDB, no GL rules: the exactly-once logic above this layer uses
``find_batch`` before writing and after posting.
"""

from mlc_assets.clients.deltek.auth import DeltekCredentials, TokenManager
from mlc_assets.clients.deltek.client import DeltekClient
from mlc_assets.clients.deltek.errors import (
    DeltekAuthError,
    DeltekClosedPeriodError,
    DeltekDuplicateBatchError,
    DeltekError,
    DeltekForbiddenError,
    DeltekOutcomeUnknownError,
    DeltekPeriodNotFoundError,
    DeltekPostingError,
    DeltekResponseError,
    DeltekTransientError,
    DeltekValidationError,
)
from mlc_assets.clients.deltek.models import (
    AccountingPeriod,
    BatchLineRecord,
    BatchRecord,
    DeltekAccount,
    DeltekInvoiceBatch,
    DeltekInvoiceLine,
    DeltekJournalBatch,
    DeltekJournalLine,
    DeltekOrganization,
    DeltekProject,
    PostResult,
    batch_name,
)
from mlc_assets.clients.deltek.wire import decode_post_response

__all__ = [
    "AccountingPeriod",
    "BatchLineRecord",
    "BatchRecord",
    "DeltekAccount",
    "DeltekAuthError",
    "DeltekClient",
    "DeltekClosedPeriodError",
    "DeltekCredentials",
    "DeltekDuplicateBatchError",
    "DeltekError",
    "DeltekForbiddenError",
    "DeltekInvoiceBatch",
    "DeltekInvoiceLine",
    "DeltekJournalBatch",
    "DeltekJournalLine",
    "DeltekOrganization",
    "DeltekOutcomeUnknownError",
    "DeltekPeriodNotFoundError",
    "DeltekPostingError",
    "DeltekProject",
    "DeltekResponseError",
    "DeltekTransientError",
    "DeltekValidationError",
    "PostResult",
    "TokenManager",
    "batch_name",
    "decode_post_response",
]
