"""Who may call what: bearer tokens per user, permissions from the Permission table."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from api_support import api_nodes, deliver

from hanoi247.entrypoints.web.problems import PROBLEM_JSON
from workflow_harness import MLA, PRESERVATION

REQUESTS = "/api/v1/requests"


def test_no_token_or_a_bad_token_is_401_problem_with_a_bearer_challenge(tmp_path: Path) -> None:
    with api_nodes(tmp_path) as (vn, _, _):
        for headers in (
            {},
            {"Authorization": "Bearer h247_" + "x" * 43},
            {"Authorization": "Basic a"},
        ):
            response = vn.client.get("/api/v1/inbox", headers=headers)
            assert response.status_code == 401
            assert response.headers["content-type"] == PROBLEM_JSON
            assert response.headers["www-authenticate"].startswith("Bearer")
            assert response.json()["code"] == "unauthorized"


def test_the_administrator_reads_no_case_content_nor_case_lists(tmp_path: Path) -> None:
    with api_nodes(tmp_path) as (vn, _, _):
        pid = vn.post(REQUESTS, "an", json=PRESERVATION).json()["id"]
        for path in (f"{REQUESTS}/{pid}", REQUESTS, "/api/v1/inbox"):
            response = vn.get(path, "vn-admin")
            assert (response.status_code, response.json()["code"]) == (403, "permission_denied")
            assert str(PRESERVATION["necessity"]) not in response.text
        assert vn.get("/api/v1/directory", "vn-admin").status_code == 200  # no case content


def test_an_auditor_lists_metadata_but_reads_no_content_and_drafts_nothing(tmp_path: Path) -> None:
    with api_nodes(tmp_path) as (vn, _, _):
        pid = vn.post(REQUESTS, "an", json=PRESERVATION).json()["id"]
        [item] = vn.get(REQUESTS, "vn-auditor").json()["items"]
        assert (item["id"], item["kind"], item["status"]) == (pid, "preservation", "draft")
        assert "elements" not in item
        assert vn.get(f"{REQUESTS}/{pid}", "vn-auditor").status_code == 403
        assert vn.post(REQUESTS, "vn-auditor", json=PRESERVATION).status_code == 403
        assert vn.post(f"{REQUESTS}/{pid}/send", "vn-auditor").status_code == 403
        assert vn.get(f"{REQUESTS}/{pid}", "an").json()["status"] == "draft"


@pytest.mark.parametrize(
    ("payload", "allowed"),
    [(MLA, True), (PRESERVATION, False)],
    ids=["mla", "preservation"],
)
def test_a_central_authority_drafts_and_sends_mla_requests_only(
    tmp_path: Path, payload: dict[str, object], allowed: bool
) -> None:
    with api_nodes(tmp_path) as (vn, fr, _):
        drafted = vn.post(REQUESTS, "vn-ca", json=payload)
        assert drafted.status_code == (201 if allowed else 403)
        if allowed:
            rid = drafted.json()["id"]
            assert vn.post(f"{REQUESTS}/{rid}/send", "vn-ca").status_code == 200
            deliver(vn, fr)
            assert fr.post(f"{REQUESTS}/{rid}/acknowledge", "fr-ca").status_code == 200


def test_the_officer_may_not_record_another_basis_nor_the_central_authority_preserve(
    tmp_path: Path,
) -> None:
    with api_nodes(tmp_path) as (vn, fr, _):
        pid = vn.post(REQUESTS, "an", json=PRESERVATION).json()["id"]
        basis = {"type": "reciprocity", "text": "Note verbale 1/2026.", "central_authority": "MPS"}
        assert vn.post(f"{REQUESTS}/{pid}/other-basis", "an", json=basis).status_code == 403
        vn.post(f"{REQUESTS}/{pid}/send", "an")
        deliver(vn, fr)
        denied = fr.post(f"{REQUESTS}/{pid}/preservation", "fr-ca", json={"until": "2027-06-01"})
        assert (denied.status_code, denied.json()["code"]) == (403, "permission_denied")
        assert fr.view(pid, "claire")["status"] == "received"


def test_a_central_authority_cannot_turn_its_mla_draft_into_another_kind(tmp_path: Path) -> None:
    with api_nodes(tmp_path) as (vn, _, _):
        mid = vn.post(REQUESTS, "vn-ca", json=MLA).json()["id"]
        changed = vn.patch(f"{REQUESTS}/{mid}", "vn-ca", json=PRESERVATION)
        assert (changed.status_code, changed.json()["code"]) == (403, "permission_denied")
        assert vn.view(mid, "vn-ca")["kind"] == "mla"


def test_a_client_sending_invalid_tokens_is_throttled_with_429_and_retry_after(
    tmp_path: Path,
) -> None:
    with api_nodes(tmp_path) as (vn, _, _):
        bad = {"Authorization": "Bearer h247_" + "x" * 43}
        for _ in range(10):
            assert vn.client.get("/api/v1/inbox", headers=bad).status_code == 401
        refused = vn.client.get("/api/v1/inbox", headers=bad)
        assert refused.status_code == 429
        assert refused.headers["content-type"] == PROBLEM_JSON
        assert refused.headers["retry-after"] == "6"
        assert refused.json()["code"] == "too_many_requests"
        vn.runtime.clock.advance(timedelta(seconds=6))
        assert vn.get("/api/v1/inbox", "an").status_code == 200  # a token again
