"""Real servers and real nodes for the alerting tests.

* ``MailSink`` / ``mail_server()``: an aiosmtpd SMTP server on 127.0.0.1 that keeps what
  it receives (``Mail`` objects: envelope recipients, parsed message);
* ``HookSink`` / ``webhook_server()``: an ``http.server`` on 127.0.0.1 in a thread that
  keeps every POST (headers and raw body);
* ``alert_node``: a full node (``federation_helpers.InProcessNode``) whose settings point
  its e-mail and webhook channels at those servers;
* ``add_person`` / ``add_shift``: users and on-call shifts stored directly.
"""

from __future__ import annotations

import email
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

from at_rest_support import session_key_file
from federation_helpers import InProcessNode, connect, run
from hanoi247.adapters.crypto.keys import generate_node_keys, save_node_keys
from hanoi247.adapters.crypto.web_push import generate_vapid_key, save_vapid_key
from hanoi247.adapters.crypto.webhook_key import generate_webhook_key, save_webhook_key
from hanoi247.adapters.federation.node import write_identity
from hanoi247.bootstrap import build_runtime, open_database
from hanoi247.domain.accounts import Credentials, OnCallShift, Position, Role, User, new_user_id
from hanoi247.domain.federation import NodeIdentity
from hanoi247.entrypoints.web.app import create_app
from hanoi247.ports import Clock
from hanoi247.settings import Settings
from workflow_harness import PRESERVATION, uncc_in_force

# What the requests used in these tests say: none of it may reach an alert.
CASE_CONTENT = (
    "Ransomware",
    "hospital",
    "203.0.113.7",
    "Example Hosting",
    "Investigation VN-HN-2026-4411",
    "N. V. An",
    "child",
    "self-harm",
    str(PRESERVATION["custodian_or_location"]),
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Mail:
    rcpt_tos: tuple[str, ...]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def body(self) -> str:
        part = self.message.get_body(("plain",))
        assert part is not None
        return str(part.get_content())


@dataclass
class MailSink:
    mails: list[Mail] = field(default_factory=list)
    port: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(message, EmailMessage)
        self.mails.append(Mail(tuple(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Mail]:
        return [m for m in self.mails if address in m.rcpt_tos]


@contextmanager
def mail_server() -> Iterator[MailSink]:
    sink = MailSink(port=free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


@dataclass(frozen=True)
class Hook:
    headers: dict[str, str]
    body: bytes


@dataclass
class HookSink:
    hooks: list[Hook] = field(default_factory=list)
    url: str = ""


@contextmanager
def webhook_server() -> Iterator[HookSink]:
    sink = HookSink()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            sink.hooks.append(Hook(dict(self.headers.items()), body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    sink.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/hanoi247"
    try:
        yield sink
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def alert_settings(
    data_dir: Path, *, smtp_port: int | None, webhook_url: str = "", **extra: str
) -> Settings:
    """What a node's operator sets: HANOI247_SMTP_HOST=127.0.0.1, HANOI247_SMTP_PORT=<port>,
    HANOI247_SMTP_FROM=..., HANOI247_SMTP_STARTTLS=false, HANOI247_WEBHOOK_URL=...;
    ``extra``: more variables (``HANOI247_DEADLINE_POLL_SECONDS="3600"``)."""
    env = {
        "HANOI247_ENV": "test",
        "HANOI247_WEBHOOK_URL": webhook_url,
        "HANOI247_SECRET_KEY_FILE": str(session_key_file()),
        **extra,
    }
    if smtp_port is not None:
        env |= {
            "HANOI247_SMTP_HOST": "127.0.0.1",
            "HANOI247_SMTP_PORT": str(smtp_port),
            "HANOI247_SMTP_FROM": "alerts@node.example",
            "HANOI247_SMTP_STARTTLS": "false",
            "HANOI247_SMTP_TIMEOUT_SECONDS": "5",
        }
    return Settings.from_env(env, data_dir=data_dir)


def alert_node(
    data_dir: Path,
    *,
    node_id: str,
    state: str,
    clock: Clock,
    settings: Settings,
    vapid: bool = False,
) -> InProcessNode:
    """Like ``federation_helpers.make_node``, with the given settings; ``vapid``: the node
    has a VAPID key, as ``hanoi247 init`` gives it (so its alerts go by Web Push too)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    save_node_keys(generate_node_keys(), data_dir / "keys")
    save_webhook_key(generate_webhook_key(), data_dir / "keys")
    if vapid:
        save_vapid_key(generate_vapid_key(), data_dir / "keys")
    identity = NodeIdentity(
        node_id=node_id, state=state, name=f"Test {state}", url=f"https://{node_id}.test"
    )
    write_identity(data_dir, identity)
    settings = replace(settings, data_dir=data_dir)
    db = open_database(settings, create=True)
    assert db is not None
    db.close()
    runtime = build_runtime(settings, clock=clock)
    return InProcessNode(runtime=runtime, app=create_app(runtime))


def add_person(node: InProcessNode, username: str, role: Role, email_address: str) -> User:
    now = node.runtime.clock.now()
    user = User(
        id=new_user_id(now),
        username=username,
        display_name=username.replace(".", " ").title(),
        email=email_address,
        role=role,
        locale="en",
        timezone="UTC",
        created_at=now,
    )
    with node.runtime.uow_factory() as uow:
        uow.users.add(user, Credentials())
        uow.commit()
    return user


def add_shift(node: InProcessNode, user: User, position: Position, *, days: int = 400) -> None:
    """``user`` on duty at ``position`` from now (minus an hour) for ``days``."""
    start = node.runtime.clock.now() - timedelta(hours=1)
    with node.runtime.uow_factory() as uow:
        uow.on_call.add(OnCallShift(user.id, position, start, start + timedelta(days=days)))
        uow.commit()


def import_basis(node: InProcessNode) -> None:
    """The UN Convention in force between VN and FR (hypothetical status)."""
    with node.runtime.uow_factory() as uow:
        uow.treaty_actions.replace_all(
            uncc_in_force("VN", "FR"),
            source="hypothetical.csv",
            as_of=None,
            imported_by="test",
            at=datetime(2026, 11, 1, tzinfo=UTC),
            hypothetical=True,
        )
        uow.commit()


def assert_no_case_content(text: str) -> None:
    for secret in CASE_CONTENT:
        assert secret not in text, f"case content in an alert: {secret!r}"


async def deliver_async(src: InProcessNode, dst: InProcessNode) -> int:
    """Every pending outbox message of ``src`` to ``dst``'s inbox, over its real endpoint
    (``src``'s own sender, so its receipts update ``src``'s requests)."""
    sender = src.runtime.sender
    assert sender is not None
    total = 0
    async with connect(src, dst) as http:
        sender.http = http
        try:
            while delivered := await sender.run_once():
                total += delivered
        finally:
            sender.http = None
    return total


def deliver(src: InProcessNode, dst: InProcessNode) -> int:
    return run(deliver_async(src, dst))
