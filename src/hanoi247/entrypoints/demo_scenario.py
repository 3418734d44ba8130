"""What ``hanoi247 demo`` puts in its three nodes: the hypothetical treaty status, the people,
their roster, and a scenario seeded through the request workflow.

Everything here is invented: people, e-mail addresses (``example.net``), IP addresses (the
documentation ranges 203.0.113.0/24 and 198.51.100.0/24, RFC 5737), domains, and above all
the treaty status (``data/demo_treaty_status.csv``, marked ``# hypothetical: true`` so that
every view of a demo node says so). Times in the requests are relative to now, so a request
seeded today never names a time in the future.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from importlib import resources
from zoneinfo import ZoneInfo

from hanoi247.bootstrap import Database, NodeRuntime, build_runtime, system_clock
from hanoi247.domain.accounts import Position, Role
from hanoi247.domain.commands import AcknowledgeRequest, DraftRequest, SendRequest
from hanoi247.domain.cooperation import CooperationRequest
from hanoi247.domain.depositary import StatusFile
from hanoi247.domain.errors import ConfigurationError
from hanoi247.domain.lifecycle import RequestStatus
from hanoi247.domain.references import Direction
from hanoi247.domain.treaty import in_force_between
from hanoi247.entrypoints.demo import Login, NodeLogins
from hanoi247.entrypoints.demo_drills import seed_drills
from hanoi247.entrypoints.demo_history import seed_demo_history
from hanoi247.entrypoints.localnet import NodeSpec, ProvisionedNode
from hanoi247.ports import Authenticator
from hanoi247.services.accounts import add_shift, add_user, issue_token, who_is_on_duty
from hanoi247.services.federation import send_drill_ping
from hanoi247.services.treaty import TreatyCatalogue
from hanoi247.services.treaty_status import import_treaty_status

DEMO_STATUS = "demo_treaty_status.csv"
ACTOR = "demo"  # who the audit trail says set the demo up
ROSTER = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class Person:
    username: str
    display_name: str
    locale: str

    @property
    def email(self) -> str:
        return f"{self.username}@example.net"


@dataclass(frozen=True, slots=True)
class DemoState:
    spec: NodeSpec
    timezone: str
    officer: Person
    supervisor: Person
    central_authority: Person  # MLA goes central authority to central authority (Art. 40)


DEMO_STATES = (
    DemoState(
        NodeSpec("VN", "Viet Nam 24/7 point of contact (demo)", "vn-demo"),
        "Asia/Ho_Chi_Minh",
        Person("vn.officer", "Nguyen Van An", "en"),
        Person("vn.supervisor", "Tran Thi Binh", "vi"),
        Person("vn.central", "Le Van Cuong", "vi"),
    ),
    DemoState(
        NodeSpec("FR", "France 24/7 point of contact (demo)", "fr-demo"),
        "Europe/Paris",
        Person("fr.officer", "Claire Martin", "en"),
        Person("fr.supervisor", "Julien Moreau", "fr"),
        Person("fr.central", "Sophie Bernard", "fr"),
    ),
    DemoState(
        NodeSpec("DZ", "Algeria 24/7 point of contact (demo)", "dz-demo"),
        "Africa/Algiers",
        Person("dz.officer", "Amina Benali", "en"),
        Person("dz.supervisor", "Karim Haddad", "ar"),
        Person("dz.central", "Nadia Bouzid", "ar"),
    ),
)


# -- the hypothetical treaty status ---------------------------------------------------------


def demo_status(catalogue: TreatyCatalogue) -> StatusFile:
    text = resources.files("hanoi247.data").joinpath(DEMO_STATUS).read_text(encoding="utf-8")
    parsed = catalogue.parse_status(text, source=DEMO_STATUS)
    if not parsed.hypothetical:
        raise ConfigurationError(f"{DEMO_STATUS} must be marked '# hypothetical: true'")
    return parsed


def require_in_force(catalogue: TreatyCatalogue, status: StatusFile, on: date) -> date:
    """The day since which the demo status binds all three demo States, or a clear error."""
    states = [d.spec.state for d in DEMO_STATES]
    uncc = catalogue.instrument("uncc")
    since: list[date] = []
    for a, b in zip(states, states[1:] + states[:1], strict=True):
        day = in_force_between(uncc, status.actions, a, b, on=on, is_reio=catalogue.is_reio)
        if day is None:
            raise ConfigurationError(
                f"in {DEMO_STATUS} the Convention is not in force between {a} and {b} on "
                f"{on.isoformat()} (check the system date)"
            )
        since.append(day)
    return max(since)


def ensure_hypothetical_status(node: ProvisionedNode, db: Database, status: StatusFile) -> None:
    """Import the demo status unless the node already holds a hypothetical one."""
    with db.uow_factory() as uow:
        last = uow.treaty_actions.last_import()
    if last is None or not last.hypothetical:
        import_treaty_status(db.uow_factory, status, imported_by=ACTOR, clock=system_clock())


# -- people, tokens and the roster ------------------------------------------------------------


def new_password() -> str:
    return secrets.token_urlsafe(12)  # 16 characters, 96 random bits


def add_people(
    node: ProvisionedNode, demo: DemoState, db: Database, auth: Authenticator, *, now: datetime
) -> NodeLogins:
    """The officer, the supervisor and the central authority (passwords and TOTP), the
    officer's API token."""
    logins: dict[Role, Login] = {}
    for role, person in (
        (Role.OFFICER, demo.officer),
        (Role.SUPERVISOR, demo.supervisor),
        (Role.CENTRAL_AUTHORITY, demo.central_authority),
    ):
        password = new_password()
        added = add_user(
            db.uow_factory(),
            auth,
            username=person.username,
            display_name=person.display_name,
            email=person.email,
            role=role,
            now=now,
            actor=ACTOR,
            locale=person.locale,
            timezone=demo.timezone,
            password=password,
            totp=True,
        )
        assert added.totp_secret is not None  # totp=True
        logins[role] = Login(person.username, password, added.totp_secret)
    token = issue_token(
        db.uow_factory(), auth, username=demo.officer.username, label="demo", now=now, actor=ACTOR
    )
    return NodeLogins(
        state=demo.spec.state,
        url=node.url,
        api_token=token,
        officer=logins[Role.OFFICER],
        supervisor=logins[Role.SUPERVISOR],
        central_authority=logins[Role.CENTRAL_AUTHORITY],
    )


