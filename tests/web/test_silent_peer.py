"""When the requested State lets its acknowledgement clock run out, the requesting desk's
case page and its list of sent requests say so, with the State's 24/7 telephone number
from the directory; the list shows each sent request's next deadline."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from case_desk import Pair, make_pair

from hanoi247.domain.directory import ContactKind, ContactPoint

PHONE = "+33 1 00 00 00 00"  # a test number


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    made = make_pair(tmp_path)
    yield made
    made.vn.node.close()
    made.fr.node.close()


def wait_minutes(pair: Pair, minutes: int) -> None:
    """Let time pass for both desks, the officers staying active (sessions idle out)."""
    for _ in range(minutes):
        pair.clock.advance(timedelta(minutes=1))
        for client in (pair.vn_client, pair.fr_client):
            assert client.get("/directory").status_code == 200


def list_france(pair: Pair, *, phones: tuple[str, ...] = (PHONE,)) -> None:
    point = ContactPoint(
        state="FR",
        kind=ContactKind.POINT_OF_CONTACT_24_7,
        agency="OCLCTIC (test)",
        last_verified=date(2026, 3, 1),
        verified_by="test",
        phones=phones,
    )
    with pair.vn.node.runtime.uow_factory() as uow:
        uow.contact_points.upsert(point, at=pair.clock.now())
        uow.commit()


def test_an_unacknowledged_request_past_its_clock_says_call_france_with_the_number(
    pair: Pair,
) -> None:
    list_france(pair)
    request_id = pair.send_complete()  # urgent: FR acknowledges within 60 minutes

    before = pair.vn_client.get("/inbox").text
    wait_minutes(pair, 61)
    case = pair.vn_client.get(f"/requests/{request_id}").text
    listed = pair.vn_client.get("/inbox").text

    assert "has not acknowledged" not in before
    assert "Next deadline" in before.split('id="outgoing-heading"')[1]  # the new column
    assert "data-countdown" in before.split('id="outgoing-heading"')[1]
    assert 'data-testid="silent-peer-banner"' in case
    assert "France has not acknowledged — call " in case
    assert f'<bdi dir="ltr">{PHONE}</bdi>' in case
    assert 'href="tel:+3310000000' in case
    assert "France has not acknowledged — call " in listed.split('id="outgoing-heading"')[1]


def test_no_call_notice_once_france_acknowledges(pair: Pair) -> None:
    list_france(pair)
    request_id = pair.send_complete()
    assert pair.act(pair.fr_client, request_id, "acknowledge").status_code == 303
    pair.deliver()

    wait_minutes(pair, 61)

    assert "has not acknowledged" not in pair.vn_client.get(f"/requests/{request_id}").text
    assert "has not acknowledged" not in pair.vn_client.get("/inbox").text


def test_without_a_number_in_the_directory_the_notice_says_to_check_it(pair: Pair) -> None:
    request_id = pair.send_complete()
    wait_minutes(pair, 61)

    case = pair.vn_client.get(f"/requests/{request_id}").text

    assert "the directory lists no 24/7 telephone number for it" in case
