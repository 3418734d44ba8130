"""The OpenAPI document, the directory, the treaty queries and unexpected failures."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from api_support import add_users, api_nodes
from fastapi import FastAPI
from fastapi.testclient import TestClient

from fakes import FakeClock
from federation_helpers import make_node
from hanoi247.domain.accounts import Position, Role
from hanoi247.entrypoints.web.api import install_api
from hanoi247.entrypoints.web.problems import PROBLEM_JSON
from hanoi247.services import accounts
from workflow_harness import PRESERVATION

PROBLEM_REF = "#/components/schemas/ProblemDetails"


def refs(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [value["$ref"]] if isinstance(value.get("$ref"), str) else []
        return found + [r for v in value.values() for r in refs(v)]
    if isinstance(value, list):
        return [r for v in value for r in refs(v)]
    return []


def test_openapi_documents_every_route_with_its_answers_and_problems(tmp_path: Path) -> None:
    ours = FastAPI(openapi_url="/api/v1/openapi.json")
    install_api(ours)
    with api_nodes(tmp_path) as (vn, _, _):
        schema = vn.client.get("/api/v1/openapi.json").json()
    assert schema["openapi"].startswith("3.1")
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    operations = [
        (method, path, op)
        for path, ops in schema["paths"].items()
        for method, op in ops.items()
        if method in ours.openapi()["paths"].get(path, {})
    ]
    assert len(operations) >= 24
    for method, path, op in operations:
        where = f"{method.upper()} {path}"
        assert op.get("summary"), where
        assert {"bearerAuth": []} in op.get("security", []), where
        [ok] = [s for s in op["responses"] if s.startswith("2")]
        assert op["responses"][ok]["content"]["application/json"]["schema"]["$ref"], where
        for status in ("401", "413", "422"):
            content = op["responses"][status]["content"]
            assert list(content) == [PROBLEM_JSON], (where, status)
            assert content[PROBLEM_JSON]["schema"]["$ref"] == PROBLEM_REF, (where, status)
    for ref in refs(schema):
        name = ref.removeprefix("#/components/schemas/")
        assert name in schema["components"]["schemas"], ref


def test_directory_lists_pinned_peers_with_local_time_and_who_is_on_call(tmp_path: Path) -> None:
    with api_nodes(tmp_path) as (vn, fr, clock):
        accounts.add_shift(
            vn.runtime.uow_factory(),
            username="an",
            position=Position.PRIMARY,
            starts_at=clock.now() - timedelta(hours=2),
            ends_at=clock.now() + timedelta(hours=6),
            now=clock.now(),
            actor="test",
        )
        directory = vn.get("/api/v1/directory", "an").json()
        fr_card = fr.runtime.local.card()
    assert directory["node"]["node_id"] == "vn-a05"
    assert directory["node"]["time_zones"][0]["zone"] == "Asia/Ho_Chi_Minh"
    [peer] = directory["peers"]
    assert (peer["state"], peer["node_id"], peer["url"]) == ("FR", "fr-oclctic", fr_card["url"])
    assert peer["fingerprint"] == fr_card["fingerprint"]
    assert peer["time_zones"][0] == {
        "zone": "Europe/Paris",
        "utc_offset": "+01:00",
        "local_time": "2026-11-29T10:00:00+01:00",
    }
    assert directory["on_call"]["primary"]["username"] == "an"
    assert directory["on_call"]["backup"] is None


def test_treaty_between_answers_the_cli_json_with_the_status_source(tmp_path: Path) -> None:
    with api_nodes(tmp_path) as (vn, _, _):
        bound = vn.get("/api/v1/treaty/between?a=VN&b=FR&on=2026-11-30", "vn-admin").json()
        before = vn.get("/api/v1/treaty/between?a=VN&b=FR&on=2026-04-04", "an").json()
        unbound = vn.get("/api/v1/treaty/between?a=VN&b=JP&on=2026-11-30", "an").json()
        status = vn.get("/api/v1/treaty/status?instrument=uncc&on=2026-11-30", "an").json()
    assert bound == {
        "a": "VN",
        "b": "FR",
        "on": "2026-11-30",
        "legal_bases": [{"instrument": "uncc", "in_force_since": "2026-04-05"}],
        "status_source": {"source": "hypothetical_uncc.csv", "as_of": None, "hypothetical": True},
    }
    assert before["legal_bases"] == unbound["legal_bases"] == []
    assert status["entry_into_force"] == "2026-04-05"
    assert {"iso2": "VN", "in_force_from": "2026-04-05"} in status["parties"]
    assert status["status_source"]["hypothetical"] is True


def test_without_an_import_the_packaged_status_answers_and_says_so(tmp_path: Path) -> None:
    node = make_node(tmp_path / "n", node_id="vn-a05", state="VN", clock=FakeClock())
    try:
        token = add_users(node, {"an": Role.OFFICER}, node.runtime.clock.now())["an"]
        client = TestClient(node.app, base_url=node.url)
        answer = client.get(
            "/api/v1/treaty/status", headers={"Authorization": f"Bearer {token}"}
        ).json()
    finally:
        node.close()
    packaged = node.runtime.catalogue.packaged_status()
    assert answer["status_source"] == {
        "source": packaged.source,
        "as_of": packaged.as_of.isoformat() if packaged.as_of else None,
        "hypothetical": packaged.hypothetical,
    }
    assert answer["on"] == "2026-01-01"  # the node's clock, not the machine's


def test_an_unexpected_failure_is_a_500_problem_and_the_log_keeps_no_case_content(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(command: object) -> None:
        raise RuntimeError(f"cannot store {PRESERVATION['summary_of_facts']}")

    with api_nodes(tmp_path) as (vn, _, _):
        monkeypatch.setattr(vn.runtime, "handle", broken)
        with caplog.at_level(logging.ERROR, logger="hanoi247.entrypoints.web.api.routing"):
            response = vn.post("/api/v1/requests", "an", json=PRESERVATION)
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["code"] == "internal_error"
    assert "Ransomware" not in response.text
    assert "RuntimeError" in caplog.text
    assert "POST /api/v1/requests" in caplog.text
    assert "Ransomware" not in caplog.text
