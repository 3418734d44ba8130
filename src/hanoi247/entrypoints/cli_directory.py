"""``hanoi247 directory``: the contact points of each State (Art. 41 24/7 point of contact,
Art. 40 central authority), kept current instead of circulating twice a year.

``set`` adds or replaces one State's contact point of one kind, ``verify`` records that
it was checked today, ``list`` shows them all with a STALE flag past 180 days. Every
change writes an audit entry in the same transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from hanoi247.domain.directory import (
    STALE_AFTER_DAYS,
    ContactKind,
    ContactPoint,
    dual_criminality_word,
    parse_dual_criminality,
)
from hanoi247.entrypoints.cli_common import DataDirOption as DataDir
from hanoi247.entrypoints.cli_common import fail as _fail
from hanoi247.ports import Clock, UnitOfWork

directory_app = typer.Typer(
    help="Contact points of each State: 24/7 point of contact, central authority.",
    no_args_is_help=True,
)


By = Annotated[str, typer.Option("--by", help="Who does this (for the audit trail).")]
Kind = Annotated[ContactKind, typer.Option("--kind", help="Which contact point.")]


@contextmanager
def _uow_factory(
    data_dir: Path | None, *, create: bool
) -> Iterator[Callable[[], UnitOfWork] | None]:
    from hanoi247.bootstrap import database, settings_for

    with database(settings_for(data_dir), create=create) as db:
        yield None if db is None else db.uow_factory


def system_clock() -> Clock:
    from hanoi247.bootstrap import system_clock as clock

    return clock()


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _day(value: str | None, option: str) -> date:
    if value is None:
        return system_clock().now().date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        _fail(f"{option}: expected a date YYYY-MM-DD, got {value!r}")


def point_json(point: ContactPoint, today: date) -> dict[str, Any]:
    return {
        "state": point.state,
        "kind": point.kind.value,
        "article": point.basis.article,
        "article_confirmed": point.basis.confirmed,
        "agency": point.agency,
        "phones": list(point.phones),
        "emails": list(point.emails),
        "languages": list(point.languages),
        "channels": list(point.channels),
        "requires_dual_criminality": point.requires_dual_criminality,
        "notes": point.notes,
        "node_id": point.node_id,
        "last_verified": point.last_verified.isoformat(),
        "verified_by": point.verified_by,
        "stale": point.is_stale(today),
        "hours": point.hours,
        "emergency_channel": point.emergency_channel,
    }


@directory_app.command("set")
def directory_set(
    state: Annotated[str, typer.Argument(help="The State, ISO alpha-2 (FR, VN).")],
    kind: Kind = ContactKind.POINT_OF_CONTACT_24_7,
    agency: Annotated[str, typer.Option("--agency", help="The designated agency.")] = "",
    phone: Annotated[
        list[str] | None, typer.Option("--phone", help="A phone number (repeat for more).")
    ] = None,
    email: Annotated[
        list[str] | None, typer.Option("--email", help="An e-mail address (repeat for more).")
    ] = None,
    languages: Annotated[
        str, typer.Option("--languages", help="Accepted languages, ISO 639-1: fr,en.")
    ] = "",
    channels: Annotated[
        str, typer.Option("--channels", help="Channels: hanoi247,phone,email,fax.")
    ] = "",
    dual_criminality: Annotated[
        str, typer.Option("--dual-criminality", help="yes, no or unknown.")
    ] = "unknown",
    notes: Annotated[str, typer.Option("--notes", help="Anything an officer should know.")] = "",
    node_id: Annotated[
        str | None, typer.Option("--node-id", help="The pinned peer node serving it.")
    ] = None,
    verified_on: Annotated[
        str | None, typer.Option("--verified-on", help="When it was checked (default today).")
    ] = None,
    hours: Annotated[
        str, typer.Option("--hours", help="When it answers: 24/7, Mon-Fri 08:00-18:00 UTC+1.")
    ] = "",
    emergency_channel: Annotated[
        str, typer.Option("--emergency-channel", help="How to reach it at once (a phone...).")
    ] = "",
    data_dir: DataDir = None,
    by: By = "operator",
) -> None:
    """Add or replace the contact point of STATE of --kind."""
    try:
        point = ContactPoint(
            state=state.strip().upper(),
            kind=kind,
            agency=agency.strip(),
            phones=tuple(p.strip() for p in phone or () if p.strip()),
            emails=tuple(e.strip() for e in email or () if e.strip()),
            languages=tuple(code.lower() for code in _split(languages)),
            channels=tuple(c.lower() for c in _split(channels)),
            requires_dual_criminality=parse_dual_criminality(dual_criminality),
            notes=notes.strip(),
            node_id=node_id or None,
            last_verified=_day(verified_on, "--verified-on"),
            verified_by=by,
            hours=hours.strip(),
            emergency_channel=emergency_channel.strip(),
        )
    except ValueError as error:
        _fail(str(error))
    from hanoi247.services.directory import set_contact_point

    clock = system_clock()
    with _uow_factory(data_dir, create=True) as uow_factory:
        assert uow_factory is not None  # create=True
        set_contact_point(uow_factory, point, by=by, clock=clock)
    now = clock.now()
    typer.echo(json.dumps(point_json(point, now.date()), ensure_ascii=False, indent=2))


@directory_app.command("verify")
def directory_verify(
    state: Annotated[
        str, typer.Argument(help="The State (ISO alpha-2), or with --channel a peer's node id.")
    ],
    kind: Kind = ContactKind.POINT_OF_CONTACT_24_7,
    channel: Annotated[
        str | None,
        typer.Option("--channel", help="phone or in_person: record a check of the PEER's entry."),
    ] = None,
    data_dir: DataDir = None,
    by: By = "operator",
) -> None:
    """Record that the contact point of STATE was checked today; with --channel, that the
    directory entry of the pinned peer STATE (a node id) was checked now, by that channel."""
    from hanoi247.services.directory import NoContactPoint, verify_contact_point, verify_peer

    if channel is not None:
        if channel not in ("phone", "in_person"):
            _fail(f"--channel: phone or in_person, not {channel!r}")
        with _uow_factory(data_dir, create=False) as uow_factory:
            if uow_factory is None:
                _fail("no node database here; run `hanoi247 init` first")
            with uow_factory() as uow:
                check = verify_peer(
                    uow, state.strip(), channel=channel, by=by, at=system_clock().now()
                )
                uow.commit()
        document = {"node_id": check.node_id, "verified_at": check.at.isoformat()}
        document |= {"verified_by": check.by, "channel": check.channel}
        typer.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return

    clock = system_clock()
    code = state.strip().upper()
    with _uow_factory(data_dir, create=False) as uow_factory:
        if uow_factory is None:
            _fail(f"no {kind.value} for {code}: the directory is empty")
        try:
            point = verify_contact_point(uow_factory, code, kind, by=by, clock=clock)
        except NoContactPoint as error:
            _fail(str(error))
    now = clock.now()
    typer.echo(json.dumps(point_json(point, now.date()), ensure_ascii=False, indent=2))


@directory_app.command("list")
def directory_list(
    data_dir: DataDir = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")] = False,
) -> None:
    """Every contact point, by State; STALE when last verified over 180 days ago."""
    today = system_clock().now().date()
    with _uow_factory(data_dir, create=False) as uow_factory:
        if uow_factory is None:
            points = []
        else:
            with uow_factory() as uow:
                points = uow.contact_points.list()
    if as_json:
        document = {"contact_points": [point_json(p, today) for p in points]}
        typer.echo(json.dumps(document, ensure_ascii=False, indent=2))
        return
    if not points:
        typer.echo("No contact point yet: add one with `hanoi247 directory set STATE ...`.")
        return
    for p in points:
        flag = f"  STALE (over {STALE_AFTER_DAYS} days)" if p.is_stale(today) else ""
        typer.echo(f"{p.state}  {p.kind.value}  {p.agency}")
        typer.echo(
            f"    phones: {', '.join(p.phones) or '-'}  e-mails: {', '.join(p.emails) or '-'}"
        )
        languages, channels = ",".join(p.languages) or "-", ",".join(p.channels) or "-"
        dual = dual_criminality_word(p.requires_dual_criminality)
        typer.echo(f"    languages: {languages}  channels: {channels}  dual criminality: {dual}")
        typer.echo(f"    last verified: {p.last_verified.isoformat()} by {p.verified_by}{flag}")


@directory_app.command("publish")
def directory_publish(data_dir: DataDir = None, by: By = "operator") -> None:
    """Send this node's own contact points, signed, to every active peer (directory.card):
    their directories take them from this message only, or from an audited local edit."""
    from hanoi247.adapters.federation.node import read_identity
    from hanoi247.bootstrap import settings_for
    from hanoi247.services.directory_card import publish_card

    state = read_identity(settings_for(data_dir).data_dir).state  # the keys are not needed
    with _uow_factory(data_dir, create=False) as uow_factory:
        if uow_factory is None:
            _fail("no node database here; run `hanoi247 init` first")
        with uow_factory() as uow:
            told = publish_card(uow, state=state, by=by, at=system_clock().now())
            uow.commit()
    if not told:
        _fail(
            f"nothing sent: add {state}'s contact points first (`hanoi247 directory set {state}`)"
        )
    typer.echo(json.dumps({"state": state, "sent_to": told}, indent=2))
