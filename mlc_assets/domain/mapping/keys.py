"""Account keys with a fixed meaning, and the errors a mapping raises."""

from __future__ import annotations

import re
from pathlib import Path

from mlc_assets.domain.errors import MlcError

CLEARING = "clearing"
PAYABLE = "payable"
IN_TRANSIT = "in_transit"
RESERVE = "reserve"
# Keys whose journal lines the builder computes itself; rules must not target them.
COMPUTED_KEYS = frozenset({CLEARING, PAYABLE, IN_TRANSIT})
SPECIAL_KEYS = COMPUTED_KEYS | {RESERVE}

DEFAULT_MAPPING_PATH = Path(__file__).resolve().parents[2] / "default_mapping.yaml"

_KEY_RE = re.compile(r"^[a-z][a-z0-9_]*$")


class MappingError(MlcError):
    """The mapping file is not a valid mapping; the message names the entry (and line)."""
