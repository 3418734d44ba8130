"""Node key material: generation, files on disk, public JWKS and the operator fingerprint."""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from pathlib import Path

import pytest
from joserfc import jws
from joserfc.jwk import OKPKey

from hanoi247.adapters.crypto.keys import (
    ENCRYPTION_KEY_FILE,
    SIGNING_KEY_FILE,
    NodeKeys,
    fingerprint,
    generate_node_keys,
    load_node_keys,
    public_jwks,
    save_node_keys,
)
from hanoi247.adapters.federation.canonical import canonical_json
from hanoi247.domain.errors import ConfigurationError

# RFC 8037 Appendix A.1 (Ed25519) and RFC 7748 §6.1 Bob (X25519) public keys.
ED25519_X = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"
X25519_X = "3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGdNrfx-FG-IK08"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_generated_keys_have_thumbprint_kids_and_expected_curves() -> None:
    keys = generate_node_keys()

    assert keys.signing.curve_name == "Ed25519"
    assert keys.encryption.curve_name == "X25519"
    assert keys.signing_kid == keys.signing.thumbprint() == keys.signing.kid
    assert keys.encryption_kid == keys.encryption.thumbprint() == keys.encryption.kid
    assert keys.signing_kid != keys.encryption_kid


def test_node_keys_repr_shows_key_ids_and_no_private_material() -> None:
    keys = generate_node_keys()
    d = str(keys.signing.as_dict(private=True)["d"])

    assert keys.signing_kid in repr(keys)
    assert d not in repr(keys)


def test_node_keys_refuses_public_or_swapped_keys() -> None:
    keys = generate_node_keys()
    with pytest.raises(ValueError, match="private"):
        NodeKeys(signing=keys.public_signing_key(), encryption=keys.encryption)
    with pytest.raises(ValueError, match="Ed25519"):
        NodeKeys(signing=keys.encryption, encryption=keys.signing)


def test_save_writes_both_files_with_mode_0600(tmp_path: Path) -> None:
    directory = tmp_path / "keys"
    save_node_keys(generate_node_keys(), directory)

    assert _mode(directory / SIGNING_KEY_FILE) == 0o600
    assert _mode(directory / ENCRYPTION_KEY_FILE) == 0o600
    assert _mode(directory) == 0o700


def test_save_refuses_to_overwrite_existing_keys(tmp_path: Path) -> None:
    first = generate_node_keys()
    save_node_keys(first, tmp_path)
    before = (tmp_path / SIGNING_KEY_FILE).read_bytes()

    with pytest.raises(ConfigurationError, match="already exists"):
        save_node_keys(generate_node_keys(), tmp_path)
    assert (tmp_path / SIGNING_KEY_FILE).read_bytes() == before


def test_save_refuses_when_only_one_file_exists_and_writes_nothing(tmp_path: Path) -> None:
    (tmp_path / ENCRYPTION_KEY_FILE).write_text("{}")

    with pytest.raises(ConfigurationError):
        save_node_keys(generate_node_keys(), tmp_path)
    assert not (tmp_path / SIGNING_KEY_FILE).exists()


def test_load_returns_the_saved_keys(tmp_path: Path) -> None:
    keys = generate_node_keys()
    save_node_keys(keys, tmp_path)

    loaded = load_node_keys(tmp_path)

    assert loaded.signing_kid == keys.signing_kid
    assert loaded.encryption_kid == keys.encryption_kid
    token = jws.serialize_compact({"alg": "Ed25519"}, b"x", loaded.signing, ["Ed25519"])
    jws.deserialize_compact(token, keys.public_signing_key(), ["Ed25519"])


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_load_refuses_key_files_open_to_group_or_others(tmp_path: Path, mode: int) -> None:
    save_node_keys(generate_node_keys(), tmp_path)
    os.chmod(tmp_path / SIGNING_KEY_FILE, mode)

    with pytest.raises(ConfigurationError) as caught:
        load_node_keys(tmp_path)

    message = str(caught.value)
    assert "\n" not in message
    assert "chmod 600" in message
    assert SIGNING_KEY_FILE in message


def test_load_refuses_missing_key_file_with_a_hint(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="missing"):
        load_node_keys(tmp_path)


