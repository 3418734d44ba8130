"""Use cases that used to write their audit entries in the CLI or the composition root, and
the inbox's unit of work: each change commits with its audit entry, or neither does."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from fakes import FakeClock, FakeUnitOfWork
from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.depositary import StatusFile
from hanoi247.domain.directory import ContactKind, ContactPoint
from hanoi247.domain.errors import IntegrityError
from hanoi247.domain.federation import IncomingMessage, MessageType
from hanoi247.domain.notifications import Notification, NotificationSeverity, Topic
from hanoi247.domain.treaty import ActionKind, TreatyAction
from hanoi247.ports import Arrival, IntakeResult, NotificationStatus, UnitOfWork
from hanoi247.services.directory import NoContactPoint, set_contact_point, verify_contact_point
from hanoi247.services.federation import IncomingDispatcher, UnprocessableMessage
from hanoi247.services.intake import MessageIntake
from hanoi247.services.notifications import NoFailedAlert, retry_notification
from hanoi247.services.treaty_status import import_treaty_status, imported_treaty_actions

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
STATUS = StatusFile(
    actions=(TreatyAction("VN", "uncc", ActionKind.RATIFICATION, date(2026, 1, 5)),),
    as_of=date(2026, 11, 30),
    source="/tmp/status.csv",
)


class FailingAudit:
    """Wraps a fake unit of work whose audit log refuses to append."""

    def __init__(self, uow: FakeUnitOfWork) -> None:
        self.uow = uow

    def __call__(self) -> FakeUnitOfWork:
        def refuse(**_: object) -> None:
            raise IntegrityError("audit log unavailable")

        self.uow.audit.append = refuse  # type: ignore[method-assign]
        return self.uow


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


def test_import_treaty_status_audits_in_the_same_unit_of_work(uow: FakeUnitOfWork) -> None:
    count = import_treaty_status(lambda: uow, STATUS, imported_by="alice", clock=FakeClock(T0))
    assert count == 1
    assert uow.committed == 1
    [entry] = uow.audit.entries()
    assert (entry.tag, entry.subject, entry.actor, entry.at) == (
        "treaty:status:imported", "status.csv", "alice", T0,
    )  # fmt: skip
    stored = imported_treaty_actions(lambda: uow)
    assert stored is not None
    assert stored[0] == list(STATUS.actions)


def test_import_treaty_status_keeps_nothing_when_its_audit_entry_fails(
    uow: FakeUnitOfWork,
) -> None:
    with pytest.raises(IntegrityError):
        import_treaty_status(FailingAudit(uow), STATUS, imported_by="alice", clock=FakeClock(T0))
    assert imported_treaty_actions(lambda: uow) is None
    assert uow.committed == 0


def point(agency: str = "OCLCTIC") -> ContactPoint:
    return ContactPoint(
        state="FR", kind=ContactKind.POINT_OF_CONTACT_24_7, agency=agency,
        last_verified=date(2026, 11, 1), verified_by="alice",
    )  # fmt: skip


def test_setting_a_contact_point_audits_added_then_updated(uow: FakeUnitOfWork) -> None:
    clock = FakeClock(T0)
    assert set_contact_point(lambda: uow, point(), by="alice", clock=clock) is True
    assert set_contact_point(lambda: uow, point("OFAC"), by="bob", clock=clock) is False
    assert [(e.tag, e.actor) for e in uow.audit.entries()] == [
        ("directory:contact:added", "alice"),
        ("directory:contact:updated", "bob"),
    ]
    assert uow.committed == 2


def test_verifying_a_contact_point_records_the_clock_day_with_its_audit_entry(
    uow: FakeUnitOfWork,
) -> None:
    set_contact_point(lambda: uow, point(), by="alice", clock=FakeClock(T0))
    verified = verify_contact_point(
        lambda: uow, " fr ", ContactKind.POINT_OF_CONTACT_24_7, by="bob", clock=FakeClock(T0)
    )
    assert (verified.last_verified, verified.verified_by) == (T0.date(), "bob")
    assert uow.audit.entries()[-1].tag == "directory:contact:verified"


def test_verifying_a_missing_contact_point_says_how_to_add_it(uow: FakeUnitOfWork) -> None:
    with pytest.raises(NoContactPoint, match="hanoi247 directory set"):
        verify_contact_point(
            lambda: uow, "FR", ContactKind.CENTRAL_AUTHORITY, by="bob", clock=FakeClock(T0)
        )
    assert uow.audit.entries() == []


def queued(uow: FakeUnitOfWork, *, failed: bool) -> str:
    alert = Notification(
        id="n-1", topic=Topic.REQUEST_RECEIVED, severity=NotificationSeverity.CRITICAL,
        created_at=T0, reference="VN-2026-000001",
    )  # fmt: skip
    with uow:
        uow.notifications.add(alert)
        if failed:
            uow.notifications.record(
                alert.id, status=NotificationStatus.FAILED, at=T0, attempts=3,
                next_attempt_at=T0, last_error="email:auth_failed", channels={},
            )  # fmt: skip
        uow.commit()
    return alert.id


def test_retrying_a_failed_alert_queues_it_again_with_its_audit_entry(
    uow: FakeUnitOfWork,
) -> None:
    alert = queued(uow, failed=True)
    retry_notification(lambda: uow, alert, by="alice", clock=FakeClock(T0))
    with uow:
        stored = uow.notifications.get(alert)
    assert stored is not None
    assert stored.status is NotificationStatus.PENDING
    [entry] = uow.audit.entries()
    assert (entry.tag, entry.subject, entry.actor) == ("notification:retried", alert, "alice")


def test_an_alert_that_has_not_failed_is_not_retried(uow: FakeUnitOfWork) -> None:
    alert = queued(uow, failed=False)
    with pytest.raises(NoFailedAlert, match="no failed alert n-1"):
        retry_notification(lambda: uow, alert, by="alice", clock=FakeClock(T0))
    assert uow.audit.entries() == []


# --- the inbox's unit of work -----------------------------------------------------------


def ping(message_id: str = "0190d5c6-0000-7000-8000-000000000001") -> IncomingMessage:
    return IncomingMessage(
        origin_node="fr-oclctic", message_id=message_id, type=MessageType.DRILL_PING,
        case_id=None, in_reply_to=None, sent_at=T0, received_at=T0, body={"note": "drill"},
    )  # fmt: skip


def intake_with(handler: object) -> tuple[FakeUnitOfWork, MessageIntake]:
    uow = FakeUnitOfWork()
    dispatcher = IncomingDispatcher()
    dispatcher.register(MessageType.DRILL_PING, handler)  # type: ignore[arg-type]
    return uow, MessageIntake(uow_factory=lambda: uow, dispatcher=dispatcher)


def test_an_accepted_message_is_stored_handled_and_audited_in_one_commit() -> None:
    handled: list[str] = []

    def handler(_: UnitOfWork, message: IncomingMessage) -> None:
        handled.append(message.message_id)

    uow, intake = intake_with(handler)
    assert intake.accept(ping(), envelope_sha256="ab" * 32, receipt="receipt-1") is None
    assert handled == [ping().message_id]
    assert uow.committed == 1
    assert intake.stored_receipt("fr-oclctic", ping().message_id) == "receipt-1"
    assert [e.tag for e in uow.audit.entries()] == ["federation:message:received"]


def test_a_message_its_handler_cannot_process_leaves_no_trace() -> None:
    def handler(_: UnitOfWork, __: IncomingMessage) -> None:
        raise UnprocessableMessage("unknown_case")

    uow, intake = intake_with(handler)
    with pytest.raises(UnprocessableMessage):
        intake.accept(ping(), envelope_sha256="ab" * 32, receipt="receipt-1")
    assert intake.stored_receipt("fr-oclctic", ping().message_id) is None
    assert uow.audit.entries() == []


def test_a_concurrent_duplicate_gets_the_original_receipt_back() -> None:
    uow, intake = intake_with(lambda _uow, _message: None)
    intake.accept(ping(), envelope_sha256="ab" * 32, receipt="first")
    again = intake.accept(ping(), envelope_sha256="ab" * 32, receipt="second")
    assert again == "first"
    assert [e.tag for e in uow.audit.entries()] == ["federation:message:received"]


def test_a_batch_leaves_out_only_the_message_its_handler_refuses_and_stores_the_others() -> None:
    """The refused message's own writes are rolled back with it; the others commit together."""
    ids = [f"0190d5c6-0000-7000-8000-00000000000{n}" for n in (1, 2, 3)]

    def handler(uow: UnitOfWork, message: IncomingMessage) -> None:
        uow.audit.append(at=T0, actor="fr-oclctic", tag=AuditTag.FEDERATION_DRILL_ANSWERED,
                         subject=message.message_id, details={})  # fmt: skip
        if message.message_id == ids[1]:
            raise UnprocessableMessage("unknown_case")

    uow, intake = intake_with(handler)
    arrivals = [Arrival(ping(i), "ab" * 32, f"receipt-{i}") for i in ids]
    results = intake.accept_batch(arrivals)
    assert results == [IntakeResult(), IntakeResult(unprocessable="unknown_case"), IntakeResult()]
    assert uow.committed == 2  # the one before it again, then the one after it
    assert intake.stored_receipt("fr-oclctic", ids[0]) == f"receipt-{ids[0]}"
    assert intake.stored_receipt("fr-oclctic", ids[1]) is None
    assert intake.stored_receipt("fr-oclctic", ids[2]) == f"receipt-{ids[2]}"
    subjects = [e.subject for e in uow.audit.entries()]
    assert subjects == [ids[0], ids[0], ids[2], ids[2]]  # nothing of the refused one


