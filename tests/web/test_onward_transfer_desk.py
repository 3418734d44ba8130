"""Onward transfer from the desks: FR cannot forward VN's restricted request without VN's
signed consent, asks for it from the case page; VN answers from its case page; after the
forward, VN's case page shows it."""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from case_desk import COMPLETE_PRESERVATION, Pair, make_pair

from hanoi247.domain.federation import Peer
from workflow_harness import START, uncc_in_force


@pytest.fixture
def pair(tmp_path: Path) -> Pair:
    made = make_pair(tmp_path)
    yield made  # type: ignore[misc]
    made.vn.node.close()
    made.fr.node.close()


def third_state() -> str:
    """A State the hypothetical status binds with FR (not VN or FR)."""
    return next(
        a.participant for a in uncc_in_force("VN", "FR") if a.participant not in ("VN", "FR")
    )


def pin_third_node(pair: Pair, state: str) -> None:
    """FR pins a node of ``state`` (its messages wait in FR's outbox: nobody runs it)."""
    with pair.fr.node.runtime.uow_factory() as uow:
        uow.peers.add(
            Peer(
                node_id=f"{state.lower()}-247",
                state=state,
                name=f"{state} 24/7",
                url=f"https://{state.lower()}-247.test",
                fingerprint="AAAA",
                pinned_at=START,
                pinned_by="test",
            )
        )
        uow.commit()


def send_restricted(pair: Pair) -> str:
    draft = pair.start_draft()
    data = {**COMPLETE_PRESERVATION, "step": "send", "handling-no_onward_transfer": "true"}
    data["csrf_token"] = pair.token(pair.vn_client, f"/compose/{draft}")
    sent = pair.vn_client.post(f"/compose/{draft}", data=data)
    assert sent.status_code == 303, sent.text
    assert pair.deliver() >= 1
    return draft


def test_fr_forwards_vns_request_only_with_vns_signed_consent_and_vn_sees_it(
    pair: Pair,
) -> None:
    third = third_state()
    pin_third_node(pair, third)
    rid = send_restricted(pair)
    with pair.fr.node.runtime.uow_factory() as uow:
        assert uow.requests.get(rid).handling.no_onward_transfer

    refused = pair.act(pair.fr_client, rid, "forward", to_state=third)
    assert refused.status_code == 409
    assert 'data-testid="ask-consent"' in refused.text

    asked = pair.act(pair.fr_client, rid, "ask_consent", to_state=third)
    assert asked.status_code == 303, asked.text
    pair.deliver()
    vn_case = pair.vn_client.get(f"/requests/{rid}").text
    assert 'data-action="ask_consent"' in vn_case
    assert 'data-testid="answer-consent"' in vn_case
    answered = pair.act(pair.vn_client, rid, "answer_consent", to_state=third, decision="grant")
    assert answered.status_code == 303, answered.text
    pair.deliver()

    forwarded = pair.act(pair.fr_client, rid, "forward", to_state=third)
    assert forwarded.status_code == 303, forwarded.text
    pair.deliver()
    vn_case = html.unescape(pair.vn_client.get(f"/requests/{rid}").text)
    assert 'data-action="forward"' in vn_case
    with pair.vn.node.runtime.uow_factory() as uow:
        [ref] = uow.requests.get(rid).links.forwarded_to
    assert ref.state == third
    assert ref.reference in vn_case
