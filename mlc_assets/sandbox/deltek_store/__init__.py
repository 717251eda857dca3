"""State of the Vantagepoint sandbox: reference data, transaction files, posted ledger.

Kept apart from the HTTP layer (``deltek_app``) so the rules a real tenant enforces live in
one place and can be tightened against a real tenant. Each rule is tagged like the research
notes (docs/reference/deltek/NOTES.md):

* [DOC]  Deltek-authored material says so;
* [3P]   third-party code that runs against real tenants behaves so;
* [INF]  our inference: the real behaviour is unknown; change it once a real tenant shows it.

Money is ``Decimal`` throughout; the JSON persistence file stores it as strings. Access tokens
are never persisted (they are secrets); only ledger/reference state is.
"""

from __future__ import annotations

from mlc_assets.sandbox.deltek_store.records import (
    DEFAULT_ACCOUNTS,
    DEFAULT_ORGS,
    MAX_BATCH,
    MAX_REFNO,
    MONEY_KEYS,
    TIERS,
    SandboxRejection,
    _jsonable,
    _money,
    _project,
    _revive,
    default_projects,
    deltek_date,
    monthly_periods,
)
from mlc_assets.sandbox.deltek_store.store import (
    DeltekStore,
    seeded_store,
)

__all__ = [
    "DEFAULT_ACCOUNTS",
    "DEFAULT_ORGS",
    "MAX_BATCH",
    "MAX_REFNO",
    "MONEY_KEYS",
    "TIERS",
    "DeltekStore",
    "SandboxRejection",
    "_jsonable",
    "_money",
    "_project",
    "_revive",
    "default_projects",
    "deltek_date",
    "monthly_periods",
    "seeded_store",
]
