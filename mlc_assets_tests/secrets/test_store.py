"""The encrypted file: round trip, nothing readable on disk, wrong keys, validation."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from mlc_assets.config import AmazonSettings, DeltekSettings, WorkdaySettings
from mlc_assets.secrets.keys import KeySet, generate_key
from mlc_assets.secrets.store import (
    SYSTEM_FIELDS,
    SYSTEM_MODELS,
    CredentialsDecryptError,
    CredentialsFileError,
    CredentialsStore,
    CredentialsValueError,
    credentials_path,
    is_secret_field,
)

SECRETS = {
    "amazon": {
        "lwa_client_id": "amzn1.application-oa2-client.0123456789abcdef",
        "lwa_client_secret": "amzn1.oa2-cs.v1.c0ffeec0ffeec0ffee",
        "refresh_token": "Atzr|IwEBIA-refresh-token-value-42",
        "region": "eu",
        "marketplace_ids": "A1PA6795UKMFR9,A1RKKUPIHCS9HS",
    },
    "workday": {
        "host": "https://wd2-impl-services1.workday.com",
        "tenant": "acme_dpt1",
        "isu_username": "ISU_Amazon_Connector",
        "isu_password": 'Wd-Pa$$w0rd<&>"quoted"',
    },
    "deltek": {
        "base_url": "https://acme.deltekfirst.com/acme/api",
        "database": "ACME_PROD",
        "username": "apiuser",
        "password": "D3ltek-P4ss!",
        "client_id": "vp-client",
        "client_secret": "vp-client-secret-9f8e7d",
    },
}


def keys_of(key: str) -> KeySet:
    return KeySet(SecretStr(key), (), "test key")


def fill(store: CredentialsStore) -> None:
    for system, values in SECRETS.items():
        store.set_fields(system, values)


def test_fields_match_settings_models() -> None:
    expected_secret = {
        ("amazon", "lwa_client_secret"),
        ("amazon", "refresh_token"),
        ("workday", "isu_password"),
        ("workday", "oauth_client_secret"),
        ("workday", "oauth_refresh_token"),
        ("deltek", "password"),
        ("deltek", "client_secret"),
    }
    assert SYSTEM_MODELS == {
        "amazon": AmazonSettings,
        "workday": WorkdaySettings,
        "deltek": DeltekSettings,
    }
    for system, fields in SYSTEM_FIELDS.items():
        assert set(fields) <= set(SYSTEM_MODELS[system].model_fields), system
        secret = {(system, f) for f in fields if is_secret_field(system, f)}
        assert secret == {pair for pair in expected_secret if pair[0] == system}


def test_round_trip(tmp_path: Path) -> None:
    key = generate_key()
    store = CredentialsStore(credentials_path(tmp_path), keys_of(key))
    assert store.read() == {}
    fill(store)

    again = CredentialsStore(credentials_path(tmp_path), keys_of(key)).read()
    assert again["amazon"]["marketplace_ids"] == ["A1PA6795UKMFR9", "A1RKKUPIHCS9HS"]
    assert again["workday"]["isu_password"] == SECRETS["workday"]["isu_password"]
    assert again["deltek"] == SECRETS["deltek"]

    assert store.remove("deltek", "client_secret") is True
    assert store.remove("deltek", "client_secret") is False
    assert "client_secret" not in store.read()["deltek"]
    assert store.remove("workday") is True
    assert "workday" not in store.read()
    assert store.remove("workday") is False


def test_file_reveals_no_names_or_values(tmp_path: Path) -> None:
    store = CredentialsStore(credentials_path(tmp_path), keys_of(generate_key()))
    fill(store)
    blob = store.path.read_bytes()
    for system, values in SECRETS.items():
        assert system.encode() not in blob
        for field, value in values.items():
            assert field.encode() not in blob, field
            for part in value.split(","):
                # Base64 ciphertext contains short strings like "eu" by chance.
                if len(part) >= 6:
                    assert part.encode() not in blob, field
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    # Atomic writes leave no temp files behind.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["credentials.enc", "credentials.enc.lock"]


def test_wrong_key_is_a_clear_error(tmp_path: Path) -> None:
    fill(CredentialsStore(credentials_path(tmp_path), keys_of(generate_key())))
    other = CredentialsStore(credentials_path(tmp_path), keys_of(generate_key()))
    with pytest.raises(CredentialsDecryptError, match=r"cannot decrypt credentials: wrong key\?"):
        other.read()
    # Nor may a wrong key overwrite what it cannot read.
    with pytest.raises(CredentialsDecryptError):
        other.set_fields("deltek", {"database": "X"})


def test_tampered_file_fails_authentication(tmp_path: Path) -> None:
    key = generate_key()
    store = CredentialsStore(credentials_path(tmp_path), keys_of(key))
    fill(store)
    blob = bytearray(store.path.read_bytes())
    blob[-20] = ord("A") if blob[-20] != ord("A") else ord("B")
    store.path.write_bytes(bytes(blob))
    with pytest.raises(CredentialsDecryptError):
        store.read()


def test_not_a_credentials_file(tmp_path: Path) -> None:
    path = credentials_path(tmp_path)
    path.write_text('{"amazon": {}}')
    with pytest.raises(CredentialsFileError, match="not an ml-connector credentials file"):
        CredentialsStore(path, keys_of(generate_key())).read()


def test_values_are_validated_without_echoing_them(tmp_path: Path) -> None:
    store = CredentialsStore(credentials_path(tmp_path), keys_of(generate_key()))
    with pytest.raises(CredentialsValueError, match=r"amazon\.region") as err:
        store.set_fields("amazon", {"region": "mars-central", "refresh_token": "Atzr|zzzz"})
    assert "mars-central" not in str(err.value)
    assert "Atzr|zzzz" not in str(err.value)
    with pytest.raises(CredentialsValueError, match="unknown field 'endpoint' for amazon"):
        store.set_fields("amazon", {"endpoint": "http://x"})
    with pytest.raises(CredentialsValueError, match="unknown system 'sap'"):
        store.set_fields("sap", {"password": "x"})
    with pytest.raises(CredentialsValueError, match=r"deltek\.password: empty value"):
        store.set_fields("deltek", {"password": "  "})
    with pytest.raises(CredentialsValueError, match=r"amazon\.marketplace_ids: empty list"):
        store.set_fields("amazon", {"marketplace_ids": " , "})
    assert not store.exists()  # nothing half-written


def test_marketplace_ids_accept_json_list(tmp_path: Path) -> None:
    store = CredentialsStore(credentials_path(tmp_path), keys_of(generate_key()))
    store.set_fields("amazon", {"marketplace_ids": '["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"]'})
    assert store.read()["amazon"]["marketplace_ids"] == ["ATVPDKIKX0DER", "A2EUQ1WTGCTBG2"]


def test_repr_shows_no_key(tmp_path: Path) -> None:
    key = generate_key()
    store = CredentialsStore(credentials_path(tmp_path), keys_of(key))
    assert key not in repr(store)
    assert key not in repr(keys_of(key))
