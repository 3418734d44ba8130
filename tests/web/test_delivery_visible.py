"""Delivery trouble is visible where people look (issue 14): a peer that does not answer
shows "not answering since" on the directory page; a dead letter of a case shows on the
case page (it blocks the case's later messages to that peer)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from test_shell_pages import Shell, get, populate

from hanoi247.domain.federation import MessageType, OutgoingMessage

REQUEST_ID = "019ad7a0-5c00-7abc-8def-0123456789ab"  # populate()'s incoming request


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Shell]:
    monkeypatch.setenv("HANOI247_ARGON2_FAST", "1")
    made = populate(tmp_path)
    yield made
    made.desk.node.close()


def test_the_directory_shows_since_when_a_peer_does_not_answer(fresh: Shell) -> None:
    runtime = fresh.desk.node.runtime
    since = runtime.clock.now() - timedelta(hours=3)
    with runtime.uow_factory() as uow:
        state = uow.peer_delivery.lock("fr-oclctic")
        uow.peer_delivery.save(
            state.failed(at=since, error="peer_timeout", retry_at=since + timedelta(minutes=5))
        )
        uow.commit()
    html = get(fresh, "lan", "/directory")
    france = html[html.index('id="state-FR"') : html.index('id="state-DE"')]
    germany = html[html.index('id="state-DE"') :]
    assert "Not answering since" in france
    assert "data-down-since" not in germany
    french = get(fresh, "lan", "/directory", "fr")
    assert "Ne répond plus depuis" in french


def test_a_dead_letter_of_a_case_shows_on_its_page(fresh: Shell) -> None:
    runtime = fresh.desk.node.runtime
    assert 'data-testid="dead-letters"' not in get(fresh, "lan", f"/requests/{REQUEST_ID}")
    now = runtime.clock.now()
    with runtime.uow_factory() as uow:
        entry = uow.outbox.enqueue(
            OutgoingMessage(
                to_node="fr-oclctic",
                type=MessageType.REQUEST_ACKNOWLEDGED,
                body={},
                case_id=REQUEST_ID,
            ),
            message_id="019ad7a0-5c00-7abc-8def-0000000000cc",
            at=now,
        )
        uow.outbox.mark_dead(entry.id, at=now, error="rejected: too_large")
        uow.commit()
    html = get(fresh, "lan", f"/requests/{REQUEST_ID}")
    assert 'data-testid="dead-letters"' in html
    assert "request.acknowledged" in html
    assert "rejected: too_large" in html
