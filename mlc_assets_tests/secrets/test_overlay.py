"""``resolve_settings()``: stored credentials fill what the environment leaves unset."""

from __future__ import annotations

import logging
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail
from pydantic import SecretStr

from mlc_assets.config import Settings
from mlc_assets.resources import settings as settings_module
from mlc_assets.resources.settings import resolve_settings
from mlc_assets.secrets.keys import KEY_ENV, KeySet, generate_key
from mlc_assets.secrets.store import CredentialsDecryptError, CredentialsStore, credentials_path


def store_for(data_home: Path, key: str) -> CredentialsStore:
    return CredentialsStore(credentials_path(data_home), KeySet(SecretStr(key), (), "test"))


def test_no_store_means_plain_settings(data_home: Path, key: str) -> None:
    settings = resolve_settings(data_home)
    assert settings.data_home == data_home
    assert settings.amazon.refresh_token is None
    assert settings.use_sandbox


def test_store_fills_missing_and_env_wins(
    data_home: Path, key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store_for(data_home, key).set_fields(
        "amazon",
        {
            "lwa_client_id": "stored-client-id",
            "lwa_client_secret": "stored-client-secret",
            "refresh_token": "Atzr|stored-refresh",
            "region": "eu",
            "marketplace_ids": "A1PA6795UKMFR9",
        },
    )
    store_for(data_home, key).set_fields("deltek", {"password": "stored-deltek-pw"})
    monkeypatch.setenv("MLC_AMAZON__REFRESH_TOKEN", "Atzr|from-env")
    monkeypatch.setenv("MLC_AMAZON__REGION", "fe")
    monkeypatch.setenv("MLC_AMAZON__REPORT_TYPE", "CUSTOM_REPORT")

    settings = resolve_settings(data_home)

    amazon = settings.amazon
    assert amazon.refresh_token == SecretStr("Atzr|from-env")  # env wins
    assert amazon.region == "fe"
    assert amazon.lwa_client_id == "stored-client-id"  # store fills the gaps
    assert amazon.lwa_client_secret == SecretStr("stored-client-secret")
    assert amazon.marketplace_ids == ["A1PA6795UKMFR9"]
    assert amazon.report_type == "CUSTOM_REPORT"  # non-credential env settings kept
    assert amazon.configured and not settings.use_sandbox
    assert settings.deltek.password == SecretStr("stored-deltek-pw")
    assert settings.workday == Settings().workday  # nothing stored: untouched
    assert "stored-client-secret" not in repr(settings)


def test_wrong_key_is_an_error(data_home: Path, key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    store_for(data_home, key).set_fields("deltek", {"password": "stored-deltek-pw"})
    monkeypatch.setenv(KEY_ENV, generate_key())
    with pytest.raises(CredentialsDecryptError, match="wrong key"):
        resolve_settings(data_home)


def test_store_without_key_is_skipped_with_warning(
    data_home: Path, key: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    store_for(data_home, key).set_fields("deltek", {"password": "stored-deltek-pw"})
    monkeypatch.delenv(KEY_ENV)
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        with caplog.at_level(logging.WARNING):
            settings = resolve_settings(data_home)
    finally:
        keyring.set_keyring(previous)
    assert settings.deltek.password is None
    assert "credentials store" in caplog.text and KEY_ENV in caplog.text


def test_the_store_of_the_given_data_home_is_read_and_resolved_once(
    data_home: Path, key: str, tmp_path: Path
) -> None:
    """The store read is the one of the data home asked for (not MLC_DATA_HOME's), and the
    same inputs resolve once per process; a changed store is read again."""
    other = tmp_path / "other-home"
    store_for(other, key).set_fields("deltek", {"password": "other-home-pw"})
    store_for(data_home, key).set_fields("deltek", {"password": "env-home-pw"})
    before = settings_module.resolutions
    first = resolve_settings(other)
    assert first.data_home == other
    assert first.deltek.password == SecretStr("other-home-pw")
    assert resolve_settings(other) is first
    assert settings_module.resolutions == before + 1
    store_for(other, key).set_fields("deltek", {"password": "rotated-pw"})
    assert resolve_settings(other).deltek.password == SecretStr("rotated-pw")
    assert settings_module.resolutions == before + 2
