"""The ``hanoi247`` command line.

Every error reaches the person as one line on stderr (``hanoi247: error: ...``) with a
non-zero exit code, never a traceback. JSON goes to stdout, nothing else does.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from hanoi247.domain.errors import Hanoi247Error, Severity, StatusDataError
from hanoi247.entrypoints import cli_drills  # noqa: F401  (registers drill start|schedule|list|ack)
from hanoi247.entrypoints.cli_accounts import oncall_app, user_app
from hanoi247.entrypoints.cli_audit import audit_app
from hanoi247.entrypoints.cli_backup import backup_command, restore_command
from hanoi247.entrypoints.cli_common import DataDirOption, emit, fail
from hanoi247.entrypoints.cli_conformance import conformance_app
from hanoi247.entrypoints.cli_directory import directory_app
from hanoi247.entrypoints.cli_evidence import evidence_app
from hanoi247.entrypoints.cli_node import (
    drill_app,
    init_command,
    node_app,
    peer_app,
    serve_command,
)
from hanoi247.entrypoints.cli_notifications import notifications_app
from hanoi247.entrypoints.cli_outbox import outbox_app
from hanoi247.entrypoints.cli_providers import provider_app
from hanoi247.entrypoints.cli_secrets import secrets_app
from hanoi247.entrypoints.cli_stats import stats_app
from hanoi247.entrypoints.cli_webhook import webhook_app
from hanoi247.entrypoints.demo import demo_command
from hanoi247.services.treaty import TreatyCatalogue, between_report, status_report

app = typer.Typer(
    name="hanoi247",
    help="A node of the 24/7 network of the UN Convention against Cybercrime.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
treaty_app = typer.Typer(
    help="Treaty status: who is bound, and the legal bases between two States.",
    no_args_is_help=True,
)
request_app = typer.Typer(
    help="Cooperation requests: check them before sending.", no_args_is_help=True
)
app.add_typer(treaty_app, name="treaty")
app.add_typer(request_app, name="request")
app.add_typer(user_app, name="user")
app.add_typer(oncall_app, name="oncall")
app.add_typer(outbox_app, name="outbox")
app.add_typer(notifications_app, name="notifications")
app.add_typer(node_app, name="node")
app.add_typer(peer_app, name="peer")
app.add_typer(drill_app, name="drill")
app.add_typer(directory_app, name="directory")
app.add_typer(provider_app, name="provider")
app.add_typer(evidence_app, name="evidence")
app.add_typer(conformance_app, name="conformance")
app.add_typer(audit_app, name="audit")
app.add_typer(webhook_app, name="webhook")
app.add_typer(secrets_app, name="secrets")


@app.callback()
def _global_options(
    ask_passphrase: Annotated[
        bool,
        typer.Option(
            "--ask-passphrase",
            help="The node's secret key comes from a passphrase: ask for it before the "
            "command runs (`hanoi247 --ask-passphrase user add …`).",
        ),
    ] = False,
) -> None:
    from hanoi247.process_settings import use_passphrase

    # Set on every run, empty when not asked: a passphrase given to one in-process
    # invocation (tests, an embedding program) must not key the next one.
    asked = (
        typer.prompt("Secret key passphrase", hide_input=True, err=True) if ask_passphrase else ""
    )
    use_passphrase(str(asked))


app.add_typer(stats_app, name="stats")
app.command("init")(init_command)
app.command("serve")(serve_command)
app.command("demo")(demo_command)
app.command("backup")(backup_command)
app.command("restore")(restore_command)


def parse_day(value: str | None, option: str = "--on") -> date:
    if value is None:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r} is not a date; use YYYY-MM-DD")


def _actions_for(
    catalogue: TreatyCatalogue, status_file: Path | None, data_dir: Path | None
) -> list[Any]:
    """--status FILE, else the node's imported status, else the packaged snapshot."""
    if status_file is not None:
        return list(catalogue.read_status_file(status_file).actions)
    from hanoi247.bootstrap import database, settings_for
    from hanoi247.services.treaty_status import imported_treaty_actions

    with database(settings_for(data_dir), create=False) as db:
        stored = None if db is None else imported_treaty_actions(db.uow_factory)
    if stored is not None:
        actions, record = stored
        if record.hypothetical:
            # stdout keeps the documented JSON; the warning goes where a person reads it.
            typer.echo(
                f"hanoi247: warning: the node's treaty status ({record.source}) is HYPOTHETICAL "
                "— a demonstration, not the depositary record",
                err=True,
            )
        return actions
    return list(catalogue.packaged_status().actions)


