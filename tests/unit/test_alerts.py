"""Who is alerted about what (``services/alerts.py``): pure decisions, no database."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hanoi247.domain.accounts import OnCallShift, Position, Role, User
from hanoi247.domain.federation import MessageType
from hanoi247.domain.lifecycle import RequestStatus
from hanoi247.domain.notifications import (
    Notification,
    NotificationSeverity,
    Topic,
    marked_subject,
)
from hanoi247.domain.references import Direction
from hanoi247.domain.requests import Urgency
from hanoi247.domain.schedule import Deadline, DeadlineKind, DeadlineStatus
from hanoi247.domain.timeline import TimelineEvent
from hanoi247.services.alerts import (
    Staff,
    deadline_alert,
    handlers_of,
    incoming_alert,
    officers_on_duty,
    supervisors_on_duty,
)

NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
_ids = itertools.count(1)


def new_id(at: datetime) -> str:
    return f"n-{next(_ids)}"


def person(name: str, role: Role, *, active: bool = True) -> User:
    return User(
        id=f"u-{name}",
        username=name,
        display_name=name,
        email=f"{name}@desk.example",
        role=role,
        locale="en",
        timezone="UTC",
        created_at=NOW - timedelta(days=30),
        active=active,
    )


OFFICER = person("officer", Role.OFFICER)
OFFICER_2 = person("officer2", Role.OFFICER)
CHIEF = person("chief", Role.SUPERVISOR)
DEPUTY = person("deputy", Role.SUPERVISOR)
RETIRED = person("retired", Role.SUPERVISOR, active=False)
AUDITOR = person("auditor", Role.AUDITOR)
EVERYONE = (OFFICER, OFFICER_2, CHIEF, DEPUTY, RETIRED, AUDITOR)


def shift(user: User, position: Position, *, ended: bool = False) -> OnCallShift:
    start = NOW - timedelta(hours=10 if ended else 1)
    return OnCallShift(user.id, position, start, start + timedelta(hours=8))


def staff(*shifts: OnCallShift) -> Staff:
    return Staff(users=EVERYONE, shifts=shifts)


def test_the_primary_supervisor_on_duty_receives_the_escalation_not_the_backup() -> None:
    roster = staff(shift(CHIEF, Position.PRIMARY), shift(DEPUTY, Position.BACKUP))
    assert supervisors_on_duty(roster, NOW) == [CHIEF]


def test_the_backup_supervisor_receives_it_when_no_primary_supervisor_is_on_duty() -> None:
    roster = staff(
        shift(OFFICER, Position.PRIMARY),  # an officer holds the primary line
        shift(CHIEF, Position.PRIMARY, ended=True),
        shift(DEPUTY, Position.BACKUP),
    )
    assert supervisors_on_duty(roster, NOW) == [DEPUTY]


def test_with_no_supervisor_on_duty_every_active_supervisor_is_escalated_to() -> None:
    assert supervisors_on_duty(staff(shift(OFFICER, Position.PRIMARY)), NOW) == [CHIEF, DEPUTY]
    disabled = Staff(users=(OFFICER, RETIRED), shifts=(shift(RETIRED, Position.PRIMARY),))
    assert supervisors_on_duty(disabled, NOW) == []


def test_officers_on_duty_are_the_rostered_officers_then_whoever_covers_then_everyone() -> None:
    roster = staff(
        shift(OFFICER, Position.PRIMARY),
        shift(OFFICER_2, Position.BACKUP),
        shift(CHIEF, Position.PRIMARY),
    )
    assert officers_on_duty(roster, NOW) == [OFFICER, OFFICER_2]
    assert officers_on_duty(staff(shift(CHIEF, Position.PRIMARY)), NOW) == [CHIEF]
    assert officers_on_duty(staff(), NOW) == [CHIEF, DEPUTY, OFFICER, OFFICER_2]


class FakeRequest:
    """The fields of a request the decisions read."""

    def __init__(self, direction: Direction, *, actors: tuple[tuple[str, str], ...] = ()):
        self.id = "0193a0b0-0000-7000-8000-000000000001"
        self.reference = "VN-2026-000123"
        self.kind = "preservation"
        self.urgency = Urgency.URGENT
        self.requesting_state = "VN"
        self.requested_state = "FR"
        self.direction = direction
        self.created_by = OFFICER.id
        self.timeline = [
            TimelineEvent(NOW, origin, actor, "acknowledge", None, RequestStatus.ACKNOWLEDGED)
            for origin, actor in actors
        ]
        self.elements = {"summary_of_facts": "Ransomware at a hospital in Hanoi"}


def as_request(fake: FakeRequest) -> Any:
    return fake


def test_handlers_are_this_desks_active_people_in_the_timeline_by_id_or_username() -> None:
    incoming = FakeRequest(
        Direction.INCOMING,
        actors=(("VN", "vn-node"), ("FR", OFFICER_2.username), ("FR", RETIRED.id), ("VN", "x")),
    )
    assert handlers_of(as_request(incoming), staff(), "FR") == [OFFICER_2]
    outgoing = FakeRequest(Direction.OUTGOING, actors=(("VN", OFFICER.id),))
    assert handlers_of(as_request(outgoing), staff(), "VN") == [OFFICER]


def due(kind: DeadlineKind, key: str | None = None) -> Deadline:
    return Deadline(
        id=1,
        request_id="0193a0b0-0000-7000-8000-000000000001",
        reference="VN-2026-000123",
        key=key or kind.value,
        kind=kind,
        due_at=NOW,
        status=DeadlineStatus.OPEN,
        created_at=NOW - timedelta(hours=1),
    )


@pytest.mark.parametrize(
    ("kind", "direction", "tag", "topic", "to"),
    [
        (
            DeadlineKind.ACKNOWLEDGEMENT,
            Direction.INCOMING,
            "deadline:acknowledgement:escalated",
            Topic.ACKNOWLEDGEMENT_MISSED,
            [CHIEF],
        ),
        (
            DeadlineKind.ACKNOWLEDGEMENT,
            Direction.OUTGOING,
            "deadline:acknowledgement:missed_by_peer",
            None,
            [],
        ),
        (
            DeadlineKind.PRESERVATION_WARNING,
            Direction.INCOMING,
            "deadline:preservation_warning:notified",
            Topic.PRESERVATION_EXPIRING,
            [OFFICER_2],
        ),
        (
            DeadlineKind.PRESERVATION_EXPIRY,
            Direction.INCOMING,
            "deadline:preservation_expiry:escalated",
            Topic.PRESERVATION_EXPIRED,
            [OFFICER_2, CHIEF],
        ),
        (
            DeadlineKind.FOLLOW_UP_MLA,
            Direction.OUTGOING,
            "deadline:follow_up_mla:notified",
            Topic.FOLLOW_UP_MLA_DUE,
            [OFFICER],
        ),
        (
            DeadlineKind.FOLLOW_UP_MLA,
            Direction.INCOMING,
            "deadline:follow_up_mla:flagged",
            None,
            [],
        ),
        (
            DeadlineKind.EMERGENCY_RESPONSE,
            Direction.INCOMING,
            "deadline:emergency_response:escalated",
            Topic.EMERGENCY_RESPONSE_MISSED,
            [OFFICER_2, CHIEF],
        ),
        (
            DeadlineKind.EMERGENCY_RESPONSE,
            Direction.OUTGOING,
            "deadline:emergency_response:missed_by_peer",
            None,
            [],
        ),
        (
            DeadlineKind.PRESERVATION_CONFIRMATION,
            Direction.INCOMING,
            "deadline:preservation_confirmation:escalated",
            Topic.PRESERVATION_CONFIRMATION_MISSED,
            [OFFICER_2, CHIEF],
        ),
        (
            DeadlineKind.PRESERVATION_CONFIRMATION,
            Direction.OUTGOING,
            "deadline:preservation_confirmation:missed_by_peer",
            None,
            [],
        ),
    ],
)
def test_each_deadline_kind_has_its_decision(
    kind: DeadlineKind, direction: Direction, tag: str, topic: Topic | None, to: list[User]
) -> None:
    desk = "FR" if direction is Direction.INCOMING else "VN"
    request = FakeRequest(direction, actors=((desk, OFFICER_2.id),))
    if direction is Direction.OUTGOING:
        request.timeline = []  # the drafter (created_by) handles it
    roster = staff(shift(CHIEF, Position.PRIMARY), shift(DEPUTY, Position.BACKUP))
    ends = NOW + timedelta(days=7)

    alert = deadline_alert(
        due(kind),
        as_request(request),
        roster,
        at=NOW,
        state=desk,
        new_id=new_id,
        preservation_ends_at=ends,
    )

    assert alert.tag == tag
    assert alert.escalate == tag.endswith(":escalated")
    assert list(alert.recipients) == to
    if topic is None:
        assert alert.notification is None
        return
    assert alert.notification is not None
    assert alert.notification.topic is topic
    assert alert.notification.recipients == tuple(r for u in to for r in (u.id, u.email))
    own_time = (
        DeadlineKind.ACKNOWLEDGEMENT,
        DeadlineKind.PRESERVATION_EXPIRY,
        DeadlineKind.EMERGENCY_RESPONSE,
        DeadlineKind.PRESERVATION_CONFIRMATION,
    )
    named = NOW if kind in own_time else ends
    assert alert.notification.facts["due_at"] == named.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert "Ransomware" not in str(alert.notification.to_dict())


def test_a_new_request_alerts_the_officers_on_duty_with_its_urgency() -> None:
    request = FakeRequest(Direction.INCOMING)
    request.urgency = Urgency.EMERGENCY
    roster = staff(shift(OFFICER, Position.PRIMARY), shift(CHIEF, Position.BACKUP))

    alert = incoming_alert(
        MessageType.REQUEST_SUBMITTED.value,
        as_request(request),
        roster,
        at=NOW,
        state="FR",
        new_id=new_id,
        acknowledge_by=NOW + timedelta(minutes=15),
    )

    assert alert is not None
    assert alert.topic is Topic.REQUEST_RECEIVED
    assert alert.severity is NotificationSeverity.CRITICAL
    assert alert.recipients == (OFFICER.id, OFFICER.email)
    assert alert.facts["urgency"] == "emergency"
    assert alert.facts["due_at"] == "2026-11-29T10:15:00Z"


@pytest.mark.parametrize(
    ("message_type", "direction", "topic"),
    [
        (MessageType.REQUEST_ACKNOWLEDGED, Direction.OUTGOING, Topic.REQUEST_ANSWERED),
        (MessageType.PRESERVATION_CONFIRMED, Direction.OUTGOING, Topic.REQUEST_ANSWERED),
        (MessageType.REQUEST_REFUSED, Direction.OUTGOING, Topic.REQUEST_ANSWERED),
        (MessageType.REQUEST_EXECUTED, Direction.OUTGOING, Topic.REQUEST_ANSWERED),
        (MessageType.CLARIFICATION_ASKED, Direction.OUTGOING, Topic.CLARIFICATION_ASKED),
        (MessageType.REQUEST_CLOSED, Direction.OUTGOING, None),
        (MessageType.CLARIFICATION_ANSWERED, Direction.INCOMING, None),
        (MessageType.REQUEST_SUBMITTED, Direction.OUTGOING, None),
    ],
)
def test_answers_alert_the_requesting_desks_handlers(
    message_type: MessageType, direction: Direction, topic: Topic | None
) -> None:
    request = FakeRequest(direction)
    alert = incoming_alert(
        message_type.value, as_request(request), staff(), at=NOW, state="VN", new_id=new_id
    )
    if topic is None:
        assert alert is None
    else:
        assert alert is not None
        assert alert.topic is topic
        assert alert.user_ids == (OFFICER.id,)  # who drafted and sent it


def test_an_action_not_applied_raises_no_alert() -> None:
    request = FakeRequest(Direction.OUTGOING)
    request.timeline = [
        TimelineEvent(
            NOW, "FR", "fr-node", "not_applied", RequestStatus.CLOSED, RequestStatus.CLOSED
        )
    ]
    alert = incoming_alert(
        MessageType.REQUEST_EXECUTED.value,
        as_request(request),
        staff(),
        at=NOW,
        state="VN",
        new_id=new_id,
    )
    assert alert is None


@pytest.mark.parametrize(
    ("urgency", "expected"),
    [
        ("emergency", "[hanoi247] [EMERGENCY] [CRITICAL] Escalation: VN-2026-000123"),
        ("urgent", "[hanoi247] [URGENT] [CRITICAL] Escalation: VN-2026-000123"),
        ("routine", "[hanoi247] [CRITICAL] Escalation: VN-2026-000123"),
    ],
)
def test_the_subject_flags_emergency_and_urgent(urgency: str, expected: str) -> None:
    notification = Notification(
        id="n-1",
        topic=Topic.ACKNOWLEDGEMENT_MISSED,
        severity=NotificationSeverity.CRITICAL,
        created_at=NOW,
        facts={"urgency": urgency},
        reference="VN-2026-000123",
    )
    subject = "[hanoi247] [CRITICAL] Escalation: VN-2026-000123"
    assert marked_subject(notification, subject) == expected
    assert marked_subject(notification, expected) == expected  # never twice
