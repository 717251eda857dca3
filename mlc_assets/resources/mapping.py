"""The GL mapping resource: the shipped default mapping, or the file the user configured.

The YAML is parsed once per process and again only when the file changes, so every stage of
a run (reconciliation, journal, posting, reference checks) uses the same parsed mapping.
"""

from __future__ import annotations

import threading
from pathlib import Path

import dagster as dg
from pydantic import Field

from mlc_assets.domain.mapping import DEFAULT_MAPPING_PATH, GlMapping, load_mapping

_lock = threading.Lock()
_parsed: dict[tuple[str, int, int], GlMapping] = {}


def mapping_from(path: str | None) -> GlMapping:
    """The parsed mapping at ``path`` (the shipped default when empty), parsed once per
    version of the file."""
    file = Path(path) if path else DEFAULT_MAPPING_PATH
    try:
        st = file.stat()
        key = (str(file.resolve()), st.st_mtime_ns, st.st_size)
    except OSError:
        return load_mapping(path or None)  # says which file cannot be read
    with _lock:
        cached = _parsed.get(key)
        if cached is None:
            cached = load_mapping(path or None)
            _parsed.clear()
            _parsed[key] = cached
        return cached


class MappingResource(dg.ConfigurableResource):
    """Which YAML maps Amazon's transaction types to GL accounts (empty: the default)."""

    path: str | None = Field(
        default=None, description="Mapping YAML; the shipped default_mapping.yaml when empty."
    )

    def load(self) -> GlMapping:
        return mapping_from(self.path)

    def source(self) -> str:
        return self.path or "default_mapping.yaml (shipped)"
