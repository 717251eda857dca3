"""Settings as the resources see them: environment and the encrypted store, read at run time.

Resources keep only non-secret configuration (the data home) in Dagster config, because
Dagster shows resource config in its UI; secrets are read when a run needs them.
"""

from __future__ import annotations

from pathlib import Path

from mlc_assets import config


def settings_for(data_home: str | Path) -> config.Settings:
    loader = getattr(config, "load_settings", None)
    settings = loader() if loader is not None else config.Settings()
    return settings.model_copy(update={"data_home": Path(data_home)})
