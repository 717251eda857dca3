"""The GL mapping resource: the shipped default mapping, or the file the user configured."""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from mlc_assets.domain.mapping import Mapping, load_mapping


class MappingResource(dg.ConfigurableResource):
    """Which YAML maps Amazon's transaction types to GL accounts (empty: the default)."""

    path: str | None = Field(
        default=None, description="Mapping YAML; the shipped default_mapping.yaml when empty."
    )

    def load(self) -> Mapping:
        return load_mapping(self.path or None)

    def source(self) -> str:
        return self.path or "default_mapping.yaml (shipped)"
