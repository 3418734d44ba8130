"""``hanoi247 init``, ``serve``, ``node ...``, ``peer ...`` and ``drill ping``.

Registered on the main app in ``cli.py``. Like every command: JSON on stdout (``peer list``
prints a table unless ``--json``), one line on stderr (``hanoi247: error: ...``) and exit 2
on error. Only public keys, key ids and fingerprints are ever printed.
"""

from __future__ import annotations

import gc
import signal
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer

from hanoi247.domain.errors import ConfigurationError, InvalidInput
from hanoi247.domain.federation import Peer, PeerDelivery, PeerStatus
from hanoi247.entrypoints.cli_common import DataDirOption, emit
from hanoi247.ports import Clock, UnitOfWork
from hanoi247.settings import Settings

node_app = typer.Typer(help="This node: its card and its keys.", no_args_is_help=True)
peer_app = typer.Typer(
    help="Pinned peer nodes: add from a card, list, suspend, resume.", no_args_is_help=True
)
drill_app = typer.Typer(help="Drills: prove the channel to a peer works.", no_args_is_help=True)


ByOption = Annotated[str, typer.Option("--by", help="Who does this (for the audit trail).")]


def note(text: str) -> None:
    typer.echo(text, err=True)


def _settings(data_dir: Path | None) -> Settings:
    from hanoi247.bootstrap import settings_for

    return settings_for(data_dir)


@contextmanager
def _uow_factory(settings: Settings) -> Iterator[Callable[[], UnitOfWork]]:
    from hanoi247.bootstrap import database

    with database(settings, create=False) as db:
        if db is None:
            raise ConfigurationError(
                f"no node database in {settings.data_dir}; run `hanoi247 init` first"
            )
        yield db.uow_factory


def _clock() -> Clock:
    from hanoi247.bootstrap import system_clock

    return system_clock()


def _now() -> datetime:
    return _clock().now()


def init_command(
    state: Annotated[str, typer.Option(help="The State this node serves (ISO alpha-2, e.g. VN).")],
    name: Annotated[str, typer.Option(help="The node's name, e.g. the agency's.")],
    url: Annotated[str, typer.Option(help="Base URL where peers reach this node.")],
    node_id: Annotated[
        str | None,
        typer.Option("--node-id", help="Node id (default: state and name, e.g. vn-a05)."),
    ] = None,
    data_dir: DataDirOption = None,
    by: ByOption = "operator",
) -> None:
    """Create this node: keys, identity, database. Prints its id, fingerprint and card."""
    from hanoi247.bootstrap import key_store, new_database
    from hanoi247.services.node_identity import init_node
    from hanoi247.services.treaty import TreatyCatalogue

    settings = _settings(data_dir)
    done = init_node(
        store=key_store(settings),
        database=new_database(settings),
        state=state,
        name=name,
        url=url,
        node_id=node_id,
        catalogue=TreatyCatalogue.packaged(),
        clock=_clock(),
        by=by,
    )
    emit(
        {
            "node_id": done.identity.node_id,
            "state": done.identity.state,
            "url": done.identity.url,
            "fingerprint": done.fingerprint,
            "card": str(done.card_path),
            "data_dir": str(settings.data_dir),
        }
    )
    note(
        "Send the card to each peer's operator and read them the fingerprint over a second "
        "channel (telephone, letter); they pin it with `hanoi247 peer add CARD --fingerprint FP`."
    )


@node_app.command("card")
def node_card(data_dir: DataDirOption = None) -> None:
    """Print this node's card (public: identity, public keys, fingerprint)."""
    from hanoi247.bootstrap import local_node

    emit(local_node(_settings(data_dir)).card())


