"""The webhook key: its own Ed25519 key, made by ``init``, replaced by ``rotate-keys``,
shown (public part only) by ``hanoi247 webhook key`` — real CLI processes."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from test_cli_node import init, ok, refused

from at_rest_support import session_seal
from hanoi247.adapters.crypto.key_files import open_bytes


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_makes_a_webhook_key_apart_from_the_node_keys_and_shows_only_its_public_part(
    tmp_path: Path,
) -> None:
    vn, _ = init(tmp_path, "VN", "A05")
    path = vn / "keys" / "webhook.jwk.json"

    shown = ok(tmp_path, "webhook", "key", "--data-dir", str(vn))

    assert _mode(path) == 0o600
    assert shown["created"] is False
    assert set(shown["jwk"]) == {"kty", "crv", "x", "kid", "use", "alg"}
    assert (shown["jwk"]["crv"], shown["jwk"]["alg"], shown["jwk"]["kid"]) == (
        "Ed25519",
        "Ed25519",
        shown["kid"],
    )
    card = ok(tmp_path, "node", "card", "--data-dir", str(vn))
    assert shown["kid"] not in {jwk["kid"] for jwk in card["keys"]}
    assert json.loads(open_bytes(path, path.read_bytes(), session_seal()))["d"] not in json.dumps(
        shown
    )


def test_rotate_keys_replaces_the_webhook_key_and_keeps_the_old_one_in_previous(
    tmp_path: Path,
) -> None:
    vn, _ = init(tmp_path, "VN", "A05")
    before = ok(tmp_path, "webhook", "key", "--data-dir", str(vn))["kid"]

    rotated = ok(tmp_path, "node", "rotate-keys", "--data-dir", str(vn))

    after = ok(tmp_path, "webhook", "key", "--data-dir", str(vn))["kid"]
    assert rotated["webhook_kid"] == after != before
    [previous] = (vn / "keys" / "previous").iterdir()
    old = previous / "webhook.jwk.json"
    assert json.loads(open_bytes(old, old.read_bytes(), session_seal()))["kid"] == before


def test_a_node_without_a_webhook_key_is_told_to_create_one_and_create_makes_it(
    tmp_path: Path,
) -> None:
    vn, _ = init(tmp_path, "VN", "A05")
    (vn / "keys" / "webhook.jwk.json").unlink()  # a node initialised before webhook keys

    line = refused(tmp_path, "webhook", "key", "--data-dir", str(vn))
    assert "hanoi247 webhook key --create" in line

    created = ok(tmp_path, "webhook", "key", "--create", "--data-dir", str(vn))
    again = ok(tmp_path, "webhook", "key", "--create", "--data-dir", str(vn))

    assert created["created"] is True
    assert (again["created"], again["kid"]) == (False, created["kid"])
    assert _mode(vn / "keys" / "webhook.jwk.json") == 0o600


def test_a_webhook_key_open_to_others_is_refused_in_one_line(tmp_path: Path) -> None:
    vn, _ = init(tmp_path, "VN", "A05")
    (vn / "keys" / "webhook.jwk.json").chmod(0o644)

    line = refused(tmp_path, "webhook", "key", "--data-dir", str(vn))

    assert "webhook.jwk.json has mode 0o644" in line