def ensure_roster(demo: DemoState, db: Database, *, now: datetime) -> None:
    """Officer primary, supervisor backup, for the next 30 days (again once that runs out)."""
    primary, backup = who_is_on_duty(db.uow_factory(), at=now + ROSTER - timedelta(days=1))
    for person, position, on_duty in (
        (demo.officer, Position.PRIMARY, primary),
        (demo.supervisor, Position.BACKUP, backup),
    ):
        if on_duty is None:
            add_shift(
                db.uow_factory(),
                username=person.username,
                position=position,
                starts_at=now,
                ends_at=now + ROSTER,
                now=now,
                actor=ACTOR,
            )


# -- the scenario ---------------------------------------------------------------------------


def _minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def _long_date(moment: datetime) -> str:
    return f"{moment.day} {moment:%B %Y}"


def preservation_payload(now: datetime) -> dict[str, object]:
    """VN → FR, urgent (Art. 42): ransomware against a hospital in Hanoi, servers in France."""
    hanoi = ZoneInfo("Asia/Ho_Chi_Minh")
    attack = _minute(now - timedelta(hours=22)).astimezone(hanoi)
    copied = attack - timedelta(minutes=71, seconds=22)
    return {
        "kind": "preservation",
        "to": "FR",
        "urgency": "urgent",
        "language": "en",
        "handling": {
            "confidential": True,
            "use_limited_to": "Criminal investigation VN-HN-DEMO-4411",
            "no_onward_transfer": True,
        },
        "requesting_authority": (
            "Viet Nam 24/7 point of contact (demo), cybercrime unit, Hanoi. Officer in charge: "
            "Nguyen Van An, vn.officer@example.net (UTC+07:00)."
        ),
        "offence": 10,
        "summary_of_facts": (
            f"On {_long_date(attack)} ransomware encrypted the patient records and scheduling "
            "systems of a public hospital in Hanoi; emergency admissions were diverted. The "
            "attackers demand payment through the site payments.example.net. The malware was "
            "controlled from a server at 203.0.113.7; about 40 GB were copied out to "
            "198.51.100.23 before encryption (interference with electronic data and with an "
            "ICT system, Arts 9 and 10)."
        ),
        "data_to_preserve": (
            "For the servers at 203.0.113.7 and 198.51.100.23, for the ten days up to the "
            "attack: subscriber and payment information of the customer renting them, "
            "connection and administration logs (source addresses and ports, times), and a "
            "copy of the virtual machine disks and backups."
        ),
        "relationship_to_offence": (
            f"203.0.113.7 sent the encryption commands to the hospital's systems at "
            f"{attack.isoformat()}; 198.51.100.23 received the copied records. The logs and "
            "disks identify who controlled the attack and hold the stolen patient data."
        ),
        "custodian_or_location": (
            "Both addresses are allocated to Example Hosting SAS, a hosting provider in France "
            "(the command-and-control server is a virtual server rented from it)."
        ),
        "necessity": (
            "Rented virtual servers are usually deleted by their customer within days of an "
            "attack, and the provider keeps connection logs for a short time only."
        ),
        "mla_follow_up_intended": True,
        "identifiers": [
            {"type": "ip", "value": "203.0.113.7", "timestamp": attack.isoformat()},
            {"type": "ip", "value": "198.51.100.23", "timestamp": copied.isoformat(), "port": 443},
            {"type": "domain", "value": "payments.example.net"},
        ],
        "date_range": {
            "from": (attack.date() - timedelta(days=9)).isoformat(),
            "to": attack.date().isoformat(),
        },
    }


