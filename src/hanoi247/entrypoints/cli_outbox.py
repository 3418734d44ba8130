"""``hanoi247 outbox``: what this node still has to send, and what it gave up sending.

Dead letters come first, in red, with what to do about them: a message the network did
not carry must never go unnoticed. ``hanoi247 outbox retry ID`` puts one back in the queue
(the running node's sender picks it up within its poll interval).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from hanoi247.domain.federation import OutboxEntry, OutboxStatus
from hanoi247.entrypoints.cli_common import DataDirOption as DataDir
from hanoi247.entrypoints.cli_common import fail as _fail
from hanoi247.entrypoints.cli_common import node_uow as _uow
from hanoi247.services.federation import NoSuchOutboxEntry, NotADeadLetter, retry_dead_letter

outbox_app = typer.Typer(
    help="The outbox: messages waiting, delivered, and dead letters (never silent).",
    invoke_without_command=True,
)

DEAD_HINT = (
    "Fix the cause shown under 'last error' (peer down or moved, keys re-pinned, message "
    "too large), then run `hanoi247 outbox retry ID`."
)
RECENT_DELIVERED = 20


@outbox_app.callback()
def outbox(
    ctx: typer.Context,
    status: Annotated[
        OutboxStatus | None,
        typer.Option("--status", help="Show only entries with this status.", show_default=False),
    ] = None,
    data_dir: DataDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Entries per status.")] = 200,
) -> None:
    """Counts and entries; dead letters first."""
    ctx.obj = data_dir
    if ctx.invoked_subcommand is not None:
        return
    now = datetime.now(UTC)
    with _uow(data_dir) as uow:
        counts = uow.outbox.counts()
        if status is not None:
            entries = uow.outbox.list(status=status, limit=limit)
        else:
            entries = [
                *uow.outbox.list(status=OutboxStatus.DEAD, limit=limit),
                *uow.outbox.list(status=OutboxStatus.PENDING, limit=limit),
                *uow.outbox.list(status=OutboxStatus.DELIVERED, limit=min(limit, RECENT_DELIVERED)),
            ]
    if as_json:
        document = {
            "counts": {s.value: counts[s] for s in OutboxStatus},
            "entries": [_entry_json(e, now) for e in entries],
        }
        typer.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    _print_tables(counts, entries, now)


@outbox_app.command("retry")
def retry(
    ctx: typer.Context,
    entry_id: Annotated[int, typer.Argument(help="The entry's id (first column of `outbox`).")],
    data_dir: DataDir = None,
    by: Annotated[
        str, typer.Option("--by", help="Who decides (for the audit trail).")
    ] = "operator",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Put a dead letter back in the queue (recorded in the audit log)."""
    now = datetime.now(UTC)
    with _uow(data_dir or ctx.obj) as uow:
        try:
            entry = retry_dead_letter(uow, entry_id, by=by, at=now)
        except (NoSuchOutboxEntry, NotADeadLetter) as exc:
            _fail(str(exc))
        uow.commit()
    if as_json:
        document = {"retried": entry_id, "message_id": entry.message_id, "to": entry.to_node}
        typer.echo(json.dumps(document, indent=2))
        return
    typer.echo(
        f"Entry {entry_id} (message {entry.message_id} to {entry.to_node}) is back in the "
        "queue; the running node sends it within seconds."
    )


def _age(entry: OutboxEntry, now: datetime) -> timedelta:
    return max(now - entry.created_at, timedelta(0))


def _entry_json(entry: OutboxEntry, now: datetime) -> dict[str, Any]:
    pending = entry.status is OutboxStatus.PENDING
    return {
        "id": entry.id,
        "message_id": entry.message_id,
        "status": entry.status.value,
        "to": entry.to_node,
        "type": entry.type.value,
        "case_id": entry.case_id,
        "attempts": entry.attempts,
        "next_attempt_at": entry.next_attempt_at.isoformat() if pending else None,
        "last_error": entry.last_error,
        "created_at": entry.created_at.isoformat(),
        "delivered_at": entry.delivered_at.isoformat() if entry.delivered_at else None,
        "age_seconds": int(_age(entry, now).total_seconds()),
    }


def _human(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 60:
        return f"{seconds}s"
    minutes, _ = divmod(seconds, 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{days}d {hours}h"
    return f"{hours}h {minutes}m" if hours else f"{minutes}m"


def _print_tables(
    counts: dict[OutboxStatus, int], entries: list[OutboxEntry], now: datetime
) -> None:
    console = Console()
    dead = counts[OutboxStatus.DEAD]
    summary = (
        f"pending {counts[OutboxStatus.PENDING]}  ·  delivered {counts[OutboxStatus.DELIVERED]}"
        f"  ·  dead {dead}"
    )
    console.print(f"[bold red]{summary}[/]" if dead else summary, highlight=False)
    for status in (OutboxStatus.DEAD, OutboxStatus.PENDING, OutboxStatus.DELIVERED):
        rows = [e for e in entries if e.status is status]
        if not rows:
            continue
        if status is OutboxStatus.DEAD:
            console.print(f"\n[bold red]{len(rows)} DEAD LETTER(S)[/] — {DEAD_HINT}")
        console.print(_table(status, rows, now))


def _table(status: OutboxStatus, rows: list[OutboxEntry], now: datetime) -> Table:
    red = status is OutboxStatus.DEAD
    table = Table(
        title=f"{status.value} ({len(rows)})",
        title_style="bold red" if red else "bold",
        style="red" if red else "",
        header_style="bold red" if red else "bold",
    )
    for column in ("id", "message id", "to", "type", "case", "attempts", "next attempt"):
        table.add_column(column, overflow="fold")
    table.add_column("last error", overflow="fold", style="red" if red else None)
    table.add_column("age")
    for e in rows:
        next_attempt = "—"
        if e.status is OutboxStatus.PENDING:
            wait = e.next_attempt_at - now
            next_attempt = "due" if wait <= timedelta(0) else f"in {_human(wait)}"
        table.add_row(
            str(e.id),
            e.message_id,
            e.to_node,
            e.type.value,
            e.case_id or "—",
            str(e.attempts),
            next_attempt,
            e.last_error or "—",
            _human(_age(e, now)),
            style="red" if red else None,
        )
    return table
