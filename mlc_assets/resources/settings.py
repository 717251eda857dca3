"""Settings as the resources see them: environment and the encrypted store, read at run time.

Resources keep only non-secret configuration (the data home) in Dagster config, because
Dagster shows resource config in its UI; secrets are read when a run needs them.
"""

from __future__ import annotations

from pathlib import Path

from mlc_assets import config
from mlc_assets.secrets.process_redaction import learn_secrets
from mlc_assets.secrets.redact import secret_values


def settings_for(data_home: str | Path) -> config.Settings:
    loader = getattr(config, "load_settings", None)
    settings = loader() if loader is not None else config.Settings()
    # Secrets read from the store at run time join the process's log redaction.
    learn_secrets(*secret_values(settings))
    return settings.model_copy(update={"data_home": Path(data_home)})