def emergency_payload(now: datetime) -> dict[str, object]:
    """DZ → FR, emergency (Art. 41 (e)): a missing child and an account on a French service."""
    algiers = ZoneInfo("Africa/Algiers")
    local_now = _minute(now).astimezone(algiers)
    return {
        "kind": "emergency_disclosure",
        "to": "FR",
        "urgency": "emergency",
        "language": "en",
        "handling": {"confidential": True, "no_onward_transfer": True},
        "requesting_authority": (
            "Algeria 24/7 point of contact (demo), Algiers. Officer on duty: Amina Benali, "
            "dz.officer@example.net, answered now (UTC+01:00)."
        ),
        "offence": 15,
        "summary_of_facts": (
            "A 14-year-old girl in Oran left home this afternoon to meet an adult she had been "
            "talking to for three weeks through the account 'sun.gate' on the messaging service "
            "chat.example.net, operated from France. The messages, found on the family "
            "computer, show the adult persuading her to meet in secret."
        ),
        "imminent_risk": (
            "She has not come back, her phone has been off for four hours, and the last "
            "messages from 'sun.gate' announce a sexual assault; her whereabouts are unknown."
        ),
        "link_to_data": (
            "The subscriber details and recent connection addresses of 'sun.gate' will let the "
            "police identify and find the adult, and so the child, tonight."
        ),
        "data_sought": (
            "Subscriber information (name, e-mail, phone) and the connection addresses with "
            "times of the last 24 hours for the account 'sun.gate' on chat.example.net."
        ),
        "identifiers": [
            {"type": "account", "value": "sun.gate", "service": "chat.example.net"},
        ],
        "date_range": {
            "from": (local_now - timedelta(hours=24)).isoformat(),
            "to": local_now.isoformat(),
        },
    }


