"""The guided composer: destinations with a pinned node only, the legal basis that would
apply (or the problem), the elements of the kind with their articles and help, the
completeness meter, saving (identifiers with their time zone), preview, sending, the
follow-up MLA request prefilled from a preservation, and no English left in ar and zh."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from case_desk import COMPLETE_PRESERVATION, Pair, make_pair
from web_desk import english_left, ui_msgids

from federation_helpers import make_node, pin
from hanoi247.domain.accounts import Role

LAYOUT = ("templates/base.html", "templates/_csrf.html", "pages/labels.py")
COMPOSER = (
    "templates/compose.html",
    "templates/compose_start.html",
    "templates/_meter.html",
    "templates/_basis.html",
    "templates/compose_preview.html",
    "templates/_values.html",
    "pages/compose.py",
    "pages/compose_form.py",
    "pages/live.py",
)


@pytest.fixture
def pair(tmp_path: Path) -> Pair:
    made = make_pair(tmp_path)
    yield made  # type: ignore[misc]
    made.vn.node.close()
    made.fr.node.close()


def stored(pair: Pair, request_id: str) -> dict[str, object]:
    with pair.vn.node.runtime.uow_factory() as uow:
        found = uow.requests.get(request_id)
    assert found is not None
    return found.payload()


def test_destinations_are_the_states_of_pinned_nodes_with_the_legal_basis(
    pair: Pair, tmp_path: Path
) -> None:
    de = make_node(tmp_path / "de", node_id="de-bka", state="DE", clock=pair.clock)
    pin(pair.vn.node, de)
    de.close()

    page = pair.vn_client.get("/compose?to=FR&kind=preservation").text
    options = re.findall(r'<option value="([A-Z]{2})"', page)
    basis = pair.vn_client.get("/compose/basis?to=FR").text
    not_pinned = pair.vn_client.get("/compose/basis?to=JP").text

    assert options == ["FR", "DE"] or sorted(options) == ["DE", "FR"]
    assert "VN" not in options
    assert "Legal basis that would apply today:" in page
    assert "UN Convention against Cybercrime" in basis
    assert "Art. 65(1)" in basis
    assert "Choose the requested State" in not_pinned


def test_with_no_instrument_in_force_the_composer_says_so_and_what_to_do(pair: Pair) -> None:
    with pair.vn.node.runtime.uow_factory() as uow:
        uow.treaty_actions.replace_all(
            [], source="empty.csv", as_of=date(2026, 1, 1), imported_by="t", at=pair.clock.now()
        )
        uow.commit()

    basis = pair.vn_client.get("/compose/basis?to=FR").text

    assert "No legal basis in force" in basis
    assert "is not in force between Viet Nam and France today" in basis
    assert "A central authority may record another legal basis" in basis


def test_the_draft_page_lists_each_required_element_with_its_article_and_help(
    pair: Pair,
) -> None:
    draft = pair.start_draft()

    page = pair.vn_client.get(f"/compose/{draft}").text

    assert "0 of 8 required elements — Art. 42(2)" in page
    assert 'id="field-summary_of_facts"' in page
    assert 'name="el-summary_of_facts"' in page
    assert 'for="field-summary_of_facts"' in page
    assert "Summarise the facts briefly: what happened, when, to whom." in page
    assert '<select id="field-offence"' in page
    assert "Art. 7 — Illegal access" in page
    assert 'type="checkbox" id="field-mla_follow_up_intended"' in page
    assert "Art. 42(2)(f)" in page
    assert 'type="datetime-local" id="id-0-when"' in page
    assert 'type="date" id="range-from"' in page
    assert 'id="handling-confidential"' in page
    for testid in ("compose-save", "compose-preview", "compose-send", "completeness"):
        assert f'data-testid="{testid}"' in page


def test_the_meter_counts_what_is_missing_and_names_bad_values(pair: Pair) -> None:
    draft = pair.start_draft()
    token = pair.token(pair.vn_client, f"/compose/{draft}")
    form = {**COMPLETE_PRESERVATION, "id-0-value": "not-an-ip", "el-summary_of_facts": ""}

    meter = pair.vn_client.post(f"/compose/{draft}/check", data={"csrf_token": token, **form})

    assert "7 of 8 required elements — Art. 42(2)" in meter.text
    assert 'data-element="summary_of_facts"' in meter.text
    assert 'data-element="identifiers[0].value"' in meter.text
    assert 'data-testid="complete"' not in meter.text
    assert "<html" not in meter.text  # a fragment
    assert stored(pair, draft).get("summary_of_facts") is None  # checking stores nothing


def test_saving_keeps_every_field_and_reads_identifier_times_in_their_zone(pair: Pair) -> None:
    draft = pair.start_draft()
    token = pair.token(pair.vn_client, f"/compose/{draft}")
    form = {**COMPLETE_PRESERVATION, "handling-confidential": "true", "step": "save"}

    saved = pair.vn_client.post(f"/compose/{draft}", data={"csrf_token": token, **form})

    assert saved.status_code == 303
    assert saved.headers["location"].startswith(f"/compose/{draft}?saved=1")
    payload = stored(pair, draft)
    assert payload["identifiers"] == [
        {"type": "ip", "value": "192.0.2.44", "timestamp": "2026-02-28T21:14:00+07:00"}
    ]
    assert payload["offence"] == 7
    assert payload["mla_follow_up_intended"] is True
    assert payload["date_range"] == {"from": "2026-02-27", "to": "2026-03-01"}
    assert payload["handling"] == {
        "confidential": True,
        "use_limited_to": None,  # not limited: the one dict form keeps the key, as null
        "no_onward_transfer": False,
    }
    page = pair.vn_client.get(saved.headers["location"]).text
    assert 'value="2026-02-28T21:14"' in page
    assert '<option value="Asia/Ho_Chi_Minh" selected>' in page
    assert 'id="draft-saved"' in page
    assert "8 of 8 required elements" in page


def test_sending_an_incomplete_draft_stays_in_the_composer_with_the_problems(pair: Pair) -> None:
    draft = pair.start_draft()
    token = pair.token(pair.vn_client, f"/compose/{draft}")
    form = {k: v for k, v in COMPLETE_PRESERVATION.items() if k != "el-necessity"}

    refused = pair.vn_client.post(
        f"/compose/{draft}", data={"csrf_token": token, "step": "send", **form}
    )

    assert refused.status_code == 422
    assert 'id="compose-error"' in refused.text
    assert "Add “Necessity of preservation” (Art. 42(2)(e))." in refused.text
    assert stored(pair, draft).get("requesting_authority")  # the rest was saved


def test_preview_shows_the_request_as_the_peer_will_and_sends_it(pair: Pair) -> None:
    draft = pair.start_draft()
    token = pair.token(pair.vn_client, f"/compose/{draft}")
    shown = pair.vn_client.post(
        f"/compose/{draft}", data={"csrf_token": token, "step": "preview", **COMPLETE_PRESERVATION}
    )
    assert shown.headers["location"] == f"/compose/{draft}/preview"

    preview = pair.vn_client.get(f"/compose/{draft}/preview").text
    sent = pair.vn_client.post(f"/compose/{draft}/send", data={"csrf_token": token})

    assert "Nhật ký đăng nhập" in preview
    assert 'data-testid="preview-send"' in preview
    assert sent.status_code == 303
    assert sent.headers["location"].startswith(f"/requests/{draft}")
    assert pair.vn_client.get(f"/compose/{draft}").headers["location"] == f"/requests/{draft}"


def test_the_follow_up_mla_request_is_prefilled_with_the_preservation_reference(pair: Pair) -> None:
    draft = pair.send_complete()
    central = pair.central_authority(pair.vn)  # MLA: central authority to central authority
    case = central.get(f"/requests/{draft}").text
    link = re.search(r'id="draft-follow-up" data-testid="draft-follow-up" href="([^"]+)"', case)
    assert link is not None
    start = central.get(link.group(1).replace("&amp;", "&")).text
    reference = re.search(r'name="related_reference" value="([^"]+)"', start)
    assert reference is not None

    created = central.post(
        "/compose",
        data={"csrf_token": pair.token(central, "/compose"), "kind": "mla", "to": "FR",
              "urgency": "routine", "related_reference": reference.group(1)},
    )  # fmt: skip

    mla = created.headers["location"].rsplit("/", 1)[1]
    assert stored(pair, mla)["related_reference"] == reference.group(1)
    page = central.get(f"/compose/{mla}").text
    assert 'data-testid="central-authorities"' in page
    assert f'value="{reference.group(1)}"' in page
    assert "Arts 40 and 44" in page or "Art. 40" in page


def test_an_auditor_may_not_compose(pair: Pair) -> None:
    auditor = pair.vn.add_user("audit", Role.AUDITOR, totp=False)
    client = pair.vn.client()
    assert pair.vn.sign_in(client, auditor).status_code == 303

    assert client.get("/compose", headers={"accept": "text/html"}).status_code == 403


@pytest.mark.parametrize("lang", ["ar", "zh"])
def test_the_composer_has_no_english_left(pair: Pair, lang: str) -> None:
    draft = pair.start_draft()
    token = pair.token(pair.vn_client, f"/compose/{draft}")
    headers = {"accept-language": lang}
    partial = {k: v for k, v in COMPLETE_PRESERVATION.items() if k != "el-necessity"}

    pages = {
        "start": pair.vn_client.get("/compose?to=FR", headers=headers).text,
        "draft": pair.vn_client.get(f"/compose/{draft}", headers=headers).text,
        "meter": pair.vn_client.post(
            f"/compose/{draft}/check", data={"csrf_token": token, **partial}, headers=headers
        ).text,
    }
    saved = {"csrf_token": token, "step": "save", **COMPLETE_PRESERVATION}
    assert pair.vn_client.post(f"/compose/{draft}", data=saved).status_code == 303
    pages["preview"] = pair.vn_client.get(f"/compose/{draft}/preview", headers=headers).text

    msgids = ui_msgids(*LAYOUT, *COMPOSER)
    assert f'dir="{"rtl" if lang == "ar" else "ltr"}"' in pages["start"]
    for name, html in pages.items():
        assert english_left(html, msgids, lang) == [], name
    english = pair.vn_client.get(f"/compose/{draft}", headers={"accept-language": "en"}).text
    assert english_left(english, msgids)  # the check does see the English strings


def test_the_composer_turns_the_national_offence_inputs_into_the_request_json() -> None:
    from starlette.datastructures import FormData

    from hanoi247.domain.instruments import load_instrument
    from hanoi247.domain.requests import kinds_of
    from hanoi247.entrypoints.web.pages import compose_form as cf

    uncc = load_instrument("uncc")
    form = FormData(
        [
            ("urgency", "urgent"),
            ("el-offence", "national"),
            ("offence-name", "Kidnapping"),
            ("offence-provision", "Penal Code, art. 157"),
            ("offence-max_penalty_years", "10"),
        ]
    )
    payload = cf.payload_of(form, kinds_of(uncc)["preservation"], "FR")
    assert payload["offence"] == {
        "name": "Kidnapping",
        "provision": "Penal Code, art. 157",
        "max_penalty_years": 10,
    }
    assert cf.national_offences(uncc) == {"article": "Art. 2", "minimum": 4}
