"""A node's identity on disk, and the node card it hands to peers.

Data directory layout (created by ``hanoi247 init``)::

    DIR/node.toml                  node_id, state, name, url (no secrets)
    DIR/keys/signing.jwk.json      Ed25519 private key (0600)
    DIR/keys/encryption.jwk.json   X25519 private key (0600)
    DIR/keys/evidence.age          age X25519 identity for evidence files (0600)
    DIR/keys/webhook.jwk.json      Ed25519 private key that signs webhooks only (0600)
    DIR/keys/vapid.pem             P-256 VAPID key of Web Push (0600; `serve` makes it if missing)
    DIR/keys/previous/<n>/…        keys rotated out, still accepted during the overlap
    DIR/hanoi247.sqlite3           the database (unless HANOI247_DATABASE_URL is set)

The node card is public: identity, public JWKs and the fingerprint operators compare out
of band before pinning (``hanoi247 peer add CARD --fingerprint FP``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hanoi247.adapters.crypto.age_files import AGE_IDENTITY_FILE, load_age_identity
from hanoi247.adapters.crypto.compact import MalformedToken, protected_header
from hanoi247.adapters.crypto.key_files import KeyFileSeal
from hanoi247.adapters.crypto.keys import (
    NodeKeys,
    PrivateKey,
    fingerprint,
    key_id,
    load_node_keys,
    public_jwks,
)
from hanoi247.adapters.crypto.public_keys import import_public_key
from hanoi247.adapters.crypto.web_push import VapidKey, load_vapid_key
from hanoi247.adapters.crypto.webhook_key import WebhookKey, load_webhook_key
from hanoi247.adapters.federation import schemas
from hanoi247.adapters.federation.node_file import KEYS_DIR as KEYS_DIR  # re-exported
from hanoi247.adapters.federation.node_file import NODE_FILE as NODE_FILE  # re-exported
from hanoi247.adapters.federation.node_file import PREVIOUS_KEYS_DIR as PREVIOUS_KEYS_DIR
from hanoi247.adapters.federation.node_file import read_identity as read_identity
from hanoi247.domain.errors import ConfigurationError, InvalidInput
from hanoi247.domain.federation import MessageType, NodeIdentity, is_node_id
from hanoi247.domain.node_card import check_node_id, check_url

PROTOCOL = "hanoi247/1"


@dataclass(frozen=True, slots=True)
class LocalNode:
    """This node: who it is and its keys (current first, then those rotated out, newest first)."""

    identity: NodeIdentity
    keys: NodeKeys
    previous_keys: tuple[NodeKeys, ...] = ()
    data_dir: Path | None = None
    age_recipient: str | None = None  # evidence files are encrypted to it (keys/evidence.age)
    webhook_key: WebhookKey | None = None  # its own key, not ``keys.signing`` (webhook_key.py)
    vapid_key: VapidKey | None = None  # Web Push (keys/vapid.pem, web_push.py)

    @property
    def node_id(self) -> str:
        return self.identity.node_id

    @property
    def encryption_keys(self) -> list[PrivateKey]:
        """Private keys able to open envelopes sent to us: current, then previous."""
        return [self.keys.encryption, *(k.encryption for k in self.previous_keys)]

    def card(self) -> dict[str, Any]:
        return node_card(self.identity, self.keys, age_recipient=self.age_recipient)

    def signing_key_for(self, message_type: str, body: Mapping[str, Any]) -> PrivateKey:
        """The private key the sender signs an outgoing envelope with.

        Every message is signed with the current key, except ``node.keys_rotated``: its
        envelope is signed with the key that signed the announcement it carries (the key
        rotated out, which is all a peer has pinned until it has read the announcement).
        See docs/protocol.md, "Key rotation". ``ConfigurationError`` if that key is no
        longer in ``keys/previous/`` (a permanent failure: dead-letter the message).
        """
        if message_type != MessageType.KEYS_ROTATED:
            return self.keys.signing
        kid = _announcement_kid(body)
        for keys in (self.keys, *self.previous_keys):
            if keys.signing_kid == kid:
                return keys.signing
        raise ConfigurationError(
            "the key that signed this key announcement is not among the node's keys; "
            "restore keys/previous/ from backup or re-pin the peer out of band"
        )


def _announcement_kid(body: Mapping[str, Any]) -> str | None:
    """The ``kid`` in the protected header of ``body["announcement"]`` (not verified: it
    only chooses among our own keys)."""
    token = body.get("announcement") if isinstance(body, Mapping) else None
    if not isinstance(token, str):
        return None
    try:
        header = protected_header(token.split(".", 1)[0])
    except MalformedToken:  # unreadable means no key matches
        return None
    kid = header.get("kid") if isinstance(header, dict) else None
    return kid if isinstance(kid, str) else None


def node_card(
    identity: NodeIdentity, keys: NodeKeys, *, age_recipient: str | None = None
) -> dict[str, Any]:
    jwks = public_jwks(keys)["keys"]
    card = {
        "protocol": PROTOCOL,
        "node_id": identity.node_id,
        "state": identity.state,
        "name": identity.name,
        "url": identity.url,
        "keys": jwks,
        "fingerprint": fingerprint(jwks[0], jwks[1]),
    }
    if age_recipient is not None:
        from hanoi247.adapters.federation.evidence_recipient import sign_recipient

        card["evidence_recipient"] = sign_recipient(
            age_recipient, node_id=identity.node_id, signing_key=keys.signing
        )
    return card


@dataclass(frozen=True, slots=True)
class ParsedCard:
    identity: NodeIdentity
    signing_jwk: Mapping[str, Any]
    encryption_jwk: Mapping[str, Any]
    fingerprint: str
    evidence_recipient: str | None = None  # signed token; checked when the peer is pinned


def parse_card(data: object, *, source: str) -> ParsedCard:
    """Check a peer's card; the fingerprint is recomputed from its keys, never trusted."""
    if not isinstance(data, dict):
        raise InvalidInput(f"{source}: a node card is a JSON object")
    missing = [k for k in ("node_id", "state", "name", "url", "keys") if k not in data]
    if missing:
        raise InvalidInput(f"{source}: the node card lacks {', '.join(missing)}")
    if data.get("protocol", PROTOCOL) != PROTOCOL:
        raise InvalidInput(f"{source}: protocol {data.get('protocol')!r} is not {PROTOCOL}")
    keys = data["keys"]
    if not isinstance(keys, list):
        raise InvalidInput(f"{source}: 'keys' must be a list of public JWKs")
    by_use = {k.get("use"): k for k in keys if isinstance(k, dict)}
    if set(by_use) != {"sig", "enc"} or len(keys) != 2:
        raise InvalidInput(f"{source}: 'keys' must hold one 'sig' and one 'enc' public JWK")
    for jwk in by_use.values():
        if "d" in jwk:
            raise InvalidInput(f"{source}: the card contains a PRIVATE key; do not share it")
        try:
            public = import_public_key(jwk)
        except ValueError as exc:  # "unreadable key (<library error class>)"
            raise InvalidInput(f"{source}: {exc}") from None
        if jwk.get("kid") and jwk["kid"] != key_id(public):
            raise InvalidInput(f"{source}: a key's kid does not match its thumbprint")
    if isinstance(data.get("node_id"), str) and not is_node_id(data["node_id"]):
        check_node_id(data["node_id"])  # the one-line grammar error, before the schema's
    reason = schemas.problem("card.json", data)
    if reason is not None:
        raise InvalidInput(f"{source}: not a node card of docs/schemas/card.json ({reason})")
    try:
        computed = fingerprint(by_use["sig"], by_use["enc"])
    except ValueError as exc:
        raise InvalidInput(f"{source}: {exc}") from None
    identity = NodeIdentity(
        node_id=check_node_id(str(data["node_id"])),
        state=str(data["state"]).upper(),
        name=str(data["name"]),
        url=check_url(str(data["url"])),
    )
    token = data.get("evidence_recipient")
    if token is not None and not isinstance(token, str):
        raise ConfigurationError(f"{source}: 'evidence_recipient' must be a signed token")
    return ParsedCard(identity, by_use["sig"], by_use["enc"], computed, token)