@dataclass(frozen=True, slots=True)
class Seeded:
    preservation: str  # references, as the desks show them
    emergency: str
    drill_ping: str | None  # None: the scenario was already there (a re-used directory)
    acknowledged: bool
    fresh: bool


def _wait(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def _get(runtime: NodeRuntime, request_id: str) -> CooperationRequest | None:
    with runtime.uow_factory() as uow:
        return uow.requests.get(request_id)


def _first_sent(runtime: NodeRuntime) -> CooperationRequest | None:
    with runtime.uow_factory() as uow:
        sent = uow.requests.list(direction=Direction.OUTGOING, limit=1)
    return sent[0] if sent else None


def _draft_and_send(runtime: NodeRuntime, officer_id: str, payload: Mapping[str, object]) -> str:
    draft = runtime.handle(DraftRequest(by=officer_id, payload=payload, instrument="uncc"))
    runtime.handle(SendRequest(by=officer_id, request_id=draft.request_id))
    return draft.request_id


def seed(
    nodes: Mapping[str, ProvisionedNode], environ: Mapping[str, str], *, timeout: float = 60.0
) -> Seeded:
    """Seed the scenario through the running nodes (their senders deliver what is queued).

    VN sends FR an urgent preservation request and DZ an emergency disclosure request;
    FR's officer acknowledges the preservation, so its timeline shows both desks; VN sends
    DZ a drill ping. What a re-used directory already holds is not sent again.
    """
    runtimes = {s: build_runtime(n.settings(environ)) for s, n in nodes.items()}
    try:
        vn, fr, dz = runtimes["VN"], runtimes["FR"], runtimes["DZ"]
        ids = {state: _officer_id(runtimes[state], state) for state in ("VN", "FR", "DZ")}
        now = datetime.now(UTC)
        earlier, earlier_dz = _first_sent(vn), _first_sent(dz)
        preservation = (
            earlier.id if earlier else _draft_and_send(vn, ids["VN"], preservation_payload(now))
        )
        emergency = (
            earlier_dz.id if earlier_dz else _draft_and_send(dz, ids["DZ"], emergency_payload(now))
        )
        ping = None
        if earlier is None:
            with vn.uow_factory() as uow:
                ping = send_drill_ping(
                    uow, to_node=nodes["DZ"].spec.node_id, at=now, actor=ids["VN"], note="demo"
                )
                uow.commit()
            seed_demo_history(runtimes, nodes, now)  # a year of closed requests: statistics
        if _wait(lambda: _get(fr, preservation) is not None, timeout):
            held = _get(fr, preservation)
            if held is not None and held.status is RequestStatus.RECEIVED:
                note = "Taken up by the French desk; the hosting provider is asked to preserve."
                fr.handle(AcknowledgeRequest(by=ids["FR"], request_id=preservation, note=note))
        acknowledged = _wait(lambda: _acknowledged(vn, preservation), timeout)
        _wait(lambda: _get(fr, emergency) is not None, timeout)
        for state, runtime in runtimes.items():  # a year of drills for the directory
            with runtime.uow_factory() as uow:
                seed_drills(uow, node_state=state, now=now)
                uow.commit()
        return Seeded(
            _reference(vn, preservation),
            _reference(dz, emergency),
            ping,
            acknowledged,
            fresh=earlier is None,
        )
    finally:
        for runtime in runtimes.values():
            runtime.close()


def _acknowledged(runtime: NodeRuntime, request_id: str) -> bool:
    request = _get(runtime, request_id)
    return request is not None and request.acknowledged_at is not None


def _officer_id(runtime: NodeRuntime, state: str) -> str:
    demo = next(d for d in DEMO_STATES if d.spec.state == state)
    with runtime.uow_factory() as uow:
        user = uow.users.by_username(demo.officer.username)
    if user is None:
        raise ConfigurationError(f"the {state} node has no user {demo.officer.username!r}")
    return user.id


def _reference(runtime: NodeRuntime, request_id: str) -> str:
    request = _get(runtime, request_id)
    return request.reference if request is not None else request_id