@node_app.command("rotate-keys")
def node_rotate_keys(
    overlap_days: Annotated[
        int,
        typer.Option("--overlap-days", min=1, max=30, help="Days peers still accept the old keys."),
    ] = 7,
    data_dir: DataDirOption = None,
    by: ByOption = "operator",
) -> None:
    """New keys; the old ones move to keys/previous/, and every active peer is told."""
    from hanoi247.adapters.crypto.webhook_key import load_webhook_key
    from hanoi247.adapters.federation.node import KEYS_DIR
    from hanoi247.bootstrap import key_file_seal, key_store
    from hanoi247.services.node_identity import rotate_keys

    settings = _settings(data_dir)
    with _uow_factory(settings) as uow_factory:
        done = rotate_keys(
            store=key_store(settings),
            uow_factory=uow_factory,
            clock=_clock(),
            overlap=timedelta(days=overlap_days),
            by=by,
        )
    # replaced with the node keys
    webhook_key = load_webhook_key(settings.data_dir / KEYS_DIR, seal=key_file_seal(settings))
    emit(
        {
            "node_id": done.node_id,
            "fingerprint": done.fingerprint,
            "signing_kid": done.signing_kid,
            "encryption_kid": done.encryption_kid,
            "previous_signing_kid": done.previous_signing_kid,
            "webhook_kid": webhook_key.kid if webhook_key is not None else None,
            "overlap_until": done.overlap_until.isoformat(),
            "announced_to": done.announced_to,
        }
    )
    note(
        "Restart `hanoi247 serve` so the running node uses the new keys, give peers' "
        "operators the new fingerprint over a second channel, and webhook receivers the new "
        "webhook key (`hanoi247 webhook key`)."
    )


@node_app.command("push-key")
def node_push_key(
    rotate: Annotated[
        bool,
        typer.Option(
            "--rotate",
            help="Replace the key: every device subscribed so far must subscribe again.",
        ),
    ] = False,
    data_dir: DataDirOption = None,
    by: ByOption = "operator",
) -> None:
    """This node's Web Push (VAPID) public key; made if missing (a node created before Web
    Push), replaced with --rotate."""
    from hanoi247.bootstrap import push_key_store
    from hanoi247.services.push_key import ensure_push_key, key_fingerprint, rotate_push_key

    settings = _settings(data_dir)
    store = push_key_store(settings)
    with _uow_factory(settings) as uow_factory:
        if rotate:
            done = rotate_push_key(store, uow_factory, clock=_clock(), by=by)
            public, made, stale = done.new_key, True, done.stale_devices
        else:
            public, made = ensure_push_key(store, uow_factory, clock=_clock(), by=by)
            stale = 0
    emit(
        {
            "public_key": public,
            "fingerprint": key_fingerprint(public),
            "created": made and not rotate,
            "rotated": rotate,
            "devices_to_subscribe_again": stale,
        }
    )
    if made:
        note(
            "Restart `hanoi247 serve` so the running node signs with this key."
            + (
                f" {stale} device(s) subscribed under the old key receive no more alerts "
                "until their officers turn notifications on again (the desk's Settings page "
                "tells them); e-mail still reaches them."
                if rotate
                else ""
            )
        )


@peer_app.command("add")
def peer_add(
    card_file: Annotated[Path, typer.Argument(help="The peer's card (JSON), as it sent it.")],
    fingerprint: Annotated[
        str,
        typer.Option(help="The fingerprint the peer's operator read to you out of band."),
    ],
    data_dir: DataDirOption = None,
    by: ByOption = "operator",
) -> None:
    """Pin a peer's keys, if the card's keys give exactly the fingerprint you were told."""
    from hanoi247.bootstrap import key_reader, local_node
    from hanoi247.services.node_identity import pin_peer
    from hanoi247.services.treaty import TreatyCatalogue

    try:
        raw = card_file.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"{card_file}: cannot be read ({exc.strerror})") from None
    settings = _settings(data_dir)
    own = local_node(settings).card()
    with _uow_factory(settings) as uow_factory:
        peer = pin_peer(
            uow_factory,
            raw,
            given_fingerprint=fingerprint,
            own_node_id=own["node_id"],
            own_fingerprint=own["fingerprint"],
            keys=key_reader(),
            clock=_clock(),
            by=by,
            catalogue=TreatyCatalogue.packaged(),
            source=str(card_file),
        )
    emit(peer_json(peer))


