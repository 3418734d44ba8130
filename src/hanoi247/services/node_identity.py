"""Creating a node, pinning a peer from its card, rotating the node's keys.

Each use case receives what it needs: the node's key store and the reader of peers'
keys (``ports/node_keys.py``; adapters in ``adapters/federation/identity.py``), a
unit-of-work factory (or, for ``init``, the database to create) and a clock. The state
changes and their audit entries are ``services/nodes.py``, committed in one unit of work.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from hanoi247.domain.errors import ConfigurationError, InvalidInput
from hanoi247.domain.federation import NodeIdentity, Peer
from hanoi247.domain.node_card import (
    MAX_OVERLAP,
    check_node_id,
    check_url,
    default_node_id,
    grouped,
    same_fingerprint,
)
from hanoi247.ports import Clock, NewDatabase, NodeKeyStore, PeerKeyReader, UnitOfWork
from hanoi247.services import nodes
from hanoi247.services.treaty import TreatyCatalogue


@dataclass(frozen=True, slots=True)
class Initialised:
    identity: NodeIdentity
    signing_kid: str
    fingerprint: str
    card_path: Path


@dataclass(frozen=True, slots=True)
class Rotated:
    node_id: str
    fingerprint: str  # of the new keys: give it to peers' operators out of band
    signing_kid: str
    encryption_kid: str
    previous_signing_kid: str
    overlap_until: datetime
    announced_to: list[str]
    previous_dir: Path


def init_node(
    *,
    store: NodeKeyStore,
    database: NewDatabase,
    state: str,
    name: str,
    url: str,
    node_id: str | None = None,
    catalogue: TreatyCatalogue,
    clock: Clock,
    by: str = "operator",
) -> Initialised:
    """Create a node: keys (0600 in ``keys/``, 0700), database with its first audit entry,
    identity, card.

    ``node.toml`` is written last: its presence marks a complete node, and a second
    ``init`` in the same directory is refused. On failure, what was created is removed.
    """
    code = catalogue.states.get_state(state).iso2
    name = " ".join(name.split())
    if not name:
        raise InvalidInput("--name must not be empty")
    identity = NodeIdentity(
        node_id=check_node_id(node_id or default_node_id(code, name)),
        state=code,
        name=name,
        url=check_url(url),
    )
    data_dir = store.data_dir
    if store.holds_node():
        raise ConfigurationError(
            f"{data_dir} already holds a node (node.toml); refusing to initialise it again"
        )
    leftovers = [*store.leftovers(), *database.leftovers()]
    if leftovers:
        raise ConfigurationError(
            f"{leftovers[0]} exists but {data_dir} holds no node.toml; "
            "use an empty directory, or move the leftovers away"
        )
    at = clock.now()
    keys = store.create_keys()
    undo: list[Callable[[], None]] = [*keys.undo, database.remove]
    try:
        with database.create() as uow_factory, uow_factory() as uow:
            nodes.record_node_initialised(
                uow,
                node_id=identity.node_id,
                state=identity.state,
                signing_kid=keys.signing_kid,
                by=by,
                at=at,
            )
            uow.commit()
        store.write_identity(identity)
    except OSError as exc:
        _run(undo)
        raise ConfigurationError(f"cannot create the node in {data_dir}: {exc.strerror}") from None
    except BaseException:
        _run(undo)
        raise
    card = store.publish_card()
    return Initialised(
        identity=identity,
        signing_kid=keys.signing_kid,
        fingerprint=card.fingerprint,
        card_path=card.path,
    )


def pin_peer(
    uow_factory: Callable[[], UnitOfWork],
    card_json: str | bytes | Mapping[str, Any],
    *,
    given_fingerprint: str,
    own_node_id: str,
    own_fingerprint: str,
    keys: PeerKeyReader,
    clock: Clock,
    by: str,
    catalogue: TreatyCatalogue | None = None,
    source: str = "card",
) -> Peer:
    """Pin the node described by ``card_json`` if its keys match ``given_fingerprint``.

    The fingerprint is recomputed from the card's keys (never read from the card) and must
    equal the one its operator gave over a second channel; otherwise nothing is stored.
    """
    if isinstance(card_json, str | bytes):
        try:
            data: object = json.loads(card_json)
        except ValueError as exc:
            raise InvalidInput(f"{source}: not a JSON node card ({exc})") from None
    else:
        data = dict(card_json)
    card = keys.read_card(data, source=source)
    node_id = card.identity.node_id
    if not same_fingerprint(given_fingerprint, card.fingerprint):
        raise InvalidInput(
            f"{source}: fingerprint mismatch for {node_id!r}: you gave "
            f"{grouped(given_fingerprint)} but the card's keys give {card.fingerprint}; "
            "nothing was pinned: check the fingerprint with that node's operator by telephone "
            "or letter"
        )
    if catalogue is not None:
        catalogue.states.get_state(card.identity.state)
    at = clock.now()
    peer = Peer(
        node_id=node_id,
        state=card.identity.state,
        name=card.identity.name,
        url=card.identity.url,
        fingerprint=card.fingerprint,
        pinned_at=at,
        pinned_by=by,
        keys=tuple(key.pinned(at) for key in card.keys),
    )
    with uow_factory() as uow:
        nodes.store_pinned_peer(
            uow, peer, local_node_id=own_node_id, local_fingerprint=own_fingerprint
        )
        uow.commit()
    return peer


def rotate_keys(
    *,
    store: NodeKeyStore,
    uow_factory: Callable[[], UnitOfWork],
    clock: Clock,
    overlap: timedelta,
    by: str = "operator",
) -> Rotated:
    """Replace the node's keys and announce the new ones to every active peer.

    Peers accept the old signing key until ``now + overlap``. The announcement, its
    outbox messages and the audit entry commit together; if that fails, the key files
    are put back as they were.
    """
    if not timedelta(0) < overlap <= MAX_OVERLAP:
        raise InvalidInput(f"the overlap must be more than 0 and at most {MAX_OVERLAP.days} days")
    at = clock.now()
    node_id = store.identity().node_id
    overlap_until = at + overlap
    rotation = store.rotate(at=at, overlap_until=overlap_until)
    try:
        with uow_factory() as uow:
            told = nodes.announce_keys(
                uow,
                local_node_id=node_id,
                body=rotation.announcement,
                new_kids={"sig": rotation.signing_kid, "enc": rotation.encryption_kid},
                previous_signing_kid=rotation.previous_signing_kid,
                by=by,
                at=at,
            )
            uow.commit()
    except OSError as exc:
        _run(rotation.undo)
        raise ConfigurationError(
            f"cannot rotate the keys in {store.data_dir}: {exc.strerror}"
        ) from None
    except BaseException:
        _run(rotation.undo)
        raise
    card = store.publish_card()
    return Rotated(
        node_id=node_id,
        fingerprint=card.fingerprint,
        signing_kid=rotation.signing_kid,
        encryption_kid=rotation.encryption_kid,
        previous_signing_kid=rotation.previous_signing_kid,
        overlap_until=overlap_until,
        announced_to=told,
        previous_dir=rotation.previous_dir,
    )


def _run(undo: Sequence[Callable[[], None]]) -> None:
    """Undo steps, last first; a step that fails does not stop the others."""
    for step in reversed(undo):
        try:
            step()
        except OSError:
            continue