def write_identity(data_dir: Path, identity: NodeIdentity) -> None:
    path = data_dir / NODE_FILE
    if path.exists():
        raise ConfigurationError(
            f"{data_dir} already holds a node ({NODE_FILE}); refusing to overwrite"
        )
    lines = [
        "# hanoi247 node identity (public; the private keys are in keys/)",
        f"node_id = {json.dumps(identity.node_id)}",
        f"state = {json.dumps(identity.state)}",
        f"name = {json.dumps(identity.name, ensure_ascii=False)}",
        f"url = {json.dumps(identity.url)}",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def load_local_node(data_dir: Path, *, seal: KeyFileSeal | None = None) -> LocalNode:
    """The node in ``data_dir``: identity and keys (key files opened with ``seal``)."""
    identity = read_identity(data_dir)
    keys_dir = data_dir / KEYS_DIR
    keys = load_node_keys(keys_dir, seal=seal)
    previous: list[NodeKeys] = []
    previous_root = keys_dir / PREVIOUS_KEYS_DIR
    if previous_root.is_dir():
        for folder in sorted(previous_root.iterdir(), reverse=True):
            if folder.is_dir():
                previous.append(load_node_keys(folder, seal=seal))
    recipient = None
    if (keys_dir / AGE_IDENTITY_FILE).exists():
        recipient, _ = load_age_identity(keys_dir, seal=seal)
    return LocalNode(
        identity=identity,
        keys=keys,
        previous_keys=tuple(previous),
        data_dir=data_dir,
        age_recipient=recipient,
        webhook_key=load_webhook_key(keys_dir, seal=seal),
        vapid_key=load_vapid_key(keys_dir, seal=seal),
    )
