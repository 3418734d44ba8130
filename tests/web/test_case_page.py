"""The case page: the whole story across two desks through the pages (compose on VN,
send, FR's inbox, acknowledge, confirm preservation with a too short then a valid date),
the timeline, the forms the lifecycle and the role allow, translated refusals, and the
page in Arabic and Chinese with no English UI string left."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from pathlib import Path

import pytest
from case_desk import COMPLETE_PRESERVATION, Pair, make_pair
from web_desk import english_left, ui_msgids

from hanoi247.domain.accounts import Role
from hanoi247.domain.errors import ErrorCode, Problem
from hanoi247.entrypoints import i18n

LAYOUT = ("templates/base.html", "templates/_csrf.html", "pages/labels.py")
CASE = (
    "templates/case.html",
    "templates/_case_actions.html",
    "templates/_values.html",
    "templates/_countdown_labels.html",
    "pages/case.py",
    "pages/live.py",
)
MINIMUM_ARTICLE = "Art. 42"  # the officer sees the article, never the research note


@pytest.fixture
def pair(tmp_path: Path) -> Pair:
    made = make_pair(tmp_path)
    yield made  # type: ignore[misc]
    made.vn.node.close()
    made.fr.node.close()


def status_of(pair: Pair, desk: str, request_id: str) -> str:
    node = pair.vn.node if desk == "vn" else pair.fr.node
    with node.runtime.uow_factory() as uow:
        found = uow.requests.get(request_id)
    assert found is not None
    return found.status.value


def test_a_preservation_request_goes_from_the_vn_composer_to_a_confirmation_on_fr(
    pair: Pair,
) -> None:
    draft = pair.start_draft()
    token = pair.token(pair.vn_client, f"/compose/{draft}")
    partial = {
        k: v
        for k, v in COMPLETE_PRESERVATION.items()
        if k not in ("el-necessity", "el-offence", "el-mla_follow_up_intended")
    }
    meter = pair.vn_client.post(f"/compose/{draft}/check", data={"csrf_token": token, **partial})
    assert meter.status_code == 200
    assert "5 of 8 required elements — Art. 42(2)" in meter.text
    assert "Add “Necessity of preservation” (Art. 42(2)(e))." in meter.text
    assert "Add “Offence” (Art. 42(2)(b))." in meter.text
    assert "Add “Mutual legal assistance request to follow” (Art. 42(2)(f))." in meter.text

    full = pair.vn_client.post(
        f"/compose/{draft}/check", data={"csrf_token": token, **COMPLETE_PRESERVATION}
    )
    assert "8 of 8 required elements" in full.text
    assert 'data-testid="complete"' in full.text

    sent = pair.vn_client.post(
        f"/compose/{draft}", data={"csrf_token": token, "step": "send", **COMPLETE_PRESERVATION}
    )
    assert sent.status_code == 303
    assert sent.headers["location"].startswith(f"/requests/{draft}")
    assert status_of(pair, "vn", draft) == "sent"
    pair.deliver()

    fragment = pair.fr_client.get("/inbox/fragment")
    reference = re.search(r'data-reference="(VN-2026-\d+)"', fragment.text)
    assert reference is not None
    assert f'id="row-{reference.group(1)}"' in fragment.text
    assert "Not yet acknowledged" in fragment.text

    acknowledged = pair.act(pair.fr_client, draft, "acknowledge")
    assert acknowledged.status_code == 303
    assert status_of(pair, "fr", draft) == "acknowledged"

    today = pair.clock.now().date()
    too_short = pair.act(
        pair.fr_client,
        draft,
        "confirm_preservation",
        until=(today + timedelta(days=10)).isoformat(),
    )
    assert too_short.status_code == 422
    assert 'id="action-error"' in too_short.text
    assert "Preserve the data for at least the minimum period" in too_short.text
    assert MINIMUM_ARTICLE in too_short.text
    assert "Traceback" not in too_short.text
    assert status_of(pair, "fr", draft) == "acknowledged"

    valid = pair.act(
        pair.fr_client,
        draft,
        "confirm_preservation",
        until=(today + timedelta(days=90)).isoformat(),
    )
    assert valid.status_code == 303
    assert status_of(pair, "fr", draft) == "preservation_confirmed"
    pair.deliver()
    assert status_of(pair, "vn", draft) == "preservation_confirmed"
    page = pair.vn_client.get(f"/requests/{draft}")
    assert 'data-testid="follow-up-by-central-authority"' in page.text  # the officer's view
    page = pair.central_authority(pair.vn).get(f"/requests/{draft}")
    assert "Preservation confirmed" in page.text
    assert 'data-testid="draft-follow-up"' in page.text


def test_the_too_short_preservation_is_refused_in_the_viewers_language(pair: Pair) -> None:
    draft = pair.send_complete()
    token = pair.token(pair.fr_client, f"/requests/{draft}")
    until = (pair.clock.now().date() + timedelta(days=3)).isoformat()

    refused = pair.fr_client.post(
        f"/requests/{draft}/actions/confirm_preservation",
        data={"csrf_token": token, "until": until},
        headers={"accept-language": "fr"},
    )

    tr = i18n.translator("fr")
    expected = i18n.problem_message(
        Problem("preservation_until", MINIMUM_ARTICLE, ErrorCode.PRESERVATION_TOO_SHORT), tr
    )
    assert refused.status_code == 422
    assert expected != i18n.problem_message(
        Problem("preservation_until", MINIMUM_ARTICLE, ErrorCode.PRESERVATION_TOO_SHORT),
        i18n.translator("en"),
    )
    assert expected in html.unescape(refused.text)
    assert i18n.format_article(MINIMUM_ARTICLE, tr) in expected
    assert f'value="{until}"' in refused.text  # what the officer typed is kept


def test_the_incoming_case_shows_deadlines_timeline_and_the_forms_the_lifecycle_allows(
    pair: Pair,
) -> None:
    draft = pair.send_complete()

    page = pair.fr_client.get(f"/requests/{draft}").text

    assert 'data-testid="unacknowledged-banner"' in page
    assert 'data-kind="acknowledgement"' in page
    assert re.search(
        r'<time class="countdown" datetime="[^"]+" data-countdown>Time left: 1:00:00</time>', page
    )
    for testid in ("acknowledge", "confirm-preservation", "refuse", "ask-clarification"):
        assert f'data-testid="{testid}"' in page
    assert 'data-testid="send"' not in page
    assert 'min="' + (pair.clock.now().date() + timedelta(days=60)).isoformat() + '"' in page
    assert "Nguyễn Claire" not in page.split('data-testid="timeline"')[1]  # FR did nothing yet
    assert "Art. 42(2)(e)" in page  # each element with its article
    assert "Art. 7 — Illegal access" in page
    assert "IP address" in page
    assert "192.0.2.44" in page
    timeline = page.split('data-testid="timeline"')[1]
    assert "Send" in timeline
    assert "Record receipt" in timeline
    assert "Viet Nam" in timeline
    assert "France" in timeline


def test_a_refusal_needs_grounds_and_reasons_and_shows_what_is_missing(pair: Pair) -> None:
    draft = pair.send_complete()

    refused = pair.act(pair.fr_client, draft, "refuse", reasons="")

    assert refused.status_code == 422
    assert "Grounds for refusal" in refused.text
    assert "Reasons for refusal" in refused.text
    assert status_of(pair, "fr", draft) == "received"
    done = pair.act(pair.fr_client, draft, "refuse", grounds="political_offence", reasons="Lý do.")
    assert done.status_code == 303
    assert status_of(pair, "fr", draft) == "refused"


def test_an_action_the_lifecycle_no_longer_allows_is_a_translated_409(pair: Pair) -> None:
    draft = pair.send_complete()
    assert pair.act(pair.fr_client, draft, "acknowledge").status_code == 303

    again = pair.act(pair.fr_client, draft, "acknowledge")

    assert again.status_code == 409
    assert "Action not allowed in the current status" in again.text


def test_an_auditor_sees_the_metadata_but_no_content_and_no_forms(pair: Pair) -> None:
    draft = pair.send_complete()
    auditor = pair.fr.add_user("audit", Role.AUDITOR, totp=False)
    client = pair.fr.client()
    assert pair.fr.sign_in(client, auditor).status_code == 303

    page = client.get(f"/requests/{draft}").text

    assert "VN-2026-" in page
    assert "Truy cập trái phép" not in page
    assert 'data-testid="acknowledge"' not in page
    assert 'data-testid="print"' not in page
    forbidden = client.post(
        f"/requests/{draft}/actions/acknowledge",
        data={"csrf_token": pair.token(client, f"/requests/{draft}")},
    )
    assert forbidden.status_code == 403


def test_an_unknown_request_is_the_404_page(pair: Pair) -> None:
    answer = pair.fr_client.get("/requests/no-such-id", headers={"accept": "text/html"})
    assert answer.status_code == 404


@pytest.mark.parametrize("lang", ["ar", "zh"])
def test_the_case_page_has_no_english_left(pair: Pair, lang: str) -> None:
    draft = pair.send_complete()
    failed = pair.act(pair.fr_client, draft, "confirm_preservation", until="2026-03-05")
    assert failed.status_code == 422

    page = pair.fr_client.get(f"/requests/{draft}", headers={"accept-language": lang}).text
    refused = pair.fr_client.post(
        f"/requests/{draft}/actions/confirm_preservation",
        data={
            "csrf_token": pair.token(pair.fr_client, f"/requests/{draft}"),
            "until": "2026-03-05",
        },
        headers={"accept-language": lang},
    ).text

    direction = "rtl" if lang == "ar" else "ltr"
    assert f'<html lang="{lang}" dir="{direction}">' in page
    msgids = ui_msgids(*LAYOUT, *CASE)
    assert english_left(page, msgids, lang) == []
    assert english_left(refused, msgids, lang) == []
    until = (pair.clock.now().date() + timedelta(days=61)).isoformat()
    assert pair.act(pair.fr_client, draft, "confirm_preservation", until=until).status_code == 303
    pair.deliver()
    outgoing = pair.vn_client.get(f"/requests/{draft}", headers={"accept-language": lang}).text
    assert 'data-testid="follow-up-by-central-authority"' in outgoing
    assert english_left(outgoing, msgids, lang) == []
    assert english_left(
        pair.fr_client.get(f"/requests/{draft}", headers={"accept-language": "en"}).text, msgids
    )