@treaty_app.command("status")
def treaty_status(
    instrument: Annotated[str, typer.Option(help="Rule file id: uncc or budapest.")] = "uncc",
    on: Annotated[
        str | None, typer.Option(help="Date to answer for, YYYY-MM-DD (default: today, UTC).")
    ] = None,
    status: Annotated[
        Path | None,
        typer.Option("--status", help="A depositary-status CSV to use instead of the node's."),
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Counted instruments, entry into force, and the parties bound on a date."""
    catalogue = TreatyCatalogue.packaged()
    day = parse_day(on)
    emit(status_report(catalogue, instrument, _actions_for(catalogue, status, data_dir), on=day))


@treaty_app.command("between")
def treaty_between(
    a: Annotated[str, typer.Argument(help="ISO 3166 alpha-2 code, e.g. VN")],
    b: Annotated[str, typer.Argument(help="ISO 3166 alpha-2 code, e.g. FR")],
    on: Annotated[str | None, typer.Option(help="Date, YYYY-MM-DD (default: today, UTC).")] = None,
    status: Annotated[
        Path | None,
        typer.Option("--status", help="A depositary-status CSV to use instead of the node's."),
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Every instrument in force between two participants on a date (empty list: none)."""
    catalogue = TreatyCatalogue.packaged()
    day = parse_day(on)
    emit(between_report(catalogue, a, b, _actions_for(catalogue, status, data_dir), on=day))


@treaty_app.command("import")
def treaty_import(
    file: Annotated[
        Path,
        typer.Argument(
            help="Depositary-status CSV: participant_iso2,instrument,action,date[,source][,note]"
        ),
    ],
    data_dir: DataDirOption = None,
    by: Annotated[
        str, typer.Option("--by", help="Who imports (for the audit trail).")
    ] = "operator",
) -> None:
    """Store a depositary-status file in the node, replacing the previous one: all rows or none."""
    from hanoi247.bootstrap import database, settings_for, system_clock
    from hanoi247.services.treaty_status import import_treaty_status

    catalogue = TreatyCatalogue.packaged()
    parsed = catalogue.read_status_file(file)
    with database(settings_for(data_dir), create=True) as db:
        if db is None:
            fail(f"cannot create the node database in {settings_for(data_dir).data_dir}")
        count = import_treaty_status(db.uow_factory, parsed, imported_by=by, clock=system_clock())
    emit(
        {
            "imported": count,
            "source": str(file),
            "as_of": parsed.as_of.isoformat() if parsed.as_of else None,
        }
    )


@request_app.command("validate")
def request_validate(
    file: Annotated[Path, typer.Argument(help="A request as JSON (see docs/requests.md).")],
    instrument: Annotated[
        str, typer.Option(help="Rule file whose required elements apply.")
    ] = "uncc",
) -> None:
    """Exit 0 when complete (warnings listed); 1 with the list of problems; 2 when unreadable."""
    from hanoi247.domain.requests import validate

    try:
        raw = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        fail(f"{file}: no such file")
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{file}: cannot be read as UTF-8 text ({exc.__class__.__name__})")
    try:
        payload = json.loads(raw)
    except json.JSONDecodeError as exc:
        fail(f"{file}:{exc.lineno}: column {exc.colno}: not valid JSON ({exc.msg})")
    if not isinstance(payload, dict):
        fail(f"{file}:1: the request must be a JSON object, not {type(payload).__name__}")
    catalogue = TreatyCatalogue.packaged()
    problems = validate(
        payload,
        instrument=catalogue.instrument(instrument),
        states=set(catalogue.states),
        now=datetime.now(UTC),
        reios={code for code, reio in catalogue.is_reio.items() if reio},
    )
    emit(
        [
            {
                "element": p.element,
                "article": p.article,
                "code": p.code.value,
                "severity": p.severity.value,
                "message": p.detail,
            }
            for p in problems
        ]
    )
    if any(p.severity is Severity.ERROR for p in problems):
        raise typer.Exit(1)


def main(argv: list[str] | None = None) -> None:
    try:
        app(args=argv, prog_name="hanoi247", standalone_mode=True)
    except Hanoi247Error as exc:
        typer.echo(f"hanoi247: error: {_one_line(exc)}", err=True)
        sys.exit(2)


def _one_line(exc: Hanoi247Error) -> str:
    if isinstance(exc, StatusDataError) and exc.line == 0:
        return f"{exc.source}: {exc.reason}"
    return " ".join(str(exc).split())