def test_a_batch_of_refused_messages_costs_at_most_twice_the_work_of_the_batch() -> None:
    ids = [f"0190d5c6-0000-7000-8000-0000000000{n:02d}" for n in range(20)]
    handled: list[str] = []

    def handler(_: UnitOfWork, message: IncomingMessage) -> None:
        handled.append(message.message_id)
        if int(message.message_id[-2:]) % 2:  # every other one refused
            raise UnprocessableMessage("unknown_case")

    uow, intake = intake_with(handler)
    results = intake.accept_batch([Arrival(ping(i), "ab" * 32, f"r-{i}") for i in ids])
    assert [r.unprocessable is None for r in results] == [n % 2 == 0 for n in range(20)]
    assert len(handled) <= 2 * len(ids)
    assert uow.committed == 10  # the ten accepted ones, each after a refused one
    stored = [i for i in ids if intake.stored_receipt("fr-oclctic", i) is not None]
    assert stored == ids[::2]


def test_a_batch_answers_a_message_stored_before_with_its_original_receipt() -> None:
    _uow, intake = intake_with(lambda _uow, _message: None)
    intake.accept(ping(), envelope_sha256="ab" * 32, receipt="first")
    other = ping("0190d5c6-0000-7000-8000-000000000009")
    results = intake.accept_batch(
        [Arrival(ping(), "cd" * 32, "second"), Arrival(other, "ef" * 32, "third")]
    )
    assert results == [IntakeResult(original_receipt="first"), IntakeResult()]
    assert intake.stored_receipt("fr-oclctic", other.message_id) == "third"