@peer_app.command("list")
def peer_list(
    data_dir: DataDirOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
) -> None:
    """Every pinned peer, with its status, keys (a key rotated out shows until when) and
    delivery: "down since" while it does not answer (its messages wait)."""
    settings = _settings(data_dir)
    with _uow_factory(settings) as uow_factory, uow_factory() as uow:
        peers = uow.peers.list()
        delivery = {s.node_id: s for s in uow.peer_delivery.list()}
    if as_json:
        emit([peer_json(p, delivery.get(p.node_id)) for p in peers])
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{len(peers)} pinned peer(s)")
    for column in ("node id", "state", "name", "URL"):
        table.add_column(column, overflow="fold")
    table.add_column("fingerprint", max_width=19)  # at most four groups a line
    table.add_column("status")
    table.add_column("keys (kid, valid until)", overflow="fold")
    table.add_column("delivery", overflow="fold")
    for p in peers:
        keys = "\n".join(
            f"{k.use} {k.kid[:12]}…"
            + (f"\n  until {k.valid_until:%Y-%m-%d %H:%M}Z" if k.valid_until else "")
            for k in p.keys
        )
        status = p.status.value if p.status is PeerStatus.ACTIVE else f"[red]{p.status.value}"
        table.add_row(
            p.node_id, p.state, p.name, p.url, p.fingerprint, status, keys,
            delivery_text(delivery.get(p.node_id)),
        )  # fmt: skip
    Console().print(table)


def delivery_text(state: PeerDelivery | None) -> str:
    if state is None or not state.down:
        return "ok"
    assert state.down_since is not None
    return (
        f"[red]down since {state.down_since:%Y-%m-%d %H:%M}Z[/red]\n"
        f"{state.failures} failure(s), {state.last_error}"
    )


def peer_json(peer: Peer, delivery: PeerDelivery | None = None) -> dict[str, Any]:
    state = delivery or PeerDelivery(peer.node_id)
    return {
        "node_id": peer.node_id,
        "state": peer.state,
        "name": peer.name,
        "url": peer.url,
        "fingerprint": peer.fingerprint,
        "status": peer.status.value,
        "pinned_at": peer.pinned_at.isoformat(),
        "pinned_by": peer.pinned_by,
        "keys": [
            {
                "kid": k.kid,
                "use": k.use,
                "added_at": k.added_at.isoformat(),
                "valid_until": None if k.valid_until is None else k.valid_until.isoformat(),
            }
            for k in peer.keys
        ],
        "delivery": {
            "down_since": None if state.down_since is None else state.down_since.isoformat(),
            "failures": state.failures,
            "retry_at": None if state.retry_at is None else state.retry_at.isoformat(),
            "last_error": state.last_error,
        },
    }


def _set_status(node_id: str, data_dir: Path | None, by: str, *, suspend: bool) -> None:
    from hanoi247.services import nodes

    settings = _settings(data_dir)
    change = nodes.suspend_peer if suspend else nodes.resume_peer
    with _uow_factory(settings) as uow_factory, uow_factory() as uow:
        changed = change(uow, node_id, by=by, at=_now())
        uow.commit()
        peer = nodes.require_peer(uow, node_id)
    emit({"node_id": node_id, "status": peer.status.value, "changed": changed})


@peer_app.command("suspend")
def peer_suspend(
    node_id: Annotated[str, typer.Argument(help="The peer's node id.")],
    data_dir: DataDirOption = None,
    by: ByOption = "operator",
) -> None:
    """Stop sending to and accepting from a peer (its keys stay pinned)."""
    _set_status(node_id, data_dir, by, suspend=True)


@peer_app.command("resume")
def peer_resume(
    node_id: Annotated[str, typer.Argument(help="The peer's node id.")],
    data_dir: DataDirOption = None,
    by: ByOption = "operator",
) -> None:
    """Exchange messages with a suspended peer again."""
    _set_status(node_id, data_dir, by, suspend=False)


@drill_app.command("ping")
def drill_ping(
    node_id: Annotated[str, typer.Argument(help="The peer's node id.")],
    note_text: Annotated[str, typer.Option("--note", help="A short note (no case data).")] = "",
    data_dir: DataDirOption = None,
    by: ByOption = "operator",
) -> None:
    """Queue a drill ping; the running node sends it and the peer answers with a pong."""
    from hanoi247.services import nodes
    from hanoi247.services.federation import send_drill_ping

    settings = _settings(data_dir)
    at = _now()
    with _uow_factory(settings) as uow_factory, uow_factory() as uow:
        if nodes.require_peer(uow, node_id).status is not PeerStatus.ACTIVE:
            raise InvalidInput(f"peer {node_id!r} is suspended; resume it first")
        message_id = send_drill_ping(uow, to_node=node_id, at=at, actor=by, note=note_text)
        uow.commit()
    emit({"message_id": message_id, "to": node_id, "queued_at": at.isoformat()})


