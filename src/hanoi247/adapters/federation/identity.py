"""Creating a node, pinning a peer from its card, rotating the node's keys.

These need files and crypto, so they live here; the state changes and audit entries are
``services/nodes.py``. Private keys are never printed, logged or put in an exception:
only public JWKs, ``kid``\\ s and fingerprints leave this module.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from joserfc.jwk import OKPKey

from hanoi247.adapters.crypto.age_files import AGE_IDENTITY_FILE, generate_age_identity
from hanoi247.adapters.crypto.keys import (
    ENCRYPTION_ALG,
    ENCRYPTION_KEY_FILE,
    SIGNING_ALG,
    SIGNING_KEY_FILE,
    generate_node_keys,
    public_jwks,
    save_node_keys,
)
from hanoi247.adapters.federation import receipts, wire
from hanoi247.adapters.federation.evidence_recipient import (
    recipient_key,
    sign_recipient,
    verify_recipient,
)
from hanoi247.adapters.federation.node import (
    KEYS_DIR,
    NODE_FILE,
    PREVIOUS_KEYS_DIR,
    LocalNode,
    check_node_id,
    check_url,
    default_node_id,
    load_local_node,
    parse_card,
    same_fingerprint,
    write_identity,
)
from hanoi247.domain.errors import ConfigurationError
from hanoi247.domain.federation import NodeIdentity, Peer, PeerKey
from hanoi247.ports import UnitOfWork
from hanoi247.services import nodes
from hanoi247.services.treaty import TreatyCatalogue
from hanoi247.settings import Settings

CARD_FILE = "card.json"  # DIR/card.json: the public node card, rewritten on rotation
DATABASE_FILE = "hanoi247.sqlite3"
MAX_OVERLAP = timedelta(days=30)  # peers retire old keys after at most this long


@dataclass(frozen=True, slots=True)
class Initialised:
    local: LocalNode
    fingerprint: str
    card_path: Path


@dataclass(frozen=True, slots=True)
class Rotated:
    local: LocalNode  # current keys first, the rotated-out ones in ``previous_keys``
    fingerprint: str
    overlap_until: datetime
    announced_to: list[str]
    previous_dir: Path


def init_node(
    data_dir: Path,
    *,
    state: str,
    name: str,
    url: str,
    node_id: str | None = None,
    catalogue: TreatyCatalogue,
    settings: Settings,
    at: datetime,
    by: str = "operator",
) -> Initialised:
    """Create a node in ``data_dir``: keys (0600 in ``keys/``, 0700), database, identity.

    ``node.toml`` is written last: its presence marks a complete node, and a second
    ``init`` in the same directory is refused. On failure, what was created is removed.
    """
    code = catalogue.states.get_state(state).iso2
    name = " ".join(name.split())
    if not name:
        raise ConfigurationError("--name must not be empty")
    identity = NodeIdentity(
        node_id=check_node_id(node_id or default_node_id(code, name)),
        state=code,
        name=name,
        url=check_url(url),
    )
    settings = settings.with_data_dir(data_dir)
    keys_dir = data_dir / KEYS_DIR
    database_file = None if settings.database_url else data_dir / DATABASE_FILE
    if (data_dir / NODE_FILE).exists():
        raise ConfigurationError(
            f"{data_dir} already holds a node ({NODE_FILE}); refusing to initialise it again"
        )
    leftovers = (keys_dir / SIGNING_KEY_FILE, keys_dir / ENCRYPTION_KEY_FILE, database_file)
    for leftover in (*leftovers, keys_dir / AGE_IDENTITY_FILE):
        if leftover is not None and (leftover.exists() or leftover.is_symlink()):
            raise ConfigurationError(
                f"{leftover} exists but {data_dir} holds no {NODE_FILE}; "
                "use an empty directory, or move the leftovers away"
            )
    if data_dir.exists() and not data_dir.is_dir():
        raise ConfigurationError(f"{data_dir} is not a directory")
    undo: list[Callable[[], None]] = []
    try:
        if not data_dir.exists():
            data_dir.mkdir(mode=0o700, parents=True)
            undo.append(lambda: _rmdir_if_empty(data_dir))
        if not any(data_dir.iterdir()):
            data_dir.chmod(0o700)
        if not keys_dir.exists():
            keys_dir.mkdir(mode=0o700)
            undo.append(lambda: _rmdir_if_empty(keys_dir))
        keys_dir.chmod(0o700)
        keys = generate_node_keys()
        save_node_keys(keys, keys_dir)
        undo += [(keys_dir / f).unlink for f in (SIGNING_KEY_FILE, ENCRYPTION_KEY_FILE)]
        age_recipient = generate_age_identity(keys_dir)
        undo.append((keys_dir / AGE_IDENTITY_FILE).unlink)
        if database_file is not None:
            undo.append(lambda: _remove_sqlite(database_file))
        _create_database(settings, identity, signing_kid=keys.signing_kid, by=by, at=at)
        if database_file is not None:
            database_file.chmod(0o600)  # it will hold case content; SQLite's -wal follows
        write_identity(data_dir, identity)
    except OSError as exc:
        _run(undo)
        raise ConfigurationError(f"cannot create the node in {data_dir}: {exc.strerror}") from None
    except BaseException:
        _run(undo)
        raise
    local = LocalNode(identity=identity, keys=keys, data_dir=data_dir, age_recipient=age_recipient)
    card_path = write_card(local)
    return Initialised(local=local, fingerprint=local.card()["fingerprint"], card_path=card_path)


def _create_database(
    settings: Settings, identity: NodeIdentity, *, signing_kid: str, by: str, at: datetime
) -> None:
    from hanoi247.bootstrap import open_database  # the composition root opens databases

    db = open_database(settings, create=True)
    if db is None:
        raise ConfigurationError(f"could not create the database of {identity.node_id}")
    try:
        with db.uow_factory() as uow:
            nodes.record_node_initialised(
                uow,
                node_id=identity.node_id,
                state=identity.state,
                signing_kid=signing_kid,
                by=by,
                at=at,
            )
            uow.commit()
    finally:
        db.close()


def write_card(local: LocalNode) -> Path:
    """Write (or replace atomically) ``DIR/card.json``: public, safe to send to peers."""
    assert local.data_dir is not None
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


def pin_peer(
    uow: UnitOfWork,
    card_json: str | bytes | Mapping[str, Any],
    *,
    given_fingerprint: str,
    local: LocalNode,
    by: str,
    at: datetime,
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
            raise ConfigurationError(f"{source}: not a JSON node card ({exc})") from None
    else:
        data = dict(card_json)
    parsed = parse_card(data, source=source)
    node_id = parsed.identity.node_id
    if not same_fingerprint(given_fingerprint, parsed.fingerprint):
        raise ConfigurationError(
            f"{source}: fingerprint mismatch for {node_id!r}: you gave "
            f"{grouped(given_fingerprint)} but the card's keys give {parsed.fingerprint}; "
            "nothing was pinned: check the fingerprint with that node's operator by telephone "
            "or letter"
        )
    if catalogue is not None:
        catalogue.states.get_state(parsed.identity.state)
    extra: tuple[PeerKey, ...] = ()
    if parsed.evidence_recipient is not None:
        signing = OKPKey.import_key(dict(parsed.signing_jwk))
        recipient = verify_recipient(
            parsed.evidence_recipient, node_id=node_id, signing_keys=[signing]
        )
        extra = (recipient_key(recipient, at=at),)
    peer = Peer(
        node_id=node_id,
        state=parsed.identity.state,
        name=parsed.identity.name,
        url=parsed.identity.url,
        fingerprint=parsed.fingerprint,
        pinned_at=at,
        pinned_by=by,
        keys=(
            _peer_key(parsed.signing_jwk, use="sig", alg=SIGNING_ALG, at=at),
            _peer_key(parsed.encryption_jwk, use="enc", alg=ENCRYPTION_ALG, at=at),
            *extra,
        ),
    )
    nodes.store_pinned_peer(
        uow, peer, local_node_id=local.node_id, local_fingerprint=local.card()["fingerprint"]
    )
    return peer


def peer_key_from_jwk(jwk: Mapping[str, Any], *, at: datetime) -> PeerKey:
    """A ``PeerKey`` holding only the public members of ``jwk``, ``kid`` its thumbprint."""
    use = jwk.get("use")
    if use not in ("sig", "enc"):
        raise ValueError("a node key has use 'sig' or 'enc'")
    return _peer_key(jwk, use=str(use), alg=SIGNING_ALG if use == "sig" else ENCRYPTION_ALG, at=at)


def _peer_key(jwk: Mapping[str, Any], *, use: str, alg: str, at: datetime) -> PeerKey:
    public = {name: jwk[name] for name in ("kty", "crv", "x")}
    kid = OKPKey.import_key(dict(public)).thumbprint()
    return PeerKey(
        kid=kid, use=use, jwk={**public, "kid": kid, "use": use, "alg": alg}, added_at=at
    )


def grouped(fingerprint: str) -> str:
    """``fingerprint`` as people compare it: uppercase, groups of four."""
    compact = re.sub(r"[\s:]", "", fingerprint).upper()
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4)) or "(empty)"


def rotate_keys(
    data_dir: Path,
    uow_factory: Callable[[], UnitOfWork],
    *,
    overlap: timedelta,
    at: datetime,
    by: str = "operator",
) -> Rotated:
    """Replace the node's keys and announce the new ones to every active peer.

    The old key files move to ``keys/previous/<UTC time>/`` (0700 directory, files keep
    0600): the node keeps opening envelopes encrypted to the old key, and keeps the old
    signing key to sign the envelopes carrying the announcement (see
    ``LocalNode.signing_key_for`` and docs/protocol.md, "Key rotation"). Peers accept the
    old signing key until ``at + overlap``. If the database step fails, the files are put
    back as they were.
    """
    if not timedelta(0) < overlap <= MAX_OVERLAP:
        raise ConfigurationError(
            f"the overlap must be more than 0 and at most {MAX_OVERLAP.days} days"
        )
    old = load_local_node(data_dir)
    new_keys = generate_node_keys()
    new_jwks = public_jwks(new_keys)
    overlap_until = at + overlap
    body = {
        "announcement": receipts.sign_key_announcement(new_jwks, old_signing_key=old.keys.signing),
        "overlap_until": wire.format_time(overlap_until),
    }
    keys_dir = data_dir / KEYS_DIR
    had_age = (keys_dir / AGE_IDENTITY_FILE).exists()
    previous_root = keys_dir / PREVIOUS_KEYS_DIR
    target = previous_root / at.astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    files = (SIGNING_KEY_FILE, ENCRYPTION_KEY_FILE)
    undo: list[Callable[[], None]] = []
    try:
        previous_root.mkdir(mode=0o700, exist_ok=True)
        previous_root.chmod(0o700)
        try:
            target.mkdir(mode=0o700)
        except FileExistsError:
            raise ConfigurationError(f"{target} exists: the keys were rotated at {at}") from None
        undo.append(lambda: _rmdir_if_empty(target))
        for name in (*files, AGE_IDENTITY_FILE) if had_age else files:
            os.rename(keys_dir / name, target / name)
            undo.append(functools.partial(os.rename, target / name, keys_dir / name))
        save_node_keys(new_keys, keys_dir)
        undo += [(keys_dir / name).unlink for name in files]
        new_recipient = generate_age_identity(keys_dir)
        undo.append((keys_dir / AGE_IDENTITY_FILE).unlink)
        # Signed with the old key, like the announcement: what the peers have pinned.
        body["evidence_recipient"] = sign_recipient(
            new_recipient, node_id=old.node_id, signing_key=old.keys.signing
        )
        with uow_factory() as uow:
            told = nodes.announce_keys(
                uow,
                local_node_id=old.node_id,
                body=body,
                new_kids={"sig": new_keys.signing_kid, "enc": new_keys.encryption_kid},
                previous_signing_kid=old.keys.signing_kid,
                by=by,
                at=at,
            )
            uow.commit()
    except OSError as exc:
        _run(undo)
        raise ConfigurationError(f"cannot rotate the keys in {keys_dir}: {exc.strerror}") from None
    except BaseException:
        _run(undo)
        raise
    local = load_local_node(data_dir)
    write_card(local)
    return Rotated(
        local=local,
        fingerprint=local.card()["fingerprint"],
        overlap_until=overlap_until,
        announced_to=told,
        previous_dir=target,
    )


def _run(undo: list[Callable[[], None]]) -> None:
    """Undo steps, last first; a step that fails does not stop the others."""
    for step in reversed(undo):
        try:
            step()
        except OSError:
            continue


def _rmdir_if_empty(path: Path) -> None:
    if path.is_dir() and not any(path.iterdir()):
        path.rmdir()


def _remove_sqlite(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
