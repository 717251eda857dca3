"""The raw archive and the report index as a Dagster resource: where they live in the data home."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import Field

from mlc_assets.storage.archive import RawArchive
from mlc_assets.storage.layout import DataHome
from mlc_assets.storage.report_index import ReportIndex


class ArchiveResource(dg.ConfigurableResource):
    """The raw payload archive and the report index of this data home."""

    data_home: str = Field(description="The connector's data home (default ./.mlc).")

    def archive(self) -> RawArchive:
        return RawArchive(DataHome(Path(self.data_home)).raw)

    def report_index(self) -> ReportIndex:
        return ReportIndex(DataHome(Path(self.data_home)).report_index)
