"""The request comes first: the case page opens with what is asked, about which
identifiers, until when and why urgent, before any action; only the next step's form is
open (acknowledge, then confirm preservation), the others folded in <details>."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from case_desk import Pair, make_pair


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    made = make_pair(tmp_path)
    yield made
    made.vn.node.close()
    made.fr.node.close()


def open_boxes(page: str) -> list[str]:
    return re.findall(r'<details class="action-box"[^>]*data-action="([a-z_]+)" open>', page)


def folded_boxes(page: str) -> list[str]:
    return re.findall(r'<details class="action-box"[^>]*data-action="([a-z_]+)">', page)


def test_the_summary_of_the_request_comes_before_the_actions(pair: Pair) -> None:
    request_id = pair.send_complete()

    page = pair.fr_client.get(f"/requests/{request_id}").text

    brief = page.index('data-testid="request-brief"')
    assert brief < page.index('id="actions-heading"')
    summary = page[brief : page.index("</div>", brief)]
    assert "192.0.2.44" in summary  # the main identifier
    assert "IP address" in summary  # by its label, never its code
    assert "Dữ liệu bị xoá sau 30 ngày." in summary  # why it is urgent
    assert "2026-02-27" in summary  # the data's date range


def test_only_the_next_step_is_open_acknowledge_then_confirm_preservation(pair: Pair) -> None:
    request_id = pair.send_complete()

    received = pair.fr_client.get(f"/requests/{request_id}").text
    assert open_boxes(received) == ["acknowledge"]
    assert "refuse" in folded_boxes(received)

    assert pair.act(pair.fr_client, request_id, "acknowledge").status_code == 303
    acknowledged = pair.fr_client.get(f"/requests/{request_id}").text
    assert open_boxes(acknowledged) == ["confirm_preservation"]
    assert "refuse" in folded_boxes(acknowledged)


def test_a_refused_action_reopens_its_own_form(pair: Pair) -> None:
    request_id = pair.send_complete()
    assert pair.act(pair.fr_client, request_id, "acknowledge").status_code == 303

    refused = pair.act(pair.fr_client, request_id, "refuse")  # no ground given

    assert refused.status_code == 422
    assert open_boxes(refused.text) == ["refuse"]  # not the next step: the one to correct
