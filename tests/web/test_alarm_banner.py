"""The alert banner: a supervisor's escalations follow them on every page, counted in the
tab title, until they mark each one seen (audited); nobody else's alerts show."""

from __future__ import annotations

from datetime import timedelta

import pytest
from web_desk import Desk, csrf_of

from hanoi247.domain.accounts import Role
from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.notifications import Notification, NotificationSeverity, Topic

ESCALATED = "0193a0b0-0000-7000-8000-000000000001"
INFO = "0193a0b0-0000-7000-8000-000000000002"
OTHERS = "0193a0b0-0000-7000-8000-000000000003"
REQUEST = "0193a0b0-0000-7000-8000-0000000000aa"
CRITICAL = NotificationSeverity.CRITICAL


def alert(desk: Desk, id: str, topic: Topic, severity: NotificationSeverity, *to: str) -> None:
    with desk.node.runtime.uow_factory() as uow:
        uow.notifications.add(
            Notification(
                id=id,
                topic=topic,
                severity=severity,
                created_at=desk.clock.now(),
                recipients=to,
                facts={"kind": "preservation", "urgency": "urgent", "from_state": "FR"},
                request_id=REQUEST,
                reference="FR-2026-000042",
            )
        )
        uow.commit()


@pytest.mark.parametrize("path", ["/inbox", "/directory", "/treaty", "/compose"])
def test_an_escalation_shows_in_the_banner_and_tab_title_on_every_page(
    desk: Desk, path: str
) -> None:
    chief = desk.add_user("chief", Role.SUPERVISOR)
    other = desk.add_user("other", Role.SUPERVISOR)
    critical = NotificationSeverity.CRITICAL
    alert(desk, ESCALATED, Topic.ACKNOWLEDGEMENT_MISSED, critical, chief.user.id)
    alert(desk, INFO, Topic.REQUEST_ANSWERED, NotificationSeverity.INFO, chief.user.id)
    alert(desk, OTHERS, Topic.EMERGENCY_RESPONSE_MISSED, critical, other.user.id)
    client = desk.client()
    desk.sign_in(client, chief)

    page = client.get(path).text

    assert "<title>(1) " in page
    assert 'data-count="1"' in page
    assert "Acknowledgement overdue, escalated to you:" in page
    assert f'href="/requests/{REQUEST}"' in page
    assert f"/alerts/{ESCALATED}/seen" in page
    assert f"/alerts/{OTHERS}/seen" not in page  # another supervisor's
    assert f"/alerts/{INFO}/seen" not in page  # not an alarm


def test_marking_an_alert_seen_clears_the_count_is_audited_and_returns_to_the_page(
    desk: Desk,
) -> None:
    chief = desk.add_user("chief", Role.SUPERVISOR)
    alert(
        desk, ESCALATED, Topic.ACKNOWLEDGEMENT_MISSED, NotificationSeverity.CRITICAL, chief.user.id
    )
    client = desk.client()
    desk.sign_in(client, chief)
    token = csrf_of(client.get("/directory").text)

    refused = client.post(f"/alerts/{ESCALATED}/seen", data={"next": "/directory"})
    done = client.post(
        f"/alerts/{ESCALATED}/seen", data={"next": "/directory", "csrf_token": token}
    )
    elsewhere = client.post(
        f"/alerts/{ESCALATED}/seen", data={"next": "//evil.example/", "csrf_token": token}
    )

    assert refused.status_code == 403
    assert done.status_code == 303
    assert done.headers["location"] == "/directory"
    assert elsewhere.headers["location"] == "/"  # never off this node
    page = client.get("/directory").text
    assert "<title>(" not in page
    assert 'data-count="0"' in page
    with desk.node.runtime.uow_factory() as uow:
        entries = [e for e in uow.audit.entries() if e.tag == AuditTag.NOTIFICATION_DISMISSED.value]
    assert [(e.actor, e.subject) for e in entries] == [(chief.user.id, ESCALATED)]


def test_nobody_can_dismiss_an_alert_addressed_to_someone_else(desk: Desk) -> None:
    chief = desk.add_user("chief", Role.SUPERVISOR)
    other = desk.add_user("other", Role.SUPERVISOR)
    alert(
        desk, ESCALATED, Topic.ACKNOWLEDGEMENT_MISSED, NotificationSeverity.CRITICAL, chief.user.id
    )
    client = desk.client()
    desk.sign_in(client, other)
    token = csrf_of(client.get("/directory").text)

    answer = client.post(
        f"/alerts/{ESCALATED}/seen",
        data={"next": "/directory", "csrf_token": token},
        headers={"Accept": "text/html"},
    )

    assert answer.status_code == 404
    desk.clock.advance(timedelta(seconds=1))
    client = desk.client()
    desk.sign_in(client, chief)
    assert "<title>(1) " in client.get("/directory").text


def test_the_banner_fragment_is_the_banner_alone_for_the_page_it_is_shown_on(
    desk: Desk,
) -> None:
    chief = desk.add_user("chief", Role.SUPERVISOR)
    alert(desk, ESCALATED, Topic.DRILL, NotificationSeverity.INFO, chief.user.id)
    client = desk.client()
    desk.sign_in(client, chief)

    fragment = client.get("/alerts/banner", params={"back": "/treaty"}).text

    assert fragment.lstrip().startswith('<div id="alarm-banner"')
    assert 'data-count="1"' in fragment
    assert 'name="next" value="/treaty"' in fragment
    assert "<html" not in fragment
