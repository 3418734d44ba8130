"""Fakes of the node-identity ports (``ports/node_keys.py``): key store, key reader, new
database. They keep what happened in lists so tests can say what was created and undone."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from fakes import FakeUnitOfWork
from hanoi247.domain.errors import ConfigurationError, IntegrityError, SignatureInvalid
from hanoi247.domain.federation import NodeIdentity
from hanoi247.ports import (
    CheckedCard,
    CreatedKeys,
    KeyRotation,
    PublicKey,
    PublishedCard,
    UnitOfWork,
)


def public_key(kid: str, use: str) -> PublicKey:
    return PublicKey(kid=kid, use=use, jwk={"kty": "OKP", "x": kid, "kid": kid, "use": use})


class FakeKeyStore:
    """``NodeKeyStore`` in memory: ``files`` is what is "on disk"."""

    def __init__(self, data_dir: Path = Path("/nodes/vn"), *, leftovers: Sequence[Path] = ()):
        self._data_dir = data_dir
        self._leftovers = list(leftovers)
        self.files: dict[str, str] = {}
        self.identity_written: NodeIdentity | None = None
        self.rotations = 0

    @property
    def data_dir(self) -> Path:
        return self._data_dir

    def holds_node(self) -> bool:
        return self.identity_written is not None

    def leftovers(self) -> list[Path]:
        return list(self._leftovers)

    def create_keys(self) -> CreatedKeys:
        self.files.update({"sig": "kid-sig-1", "enc": "kid-enc-1"})
        return CreatedKeys(
            signing_kid="kid-sig-1", encryption_kid="kid-enc-1", undo=(self.files.clear,)
        )

    def write_identity(self, identity: NodeIdentity) -> None:
        self.identity_written = identity

    def identity(self) -> NodeIdentity:
        if self.identity_written is None:
            raise ConfigurationError(f"no node in {self._data_dir}")
        return self.identity_written

    def publish_card(self) -> PublishedCard:
        node_id = self.identity().node_id
        fingerprint = f"FP {self.files['sig']} {self.files['enc']}"
        return PublishedCard(node_id, fingerprint, self._data_dir / "card.json")

    def rotate(self, *, at: datetime, overlap_until: datetime) -> KeyRotation:
        self.rotations += 1
        before = dict(self.files)
        n = self.rotations + 1
        self.files = {"sig": f"kid-sig-{n}", "enc": f"kid-enc-{n}"}

        def put_back() -> None:
            self.files = before

        return KeyRotation(
            signing_kid=self.files["sig"],
            encryption_kid=self.files["enc"],
            previous_signing_kid=before["sig"],
            announcement={"announcement": "signed", "overlap_until": overlap_until.isoformat()},
            previous_dir=self._data_dir / "keys" / "previous" / str(n),
            undo=(put_back,),
        )


class FakeKeyReader:
    """``PeerKeyReader``: cards are dicts whose ``fingerprint`` member is taken as the one
    "recomputed from the keys"; announcements map a token to its signer and keys."""

    def __init__(self) -> None:
        self.announcements: dict[str, tuple[str, tuple[PublicKey, PublicKey] | None]] = {}
        self.recipients: dict[str, tuple[str, str]] = {}  # token: (signer kid, recipient)

    def read_card(self, data: object, *, source: str) -> CheckedCard:
        if not isinstance(data, dict):
            raise ConfigurationError(f"{source}: a node card is a JSON object")
        identity = NodeIdentity(data["node_id"], data["state"], data["name"], data["url"])
        keys = (public_key(data["sig"], "sig"), public_key(data["enc"], "enc"))
        return CheckedCard(identity=identity, fingerprint=data["fingerprint"], keys=keys)

    def read_key_announcement(
        self, token: str, *, signed_by: Sequence[Mapping[str, Any]]
    ) -> tuple[PublicKey, PublicKey]:
        signer, keys = self.announcements[token]
        if signer not in [jwk["kid"] for jwk in signed_by]:
            raise SignatureInvalid("not signed by a current key")
        if keys is None:
            raise IntegrityError("not a node's two keys")
        return keys

    def read_evidence_recipient(
        self, token: str, *, node_id: str, signed_by: Sequence[Mapping[str, Any]]
    ) -> PublicKey:
        signer, recipient = self.recipients[token]
        if signer not in [jwk["kid"] for jwk in signed_by]:
            raise SignatureInvalid("not signed by a current key")
        return PublicKey(kid=recipient, use="age", jwk={"use": "age", "age_recipient": recipient})


class FakeNewDatabase:
    """``NewDatabase`` over a ``FakeUnitOfWork``; ``fail_with`` makes ``create`` fail."""

    def __init__(self, uow: FakeUnitOfWork, *, fail_with: BaseException | None = None) -> None:
        self.uow = uow
        self.fail_with = fail_with
        self.created = False
        self.removed = False

    def leftovers(self) -> list[Path]:
        return []

    @contextmanager
    def create(self) -> Iterator[Callable[[], UnitOfWork]]:
        if self.fail_with is not None:
            raise self.fail_with
        self.created = True
        yield lambda: self.uow

    def remove(self) -> None:
        self.removed = True
