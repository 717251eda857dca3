"""Plain settings travel as Dagster config; secrets never do."""

from __future__ import annotations

import json
from pathlib import Path

from mlc_assets.config import Settings
from mlc_assets.resources.settings import SettingsResource, plain_settings


def test_secrets_never_reach_the_resource_config(tmp_path: Path) -> None:
    settings = Settings(  # type: ignore[call-arg]
        data_home=tmp_path,
        sandbox="on",
        amazon={"lwa_client_id": "cid", "lwa_client_secret": "s3cret-a", "refresh_token": "Atzr|x"},
        deltek={"username": "api", "password": "s3cret-d", "client_secret": "s3cret-c"},
    )
    plain = plain_settings(settings)
    assert plain["amazon"] == {"lwa_client_id": "cid"}
    assert plain["deltek"] == {"username": "api"}
    resource = SettingsResource.of(settings)
    shown = json.dumps(resource.model_dump(), default=str)
    for secret in ("s3cret-a", "Atzr|x", "s3cret-d", "s3cret-c"):
        assert secret not in shown
    # The resource hands out the settings it was built from, secrets included.
    assert resource.get().deltek.password is not None
    assert resource.get().deltek.password.get_secret_value() == "s3cret-d"
