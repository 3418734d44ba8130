"""The inbox: most urgent first, a countdown on every deadline (rendered by the server,
kept live by desk.js), unacknowledged requests impossible to miss, and live updates: the
``/inbox/events`` stream announces each change, desk.js fetches ``/inbox/fragment``."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from case_desk import Pair, make_pair
from web_desk import WEB, english_left, ui_msgids

from hanoi247.domain.cooperation import CooperationRequest
from hanoi247.domain.handling import HandlingRestrictions
from hanoi247.domain.references import Links
from hanoi247.domain.requests import Urgency
from hanoi247.domain.schedule import DeadlineKind
from hanoi247.domain.treaty import LegalBasis
from hanoi247.entrypoints.web.pages import inbox as inbox_page

LAYOUT = ("templates/base.html", "templates/_csrf.html", "pages/labels.py")
INBOX = (
    "templates/inbox.html",
    "templates/_inbox_list.html",
    "templates/_countdown_labels.html",
    "pages/inbox.py",
)


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    made = make_pair(tmp_path)
    yield made
    made.vn.node.close()
    made.fr.node.close()


def arrive(pair: Pair, number: int, urgency: Urgency, *, minutes_left: int) -> str:
    """An incoming request on FR from VN, stored as the inbox receiver would."""
    now = pair.clock.now()
    reference = f"VN-2026-{900 + number:06d}"  # far from what node VN numbers
    request, _ = CooperationRequest.arrived(
        request_id=f"019ad7a0-5c00-7abc-8def-{number:012d}",
        reference=reference,
        origin_node="vn-a05",
        requesting_state="VN",
        requested_state="FR",
        instrument="uncc",
        kind="preservation",
        urgency=urgency,
        elements={"summary_of_facts": "…"},
        handling=HandlingRestrictions(),
        basis=LegalBasis("uncc", date(2026, 2, 1)),
        links=Links(),
        phone_contacts=(),
        sent_by="vn-7",
        sent_at=now - timedelta(minutes=2),
        message_id=f"019ad7a0-5c00-7abc-8def-{number + 500:012d}",
        received_by="fr-oclctic",
        received_at=now - timedelta(minutes=1),
        acknowledge_by=now + timedelta(minutes=minutes_left),
    )
    with pair.fr.node.runtime.uow_factory() as uow:
        uow.requests.add(request)
        uow.deadlines.open(
            request_id=request.id,
            reference=reference,
            key="acknowledgement",
            kind=DeadlineKind.ACKNOWLEDGEMENT,
            due_at=now + timedelta(minutes=minutes_left),
            at=now,
        )
        uow.commit()
    return reference


def test_emergency_and_urgent_come_first_each_with_a_countdown(pair: Pair) -> None:
    routine = arrive(pair, 1, Urgency.ROUTINE, minutes_left=1400)
    emergency = arrive(pair, 2, Urgency.EMERGENCY, minutes_left=14)
    urgent = arrive(pair, 3, Urgency.URGENT, minutes_left=59)

    page = pair.fr_client.get("/inbox").text

    rows = re.findall(r'data-testid="inbox-row" data-reference="([^"]+)"', page)
    assert rows == [emergency, urgent, routine]
    assert "Time left: 0:14:00" in page
    assert "Time left: 0:59:00" in page
    assert "Time left: 23:20:00" in page
    assert (
        len(re.findall(r"<time class=\"countdown\" datetime=\"[^\"]+\" data-countdown>", page)) == 3
    )
    assert '<script src="/static/desk.js" defer></script>' in page
    assert 'id="countdown-labels"' in page
    assert 'data-left="Time left: {time}"' in page


def test_unacknowledged_requests_have_a_banner_a_word_and_their_own_style(pair: Pair) -> None:
    arrive(pair, 1, Urgency.URGENT, minutes_left=50)
    arrive(pair, 2, Urgency.ROUTINE, minutes_left=1000)

    page = pair.fr_client.get("/inbox").text

    assert 'data-testid="unacknowledged-banner"' in page
    assert "2 requests are not yet acknowledged" in page
    assert page.count('class="badge badge-warning not-acknowledged"') == 2
    assert page.count(' unacknowledged"') == 2


def test_an_overdue_deadline_says_overdue_in_words(pair: Pair) -> None:
    arrive(pair, 1, Urgency.EMERGENCY, minutes_left=15)
    pair.clock.advance(timedelta(minutes=20))

    fragment = pair.fr_client.get("/inbox/fragment").text

    assert "Overdue: 0:05:00" in fragment
    assert 'class="countdown overdue"' in fragment


def test_the_fragment_is_the_list_alone_with_the_fingerprint_of_the_inbox(pair: Pair) -> None:
    arrive(pair, 1, Urgency.URGENT, minutes_left=50)

    fragment = pair.fr_client.get("/inbox/fragment")

    assert fragment.status_code == 200
    assert fragment.text.lstrip().startswith('<div id="inbox-list" data-fingerprint="')
    assert "<html" not in fragment.text
    assert 'href="/requests/019ad7a0-5c00-7abc-8def-000000000001"' in fragment.text


def test_a_request_sent_from_vn_appears_in_frs_inbox_and_changes_its_fingerprint(
    pair: Pair,
) -> None:
    def fingerprint() -> str:
        found = re.search(r'data-fingerprint="([^"]+)"', pair.fr_client.get("/inbox/fragment").text)
        assert found is not None
        return found.group(1)

    before = fingerprint()
    draft = pair.send_complete()
    after = fingerprint()

    assert after != before
    fragment = pair.fr_client.get("/inbox/fragment").text
    assert f'href="/requests/{draft}"' in fragment
    vn = pair.vn_client.get("/inbox").text
    assert 'data-testid="outgoing-row"' in vn


def test_the_event_stream_sends_the_fingerprint_at_once_for_signed_in_viewers(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inbox_page, "STREAM_SECONDS", 0.0)
    arrive(pair, 1, Urgency.URGENT, minutes_left=50)
    fragment = pair.fr_client.get("/inbox/fragment").text
    found = re.search(r'data-fingerprint="([^"]+)"', fragment)
    assert found is not None

    stream = pair.fr_client.get("/inbox/events")
    anonymous = pair.fr.client().get("/inbox/events")

    assert stream.status_code == 200
    assert stream.headers["content-type"].startswith("text/event-stream")
    assert stream.headers["cache-control"] == "no-store"
    assert f"event: inbox\ndata: {found.group(1)}\n\n" in stream.text
    assert anonymous.status_code == 303


def test_the_stream_announces_each_change_and_stays_alive_with_heartbeats() -> None:
    values = iter(["a", "a", "b", "b", "b", "c"])

    async def fingerprint() -> str:
        return next(values)

    async def connected() -> bool:
        return False

    async def collect() -> list[bytes]:
        chunks = []
        stream = inbox_page.inbox_stream(
            fingerprint,
            disconnected=connected,
            poll_seconds=0,
            lifetime_seconds=3600,
            heartbeat_seconds=0,
        )
        async for chunk in stream:
            chunks.append(chunk)
            if b"data: c" in chunk:
                break
        return chunks

    chunks = asyncio.run(collect())
    text = b"".join(chunks).decode()
    assert text.startswith("retry: ")
    assert [line for line in text.splitlines() if line.startswith("data: ")] == [
        "data: a", "data: b", "data: c",
    ]  # fmt: skip
    assert ": heartbeat" in text


def test_desk_js_counts_down_with_the_servers_rules() -> None:
    script = (WEB / "static" / "desk.js").read_text(encoding="utf-8")

    assert "time[data-countdown]" in script
    assert "new EventSource" in script
    assert '"inbox"' in script
    assert "0.85" in script  # the same threshold as Babel's format_timedelta


@pytest.mark.parametrize("lang", ["ar", "zh"])
def test_the_inbox_has_no_english_left(pair: Pair, lang: str) -> None:
    arrive(pair, 1, Urgency.EMERGENCY, minutes_left=10)
    pair.send_complete()

    html = pair.fr_client.get("/inbox", headers={"accept-language": lang}).text
    vn = pair.vn_client.get("/inbox", headers={"accept-language": lang}).text

    assert f'<html lang="{lang}" dir="{"rtl" if lang == "ar" else "ltr"}">' in html
    msgids = ui_msgids(*LAYOUT, *INBOX)
    assert english_left(html, msgids, lang) == []
    assert english_left(vn, msgids, lang) == []
    assert english_left(pair.fr_client.get("/inbox").text, msgids)  # the check sees English


def test_the_inbox_is_paged_by_cursor_and_the_first_page_holds_the_most_urgent(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inbox_page, "PAGE_SIZE", 2)
    arrive(pair, 1, Urgency.EMERGENCY, minutes_left=500)  # the oldest
    arrive(pair, 2, Urgency.ROUTINE, minutes_left=10)
    arrive(pair, 3, Urgency.ROUTINE, minutes_left=20)

    first = pair.fr_client.get("/inbox").text
    cursor = re.search(r'id="inbox-next" href="/inbox\?cursor=([A-Za-z0-9_-]+)"', first)
    assert cursor is not None
    second = pair.fr_client.get(f"/inbox?cursor={cursor[1]}").text
    fragment = pair.fr_client.get(f"/inbox/fragment?cursor={cursor[1]}").text
    forged = pair.fr_client.get("/inbox?cursor=bm90LWEtY3Vyc29y")

    assert re.findall(r'data-testid="inbox-row" data-reference="([^"]+)"', first) == [
        "VN-2026-000901",
        "VN-2026-000902",
    ]
    assert "Requests 1–2 of 3" in first
    assert 'rel="prev"' not in first
    assert "3 requests are not yet acknowledged" in second  # all of them, on every page
    assert f'data-fragment="/inbox/fragment?cursor={cursor[1]}"' in second
    assert "Requests 3–3 of 3" in second
    assert 'rel="next"' not in second
    previous = re.search(r'id="inbox-previous" href="/inbox\?cursor=([A-Za-z0-9_-]+)"', second)
    assert previous is not None
    back = pair.fr_client.get(f"/inbox?cursor={previous[1]}").text
    assert re.findall(r'data-testid="inbox-row" data-reference="([^"]+)"', back) == [
        "VN-2026-000901",
        "VN-2026-000902",
    ]
    assert "Requests 1–2 of 3" in back
    assert 'data-reference="VN-2026-000903"' in fragment
    assert 'data-reference="VN-2026-000901"' not in fragment
    assert forged.status_code == 200  # a cursor this node did not write shows the first page
    assert 'data-reference="VN-2026-000901"' in forged.text
