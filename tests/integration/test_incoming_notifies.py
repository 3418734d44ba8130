"""A request arriving through the real inbox alerts the officers on duty at once, by
e-mail (aiosmtpd on 127.0.0.1); an answer alerts the requesting desk. Two in-process
nodes: A (VN) sends, B (FR) receives."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from alert_support import (
    MailSink,
    add_person,
    add_shift,
    alert_node,
    alert_settings,
    assert_no_case_content,
    deliver_async,
    import_basis,
    mail_server,
)
from fakes import FakeClock
from federation_helpers import InProcessNode, pin_each_other, run
from hanoi247.domain import commands as c
from hanoi247.domain.accounts import Position, Role, User
from hanoi247.domain.notifications import Topic
from hanoi247.ports.notifications import NotificationStatus
from workflow_harness import EMERGENCY, PRESERVATION, START

WAIT = 5.0  # seconds: the bound of every wait for the real SMTP server
PRESERVATION_UNTIL = START.date().replace(year=START.year + 1)


@dataclass
class Pair:
    a: InProcessNode
    b: InProcessNode
    mail: MailSink
    people: dict[str, User]


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    clock = FakeClock(START)
    with mail_server() as mail:
        # A poll interval of an hour: only the inbox's wake-up can make B's worker act soon.
        settings = alert_settings(
            tmp_path, smtp_port=mail.port, HANOI247_DEADLINE_POLL_SECONDS="3600"
        )
        a = alert_node(tmp_path / "a", node_id="vn-a05", state="VN", clock=clock, settings=settings)
        b = alert_node(
            tmp_path / "b", node_id="fr-oclctic", state="FR", clock=clock, settings=settings
        )
        try:
            pin_each_other(a, b)
            import_basis(a)
            import_basis(b)  # the requested node re-checks the basis on its own status
            people = {
                "vn.officer": add_person(a, "vn.officer", Role.OFFICER, "duty@mps.vn.example"),
                "vn.other": add_person(a, "vn.other", Role.OFFICER, "other@mps.vn.example"),
                "fr.primary": add_person(b, "fr.primary", Role.OFFICER, "duty@ocl.fr.example"),
                "fr.backup": add_person(b, "fr.backup", Role.OFFICER, "backup@ocl.fr.example"),
                "fr.off": add_person(b, "fr.off", Role.OFFICER, "off@ocl.fr.example"),
                "fr.chief": add_person(b, "fr.chief", Role.SUPERVISOR, "chief@ocl.fr.example"),
            }
            add_shift(a, people["vn.officer"], Position.PRIMARY)
            add_shift(b, people["fr.primary"], Position.PRIMARY)
            add_shift(b, people["fr.backup"], Position.BACKUP)
            add_shift(b, people["fr.chief"], Position.PRIMARY)
            yield Pair(a, b, mail, people)
        finally:
            a.close()
            b.close()


def draft_and_send(pair: Pair, payload: dict[str, object]) -> str:
    by = pair.people["vn.officer"].id
    request_id = pair.a.runtime.handle(c.DraftRequest(payload=payload, by=by)).request_id
    pair.a.runtime.handle(c.SendRequest(request_id=request_id, by=by))
    return request_id


async def mail_arrives(mail: MailSink, address: str) -> None:
    loop = asyncio.get_running_loop()
    give_up = loop.time() + WAIT
    while not mail.to(address):
        assert loop.time() < give_up, f"no e-mail to {address} within {WAIT} s"
        await asyncio.sleep(0.02)


@pytest.mark.parametrize(
    ("payload", "mark"), [(PRESERVATION, "[URGENT]"), (EMERGENCY, "[EMERGENCY]")]
)
def test_an_incoming_request_is_e_mailed_at_once_to_the_officers_on_duty(
    pair: Pair, payload: dict[str, object], mark: str
) -> None:
    request_id = draft_and_send(pair, payload)
    worker = pair.b.runtime.deadlines
    assert worker is not None
    primary, backup = pair.people["fr.primary"], pair.people["fr.backup"]

    async def scenario() -> None:
        await worker.start()
        try:
            while worker.rounds < 1:  # its first round is over: it now sleeps for an hour
                await asyncio.sleep(0.01)
            assert await deliver_async(pair.a, pair.b) == 1
            await mail_arrives(pair.mail, primary.email)  # woken by the inbox, not the poll
        finally:
            await worker.stop()

    run(scenario(), timeout=20)

    [mail] = pair.mail.mails
    assert mail.rcpt_tos == (primary.email, backup.email)  # the officers on duty only
    with pair.b.runtime.uow_factory() as uow:
        request = uow.requests.get(request_id)
        assert request is not None
        [stored] = uow.notifications.list()
    assert mail.subject.startswith(f"[hanoi247] {mark} ")
    assert f"New request received: {request.reference}" in mail.subject
    assert "Acknowledge it in hanoi247" in mail.body
    assert_no_case_content(mail.message.as_string())
    assert stored.notification.topic is Topic.REQUEST_RECEIVED
    assert stored.status is NotificationStatus.SENT
    assert stored.notification.request_id == request_id


def test_the_alert_is_stored_with_the_message_before_any_delivery(pair: Pair) -> None:
    """Written in the inbox's unit of work: a node that stops right after receiving still
    sends it at its next round."""
    request_id = draft_and_send(pair, PRESERVATION)

    assert run(deliver_async(pair.a, pair.b)) == 1

    assert pair.mail.mails == []
    with pair.b.runtime.uow_factory() as uow:
        [pending] = uow.notifications.list(status=NotificationStatus.PENDING)
        assert uow.inbox.count() == 1
    assert pending.notification.request_id == request_id
    assert pending.notification.facts["due_at"] == "2026-11-29T10:00:00Z"  # 1 h: urgent
    worker = pair.b.runtime.deadlines
    assert worker is not None
    assert run(worker.run_once()).delivery.sent == 1
    assert len(pair.mail.to(pair.people["fr.primary"].email)) == 1


def test_the_requesting_desk_hears_when_its_request_is_answered(pair: Pair) -> None:
    request_id = draft_and_send(pair, PRESERVATION)
    assert run(deliver_async(pair.a, pair.b)) == 1
    officer = pair.people["fr.primary"].id
    pair.b.runtime.handle(c.AcknowledgeRequest(request_id=request_id, by=officer))
    until = PRESERVATION_UNTIL
    pair.b.runtime.handle(c.ConfirmPreservation(request_id=request_id, until=until, by=officer))
    assert run(deliver_async(pair.b, pair.a)) == 2
    worker = pair.a.runtime.deadlines
    assert worker is not None

    assert run(worker.run_once()).delivery.sent == 2

    mails = pair.mail.to(pair.people["vn.officer"].email)
    assert len(mails) == 2
    assert len(pair.mail.mails) == 2
    for mail in mails:
        assert "Request answered: VN-2026-000001" in mail.subject
        assert_no_case_content(mail.message.as_string())
