"""Nothing typed is lost: the composer's autosave stores the draft as "Save draft" does,
answers "Saved <time>", and reopening the draft shows what was typed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from case_desk import COMPLETE_PRESERVATION, Pair, make_pair


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    made = make_pair(tmp_path)
    yield made
    made.vn.node.close()
    made.fr.node.close()


def test_autosave_stores_what_was_typed_and_says_when(pair: Pair) -> None:
    draft = pair.start_draft()
    token = pair.token(pair.vn_client, f"/compose/{draft}")
    typed = {**COMPLETE_PRESERVATION, "csrf_token": token}

    answer = pair.vn_client.post(f"/compose/{draft}/autosave", data=typed)
    refused = pair.vn_client.post(f"/compose/{draft}/autosave", data=COMPLETE_PRESERVATION)

    assert answer.status_code == 200
    assert "Saved " in answer.text
    assert "<html" not in answer.text  # a fragment beside the buttons
    assert refused.status_code == 403  # no CSRF token, nothing stored
    reopened = pair.vn_client.get(f"/compose/{draft}").text
    assert COMPLETE_PRESERVATION["el-necessity"] in reopened
    assert COMPLETE_PRESERVATION["id-0-value"] in reopened


def test_autosave_of_a_sent_request_changes_nothing(pair: Pair) -> None:
    request_id = pair.send_complete()
    token = pair.token(pair.vn_client, "/compose")

    answer = pair.vn_client.post(
        f"/compose/{request_id}/autosave",
        data={**COMPLETE_PRESERVATION, "el-necessity": "typed after sending", "csrf_token": token},
    )

    assert "no longer a draft" in answer.text
    assert "typed after sending" not in pair.vn_client.get(f"/requests/{request_id}").text
