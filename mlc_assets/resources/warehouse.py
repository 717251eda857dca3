"""The warehouse as a Dagster resource: where its DuckDB file is; storage does the rest."""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from mlc_assets.storage.warehouse import Warehouse


class WarehouseResource(dg.ConfigurableResource):
    """The DuckDB file of this data home. Writers are serialised by the ``duckdb`` pool."""

    path: str = Field(description="Path of the DuckDB warehouse file.")

    def get(self) -> Warehouse:
        return Warehouse(self.path)
