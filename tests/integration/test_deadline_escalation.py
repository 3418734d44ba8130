"""Deadline clocks and escalation on real nodes (SQLite), with a real SMTP server
(aiosmtpd), a real webhook receiver (``http.server``) and the in-app hub.

Node A (VN) sends; node B (FR) receives and must acknowledge. Time moves with a
``FakeClock``; every wait is bounded (the servers run in threads).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from alert_support import (
    HookSink,
    MailSink,
    add_person,
    add_shift,
    alert_node,
    alert_settings,
    assert_no_case_content,
    deliver,
    import_basis,
    mail_server,
    webhook_server,
)
from fakes import FakeClock
from federation_helpers import InProcessNode, pin_each_other, run
from hanoi247.adapters.clocks_worker import DeadlineWorker
from hanoi247.adapters.crypto.public_keys import import_public_key
from hanoi247.adapters.notify.delivery import NotificationDelivery
from hanoi247.adapters.notify.webhook import verify_webhook
from hanoi247.domain import commands as c
from hanoi247.domain.accounts import Position, Role, User
from hanoi247.domain.notifications import DeliveryResult, Notification
from hanoi247.domain.schedule import DeadlineStatus
from hanoi247.ports.notifications import NotificationStatus
from hanoi247.services.escalation import check_due_deadlines
from workflow_harness import EMERGENCY, PRESERVATION, START


@dataclass
class Desk:
    clock: FakeClock
    a: InProcessNode
    b: InProcessNode
    mail: MailSink
    hooks: HookSink
    people: dict[str, User]

    def round(self, node: InProcessNode) -> Any:
        worker = node.runtime.deadlines
        assert worker is not None
        return run(worker.run_once(), timeout=20)

    def later(self, **delta: float) -> None:
        self.clock.advance(timedelta(**delta))


def send(desk: Desk, payload: dict[str, Any]) -> str:
    by = desk.people["vn.officer"].id
    request_id = desk.a.runtime.handle(c.DraftRequest(payload=payload, by=by)).request_id
    desk.a.runtime.handle(c.SendRequest(request_id=request_id, by=by))
    assert deliver(desk.a, desk.b) == 1
    return request_id


def reference_of(node: InProcessNode, request_id: str) -> str:
    with node.runtime.uow_factory() as uow:
        request = uow.requests.get(request_id)
        assert request is not None
        return request.reference


def deadline(node: InProcessNode, request_id: str, key: str) -> Any:
    with node.runtime.uow_factory() as uow:
        return next(d for d in uow.deadlines.for_request(request_id) if d.key == key)


def audit_tags(node: InProcessNode, prefix: str = "deadline:") -> list[str]:
    with node.runtime.uow_factory() as uow:
        return [e.tag for e in uow.audit.entries() if e.tag.startswith(prefix)]


@pytest.fixture
def desk(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Desk]:
    """A and B pinned; B's roster: officer primary, chief (supervisor) primary unless the
    fixture is parametrized with "no primary supervisor", deputy (supervisor) backup. B's
    database is PostgreSQL when parametrized with "postgresql", else SQLite."""
    option = getattr(request, "param", "")
    b_env: dict[str, str] = {}
    if option == "postgresql":
        factory = request.getfixturevalue("database_factory")
        b_env["HANOI247_DATABASE_URL"] = factory("postgresql", migrated=False)
    clock = FakeClock(START)
    with mail_server() as mail, webhook_server() as hooks:
        a = alert_node(
            tmp_path / "a",
            node_id="vn-a05",
            state="VN",
            clock=clock,
            settings=alert_settings(tmp_path, smtp_port=mail.port),
        )
        b = alert_node(
            tmp_path / "b",
            node_id="fr-oclctic",
            state="FR",
            clock=clock,
            settings=alert_settings(tmp_path, smtp_port=mail.port, webhook_url=hooks.url, **b_env),
        )
        try:
            pin_each_other(a, b)
            import_basis(a)
            import_basis(b)  # the requested node re-checks the basis on its own status
            people = {
                "vn.officer": add_person(a, "vn.officer", Role.OFFICER, "duty@mps.vn.example"),
                "vn.chief": add_person(a, "vn.chief", Role.SUPERVISOR, "chief@mps.vn.example"),
                "fr.officer": add_person(b, "fr.officer", Role.OFFICER, "duty@ocl.fr.example"),
                "fr.chief": add_person(b, "fr.chief", Role.SUPERVISOR, "chief@ocl.fr.example"),
                "fr.deputy": add_person(b, "fr.deputy", Role.SUPERVISOR, "deputy@ocl.fr.example"),
            }
            add_shift(a, people["vn.officer"], Position.PRIMARY)
            add_shift(a, people["vn.chief"], Position.PRIMARY)
            add_shift(b, people["fr.officer"], Position.PRIMARY)
            if option != "no primary supervisor":
                add_shift(b, people["fr.chief"], Position.PRIMARY)
            add_shift(b, people["fr.deputy"], Position.BACKUP)
            yield Desk(clock, a, b, mail, hooks, people)
        finally:
            a.close()
            b.close()


def test_urgent_request_escalates_at_60_minutes_to_the_primary_supervisor_exactly_once(
    desk: Desk,
) -> None:
    request_id = send(desk, PRESERVATION)  # urgent
    reference = reference_of(desk.b, request_id)
    chief, deputy = desk.people["fr.chief"], desk.people["fr.deputy"]
    hub = desk.b.runtime.hub
    assert hub is not None
    subscription = hub.subscribe(chief.id)

    desk.later(minutes=59)
    report = desk.round(desk.b)
    assert (report.missed, report.escalated) == (0, 0)
    assert report.delivery.sent == 1  # the arrival's alert to the officer on duty
    assert deadline(desk.b, request_id, "acknowledgement").status is DeadlineStatus.OPEN
    assert desk.mail.to(chief.email) == []
    before = len(desk.mail.mails)

    desk.later(minutes=1)
    report = desk.round(desk.b)
    assert (report.missed, report.escalated) == (1, 1)
    assert report.tags == ("deadline:acknowledgement:escalated",)
    assert report.delivery.sent == 1

    # E-mail: to the primary supervisor only, urgency and escalation in the subject.
    [mail] = desk.mail.mails[before:]
    assert mail.rcpt_tos == (chief.email,)
    assert reference in mail.subject
    assert "URGENT" in mail.subject
    assert "ESCALATION" in mail.subject.upper()
    assert "escalated to you" in mail.body
    assert_no_case_content(mail.subject + mail.body + mail.message.as_string())
    assert desk.mail.to(deputy.email) == []

    # Webhook: signed with B's webhook key (not its node signing key), accepted by
    # verify_webhook with the public JWK `hanoi247 webhook key` prints.
    [hook] = [h for h in desk.hooks.hooks if b'"topic":"acknowledgement_missed"' in h.body]
    webhook_key = desk.b.runtime.local.webhook_key
    assert webhook_key is not None
    public = import_public_key(webhook_key.public_jwk())
    document = verify_webhook(hook.body, hook.headers, public, now=desk.clock.now())
    sent = Notification.from_dict(document["notification"])
    assert sent.reference == reference
    assert chief.id in sent.user_ids
    assert_no_case_content(hook.body.decode())

    # In-app: the supervisor's subscription got it.
    assert subscription.pending() == 1
    in_app = run(anext(subscription))
    assert (in_app.id, in_app.topic.value) == (sent.id, "acknowledgement_missed")
    subscription.close()

    # Recorded: deadline missed and escalated once, one audit entry, the alert sent.
    stored = deadline(desk.b, request_id, "acknowledgement")
    assert stored.status is DeadlineStatus.MISSED
    assert stored.escalations == 1
    assert audit_tags(desk.b) == ["deadline:acknowledgement:escalated"]
    with desk.b.runtime.uow_factory() as uow:
        record = uow.notifications.get(sent.id)
    assert record is not None
    assert record.status is NotificationStatus.SENT

    # Exactly once: another round, even much later, changes nothing.
    mails = len(desk.mail.mails)
    desk.later(hours=3)
    report = desk.round(desk.b)
    assert (report.missed, report.escalated, report.delivery.claimed) == (0, 0, 0)
    assert len(desk.mail.mails) == mails
    assert deadline(desk.b, request_id, "acknowledgement").escalations == 1
    assert audit_tags(desk.b) == ["deadline:acknowledgement:escalated"]


@pytest.mark.parametrize("desk", ["no primary supervisor"], indirect=True)
def test_the_backup_supervisor_is_escalated_to_when_no_primary_is_on_duty(desk: Desk) -> None:
    send(desk, PRESERVATION)
    desk.later(minutes=60)

    report = desk.round(desk.b)

    assert report.escalated == 1
    [mail] = [m for m in desk.mail.mails if "ESCALATION" in m.subject.upper()]
    assert mail.rcpt_tos == (desk.people["fr.deputy"].email,)


def test_emergency_request_escalates_at_15_minutes(desk: Desk) -> None:
    request_id = send(desk, EMERGENCY)
    reference = reference_of(desk.b, request_id)

    desk.later(minutes=14, seconds=59)
    assert desk.round(desk.b).escalated == 0
    [arrival] = desk.mail.to(desk.people["fr.officer"].email)
    assert "[EMERGENCY]" in arrival.subject
    assert reference in arrival.subject

    desk.later(seconds=1)
    report = desk.round(desk.b)

    assert report.tags == ("deadline:acknowledgement:escalated",)
    [mail] = desk.mail.to(desk.people["fr.chief"].email)
    assert "[EMERGENCY]" in mail.subject
    assert reference in mail.subject
    assert_no_case_content(mail.message.as_string())


def test_an_acknowledged_request_is_never_escalated(desk: Desk) -> None:
    request_id = send(desk, PRESERVATION)
    desk.later(minutes=30)
    officer = desk.people["fr.officer"].id
    desk.b.runtime.handle(c.AcknowledgeRequest(request_id=request_id, by=officer))

    desk.later(hours=2)
    report = desk.round(desk.b)

    assert (report.missed, report.escalated) == (0, 0)
    assert desk.mail.to(desk.people["fr.chief"].email) == []
    assert deadline(desk.b, request_id, "acknowledgement").status is DeadlineStatus.MET


def test_preservation_warnings_at_7_and_1_days_the_follow_up_flag_and_the_expiry(
    desk: Desk,
) -> None:
    request_id = send(desk, PRESERVATION)
    officer = desk.people["fr.officer"].id
    desk.b.runtime.handle(c.AcknowledgeRequest(request_id=request_id, by=officer))
    until = date(2027, 3, 1)
    desk.b.runtime.handle(c.ConfirmPreservation(request_id=request_id, until=until, by=officer))
    assert deliver(desk.b, desk.a) == 2
    end = deadline(desk.a, request_id, "preservation_expiry").due_at
    assert end == deadline(desk.b, request_id, "preservation_expiry").due_at
    vn_duty, vn_chief = desk.people["vn.officer"].email, desk.people["vn.chief"].email
    fr_duty = desk.people["fr.officer"].email
    desk.round(desk.a)  # the answers' alerts (acknowledged, confirmed) to the VN officer
    desk.round(desk.b)
    answers, seen = len(desk.mail.to(vn_duty)), len(desk.mail.to(fr_duty))

    def at(moment: Any) -> tuple[Any, Any]:
        desk.clock.advance(moment - desk.clock.now())
        return desk.round(desk.a), desk.round(desk.b)

    a, b = at(end - timedelta(days=14, seconds=1))
    assert a.missed == b.missed == 0

    a, b = at(end - timedelta(days=14))  # the requesting desk must send its MLA request
    assert a.tags == ("deadline:follow_up_mla:notified",)
    assert b.tags == ("deadline:follow_up_mla:flagged",)  # recorded, nobody alerted
    [flag] = desk.mail.to(vn_duty)[answers:]
    assert "mutual legal assistance" in flag.subject
    assert "URGENT" in flag.subject
    assert end.strftime("%Y-%m-%d %H:%M UTC") in flag.body  # when preservation ends

    a, b = at(end - timedelta(days=7))
    assert a.tags == b.tags == ("deadline:preservation_warning:notified",)
    a, b = at(end - timedelta(days=1))
    assert a.tags == b.tags == ("deadline:preservation_warning:notified",)
    assert len(desk.mail.to(vn_duty)) == answers + 3
    assert len(desk.mail.to(fr_duty)) == seen + 2  # the officer who confirmed it
    for mail in desk.mail.to(fr_duty)[seen:]:
        assert "Preservation ending soon" in mail.subject
        assert_no_case_content(mail.message.as_string())

    a, b = at(end)
    assert a.tags == b.tags == ("deadline:preservation_expiry:escalated",)
    [ended] = desk.mail.to(vn_chief)
    assert ended.rcpt_tos == (vn_duty, vn_chief)
    assert "Preservation ended" in ended.subject
    assert audit_tags(desk.a) == [
        "deadline:follow_up_mla:notified",
        "deadline:preservation_warning:notified",
        "deadline:preservation_warning:notified",
        "deadline:preservation_expiry:escalated",
    ]


class Flaky:
    """A channel that fails (raises) ``failures`` times, then records what it gets."""

    name = "flaky"

    def __init__(self, failures: int, error: BaseException) -> None:
        self.failures = failures
        self.error = error
        self.got: list[Notification] = []

    async def send(self, notification: Notification) -> DeliveryResult:
        if self.failures:
            self.failures -= 1
            raise self.error
        self.got.append(notification)
        return DeliveryResult.delivered(self.name, notification)


class Crash(BaseException):
    """The process dying mid-delivery (not an ``Exception``: nothing catches it)."""


@pytest.mark.parametrize(
    ("error", "wait"),
    [
        (RuntimeError("smtp library bug"), timedelta(minutes=1)),  # a failed attempt: retried
        (Crash(), timedelta(minutes=3)),  # a crash: the claim's lease runs out, then retried
    ],
    ids=["channel-raises", "worker-crashes"],
)
def test_an_alert_survives_a_failure_between_marking_and_delivering(
    desk: Desk, error: BaseException, wait: timedelta
) -> None:
    send(desk, PRESERVATION)
    worker = desk.b.runtime.deadlines
    assert worker is not None
    flaky = Flaky(failures=0, error=error)
    worker.delivery.channels = (flaky,)
    desk.round(desk.b)  # the arrival's alert goes out first
    flaky.failures = 1  # then the channel fails once
    desk.later(minutes=60)

    if isinstance(error, Crash):
        with pytest.raises(Crash):
            desk.round(desk.b)
    else:
        assert desk.round(desk.b).delivery.retrying == 1

    with desk.b.runtime.uow_factory() as uow:
        [pending] = uow.notifications.list(status=NotificationStatus.PENDING)
        assert pending.notification.topic.value == "acknowledgement_missed"
        assert [d.status for d in uow.deadlines.due(desk.clock.now())] == []  # marked: committed
    assert audit_tags(desk.b) == ["deadline:acknowledgement:escalated"]

    desk.later(seconds=wait.total_seconds())
    report = desk.round(desk.b)

    assert (report.escalated, report.delivery.sent) == (0, 1)
    assert [n.id for n in flaky.got][-1] == pending.id
    with desk.b.runtime.uow_factory() as uow:
        done = uow.notifications.get(pending.id)
    assert done is not None
    assert done.status is NotificationStatus.SENT


@pytest.mark.postgresql
@pytest.mark.parametrize("desk", ["postgresql"], indirect=True)
def test_two_workers_sharing_a_postgresql_database_escalate_once(desk: Desk) -> None:
    send(desk, PRESERVATION)
    first = desk.b.runtime.deadlines
    assert first is not None
    second = DeadlineWorker(
        check=first.check,  # the same use case on the same database, in a second worker
        clock=desk.clock,
        node=desk.b.runtime.local.identity,
        delivery=NotificationDelivery(
            uow_factory=desk.b.runtime.uow_factory, channels=first.delivery.channels
        ),
    )
    desk.round(desk.b)  # the arrival's alert
    desk.later(minutes=60)

    async def both() -> tuple[Any, Any]:
        return await asyncio.gather(first.run_once(), second.run_once())

    reports = run(both())

    assert sorted(r.escalated for r in reports) == [0, 1]
    assert sum(r.delivery.sent for r in reports) == 1
    assert len(desk.mail.to(desk.people["fr.chief"].email)) == 1
    assert audit_tags(desk.b) == ["deadline:acknowledgement:escalated"]


def test_a_check_stopped_at_its_batch_limit_says_more_is_due(desk: Desk) -> None:
    send(desk, PRESERVATION)
    send(desk, PRESERVATION)  # two requests: two acknowledgements fall due together
    desk.round(desk.b)  # the arrivals' alerts
    desk.later(minutes=60)
    runtime = desk.b.runtime

    def check(max_batches: int) -> tuple[int, bool]:
        batch = check_due_deadlines(
            runtime.uow_factory,
            now=desk.clock.now(),
            node=runtime.local.identity,
            batch_size=1,
            max_batches=max_batches,
        )
        return batch.missed, batch.more_due

    assert check(max_batches=1) == (1, True)  # the worker's next round starts at once
    assert check(max_batches=5) == (1, False)  # the rest; nothing more is due
