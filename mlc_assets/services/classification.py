"""A settlement's report lines classified once per run and reused by every stage that needs them.

Reconciliation and the journal both need each line's account and category. The mapping is
the same object for a whole run (``MappingResource``), so the classification of one landed
report is computed by the first stage and handed to the next (Dagster's in-process executor
runs a settlement's stages in one process). The key names the exact report version (its
archive hash and landing time) and the mapping object, so a relanded report or a changed
mapping is classified afresh.
"""

from __future__ import annotations

import threading
from typing import Any

import polars as pl

from mlc_assets.domain.mapping import GlMapping, classify_lines

_lock = threading.Lock()
_last: tuple[tuple[Any, ...], GlMapping, pl.DataFrame] | None = None
# How many times lines were actually classified in this process (the stage-count test reads it).
classifications = 0


def classified_report_lines(
    settlement_id: str,
    version: str,
    lines: pl.DataFrame,
    mapping: GlMapping,
    *,
    currency: str,
) -> pl.DataFrame:
    """``classify_lines`` of this settlement's landed lines, computed once per report version
    and mapping in this process."""
    global _last, classifications
    key = (settlement_id, version, currency, lines.height)
    with _lock:
        # The mapping itself is kept and compared by identity (an id could be reused).
        if _last is not None and _last[0] == key and _last[1] is mapping:
            return _last[2]
    classified = classify_lines(lines, mapping, currency=currency)
    with _lock:
        classifications += 1
        _last = (key, mapping, classified)  # one settlement at a time: the last is let go
    return classified
