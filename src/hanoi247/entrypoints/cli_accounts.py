"""``hanoi247 user ...`` and ``hanoi247 oncall ...``: people, tokens and the on-call roster.

Registered on the main app in ``cli.py``. Like every command: JSON on stdout, one line
on stderr (``hanoi247: error: ...``) and a non-zero exit on error. Secrets (enrolment
code, TOTP secret, API token) are printed exactly once, when created, and never stored
in clear. ``user add`` prints an enrolment code, never a TOTP secret: the user chooses
their password and gets their secret at ``/enrol`` (or ``user enrol``/``user activate``
for a scripted set-up, run by the user themselves).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from hanoi247.domain.accounts import OnCallShift, Position, Role, User
from hanoi247.domain.errors import EnrolmentRefused, ValidationFailed
from hanoi247.entrypoints.cli_common import DataDirOption, emit, fail
from hanoi247.ports import Authenticator, UnitOfWork
from hanoi247.services import accounts, credential_reset, enrolment

user_app = typer.Typer(
    help="People of this node: add, list, disable; API tokens.", no_args_is_help=True
)
oncall_app = typer.Typer(
    help="The on-call roster of the 24/7 point of contact.", no_args_is_help=True
)


ENROLMENT_REFUSED = (
    "this enrolment code cannot be used (wrong, expired or already used) or the TOTP code "
    "is wrong; check both, or ask an administrator for a new code (hanoi247 user add)"
)
ByOption = Annotated[str, typer.Option("--by", help="Who does this (for the audit trail).")]


@contextmanager
def _node(data_dir: Path | None, *, create: bool) -> Iterator[Callable[[], UnitOfWork] | None]:
    """The node's unit-of-work factory (None when there is no node and ``create`` is off);
    ``ValidationFailed`` becomes one line naming every field."""
    from hanoi247.bootstrap import database, settings_for

    try:
        with database(settings_for(data_dir), create=create) as db:
            yield None if db is None else db.uow_factory
    except ValidationFailed as exc:
        fail("; ".join(f"{p.element}: {p.detail or p.code.value}" for p in exc.problems))


def _authenticator() -> Authenticator:
    from hanoi247.bootstrap import make_authenticator, settings_for

    return make_authenticator(settings_for(None))


def _password_from_stdin() -> str:
    password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        fail("--password-stdin: no password on standard input")
    return password


def _aware(value: str, option: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        fail(f"{option} {value!r} is not an ISO 8601 date and time")
    if moment.utcoffset() is None:
        fail(f"{option} {value!r} has no time zone; add one, e.g. 2026-12-01T08:00+07:00")
    return moment.astimezone(UTC)


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "email": user.email,
        "role": user.role.value,
        "locale": user.locale,
        "timezone": user.timezone,
        "active": user.active,
        "totp_enrolled": user.totp_enrolled,
        "locked_until": None if user.locked_until is None else user.locked_until.isoformat(),
        "created_at": user.created_at.isoformat(),
    }


def shift_json(shift: OnCallShift, user: User | None = None) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": shift.id,
        "user_id": shift.user_id,
        "position": shift.position.value,
        "starts_at": shift.starts_at.isoformat(),
        "ends_at": shift.ends_at.isoformat(),
    }
    if user is not None:
        document["username"] = user.username
        document["display_name"] = user.display_name
    return document


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="Login name: lowercase letters, digits, . _ -")],
    role: Annotated[Role, typer.Option("--role", help="What the user may do.")],
    name: Annotated[str, typer.Option("--name", help="Display name.")],
    email: Annotated[str, typer.Option("--email", help="E-mail address for notifications.")],
    locale: Annotated[str, typer.Option(help="ar, en, es, fr, ru, zh or vi.")] = "en",
    timezone: Annotated[str, typer.Option(help="IANA time zone, e.g. Asia/Ho_Chi_Minh.")] = "UTC",
    data_dir: DataDirOption = None,
    by: ByOption = "operator",
) -> None:
    """Add a user; prints their one-time enrolment code ONCE. Hand it over out of band:
    the user opens /enrol on the node's web address, chooses a password and sets up their
    authenticator app (or scripts it: `user enrol`, then `user activate`)."""
    auth = _authenticator()
    from hanoi247.bootstrap import settings_for

    ttl = settings_for(data_dir).enrolment_ttl
    with _node(data_dir, create=True) as uow_factory:
        assert uow_factory is not None  # create=True
        added = accounts.add_user(
            uow_factory(),
            auth,
            username=username,
            display_name=name,
            email=email,
            role=role,
            locale=locale,
            timezone=timezone,
            enrol_within=ttl,
            now=datetime.now(UTC),
            actor=by,
        )
    assert added.enrolment is not None
    emit(
        {
            **user_json(added.user),
            "enrolment_code": added.enrolment.code,
            "enrolment_expires_at": added.enrolment.expires_at.isoformat(),
            "enrol_path": "/enrol",
        }
    )


@user_app.command("enrol")
def user_enrol(
    code: Annotated[str, typer.Argument(help="The enrolment code printed by `user add`.")],
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the new password from standard input.")
    ] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Scripted enrolment, step 1 (what /enrol does): set the password read from standard
    input; prints the new TOTP secret and otpauth:// URI once. Then `user activate`."""
    if not password_stdin:
        fail("user enrol: give --password-stdin and the password on standard input")
    password = _password_from_stdin()
    auth = _authenticator()
    with _node(data_dir, create=True) as uow_factory:
        assert uow_factory is not None  # create=True
        try:
            started = enrolment.start_enrolment(
                uow_factory(), auth, code=code, password=password, now=datetime.now(UTC)
            )
        except EnrolmentRefused:
            fail(ENROLMENT_REFUSED)
    emit(
        {
            "username": started.user.username,
            "totp_secret": started.totp_secret,
            "totp_uri": started.totp_uri,
        }
    )


