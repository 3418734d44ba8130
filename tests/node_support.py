"""Helpers for tests that create real nodes in temporary directories (see test_node_identity)."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from joserfc.jwk import OKPKey

from at_rest_support import session_key_file, session_seal
from fakes import FakeClock
from hanoi247.adapters.federation import wire
from hanoi247.adapters.federation.node import LocalNode, load_local_node
from hanoi247.bootstrap import (
    Database,
    NodeRuntime,
    build_runtime,
    key_reader,
    key_store,
    new_database,
    open_database,
)
from hanoi247.domain.federation import MessageType, Peer
from hanoi247.domain.requests import Urgency
from hanoi247.services.node_identity import init_node, pin_peer
from hanoi247.services.treaty import TreatyCatalogue
from hanoi247.settings import Settings
from inbox_builder import T0, incoming

CATALOGUE = TreatyCatalogue.packaged()


def settings(data_dir: Path) -> Settings:
    return Settings(data_dir=data_dir, environment="test", secret_key_file=session_key_file())


def make_node(
    root: Path, clock: FakeClock, state: str = "VN", name: str = "A05", port: int = 9001
) -> Path:
    data_dir = root / f"{state.lower()}-node"
    init_node(
        store=key_store(settings(data_dir)),
        database=new_database(settings(data_dir)),
        state=state,
        name=name,
        url=f"http://127.0.0.1:{port}",
        catalogue=CATALOGUE,
        clock=clock,
    )
    return data_dir


def node_with_urgent_request(settings: Settings, facts: str) -> None:
    """A node initialised at ``settings`` (VN, A05) holding one urgent received request whose
    facts are ``facts``: sealed content for the secret-rotation tests to find again."""
    init_node(
        store=key_store(settings), database=new_database(settings), state="VN", name="A05",
        url="http://127.0.0.1:9001", catalogue=CATALOGUE, clock=FakeClock(T0),
    )  # fmt: skip
    db = open_database(settings, create=False)
    assert db is not None
    try:
        with db.uow_factory() as uow:
            request = incoming(1, Urgency.URGENT, T0)
            request.elements["facts"] = facts
            uow.requests.add(request)
            uow.commit()
    finally:
        db.close()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def database(data_dir: Path, opened: list[Database]) -> Database:
    db = open_database(settings(data_dir), create=False)
    assert db is not None
    opened.append(db)
    return db


def pin_card(
    into: Path,
    card: str | bytes | dict[str, Any],
    *,
    given_fingerprint: str,
    clock: FakeClock,
    opened: list[Database],
    by: str = "operator",
    catalogue: TreatyCatalogue | None = None,
) -> Peer:
    """``hanoi247 peer add`` on the node in ``into``: the pin_peer use case, as wired there."""
    own = load_local_node(into, seal=session_seal()).card()
    return pin_peer(
        database(into, opened).uow_factory,
        card,
        given_fingerprint=given_fingerprint,
        own_node_id=own["node_id"],
        own_fingerprint=own["fingerprint"],
        keys=key_reader(),
        clock=clock,
        by=by,
        catalogue=catalogue,
    )


def pin(into: Path, card_of: Path, clock: FakeClock, opened: list[Database]) -> None:
    card = load_local_node(card_of, seal=session_seal()).card()
    pin_card(
        into, json.dumps(card), given_fingerprint=card["fingerprint"], clock=clock, opened=opened
    )


@contextmanager
def runtime(data_dir: Path, clock: FakeClock) -> Iterator[NodeRuntime]:
    """The node as ``hanoi247 serve`` wires it (dispatcher with the rotation handler)."""
    node = build_runtime(settings(data_dir), clock=clock)
    try:
        yield node
    finally:
        node.close()


def envelope(
    sender: LocalNode,
    recipient: LocalNode,
    clock: FakeClock,
    *,
    signing_key: OKPKey,
    encryption_key: OKPKey | None = None,
    type: str = MessageType.DRILL_PING,
    body: dict[str, Any] | None = None,
) -> bytes:
    """What a sender seals (``adapters/federation/sender.py`` does the same)."""
    header = wire.MessageHeader(
        message_id=wire.new_message_id(clock.now()),
        type=type,
        from_node=sender.node_id,
        to_node=recipient.node_id,
        sent_at=clock.now(),
    )
    recipient_key = encryption_key or recipient.keys.public_encryption_key()
    return wire.seal(
        header,
        body if body is not None else {"note": "drill"},
        sender_signing_key=signing_key,
        recipient_encryption_public_key=recipient_key,
    )