def serve_command(
    data_dir: DataDirOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8470,
    ask_passphrase: Annotated[
        bool,
        typer.Option(
            "--ask-passphrase",
            help="Derive the secret key from a passphrase typed now (docs/operations.md).",
        ),
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            "--workers",
            min=1,
            max=64,
            help="Server processes sharing the port (more than 1 needs PostgreSQL).",
        ),
    ] = 1,
) -> None:
    """Run the node: web pages, API, federation endpoint and background workers."""
    if ask_passphrase:
        from hanoi247.bootstrap import use_passphrase

        use_passphrase(str(typer.prompt("Secret key passphrase", hide_input=True)))
    settings = _settings(data_dir)  # carries the passphrase into every worker process
    if settings.environment not in ("demo", "test"):
        settings.require_real_secrets()
    if workers > 1 and not settings.resolved_database_url.startswith("postgresql"):
        raise ConfigurationError(
            f"--workers {workers} needs PostgreSQL (set HANOI247_DATABASE_URL): SQLite lets "
            "one process write at a time and in-app alerts cannot reach another process "
            "without it; run one process (--workers 1) on SQLite"
        )
    listener = _listen(host, port)
    if workers == 1:
        with listener:
            _serve_one(settings, listener, host, port)
        return
    from hanoi247.entrypoints.web.workers import Supervisor

    with listener:
        code = Supervisor(
            workers,
            lambda slot: _serve_one(settings, listener, host, port, pull_evidence=slot == 0),
        ).run()
    if code:
        raise typer.Exit(code)


def _serve_one(
    settings: Settings,
    listener: socket.socket,
    host: str,
    port: int,
    *,
    pull_evidence: bool = True,
) -> None:
    """One server process: its runtime, the app, uvicorn on ``listener``. Evidence offered
    by peers is pulled by one process only (``pull_evidence``)."""
    import uvicorn

    from hanoi247.bootstrap import build_runtime
    from hanoi247.entrypoints.logging_setup import configure_logging
    from hanoi247.entrypoints.malloc_tuning import bound_malloc_retention
    from hanoi247.entrypoints.web.app import create_app
    from hanoi247.entrypoints.web.server import server_config

    bound_malloc_retention()  # large transfer buffers go back to the kernel when freed
    configure_logging(settings)
    # a node created before Web Push makes its VAPID key as it starts (audited)
    runtime = build_runtime(settings, pull_evidence=pull_evidence, make_push_key=True)
    try:
        app = create_app(runtime)
        server = uvicorn.Server(server_config(app, host=host, port=port))
        # What start-up built (modules, the app, the runtime: most of the heap, and never
        # garbage) leaves the collector's generations: the full collections that a
        # transfer's allocations trigger no longer walk it (~7% of the receiver's CPU).
        gc.freeze()
        with _quiet_signals():
            server.run(sockets=[listener])
    finally:
        runtime.close()


def _listen(host: str, port: int) -> socket.socket:
    """Bind first, so a busy port is one clear error rather than a server log."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY on accepted connections only when the
    # listening socket says TCP, and without it every response on a reused connection
    # waits ~40 ms for the client's delayed ACK (uvicorn writes head and body apart).
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((host, port))
    except OSError as exc:
        listener.close()
        raise ConfigurationError(f"cannot listen on {host}:{port} ({exc.strerror})") from None
    return listener


@contextmanager
def _quiet_signals() -> Iterator[None]:
    """uvicorn catches SIGINT/SIGTERM, shuts down, then re-raises the signal to the handler
    that was there before it: make that handler a no-op so a stop request exits 0."""

    def stopped(signum: int, frame: FrameType | None) -> None:
        return None

    previous = {sig: signal.signal(sig, stopped) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