def test_load_refuses_a_public_key_in_place_of_the_private_one(tmp_path: Path) -> None:
    keys = generate_node_keys()
    save_node_keys(keys, tmp_path)
    path = tmp_path / SIGNING_KEY_FILE
    path.write_text(json.dumps(keys.signing.as_dict(private=False)))

    with pytest.raises(ConfigurationError, match="private Ed25519"):
        load_node_keys(tmp_path)


def test_load_refuses_a_file_whose_public_part_does_not_match_its_private_part(
    tmp_path: Path,
) -> None:
    keys = generate_node_keys()
    save_node_keys(keys, tmp_path)
    path = tmp_path / SIGNING_KEY_FILE
    data = json.loads(path.read_text())
    data["x"] = generate_node_keys().signing.as_dict()["x"]
    data.pop("kid")
    path.write_text(json.dumps(data))

    with pytest.raises(ConfigurationError):
        load_node_keys(tmp_path)


def test_load_error_never_contains_private_key_material(tmp_path: Path) -> None:
    keys = generate_node_keys()
    save_node_keys(keys, tmp_path)
    path = tmp_path / ENCRYPTION_KEY_FILE
    d = str(keys.encryption.as_dict(private=True)["d"])
    path.write_text(path.read_text().replace('"crv": "X25519"', '"crv": "X448"'))

    with pytest.raises(ConfigurationError) as caught:
        load_node_keys(tmp_path)
    assert d not in str(caught.value)


def test_public_jwks_has_kid_use_alg_and_no_private_members() -> None:
    keys = generate_node_keys()

    jwks = public_jwks(keys)

    signing, encryption = jwks["keys"]
    assert signing == {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": keys.signing.as_dict()["x"],
        "kid": keys.signing_kid,
        "use": "sig",
        "alg": "Ed25519",
    }
    assert encryption["use"] == "enc"
    assert encryption["alg"] == "ECDH-ES+A256KW"
    assert encryption["kid"] == keys.encryption_kid
    assert all("d" not in jwk for jwk in jwks["keys"])
    assert OKPKey.import_key(encryption).thumbprint() == keys.encryption_kid


def test_fingerprint_is_16_groups_of_4_uppercase_hex() -> None:
    value = fingerprint(*public_jwks(generate_node_keys())["keys"])

    assert re.fullmatch(r"[0-9A-F]{4}( [0-9A-F]{4}){15}", value)


def test_fingerprint_follows_its_documented_definition() -> None:
    signing = {"kty": "OKP", "crv": "Ed25519", "x": ED25519_X}
    encryption = {"kty": "OKP", "crv": "X25519", "x": X25519_X}
    written_out = (
        '[{"crv":"Ed25519","kty":"OKP","x":"' + ED25519_X + '"},'
        '{"crv":"X25519","kty":"OKP","x":"' + X25519_X + '"}]'
    )
    assert canonical_json([signing, encryption]) == written_out.encode()
    expected = hashlib.sha256(written_out.encode()).hexdigest().upper()

    value = fingerprint(signing, encryption)

    assert value.replace(" ", "") == expected
    # Pinned: a change here breaks every fingerprint operators have already compared.
    assert value == (
        "52CD CF0A 3701 B28D 4A36 B610 0976 098D 2E15 292F 5EA1 D972 B1A5 EA0C 3DBA B7A2"
    )


def test_fingerprint_ignores_kid_use_alg_and_member_order() -> None:
    keys = generate_node_keys()
    signing, encryption = public_jwks(keys)["keys"]
    bare_signing = {k: signing[k] for k in ("x", "crv", "kty")}
    bare_encryption = {k: encryption[k] for k in ("x", "kty", "crv")}

    assert fingerprint(signing, encryption) == fingerprint(bare_signing, bare_encryption)


def test_fingerprint_changes_when_either_key_changes() -> None:
    a, b = public_jwks(generate_node_keys())["keys"], public_jwks(generate_node_keys())["keys"]

    base = fingerprint(a[0], a[1])

    assert fingerprint(b[0], a[1]) != base
    assert fingerprint(a[0], b[1]) != base


def test_fingerprint_refuses_swapped_keys() -> None:
    signing, encryption = public_jwks(generate_node_keys())["keys"]

    with pytest.raises(ValueError, match="Ed25519"):
        fingerprint(encryption, signing)
