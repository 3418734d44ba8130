"""A non-blocking warning is shown apart from the errors that block sending (issue 12):
when the composer refuses a draft, the errors that block it and the warnings that do not
are two groups under their own headings, in the officer's language."""

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


def _refused(pair: Pair, lang: str) -> str:
    draft = pair.start_draft()
    form = {
        **COMPLETE_PRESERVATION,
        "id-0-value": "not-an-address",  # blocks: an IP address that is none
        "range-from": "2024-01-01",  # does not block: a broad range (a warning)
        "range-to": "2026-03-01",
        "csrf_token": pair.token(pair.vn_client, f"/compose/{draft}"),
        "step": "send",
    }
    answer = pair.vn_client.post(f"/compose/{draft}", data=form, headers={"accept-language": lang})
    assert answer.status_code == 422, answer.text
    return answer.text


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_blocking_errors_and_warnings_are_two_groups_with_their_own_headings(
    pair: Pair, lang: str
) -> None:
    page = _refused(pair, lang)
    tr = i18n.translator(lang)
    blocking, warnings = _group(page, "compose-blocking"), _group(page, "compose-warnings")
    assert re.findall(r'data-code="([a-z_]+)"', blocking) == ["invalid_value"]
    assert re.findall(r'data-code="([a-z_]+)"', warnings) == ["scope_too_broad"]
    assert tr.gettext("To correct before sending") in page
    assert tr.gettext("Warnings (they do not stop sending)") in warnings
    assert page.index('data-testid="compose-blocking"') < page.index(
        'data-testid="compose-warnings"'
    )
