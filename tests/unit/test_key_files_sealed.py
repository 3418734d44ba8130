"""Private key files sealed with the node's secret key, bound to their file name."""

from __future__ import annotations

from pathlib import Path

import pytest

from hanoi247.adapters.crypto.at_rest import SecretKey
from hanoi247.adapters.crypto.key_files import (
    KeyFileSeal,
    is_sealed_file,
    open_bytes,
    reseal_key_files,
    seal_bytes,
)
from hanoi247.adapters.crypto.keys import generate_node_keys, load_node_keys, save_node_keys
from hanoi247.domain.errors import ConfigurationError, IntegrityError

SEAL = KeyFileSeal.of([SecretKey(bytes(range(32)))])
OTHER = KeyFileSeal.of([SecretKey(bytes(range(1, 33)))])


def test_saved_node_keys_hold_no_private_member_in_clear(tmp_path: Path) -> None:
    keys = generate_node_keys()
    save_node_keys(keys, tmp_path, seal=SEAL)
    for name in ("signing.jwk.json", "encryption.jwk.json"):
        stored = (tmp_path / name).read_bytes()
        assert is_sealed_file(stored)
        assert b'"d"' not in stored
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o600
    loaded = load_node_keys(tmp_path, seal=SEAL)
    assert loaded.signing_kid == keys.signing_kid


def test_sealed_key_files_are_not_readable_without_the_secret_key(tmp_path: Path) -> None:
    save_node_keys(generate_node_keys(), tmp_path, seal=SEAL)
    with pytest.raises(ConfigurationError, match="encrypted with the node's secret key"):
        load_node_keys(tmp_path)
    with pytest.raises(ConfigurationError, match="was not given"):
        load_node_keys(tmp_path, seal=OTHER)


def test_a_sealed_key_renamed_to_another_purpose_is_refused(tmp_path: Path) -> None:
    stored = seal_bytes(tmp_path / "signing.jwk.json", b"{}", SEAL)
    with pytest.raises(IntegrityError):
        open_bytes(tmp_path / "encryption.jwk.json", stored, SEAL)


def test_a_clear_key_file_of_an_older_version_is_read_and_resealed(tmp_path: Path) -> None:
    keys = generate_node_keys()
    save_node_keys(keys, tmp_path)  # clear, as before encryption at rest
    (tmp_path / "previous").mkdir()
    save_node_keys(generate_node_keys(), tmp_path / "previous")
    assert load_node_keys(tmp_path, seal=SEAL).signing_kid == keys.signing_kid
    assert reseal_key_files(tmp_path, SEAL) == 4
    assert is_sealed_file((tmp_path / "previous" / "signing.jwk.json").read_bytes())
    assert load_node_keys(tmp_path, seal=SEAL).signing_kid == keys.signing_kid
