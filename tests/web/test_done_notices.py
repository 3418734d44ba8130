"""Notices read as sentences: once an action is done the case page says what happened
and to whom ("Request sent to France."), never "Done: Send.", in every language."""

from __future__ import annotations

from pathlib import Path

import pytest
from case_desk import Pair, make_pair

from hanoi247.entrypoints import i18n
from hanoi247.entrypoints.web.pages.case import PERMISSION_FOR
from hanoi247.entrypoints.web.pages.notices import ENGLISH, done_sentence


@pytest.fixture
def pair(tmp_path: Path) -> Pair:
    made = make_pair(tmp_path)
    yield made  # type: ignore[misc]
    made.vn.node.close()
    made.fr.node.close()


def _notice(page: str) -> str:
    start = page.index('data-testid="action-done"')
    return page[start : page.index("</div>", start)]


def test_after_sending_the_case_page_says_request_sent_to_france(pair: Pair) -> None:
    draft = pair.send_complete()
    page = pair.vn_client.get(f"/requests/{draft}?done=send").text
    notice = _notice(page)
    assert "Request sent to France." in notice
    assert "Done:" not in page


def test_after_acknowledging_fr_reads_the_sentence_in_its_own_language(pair: Pair) -> None:
    draft = pair.send_complete()
    done = pair.act(pair.fr_client, draft, "acknowledge")
    assert done.status_code == 303
    location = done.headers["location"]
    assert "done=acknowledge" in location
    english = pair.fr_client.get(location).text
    assert "Receipt acknowledged to Viet Nam." in _notice(english)
    french = pair.fr_client.get(location, headers={"accept-language": "fr"}).text
    assert f"Accusé de réception envoyé : {i18n.state_name('VN', 'fr')}." in _notice(french)
    arabic = pair.fr_client.get(location, headers={"accept-language": "ar"}).text
    assert f"أُرسل إشعار الاستلام إلى {i18n.state_name('VN', 'ar')}." in _notice(arabic)


def test_an_unknown_done_value_shows_no_notice(pair: Pair) -> None:
    draft = pair.send_complete()
    page = pair.vn_client.get(f"/requests/{draft}?done=<script>").text
    assert 'data-testid="action-done"' not in page


def test_every_case_action_has_its_own_sentence() -> None:
    assert set(PERMISSION_FOR) == set(ENGLISH)
    english = i18n.translator("en")
    sentences = {done_sentence(action, "France", english) for action in PERMISSION_FOR}
    assert len(sentences) == len(PERMISSION_FOR)  # no two actions read alike


@pytest.mark.parametrize("lang", [lang for lang in i18n.LANGUAGES if lang != "en"])
def test_every_sentence_is_translated_and_names_the_state(lang: str) -> None:
    tr = i18n.translator(lang)
    for action, source in ENGLISH.items():
        sentence = done_sentence(action, "@STATE@", tr)
        assert sentence != source.format(state="@STATE@"), (lang, action)
        assert ("@STATE@" in sentence) == ("{state}" in source), (lang, action)
