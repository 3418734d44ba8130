"""The case page's failure box separates warnings from blocking errors, as the composer
does (issue 12): sending a draft from its case page with an IP address that is none (it
blocks) and a broad date range (it does not) shows the error under "To correct before
sending" and the warning in a box of its own, in the officer's language."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from case_desk import COMPLETE_PRESERVATION, Pair, make_pair

from hanoi247.entrypoints import i18n


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    made = make_pair(tmp_path)
    yield made
    made.vn.node.close()
    made.fr.node.close()


def _group(page: str, testid: str) -> str:
    start = page.index(f'data-testid="{testid}"')
    return page[start : page.index("</ul>", start)]


def _saved_draft(pair: Pair, **values: str) -> str:
    draft = pair.start_draft()
    form = {**COMPLETE_PRESERVATION, **values, "step": "save"}
    form["csrf_token"] = pair.token(pair.vn_client, f"/compose/{draft}")
    saved = pair.vn_client.post(f"/compose/{draft}", data=form)
    assert saved.status_code in (200, 303), saved.text
    return draft


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_send_from_the_case_page_shows_blocking_errors_and_warnings_in_two_boxes(
    pair: Pair, lang: str
) -> None:
    draft = _saved_draft(pair, **{"id-0-value": "not-an-address", "range-from": "2024-01-01"})
    token = pair.token(pair.vn_client, f"/requests/{draft}")
    answer = pair.vn_client.post(
        f"/requests/{draft}/actions/send",
        data={"csrf_token": token},
        headers={"accept-language": lang},
    )
    assert answer.status_code == 422, answer.text
    page, tr = answer.text, i18n.translator(lang)
    blocking, warnings = _group(page, "action-blocking"), _group(page, "action-warnings")
    assert re.findall(r'data-code="([a-z_]+)"', blocking) == ["invalid_value"]
    assert re.findall(r'data-code="([a-z_]+)"', warnings) == ["scope_too_broad"]
    error_box = page[page.index('data-testid="action-error"') :]
    error_box = error_box[: error_box.index("</div>")]
    assert "scope_too_broad" not in error_box  # the warning is not among the errors
    assert tr.gettext("To correct before sending") in error_box
    assert tr.gettext("Warnings (they do not stop sending)") in warnings


def test_a_refusal_with_only_blocking_errors_shows_no_warning_box(pair: Pair) -> None:
    draft = _saved_draft(pair, **{"id-0-value": "not-an-address"})
    token = pair.token(pair.vn_client, f"/requests/{draft}")
    answer = pair.vn_client.post(f"/requests/{draft}/actions/send", data={"csrf_token": token})
    assert answer.status_code == 422, answer.text
    assert re.findall(r'data-code="([a-z_]+)"', _group(answer.text, "action-blocking")) == [
        "invalid_value"
    ]
    assert 'data-testid="action-warnings"' not in answer.text
