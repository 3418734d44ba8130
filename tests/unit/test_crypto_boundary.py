"""adapters/crypto: public keys imported once, tokens parsed strictly, the webhook key apart."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hanoi247.adapters.crypto import signing
from hanoi247.adapters.crypto.compact import MalformedToken, attach_payload, protected_header
from hanoi247.adapters.crypto.keys import generate_node_keys, key_id, public_jwks
from hanoi247.adapters.crypto.public_keys import import_public_key, thumbprint
from hanoi247.adapters.crypto.webhook_key import (
    WEBHOOK_KEY_FILE,
    generate_webhook_key,
    load_webhook_key,
    save_webhook_key,
)
from hanoi247.domain.errors import ConfigurationError


def test_a_peer_jwk_is_imported_once_and_the_same_key_object_is_reused() -> None:
    jwk = public_jwks(generate_node_keys())["keys"][0]

    first = import_public_key(jwk)

    assert import_public_key(dict(jwk)) is first
    assert key_id(first) == thumbprint(jwk) == jwk["kid"]


def test_importing_a_private_jwk_as_a_peer_key_is_refused() -> None:
    keys = generate_node_keys()
    with pytest.raises(ValueError, match="public"):
        import_public_key(keys.signing.as_dict(private=True))


def test_an_unreadable_jwk_is_a_value_error_naming_only_the_error_class() -> None:
    with pytest.raises(ValueError, match=r"unreadable key \(\w+\)"):
        import_public_key({"kty": "OKP", "crv": "Ed25519", "x": "not-a-key!"})


@pytest.mark.parametrize("detached", ["a.b.c", "a..", "..c", "a.b", "a..c.d", "é..c"])
def test_attach_payload_refuses_what_is_not_a_detached_jws(detached: str) -> None:
    with pytest.raises(MalformedToken):
        attach_payload(detached, b"{}")


def test_protected_header_refuses_non_canonical_base64url() -> None:
    assert protected_header("eyJhIjoxfQ") == {"a": 1}
    with pytest.raises(MalformedToken):
        protected_header("eyJhIjoxfQ==")  # padding is not base64url as JOSE writes it


def test_a_detached_signature_verifies_only_with_its_own_payload_and_key() -> None:
    keys, other = generate_node_keys(), generate_node_keys()
    detached = signing.sign_detached(
        b"body", key=keys.signing, typ="t+jws", extra={"ts": "x"}, max_bytes=16
    )

    def verified(payload: bytes, key: object) -> bytes | None:
        token = attach_payload(detached, payload)
        parsed = signing.parse_compact(token, typ="t+jws", max_bytes=16, extra_members=["ts"])
        return parsed.verified_by(key)  # type: ignore[arg-type]

    assert verified(b"body", keys.public_signing_key()) == b"body"
    assert verified(b"bodY", keys.public_signing_key()) is None
    assert verified(b"body", other.public_signing_key()) is None


def test_the_webhook_key_is_saved_0600_and_repr_shows_only_its_kid(tmp_path: Path) -> None:
    key = generate_webhook_key()
    path = save_webhook_key(key, tmp_path)

    loaded = load_webhook_key(tmp_path)

    assert path == tmp_path / WEBHOOK_KEY_FILE
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert loaded is not None
    assert loaded.kid == key.kid
    assert repr(loaded) == f"WebhookKey(kid={key.kid!r})"
    assert "d" not in loaded.public_jwk()


def test_a_missing_webhook_key_is_none_and_an_exposed_one_is_refused(tmp_path: Path) -> None:
    assert load_webhook_key(tmp_path) is None
    save_webhook_key(generate_webhook_key(), tmp_path)
    (tmp_path / WEBHOOK_KEY_FILE).chmod(0o640)

    with pytest.raises(ConfigurationError, match="open to group or others"):
        load_webhook_key(tmp_path)


def test_saving_a_webhook_key_never_overwrites_one(tmp_path: Path) -> None:
    first = generate_webhook_key()
    save_webhook_key(first, tmp_path)

    with pytest.raises(ConfigurationError, match="already exists"):
        save_webhook_key(generate_webhook_key(), tmp_path)
    loaded = load_webhook_key(tmp_path)
    assert loaded is not None
    assert loaded.kid == first.kid
