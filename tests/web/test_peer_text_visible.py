"""Text a peer sent with bidirectional controls shows visibly on the case page and in the
PDF's markup: ``evil.example\u202eten`` must never display as ``evil.examplenet``."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from case_desk import Pair, make_pair
from markupsafe import Markup

from hanoi247.domain.cooperation import CooperationRequest
from hanoi247.domain.handling import HandlingRestrictions
from hanoi247.domain.references import Links
from hanoi247.domain.requests import Urgency
from hanoi247.domain.treaty import LegalBasis
from hanoi247.entrypoints.pdf import render as pdf_render
from hanoi247.entrypoints.web.pages.render import make_templates

SPOOF = "evil.example\u202eten"
SHOWN = "evil.example&lt;U+202E&gt;ten"


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    made = make_pair(tmp_path)
    yield made
    made.vn.node.close()
    made.fr.node.close()


def arrive_with(pair: Pair, facts: str) -> str:
    """A request on FR from VN whose facts hold ``facts``, stored as the inbox would."""
    now = pair.clock.now()
    request, _ = CooperationRequest.arrived(
        request_id="019ad7a0-5c00-7abc-8def-000000000777",
        reference="VN-2026-000777",
        origin_node="vn-a05",
        requesting_state="VN",
        requested_state="FR",
        instrument="uncc",
        kind="preservation",
        urgency=Urgency.URGENT,
        elements={"summary_of_facts": facts, "custodian_or_location": facts},
        handling=HandlingRestrictions(),
        basis=LegalBasis("uncc", date(2026, 2, 1)),
        links=Links(),
        phone_contacts=(),
        sent_by="vn-7",
        sent_at=now - timedelta(minutes=2),
        message_id="019ad7a0-5c00-7abc-8def-000000000778",
        received_by="fr-oclctic",
        received_at=now - timedelta(minutes=1),
        acknowledge_by=now + timedelta(minutes=30),
    )
    with pair.fr.node.runtime.uow_factory() as uow:
        uow.requests.add(request)
        uow.commit()
    return request.id


def test_a_peers_bidi_override_shows_visibly_on_the_case_page(pair: Pair) -> None:
    request_id = arrive_with(pair, SPOOF)

    page = pair.fr_client.get(f"/requests/{request_id}")

    assert page.status_code == 200
    assert SHOWN in page.text
    assert "\u202e" not in page.text


@pytest.mark.parametrize("make", [make_templates, pdf_render._templates], ids=["page", "pdf"])
def test_both_template_environments_show_refused_characters_as_marks(make: object) -> None:
    environment = make()  # type: ignore[operator]
    template = environment.from_string("{{ text }}|{{ marked }}")

    out = template.render(text=SPOOF + "\x00\ud800", marked=Markup("<b>a\u2066b</b>"))
    assert (
        out == "evil.example&lt;U+202E&gt;ten&lt;U+0000&gt;&lt;U+D800&gt;|<b>a&lt;U+2066&gt;b</b>"
    )


@pytest.mark.parametrize("bad", ["\u202e", "\x00"], ids=["bidi", "nul"])
def test_a_form_field_with_a_refused_character_is_a_422_page_and_saves_nothing(
    pair: Pair, bad: str
) -> None:
    draft = pair.start_draft()
    before = pair.vn_client.get(f"/compose/{draft}").text
    facts = f"Ransomware at evil.example{bad}ten"
    token = pair.token(pair.vn_client, f"/compose/{draft}")

    answer = pair.vn_client.post(
        f"/compose/{draft}",
        data={"csrf_token": token, "summary_of_facts": facts, "step": "save"},
        headers={"accept": "text/html"},
    )

    assert answer.status_code == 422
    assert "hidden or invalid character" in answer.text
    assert pair.vn_client.get(f"/compose/{draft}").text == before
