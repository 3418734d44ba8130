"""``hanoi247 notifications``: alerts that did not reach anyone, and those still waiting.

Failed alerts come first, in red, with the channel reason codes (``email:auth_failed``,
``webhook:http_503``, ``nobody_reached``): an escalation nobody received must never go
unnoticed. ``hanoi247 notifications retry ID`` puts one back in the queue (the running
node's deadline worker sends it within its poll interval). Only routing facts are shown:
alerts never carry case content.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from hanoi247.entrypoints.cli_common import DataDirOption as DataDir
from hanoi247.entrypoints.cli_common import fail as _fail
from hanoi247.entrypoints.cli_common import node_uow as _uow
from hanoi247.entrypoints.cli_common import node_uow_factory
from hanoi247.ports.notifications import NotificationStatus, StoredNotification

notifications_app = typer.Typer(
    help="Alerts to people: failed (never silent), waiting, sent.",
    invoke_without_command=True,
)

FAILED_HINT = (
    "Fix the cause shown under 'error' (SMTP host, credentials, webhook receiver, nobody "
    "on the roster or no e-mail configured), then run `hanoi247 notifications retry ID`."
)


@notifications_app.callback()
def notifications(
    ctx: typer.Context,
    status: Annotated[
        NotificationStatus | None,
        typer.Option("--status", help="Show only this status (default: failed and pending)."),
    ] = None,
    data_dir: DataDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, help="Alerts per status.")] = 200,
) -> None:
    """Counts, then failed and pending alerts (or those of ``--status``)."""
    ctx.obj = data_dir
    if ctx.invoked_subcommand is not None:
        return
    statuses = [status] if status else [NotificationStatus.FAILED, NotificationStatus.PENDING]
    with _uow(data_dir) as uow:
        counts = uow.notifications.counts()
        shown = [s for st in statuses for s in uow.notifications.list(status=st, limit=limit)]
    if as_json:
        document = {
            "counts": {s.value: counts[s] for s in NotificationStatus},
            "notifications": [_json(s) for s in shown],
        }
        typer.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    console = Console()
    failed = counts[NotificationStatus.FAILED]
    summary = "  ·  ".join(f"{s.value} {counts[s]}" for s in NotificationStatus)
    console.print(f"[bold red]{summary}[/]" if failed else summary, highlight=False)
    for st in statuses:
        rows = [s for s in shown if s.status is st]
        if rows:
            if st is NotificationStatus.FAILED:
                console.print(f"\n[bold red]{len(rows)} FAILED ALERT(S)[/] — {FAILED_HINT}")
            console.print(_table(st, rows))


@notifications_app.command("retry")
def retry(
    ctx: typer.Context,
    notification_id: Annotated[str, typer.Argument(help="The alert's id (first column).")],
    data_dir: DataDir = None,
    by: Annotated[str, typer.Option("--by", help="Who decides (for the audit trail).")] = (
        "operator"
    ),
) -> None:
    """Put a failed alert back in the queue (recorded in the audit log)."""
    from hanoi247.bootstrap import system_clock
    from hanoi247.services.notifications import NoFailedAlert, retry_notification

    with node_uow_factory(data_dir or ctx.obj) as uow_factory:
        try:
            retry_notification(uow_factory, notification_id, by=by, clock=system_clock())
        except NoFailedAlert as error:
            _fail(str(error))
    typer.echo(f"Alert {notification_id} is back in the queue; the running node sends it soon.")


def _json(stored: StoredNotification) -> dict[str, Any]:
    n = stored.notification
    return {
        "id": n.id,
        "status": stored.status.value,
        "topic": n.topic.value,
        "severity": n.severity.value,
        "reference": n.reference,
        "created_at": n.created_at.isoformat(),
        "attempts": stored.attempts,
        "next_attempt_at": stored.next_attempt_at.isoformat(),
        "last_error": stored.last_error,
        "channels": dict(stored.channels),
        "recipients": len(n.recipients),
    }


def _table(status: NotificationStatus, rows: list[StoredNotification]) -> Table:
    red = status is NotificationStatus.FAILED
    table = Table(
        title=f"{status.value} ({len(rows)})",
        title_style="bold red" if red else "bold",
        header_style="bold red" if red else "bold",
    )
    for column in ("id", "topic", "reference", "created", "attempts", "error"):
        table.add_column(column)
    for s in rows:
        table.add_row(
            s.id,
            s.notification.topic.value,
            s.notification.reference or "",
            s.notification.created_at.strftime("%Y-%m-%d %H:%M UTC"),
            str(s.attempts),
            s.last_error,
        )
    return table
