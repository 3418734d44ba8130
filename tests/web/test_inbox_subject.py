"""Inbox rows carry a one-line subject — the offence and the main identifier — so that
three "Expedited preservation — Viet Nam" rows can be told apart (issue 12), on the wide
table and on the phone's cards (the same cell). The subject is content: opened from the
page's one query (no query per row), and never shown to a reader of metadata only."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from case_desk import Pair, make_pair
from sqlalchemy import event
from sqlalchemy.engine import Engine

from hanoi247.domain.accounts import Role
from hanoi247.domain.cooperation import CooperationRequest
from hanoi247.domain.handling import HandlingRestrictions
from hanoi247.domain.references import Links
from hanoi247.domain.requests import Urgency
from hanoi247.domain.subjects import subject_of
from hanoi247.domain.treaty import LegalBasis
from hanoi247.entrypoints import i18n
from hanoi247.entrypoints.pdf.document import offence_text
from hanoi247.services.inbox_pages import inbox_page

SUBJECT = re.compile(r'<span class="subject" data-testid="inbox-subject">(.*?)</span>', re.S)


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    made = make_pair(tmp_path)
    yield made
    made.vn.node.close()
    made.fr.node.close()


def arrive(pair: Pair, number: int, elements: dict[str, Any]) -> str:
    """An incoming urgent preservation request on FR from VN with ``elements``."""
    now = pair.clock.now()
    reference = f"VN-2026-{900 + number:06d}"
    request, _ = CooperationRequest.arrived(
        request_id=f"019ad7a0-5c00-7abc-8def-{number:012d}",
        reference=reference,
        origin_node="vn-a05",
        requesting_state="VN",
        requested_state="FR",
        instrument="uncc",
        kind="preservation",
        urgency=Urgency.URGENT,
        elements=elements,
        handling=HandlingRestrictions(),
        basis=LegalBasis("uncc", date(2026, 2, 1)),
        links=Links(),
        phone_contacts=(),
        sent_by="vn-7",
        sent_at=now - timedelta(minutes=2),
        message_id=f"019ad7a0-5c00-7abc-8def-{number + 500:012d}",
        received_by="fr-oclctic",
        received_at=now - timedelta(minutes=1),
        acknowledge_by=now + timedelta(minutes=30),
    )
    with pair.fr.node.runtime.uow_factory() as uow:
        uow.requests.add(request)
        uow.commit()
    return reference


def ip(value: str) -> dict[str, str]:
    return {"type": "ip", "value": value, "timestamp": "2026-02-28T21:14:00+07:00"}


@contextmanager
def counted() -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", count)


def test_three_alike_rows_are_told_apart_by_offence_and_identifier(pair: Pair) -> None:
    arrive(pair, 1, {"offence": 7, "identifiers": [ip("192.0.2.44")]})
    arrive(pair, 2, {"offence": 7, "identifiers": [ip("198.51.100.7"), ip("192.0.2.1")]})
    arrive(pair, 3, {"identifiers": [{"type": "email", "value": "x@example.org"}]})
    page = pair.fr_client.get("/inbox").text
    subjects = [re.sub(r"<[^>]+>", "", s).strip() for s in SUBJECT.findall(page)]
    offence = offence_text("uncc", 7, i18n.translator("en"))
    assert subjects == [
        f"{offence} — 192.0.2.44",
        f"{offence} — 198.51.100.7",  # the first identifier is the main one
        "x@example.org",  # no offence given: the identifier alone
    ]


def test_the_identifier_is_isolated_left_to_right_in_arabic(pair: Pair) -> None:
    arrive(pair, 1, {"offence": 7, "identifiers": [ip("192.0.2.44")]})
    page = pair.fr_client.get("/inbox", headers={"accept-language": "ar"}).text
    assert '<bdi class="identifier" dir="ltr">192.0.2.44</bdi>' in page
    assert offence_text("uncc", 7, i18n.translator("ar")) in SUBJECT.findall(page)[0]


def test_a_request_without_offence_or_identifier_has_no_empty_subject_line(pair: Pair) -> None:
    arrive(pair, 1, {"summary_of_facts": "…"})
    page = pair.fr_client.get("/inbox").text
    assert 'data-reference="VN-2026-000901"' in page
    assert 'data-testid="inbox-subject"' not in page


def test_an_auditor_reads_no_subject_it_is_content(pair: Pair) -> None:
    arrive(pair, 1, {"offence": 7, "identifiers": [ip("192.0.2.44")]})
    auditor = pair.fr.add_user("audrey", Role.AUDITOR)
    client = pair.fr.client()
    assert pair.fr.sign_in(client, auditor).status_code == 303
    page = client.get("/inbox").text
    assert 'data-reference="VN-2026-000901"' in page
    assert "192.0.2.44" not in page
    assert 'data-testid="inbox-subject"' not in page


def test_the_api_page_carries_no_subject_unless_asked(pair: Pair) -> None:
    arrive(pair, 1, {"offence": 7, "identifiers": [ip("192.0.2.44")]})
    now = pair.clock.now()
    with pair.fr.node.runtime.uow_factory() as uow:
        plain = inbox_page(uow, now, limit=10, cursor=None)
        asked = inbox_page(uow, now, limit=10, cursor=None, subjects=True)
    assert "subject" not in plain.items[0]
    assert asked.items[0]["subject"]["identifier"] == "192.0.2.44"


def test_subjects_add_no_query_per_row(pair: Pair) -> None:
    arrive(pair, 1, {"offence": 7, "identifiers": [ip("192.0.2.1")]})
    pair.fr_client.get("/inbox/fragment")  # warm: caches filled once
    with counted() as few:
        assert "192.0.2.1" in pair.fr_client.get("/inbox/fragment").text
    for number in range(2, 9):
        arrive(pair, number, {"offence": 7, "identifiers": [ip(f"192.0.2.{number}")]})
    with counted() as many:
        assert "192.0.2.8" in pair.fr_client.get("/inbox/fragment").text
    # PRAGMA query_only follows what the pooled connection did last (a write in between
    # leaves it writable): a pool state, not a query per row
    assert len(queries(many)) == len(queries(few))


def queries(statements: list[str]) -> list[str]:
    return [s for s in statements if not s.startswith("PRAGMA query_only")]


def test_the_subject_is_the_first_identifier_with_a_value() -> None:
    subject = subject_of(
        {"offence": 9, "identifiers": [{"type": "ip", "value": " "}, ip("192.0.2.9")]}, "uncc"
    )
    assert (subject.offence, subject.identifier, subject.identifier_type) == (
        9,
        "192.0.2.9",
        "ip",
    )
    assert subject_of({"identifiers": "not a list", "offence": ""}, "uncc").offence is None


def test_a_request_sent_through_the_composer_shows_its_subject_in_frs_inbox(
    pair: Pair,
) -> None:
    pair.send_complete()  # offence 7, IP 192.0.2.44 (case_desk.COMPLETE_PRESERVATION)
    fragment = pair.fr_client.get("/inbox/fragment").text
    subjects = [re.sub(r"<[^>]+>", "", s).strip() for s in SUBJECT.findall(fragment)]
    assert subjects == [f"{offence_text('uncc', 7, i18n.translator('en'))} — 192.0.2.44"]
