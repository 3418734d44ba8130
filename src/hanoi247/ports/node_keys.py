"""The node's own key store and database on disk, and the reading of peers' public keys.

What the node-identity use cases (``services/node_identity.py``, ``services/key_rotation.py``)
need from files and crypto. Adapters: ``adapters/federation/identity.py`` (key store and
key reader) and ``adapters/db/database.py`` (the database ``init`` creates). Private keys
never cross these ports: only public JWKs, ``kid``\\ s and fingerprints do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from hanoi247.domain.federation import NodeIdentity, PeerKey
from hanoi247.ports.unit_of_work import UnitOfWork

Undo = Callable[[], None]  # puts back what one step changed on disk


@dataclass(frozen=True, slots=True)
class PublicKey:
    """One public key of a peer: members ``kty``, ``crv``, ``x``, ``kid``, ``use``, ``alg``."""

    kid: str  # its RFC 7638 thumbprint, recomputed by the reader
    use: str  # "sig" or "enc"
    jwk: Mapping[str, Any]

    def pinned(self, at: datetime) -> PeerKey:
        return PeerKey(kid=self.kid, use=self.use, jwk=dict(self.jwk), added_at=at)


@dataclass(frozen=True, slots=True)
class CheckedCard:
    """A peer's card whose keys were read and whose fingerprint was recomputed from them."""

    identity: NodeIdentity
    fingerprint: str  # never read from the card
    keys: tuple[PublicKey, ...]  # signing, encryption, then the evidence (age) recipient


@dataclass(frozen=True, slots=True)
class CreatedKeys:
    signing_kid: str
    encryption_kid: str
    undo: tuple[Undo, ...]  # last first: remove the key files and directories created


@dataclass(frozen=True, slots=True)
class PublishedCard:
    node_id: str
    fingerprint: str
    path: Path


@dataclass(frozen=True, slots=True)
class KeyRotation:
    """New keys in place, the old ones moved under ``previous_dir``."""

    signing_kid: str
    encryption_kid: str
    previous_signing_kid: str
    announcement: Mapping[str, str]  # the node.keys_rotated body, signed with the old key
    previous_dir: Path
    undo: tuple[Undo, ...]  # last first: put the old keys back


class NodeKeyStore(Protocol):
    """This node's key files, ``node.toml`` and ``card.json`` in its data directory."""

    @property
    def data_dir(self) -> Path: ...

    def holds_node(self) -> bool:
        """True once ``node.toml`` is written: a complete node lives here."""
        ...

    def leftovers(self) -> list[Path]:
        """Key files present although no node is (an interrupted or foreign ``init``)."""
        ...

    def create_keys(self) -> CreatedKeys:
        """Make the data directory (0700), ``keys/`` (0700) and fresh keys (0600 each).

        ``ConfigurationError`` (one line, saying what to do) if that cannot be done.
        """
        ...

    def write_identity(self, identity: NodeIdentity) -> None:
        """Write ``node.toml``: the last step of ``init``; refuses to overwrite one."""
        ...

    def identity(self) -> NodeIdentity: ...

    def publish_card(self) -> PublishedCard:
        """Write (or replace atomically) the public ``card.json``."""
        ...

    def rotate(self, *, at: datetime, overlap_until: datetime) -> KeyRotation:
        """New keys in ``keys/``, the current ones moved to ``keys/previous/<at>/``, and the
        announcement of the new public keys signed with the old signing key. On failure
        the files are as before and ``ConfigurationError`` says why."""
        ...


class PeerKeyReader(Protocol):
    """Reads what peers hand over: a card, a key announcement (crypto behind it)."""

    def read_card(self, data: object, *, source: str) -> CheckedCard:
        """``ConfigurationError`` naming ``source`` for anything that is not a node card."""
        ...

    def read_key_announcement(
        self, token: str, *, signed_by: Sequence[Mapping[str, Any]]
    ) -> tuple[PublicKey, PublicKey]:
        """The announced keys, if one of the public JWKs ``signed_by`` signed ``token``.

        ``SignatureInvalid`` if none of them did; ``IntegrityError`` if it is signed but
        does not announce one signing and one encryption public key.
        """
        ...

    def read_evidence_recipient(
        self, token: str, *, node_id: str, signed_by: Sequence[Mapping[str, Any]]
    ) -> PublicKey:
        """The age recipient (use ``age``) that ``node_id`` announced in ``token``, if one
        of ``signed_by`` signed it: ``SignatureInvalid`` or ``IntegrityError`` otherwise."""
        ...


class NewDatabase(Protocol):
    """The database ``init`` creates for a new node."""

    def leftovers(self) -> list[Path]:
        """Database files already present (an embedded database of an earlier node)."""
        ...

    def create(self) -> AbstractContextManager[Callable[[], UnitOfWork]]:
        """Create and migrate it; yields its unit-of-work factory and closes it after."""
        ...

    def remove(self) -> None:
        """Undo :meth:`create` for an embedded database (a server database is left)."""
        ...
