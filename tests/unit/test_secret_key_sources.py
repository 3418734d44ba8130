"""Where the secret key comes from: a file off the data directory, a systemd credential,
or a passphrase; refusals are one line that says what to do."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from hanoi247.adapters.crypto.secret_key import (
    CREDENTIAL_NAME,
    SALT_FILE,
    create_key_file,
    read_key_file,
    secret_keys,
)
from hanoi247.domain.errors import ConfigurationError
from hanoi247.settings import Settings


def settings(tmp_path: Path, **env: str) -> Settings:
    return Settings.from_env(env, data_dir=tmp_path / "data")


def test_a_key_file_outside_the_data_directory_is_used(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "node.key"
    path.parent.mkdir()
    kid = create_key_file(path)
    assert path.stat().st_mode & 0o777 == 0o600
    (key,) = secret_keys(settings(tmp_path, HANOI247_SECRET_KEY_FILE=str(path)))
    assert key.kid == kid


def test_a_key_file_inside_the_data_directory_is_refused_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    path = tmp_path / "data" / "node.key"
    create_key_file(path)
    with pytest.raises(ConfigurationError) as caught:
        secret_keys(settings(tmp_path, HANOI247_SECRET_KEY_FILE=str(path)))
    message = str(caught.value)
    assert "inside the data directory" in message
    assert "stolen data disk" in message
    assert "HANOI247_SECRET_KEY_INSIDE_DATA_DIR=1" in message
    assert "\n" not in message


def test_the_explicit_override_accepts_a_key_inside_the_data_directory(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    path = tmp_path / "data" / "node.key"
    kid = create_key_file(path)
    found = secret_keys(
        settings(
            tmp_path,
            HANOI247_SECRET_KEY_FILE=str(path),
            HANOI247_SECRET_KEY_INSIDE_DATA_DIR="1",
        )
    )
    assert [k.kid for k in found] == [kid]


def test_a_systemd_credential_is_used_when_no_key_file_is_set(tmp_path: Path) -> None:
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    kid = create_key_file(credentials / CREDENTIAL_NAME)
    found = secret_keys(settings(tmp_path, CREDENTIALS_DIRECTORY=str(credentials)))
    assert [k.kid for k in found] == [kid]


def test_no_key_at_all_is_refused_naming_the_three_sources(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        secret_keys(settings(tmp_path))
    message = str(caught.value)
    for source in ("HANOI247_SECRET_KEY_FILE", "hanoi247-secret-key", "--ask-passphrase"):
        assert source in message


def test_a_key_file_open_to_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "node.key"
    create_key_file(path)
    path.chmod(0o644)
    with pytest.raises(ConfigurationError, match="open to others"):
        read_key_file(path)


def test_a_file_that_is_not_a_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "node.key"
    path.write_text("hello\n")
    path.chmod(0o600)
    with pytest.raises(ConfigurationError, match="does not hold a hanoi247 secret key"):
        read_key_file(path)


def test_init_never_overwrites_an_existing_key_file(tmp_path: Path) -> None:
    path = tmp_path / "node.key"
    create_key_file(path)
    with pytest.raises(ConfigurationError, match="already exists"):
        create_key_file(path)


def test_a_passphrase_derives_the_same_key_with_the_stored_salt(tmp_path: Path) -> None:
    base = settings(tmp_path)
    (tmp_path / "data").mkdir()
    first = secret_keys(replace(base, secret_passphrase="correct horse battery"))
    assert (tmp_path / "data" / SALT_FILE).stat().st_size == 16
    again = secret_keys(replace(base, secret_passphrase="correct horse battery"))
    other = secret_keys(replace(base, secret_passphrase="wrong horse battery"))
    assert first[0].kid == again[0].kid != other[0].kid


def test_a_short_passphrase_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="shorter than 12"):
        secret_keys(replace(settings(tmp_path), secret_passphrase="short"))
