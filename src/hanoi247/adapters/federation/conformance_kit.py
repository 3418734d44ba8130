"""The conformance kit's own node: its keys, its card, and a small inbox for the answers.

The kit acts as a peer of the node under test. Its identity lives in a kit directory
(``hanoi247 conformance card --kit-dir DIR``): ``keys/`` (two private keys, 0600) and
``card.json``. The node under test pins that card like any other (``hanoi247 peer add`` on
our implementation) before the run, so the kit's messages are authentic to it.

While the checks run, :class:`KitInbox` listens at the card's URL and receives what the
node under test sends back (the ``drill.pong``): it opens each envelope with the kit's keys,
answers with a signed receipt, and keeps the opened messages for the checks.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from hanoi247.adapters.crypto.keys import (
    NodeKeys,
    generate_node_keys,
    load_node_keys,
    save_node_keys,
)
from hanoi247.adapters.crypto.public_keys import PublicKey, import_public_key
from hanoi247.adapters.federation import receipts, wire
from hanoi247.adapters.federation.node import ParsedCard, node_card
from hanoi247.domain.errors import ConfigurationError
from hanoi247.domain.federation import NodeIdentity
from hanoi247.domain.node_card import check_node_id, check_url

CARD_FILE = "card.json"
KEYS_DIR = "keys"
INBOX_PATH = "/federation/v1/inbox"
CARD_PATH = "/federation/v1/card"
MAX_BYTES = 2 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Kit:
    identity: NodeIdentity
    keys: NodeKeys

    @property
    def card(self) -> dict[str, Any]:
        return node_card(self.identity, self.keys)


def create_kit(kit_dir: Path, *, node_id: str, state: str, url: str) -> Kit:
    """Make (or reuse) the kit's keys in ``kit_dir`` and write its card for this URL."""
    identity = NodeIdentity(check_node_id(node_id), state.upper(), "hanoi247 conformance kit",
                            check_url(url))  # fmt: skip
    kit_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    keys_dir = kit_dir / KEYS_DIR
    if not keys_dir.is_dir():
        keys_dir.mkdir(mode=0o700)
        save_node_keys(generate_node_keys(), keys_dir)
    kit = Kit(identity, load_node_keys(keys_dir))
    (kit_dir / CARD_FILE).write_text(json.dumps(kit.card, indent=2) + "\n", encoding="utf-8")
    return kit


def load_kit(kit_dir: Path) -> Kit:
    try:
        card = json.loads((kit_dir / CARD_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigurationError(
            f"no kit in {kit_dir}: run `hanoi247 conformance card --kit-dir {kit_dir}` first"
        ) from None
    identity = NodeIdentity(card["node_id"], card["state"], card["name"], card["url"])
    return Kit(identity, load_node_keys(kit_dir / KEYS_DIR))


@dataclass
class KitInbox:
    """An HTTP inbox for the kit, on the host and port of its card's URL."""

    kit: Kit
    peer_id: str
    peer_signing_keys: Sequence[PublicKey]
    replay_window: timedelta = timedelta(minutes=5)
    received: list[wire.OpenedMessage] = field(default_factory=list)
    _lock: threading.Condition = field(default_factory=threading.Condition)
    _server: ThreadingHTTPServer | None = None

    @classmethod
    def for_card(cls, kit: Kit, card: ParsedCard) -> KitInbox:
        """An inbox accepting envelopes from the node that ``card`` describes."""
        signing = import_public_key(dict(card.signing_jwk))
        return cls(kit, card.identity.node_id, [signing])

    def start(self) -> None:
        parts = urlsplit(self.kit.identity.url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 80
        self._server = ThreadingHTTPServer((host, port), _handler(self))
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def wait_for(
        self, wanted: Callable[[wire.OpenedMessage], bool], timeout: float
    ) -> wire.OpenedMessage | None:
        """The first received message ``wanted`` accepts, waiting up to ``timeout`` s."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = next((m for m in self.received if wanted(m)), None)
                left = deadline - time.monotonic()
                if found is not None or left <= 0:
                    return found
                self._lock.wait(left)

    def accept(self, envelope: bytes) -> tuple[int, dict[str, Any]]:
        """Open one envelope from the node under test; (status, JSON answer)."""
        now = datetime.now(UTC)
        try:
            opened = wire.open_envelope(
                envelope,
                my_node_id=self.kit.identity.node_id,
                my_encryption_keys=[self.kit.keys.encryption],
                resolve_sender={self.peer_id: list(self.peer_signing_keys)}.get,
                now=now,
                replay_window=self.replay_window,
                max_bytes=MAX_BYTES,
            )
        except wire.EnvelopeRejected as rejected:
            return 400, {"code": rejected.code.value, "status": 400}
        receipt = receipts.sign_receipt(
            message_id=opened.header.message_id,
            envelope_sha256=opened.envelope_sha256,
            received_at=now,
            receiver_node=self.kit.identity.node_id,
            signing_key=self.kit.keys.signing,
        )
        with self._lock:
            duplicate = any(m.header.message_id == opened.header.message_id for m in self.received)
            if not duplicate:
                self.received.append(opened)
            self._lock.notify_all()
        return 200, {"message_id": opened.header.message_id, "receipt": receipt,
                     "duplicate": duplicate}  # fmt: skip


def _handler(inbox: KitInbox) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if self.path != INBOX_PATH or length > MAX_BYTES:
                self._answer(404 if self.path != INBOX_PATH else 413, {"code": "refused"})
                return
            status, answer = inbox.accept(self.rfile.read(length))
            self._answer(status, answer)

        def do_GET(self) -> None:
            if self.path == CARD_PATH:
                self._answer(200, inbox.kit.card)
            else:
                self._answer(404, {"code": "not_found"})

        def _answer(self, status: int, document: Mapping[str, Any]) -> None:
            body = json.dumps(document).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return  # the kit prints its own report

    return Handler
