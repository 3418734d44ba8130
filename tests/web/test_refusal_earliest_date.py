"""A refusal about time names the earliest acceptable date (issue 12): confirming a
preservation that ends too soon says from which day an end date is accepted, in the
officer's language."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from case_desk import Pair, make_pair

from hanoi247.domain.deadlines import minimum_preservation_until
from hanoi247.domain.instruments import load_instrument
from hanoi247.entrypoints import i18n


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    made = make_pair(tmp_path)
    yield made
    made.vn.node.close()
    made.fr.node.close()


@pytest.mark.parametrize("lang", ["en", "fr", "ar"])
def test_a_too_short_preservation_names_the_first_accepted_end_date(pair: Pair, lang: str) -> None:
    draft = pair.send_complete()
    assert pair.act(pair.fr_client, draft, "acknowledge").status_code == 303
    today = pair.clock.now().date()
    refused = pair.fr_client.post(
        f"/requests/{draft}/actions/confirm_preservation",
        data={
            "csrf_token": pair.token(pair.fr_client, f"/requests/{draft}"),
            "until": (today + timedelta(days=10)).isoformat(),
        },
        headers={"accept-language": lang},
    )
    assert refused.status_code == 422
    earliest = minimum_preservation_until(today, load_instrument("uncc"))
    tr = i18n.translator(lang)
    sentence = i18n.fill(
        tr.gettext("Accepted from {date}."),
        "Accepted from {date}.",
        date=i18n.format_date(earliest, lang),
    )
    assert lang == "en" or sentence != f"Accepted from {i18n.format_date(earliest, lang)}."
    assert sentence in refused.text.replace("&#39;", "'")