@user_app.command("activate")
def user_activate(
    code: Annotated[str, typer.Argument(help="The enrolment code printed by `user add`.")],
    totp_code: Annotated[
        str, typer.Option("--totp-code", help="A current code from the authenticator app.")
    ],
    data_dir: DataDirOption = None,
) -> None:
    """Scripted enrolment, step 2: a current TOTP code activates the account."""
    auth = _authenticator()
    with _node(data_dir, create=True) as uow_factory:
        assert uow_factory is not None  # create=True
        try:
            user = enrolment.complete_enrolment(
                uow_factory(), auth, code=code, totp_code=totp_code, now=datetime.now(UTC)
            )
        except EnrolmentRefused:
            fail(ENROLMENT_REFUSED)
    emit(user_json(user))


@user_app.command("reset")
def user_reset(
    username: Annotated[str, typer.Argument()],
    data_dir: DataDirOption = None,
    by: ByOption = "operator",
) -> None:
    """Reset a user's sign-in: clears their password and second factor, ends their web
    sessions, lifts a lockout and prints a new one-time enrolment code ONCE. Hand it over
    out of band: the user enrols again at /enrol (new password, new authenticator).
    Audited; a content role's reset is announced to the supervisors."""
    auth = _authenticator()
    from hanoi247.bootstrap import settings_for

    ttl = settings_for(data_dir).enrolment_ttl
    with _node(data_dir, create=True) as uow_factory:
        assert uow_factory is not None  # create=True
        issued = credential_reset.reset_credentials(
            uow_factory(),
            auth,
            username=username,
            now=datetime.now(UTC),
            actor=by,
            enrol_within=ttl,
        )
    emit(
        {
            "username": username,
            "enrolment_code": issued.code,
            "enrolment_expires_at": issued.expires_at.isoformat(),
            "enrol_path": "/enrol",
        }
    )


@user_app.command("token")
def user_token(
    username: Annotated[str, typer.Argument()],
    label: Annotated[str, typer.Option(help="What the token is for.")] = "api",
    data_dir: DataDirOption = None,
    by: ByOption = "operator",
) -> None:
    """Issue an API token; it is printed once and cannot be shown again."""
    auth = _authenticator()
    with _node(data_dir, create=True) as uow_factory:
        assert uow_factory is not None
        token = accounts.issue_token(
            uow_factory(), auth, username=username, label=label, now=datetime.now(UTC), actor=by
        )
    emit({"username": username, "label": label.strip(), "token": token})


@user_app.command("list")
def user_list(data_dir: DataDirOption = None) -> None:
    """Every user of the node, active or not (no secrets)."""
    with _node(data_dir, create=False) as uow_factory:
        users = [] if uow_factory is None else accounts.list_users(uow_factory())
    emit([user_json(u) for u in users])


@user_app.command("disable")
def user_disable(
    username: Annotated[str, typer.Argument()],
    data_dir: DataDirOption = None,
    by: ByOption = "operator",
) -> None:
    """Disable a user: no more logins, every API token revoked."""
    with _node(data_dir, create=True) as uow_factory:
        assert uow_factory is not None
        user = accounts.disable_user(
            uow_factory(), username=username, now=datetime.now(UTC), actor=by
        )
    emit(user_json(user))


@oncall_app.command("add")
def oncall_add(
    username: Annotated[str, typer.Argument()],
    position: Annotated[Position, typer.Option("--position")] = Position.PRIMARY,
    starts: Annotated[
        str, typer.Option("--from", help="Start, ISO 8601 with offset: 2026-12-01T08:00+07:00")
    ] = "",
    ends: Annotated[str, typer.Option("--to", help="End (exclusive), ISO 8601 with offset.")] = "",
    data_dir: DataDirOption = None,
    by: ByOption = "operator",
) -> None:
    """Put a user on the roster as primary or backup from --from to --to."""
    if not starts or not ends:
        fail("give the shift's --from and --to")
    starts_at, ends_at = _aware(starts, "--from"), _aware(ends, "--to")
    if ends_at <= starts_at:
        fail("--to must be after --from")
    with _node(data_dir, create=True) as uow_factory:
        assert uow_factory is not None
        shift = accounts.add_shift(
            uow_factory(),
            username=username,
            position=position,
            starts_at=starts_at,
            ends_at=ends_at,
            now=datetime.now(UTC),
            actor=by,
        )
    emit(shift_json(shift))


@oncall_app.command("now")
def oncall_now(
    at: Annotated[str | None, typer.Option(help="Another moment, ISO 8601 with offset.")] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Who is on duty now (or --at): primary and backup, null for a gap."""
    moment = datetime.now(UTC) if at is None else _aware(at, "--at")
    with _node(data_dir, create=False) as uow_factory:
        if uow_factory is None:
            primary = backup = None
        else:
            primary, backup = accounts.who_is_on_duty(uow_factory(), at=moment)
    emit(
        {
            "at": moment.isoformat(),
            "primary": None if primary is None else shift_json(primary.shift, primary.user),
            "backup": None if backup is None else shift_json(backup.shift, backup.user),
        }
    )
