"""Every refusal of a date or a period names the first (or last) accepted day, in the
officer's language and time zone, on the desk (issue 12; the API: test_api_refusal_dates):
an extension that does not end after the current end, an identifier seen later than now,
a date range that starts in the future, a date range over the maximum (a warning).
(A preservation that ends too soon: test_refusal_earliest_date.py.)"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from case_desk import COMPLETE_PRESERVATION, Pair, make_pair

from hanoi247.domain.requests import DEFAULT_MAX_RANGE_DAYS
from hanoi247.entrypoints import i18n

ZONE = "Asia/Ho_Chi_Minh"  # the officers' zone (web_desk.Desk.add_user)


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    made = make_pair(tmp_path)
    yield made
    made.vn.node.close()
    made.fr.node.close()


def _sentence(lang: str, msgid: str, when: date | datetime) -> str:
    shown = (
        i18n.format_datetime(when, lang, ZONE)
        if isinstance(when, datetime)
        else i18n.format_date(when, lang)
    )
    return i18n.fill(i18n.translator(lang).gettext(msgid), msgid, date=shown)


def _text(page: str) -> str:
    return page.replace("&#39;", "'").replace("&#43;", "+")


def _compose_refused(pair: Pair, lang: str, **values: str) -> str:
    draft = pair.start_draft()
    form = {**COMPLETE_PRESERVATION, **values, "step": "send"}
    form["csrf_token"] = pair.token(pair.vn_client, f"/compose/{draft}")
    answer = pair.vn_client.post(f"/compose/{draft}", data=form, headers={"accept-language": lang})
    assert answer.status_code == 422, answer.text
    return _text(answer.text)


@pytest.mark.parametrize("lang", ["en", "fr", "ar"])
def test_an_extension_not_after_the_current_end_names_the_first_accepted_day(
    pair: Pair, lang: str
) -> None:
    request_id = pair.send_complete()
    assert pair.act(pair.fr_client, request_id, "acknowledge").status_code == 303
    until = pair.clock.now().date() + timedelta(days=90)
    confirmed = pair.act(pair.fr_client, request_id, "confirm_preservation", until=str(until))
    assert confirmed.status_code == 303
    refused = pair.fr_client.post(
        f"/requests/{request_id}/actions/extend_preservation",
        data={
            "csrf_token": pair.token(pair.fr_client, f"/requests/{request_id}"),
            "until": str(until),
        },
        headers={"accept-language": lang},
    )
    assert refused.status_code == 422, refused.text
    expected = _sentence(lang, "Accepted from {date}.", until + timedelta(days=1))
    assert expected in _text(refused.text)


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_an_identifier_seen_later_than_now_names_the_last_accepted_moment_in_the_officer_zone(
    pair: Pair, lang: str
) -> None:
    now = pair.clock.now()
    later = (now + timedelta(days=2)).astimezone(ZoneInfo(ZONE)).strftime("%Y-%m-%dT%H:%M")
    page = _compose_refused(pair, lang, **{"id-0-when": later, "id-0-zone": ZONE})
    assert _sentence(lang, "Accepted until {date}.", now) in page


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_a_date_range_that_starts_in_the_future_names_the_last_accepted_start(
    pair: Pair, lang: str
) -> None:
    today = pair.clock.now().date()
    start, end = today + timedelta(days=5), today + timedelta(days=6)
    page = _compose_refused(pair, lang, **{"range-from": str(start), "range-to": str(end)})
    last = (pair.clock.now() + timedelta(hours=14)).date()
    assert _sentence(lang, "Accepted until {date}.", last) in page


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_a_date_range_over_the_maximum_warns_with_the_first_day_it_may_start(
    pair: Pair, lang: str
) -> None:
    page = _compose_refused(
        pair,
        lang,
        **{"id-0-value": "not-an-address", "range-from": "2024-01-01", "range-to": "2026-03-01"},
    )
    warnings = page[page.index('data-testid="compose-warnings"') :]
    first = date(2026, 3, 2) - timedelta(days=DEFAULT_MAX_RANGE_DAYS)
    assert _sentence(lang, "Accepted from {date}.", first) in warnings
