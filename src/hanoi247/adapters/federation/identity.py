"""A node's key files and public card on disk, and the reading of peers' public keys.

The I/O and crypto behind ``ports.NodeKeyStore`` and ``ports.PeerKeyReader``; what a
node does with them (``init``, ``peer add``, ``node rotate-keys``, ``node.keys_rotated``)
is in ``services/node_identity.py`` and ``services/key_rotation.py``. Private keys are
never printed, logged or put in an exception: only public JWKs, ``kid``\\ s and
fingerprints leave this module.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hanoi247.adapters.crypto.age_files import AGE_IDENTITY_FILE, generate_age_identity
from hanoi247.adapters.crypto.key_files import KeyFileSeal
from hanoi247.adapters.crypto.keys import (
    ENCRYPTION_ALG,
    ENCRYPTION_KEY_FILE,
    SIGNING_ALG,
    SIGNING_KEY_FILE,
    generate_node_keys,
    public_jwks,
    save_node_keys,
)
from hanoi247.adapters.crypto.public_keys import import_public_key, thumbprint
from hanoi247.adapters.crypto.web_push import VAPID_KEY_FILE, generate_vapid_key, save_vapid_key
from hanoi247.adapters.crypto.webhook_key import (
    WEBHOOK_KEY_FILE,
    generate_webhook_key,
    save_webhook_key,
)
from hanoi247.adapters.federation import receipts, wire
from hanoi247.adapters.federation.evidence_recipient import (
    AGE_USE,
    sign_recipient,
    verify_recipient,
)
from hanoi247.adapters.federation.node import (
    KEYS_DIR,
    NODE_FILE,
    PREVIOUS_KEYS_DIR,
    LocalNode,
    load_local_node,
    parse_card,
    read_identity,
    write_identity,
)
from hanoi247.domain.errors import ConfigurationError, IntegrityError, SignatureInvalid
from hanoi247.domain.federation import NodeIdentity
from hanoi247.ports import (
    CheckedCard,
    CreatedKeys,
    KeyRotation,
    PublicKey,
    PublishedCard,
)
from hanoi247.ports.node_keys import Undo

CARD_FILE = "card.json"  # DIR/card.json: the public node card, rewritten on rotation


class FileKeyStore:
    """``ports.NodeKeyStore`` over a data directory (layout: ``adapters/federation/node.py``)."""

    def __init__(self, data_dir: Path, *, seal: KeyFileSeal | None = None) -> None:
        self._data_dir = data_dir
        self._seal = seal  # the node's secret key seals every private key file it writes

    @property
    def data_dir(self) -> Path:
        return self._data_dir

    @property
    def keys_dir(self) -> Path:
        return self._data_dir / KEYS_DIR

    def holds_node(self) -> bool:
        return (self._data_dir / NODE_FILE).exists()

    def leftovers(self) -> list[Path]:
        names = (
            SIGNING_KEY_FILE,
            ENCRYPTION_KEY_FILE,
            WEBHOOK_KEY_FILE,
            VAPID_KEY_FILE,
            AGE_IDENTITY_FILE,
        )
        files = [self.keys_dir / name for name in names]
        return [f for f in files if f.exists() or f.is_symlink()]

    def create_keys(self) -> CreatedKeys:
        data_dir, keys_dir = self._data_dir, self.keys_dir
        if data_dir.exists() and not data_dir.is_dir():
            raise ConfigurationError(f"{data_dir} is not a directory")
        undo: list[Undo] = []
        try:
            if not data_dir.exists():
                data_dir.mkdir(mode=0o700, parents=True)
                undo.append(functools.partial(_rmdir_if_empty, data_dir))
            if not any(data_dir.iterdir()):
                data_dir.chmod(0o700)
            if not keys_dir.exists():
                keys_dir.mkdir(mode=0o700)
                undo.append(functools.partial(_rmdir_if_empty, keys_dir))
            keys_dir.chmod(0o700)
            keys = generate_node_keys()
            save_node_keys(keys, keys_dir, seal=self._seal)
            undo += [(keys_dir / f).unlink for f in (SIGNING_KEY_FILE, ENCRYPTION_KEY_FILE)]
            # webhooks are signed with a key of their own (adapters/crypto/webhook_key.py)
            undo.append(save_webhook_key(generate_webhook_key(), keys_dir, seal=self._seal).unlink)
            # Web Push messages carry a VAPID JWT signed with a P-256 key of its own
            undo.append(save_vapid_key(generate_vapid_key(), keys_dir, seal=self._seal).unlink)
            # evidence files are encrypted to the node's age identity (adapters/crypto/age_files)
            generate_age_identity(keys_dir, seal=self._seal)
            undo.append((keys_dir / AGE_IDENTITY_FILE).unlink)
        except OSError as exc:
            _run(undo)
            raise ConfigurationError(
                f"cannot create the node in {data_dir}: {exc.strerror}"
            ) from None
        except BaseException:
            _run(undo)
            raise
        return CreatedKeys(
            signing_kid=keys.signing_kid, encryption_kid=keys.encryption_kid, undo=tuple(undo)
        )

    def write_identity(self, identity: NodeIdentity) -> None:
        try:
            write_identity(self._data_dir, identity)
        except OSError as exc:
            raise ConfigurationError(
                f"cannot create the node in {self._data_dir}: {exc.strerror}"
            ) from None

    def identity(self) -> NodeIdentity:
        return read_identity(self._data_dir)

    def publish_card(self) -> PublishedCard:
        local = load_local_node(self._data_dir, seal=self._seal)
        path = write_card(local)
        return PublishedCard(
            node_id=local.node_id, fingerprint=local.card()["fingerprint"], path=path
        )

    def rotate(self, *, at: datetime, overlap_until: datetime) -> KeyRotation:
        """See ``ports.NodeKeyStore.rotate``. The old key files move to
        ``keys/previous/<UTC time>/`` (0700 directory, files keep 0600): the node keeps
        opening envelopes encrypted to the old key, and keeps the old signing key to sign
        the envelopes carrying the announcement (``LocalNode.signing_key_for``)."""
        old = load_local_node(self._data_dir, seal=self._seal)
        new_keys = generate_node_keys()
        announcement = {
            "announcement": receipts.sign_key_announcement(
                public_jwks(new_keys), old_signing_key=old.keys.signing
            ),
            "overlap_until": wire.format_time(overlap_until),
        }
        keys_dir = self.keys_dir
        previous_root = keys_dir / PREVIOUS_KEYS_DIR
        target = previous_root / at.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        files: tuple[str, ...] = (SIGNING_KEY_FILE, ENCRYPTION_KEY_FILE)
        if (keys_dir / WEBHOOK_KEY_FILE).exists():
            files += (WEBHOOK_KEY_FILE,)  # the webhook key is replaced with the node keys
        if (keys_dir / AGE_IDENTITY_FILE).exists():
            files += (AGE_IDENTITY_FILE,)  # kept there: evidence sealed to it still opens
        undo: list[Undo] = []
        try:
            previous_root.mkdir(mode=0o700, exist_ok=True)
            previous_root.chmod(0o700)
            try:
                target.mkdir(mode=0o700)
            except FileExistsError:
                raise ConfigurationError(
                    f"{target} exists: the keys were rotated at {at}"
                ) from None
            undo.append(functools.partial(_rmdir_if_empty, target))
            for name in files:
                os.rename(keys_dir / name, target / name)
                undo.append(functools.partial(os.rename, target / name, keys_dir / name))
            save_node_keys(new_keys, keys_dir, seal=self._seal)
            undo += [(keys_dir / name).unlink for name in (SIGNING_KEY_FILE, ENCRYPTION_KEY_FILE)]
            undo.append(save_webhook_key(generate_webhook_key(), keys_dir, seal=self._seal).unlink)
            # the evidence recipient rotates too (a node without one gets its first here);
            # peers learn it from the announcement, signed like it with the old key
            recipient = generate_age_identity(keys_dir, seal=self._seal)
            undo.append((keys_dir / AGE_IDENTITY_FILE).unlink)
            announcement["evidence_recipient"] = sign_recipient(
                recipient, node_id=old.node_id, signing_key=old.keys.signing
            )
        except OSError as exc:
            _run(undo)
            raise ConfigurationError(
                f"cannot rotate the keys in {keys_dir}: {exc.strerror}"
            ) from None
        except BaseException:
            _run(undo)
            raise
        return KeyRotation(
            signing_kid=new_keys.signing_kid,
            encryption_kid=new_keys.encryption_kid,
            previous_signing_kid=old.keys.signing_kid,
            announcement=announcement,
            previous_dir=target,
            undo=tuple(undo),
        )


class CardKeyReader:
    """``ports.PeerKeyReader``: cards and key announcements, checked by ``adapters/crypto``."""

    def read_card(self, data: object, *, source: str) -> CheckedCard:
        parsed = parse_card(data, source=source)
        evidence: tuple[PublicKey, ...] = ()
        if parsed.evidence_recipient is not None:  # checked against the card's signing key
            recipient = verify_recipient(
                parsed.evidence_recipient,
                node_id=parsed.identity.node_id,
                signing_keys=[import_public_key(parsed.signing_jwk)],
            )
            jwk = {"use": AGE_USE, "age_recipient": recipient}
            evidence = (PublicKey(kid=recipient, use=AGE_USE, jwk=jwk),)
        return CheckedCard(
            identity=parsed.identity,
            fingerprint=parsed.fingerprint,
            keys=(
                public_key(parsed.signing_jwk, use="sig"),
                public_key(parsed.encryption_jwk, use="enc"),
                *evidence,
            ),
        )

    def read_key_announcement(
        self, token: str, *, signed_by: Sequence[Mapping[str, Any]]
    ) -> tuple[PublicKey, PublicKey]:
        for jwk in signed_by:
            try:
                jwks = receipts.verify_key_announcement(
                    token, old_public_signing_key=import_public_key(jwk)
                )
            except SignatureInvalid:
                continue
            try:
                by_use = {k["use"]: public_key(k, use=k["use"]) for k in jwks["keys"]}
                return by_use["sig"], by_use["enc"]
            except (KeyError, ValueError):
                raise IntegrityError("the announced keys are not a node's two keys") from None
        raise SignatureInvalid("no current signing key of the peer signed the announcement")

    def read_evidence_recipient(
        self, token: str, *, node_id: str, signed_by: Sequence[Mapping[str, Any]]
    ) -> PublicKey:
        recipient = verify_recipient(
            token, node_id=node_id, signing_keys=[import_public_key(jwk) for jwk in signed_by]
        )
        jwk = {"use": AGE_USE, "age_recipient": recipient}
        return PublicKey(kid=recipient, use=AGE_USE, jwk=jwk)


def public_key(jwk: Mapping[str, Any], *, use: str) -> PublicKey:
    """The public members of ``jwk`` with ``kid`` its thumbprint, ``use`` and ``alg`` set."""
    if use not in ("sig", "enc"):
        raise ValueError("a node key has use 'sig' or 'enc'")
    public = {name: jwk[name] for name in ("kty", "crv", "x")}
    kid = thumbprint(public)
    alg = SIGNING_ALG if use == "sig" else ENCRYPTION_ALG
    return PublicKey(kid=kid, use=use, jwk={**public, "kid": kid, "use": use, "alg": alg})


def write_card(local: LocalNode) -> Path:
    """Write (or replace atomically) ``DIR/card.json``: public, safe to send to peers."""
    if local.data_dir is None:
        raise ConfigurationError(f"node {local.node_id} has no data directory for its card")
    path = local.data_dir / CARD_FILE
    temporary = path.with_name(f".{CARD_FILE}.tmp")
    text = json.dumps(local.card(), ensure_ascii=False, indent=2) + "\n"
    try:
        temporary.write_text(text, encoding="utf-8")
        temporary.chmod(0o644)
        os.replace(temporary, path)
    except OSError as exc:
        raise ConfigurationError(f"cannot write {path}: {exc.strerror}") from None
    return path


def _run(undo: Sequence[Callable[[], None]]) -> None:
    """Undo steps, last first; a step that fails does not stop the others."""
    for step in reversed(undo):
        try:
            step()
        except OSError:
            continue


def _rmdir_if_empty(path: Path) -> None:
    if path.is_dir() and not any(path.iterdir()):
        path.rmdir()
