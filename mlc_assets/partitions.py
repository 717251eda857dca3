"""One partition per Amazon settlement ID, shared by every stage."""

from __future__ import annotations

import dagster as dg

settlement_partitions = dg.DynamicPartitionsDefinition(name="settlement_id")
