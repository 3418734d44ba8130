"""The inbox answers as docs/protocol.md states: Content-Type, the 422 answer with its
reason, drill bodies, the pong's time with Z, and `MU` as a node id in init and peer add."""

from __future__ import annotations

import json
from pathlib import Path

import test_inbox_endpoint
from test_inbox_endpoint import NOW, Scene, post
from typer.testing import CliRunner

from hanoi247.adapters.federation import wire
from hanoi247.domain.errors import InvalidInput
from hanoi247.domain.federation import MessageType
from hanoi247.entrypoints.cli import app

scene = test_inbox_endpoint.scene  # the same fixture: a FR node that pinned VN


def test_an_envelope_sent_as_text_plain_is_refused_with_415_and_not_stored(
    scene: Scene,
) -> None:
    response = scene.client.post(
        "/federation/v1/inbox", content=scene.envelope(), headers={"content-type": "text/plain"}
    )
    assert (response.status_code, response.json()["code"]) == (415, "unsupported_media_type")
    assert response.headers["content-type"].startswith("application/problem+json")
    assert scene.stored() == (0, 0, 0)


def test_an_envelope_without_content_type_is_refused_with_415(scene: Scene) -> None:
    response = scene.client.post("/federation/v1/inbox", content=scene.envelope())
    assert (response.status_code, response.json()["code"]) == (415, "unsupported_media_type")


def test_the_422_answer_carries_the_documented_code_and_reason_member(scene: Scene) -> None:
    status, problem = post(scene, scene.envelope(body={"note": "x" * 201}))
    assert status == 422
    assert problem["code"] == "unprocessable"
    assert problem["reason"] == "message_rejected:bad_field:note"
    # exactly the answer docs/protocol.md §5.3 shows
    assert problem["title"] == "The message cannot be processed"
    assert problem["detail"] == "the envelope is authentic but this node cannot act on the message"
    assert problem["type"] == "https://hanoi247.org/problems/unprocessable"
    assert "x" * 20 not in json.dumps(problem)  # never content
    assert scene.stored() == (0, 0, 0)


def test_an_unknown_type_answers_reason_unknown_type(scene: Scene) -> None:
    status, problem = post(scene, scene.envelope(type="request.unheard_of"))
    assert (status, problem["code"], problem["reason"]) == (
        422,
        "unprocessable",
        "unknown_type:request.unheard_of",
    )


def test_a_drill_ping_with_an_unknown_member_is_refused(scene: Scene) -> None:
    status, problem = post(scene, scene.envelope(body={"note": "hi", "x": 1}))
    assert (status, problem["reason"]) == (422, "message_rejected:unknown_field:x")


def test_the_pong_writes_ping_sent_at_with_z(scene: Scene) -> None:
    status, answer = post(scene, scene.envelope())
    assert status == 200
    with scene.runtime.uow_factory() as uow:
        [pong] = uow.outbox.list()
    assert pong.type is MessageType.DRILL_PONG
    assert pong.body["ping_sent_at"] == wire.format_time(NOW)
    assert str(pong.body["ping_sent_at"]).endswith("Z")
    assert pong.body["ping_id"] == answer["message_id"]


def test_init_and_peer_add_accept_mu_as_a_node_id(tmp_path: Path) -> None:
    runner = CliRunner()
    mu, fr = tmp_path / "mu", tmp_path / "fr"
    made = runner.invoke(
        app,
        ["init", "--state", "MU", "--name", "Mauritius CERT", "--url", "http://127.0.0.1:9",
         "--node-id", "MU", "--data-dir", str(mu)],
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    runner.invoke(
        app,
        ["init", "--state", "FR", "--name", "OCLCTIC", "--url", "http://127.0.0.1:10",
         "--node-id", "FR", "--data-dir", str(fr)],
    )  # fmt: skip
    card = json.loads((mu / "card.json").read_text())
    assert card["node_id"] == "MU"
    pinned = runner.invoke(
        app,
        ["peer", "add", str(mu / "card.json"), "--fingerprint", card["fingerprint"],
         "--data-dir", str(fr)],
    )  # fmt: skip
    assert pinned.exit_code == 0, pinned.output
    listed = runner.invoke(app, ["peer", "list", "--json", "--data-dir", str(fr)])
    assert '"MU"' in listed.output


def test_init_refuses_a_node_id_outside_the_grammar_naming_the_section(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["init", "--state", "MU", "--name", "M", "--url", "http://127.0.0.1:9",
         "--node-id", "mu:cert@x", "--data-dir", str(tmp_path / "x")],
    )  # fmt: skip
    assert result.exit_code != 0
    assert isinstance(result.exception, InvalidInput)  # main() prints it in one line
    assert "docs/protocol.md §1.1" in str(result.exception)
