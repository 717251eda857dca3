"""One partition per Amazon settlement ID, shared by every stage."""

from __future__ import annotations

import re

import dagster as dg

settlement_partitions = dg.DynamicPartitionsDefinition(name="settlement_id")

_SETTLEMENT_ID = re.compile(r"^\d{8,14}$")


def is_settlement_id(value: str) -> bool:
    """Amazon settlement IDs are long decimal numbers (11 digits today)."""
    return bool(_SETTLEMENT_ID.match(value))
