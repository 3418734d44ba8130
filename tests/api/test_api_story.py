"""The preservation → follow-up MLA story, driven through the JSON API alone between two
in-process nodes (VN requests, FR is requested), and the refusals a client must see."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from api_support import api_nodes, deliver, errors, shared_timeline

from hanoi247.entrypoints.web.problems import PROBLEM_JSON
from workflow_harness import MLA, PRESERVATION

REQUESTS = "/api/v1/requests"


def test_preservation_then_follow_up_mla_story_through_the_api(tmp_path: Path) -> None:
    with api_nodes(tmp_path) as (vn, fr, clock):
        # VN drafts; the draft is kept and the officer told what is missing, with its article.
        incomplete = {k: v for k, v in PRESERVATION.items() if k != "necessity"}
        drafted = vn.post(REQUESTS, "an", json=incomplete)
        assert drafted.status_code == 201, drafted.text
        draft = drafted.json()
        pid = draft["id"]
        assert (draft["reference"], draft["status"]) == ("VN-2026-000001", "draft")
        assert errors(draft["problems"]) == [("necessity", "Art. 42(2)(e)", "missing_element")]
        assert drafted.headers["location"] == f"{REQUESTS}/{pid}"

        refused = vn.post(f"{REQUESTS}/{pid}/send", "an")
        assert refused.status_code == 409  # the stored draft lacks it, not the call
        assert refused.headers["content-type"] == PROBLEM_JSON
        assert refused.json()["code"] == "missing_element"
        assert errors(refused.json()["problems"]) == [
            ("necessity", "Art. 42(2)(e)", "missing_element")
        ]

        completed = vn.patch(f"{REQUESTS}/{pid}", "an", json={"necessity": "Deleted in days."})
        assert completed.status_code == 200, completed.text
        assert errors(completed.json()["problems"]) == []
        sent = vn.post(f"{REQUESTS}/{pid}/send", "an")
        assert sent.status_code == 200, sent.text
        assert sent.json()["status"] == "sent"
        assert sent.json()["message_id"]
        assert deliver(vn, fr) == 1
        assert vn.view(pid, "an")["status"] == "received"  # FR's signed receipt came back

        # FR sees it in its inbox, under the id VN gave it, and acknowledges.
        inbox = fr.get("/api/v1/inbox", "claire").json()["items"]
        assert [(i["id"], i["reference"], i["acknowledged"]) for i in inbox] == [
            (pid, "VN-2026-000001", False)
        ]
        copy = fr.view(pid, "claire")
        assert (copy["direction"], copy["status"]) == ("incoming", "received")
        assert copy["handling"]["no_onward_transfer"] is True
        assert copy["legal_basis"]["instrument"] == "uncc"
        assert "acknowledge" in copy["allowed_actions"]
        acknowledged = fr.post(f"{REQUESTS}/{pid}/acknowledge", "claire")
        assert acknowledged.json()["status"] == "acknowledged"
        deliver(vn, fr)

        # Less than the 60 days of Art. 42 is refused, naming the article; 90 days is kept.
        today = clock.now().date()
        short = fr.post(
            f"{REQUESTS}/{pid}/preservation",
            "claire",
            json={"until": str(today + timedelta(days=59))},
        )
        assert short.status_code == 422
        [problem] = short.json()["problems"]
        assert problem["code"] == "preservation_too_short"
        assert problem["article"].startswith("Art. 42")
        until = today + timedelta(days=90)
        confirmed = fr.post(f"{REQUESTS}/{pid}/preservation", "claire", json={"until": str(until)})
        assert confirmed.json()["status"] == "preservation_confirmed"
        deliver(vn, fr)
        for node, user in ((vn, "an"), (fr, "claire")):
            view = node.view(pid, user)
            assert (view["status"], view["preservation_until"]) == (
                "preservation_confirmed",
                str(until),
            )
            assert {"preservation_expiry", "follow_up_mla"} <= {d["key"] for d in view["deadlines"]}

        # "No onward transfer": FR cannot pass the request on to a third State.
        forwarded = fr.post(f"{REQUESTS}/{pid}/forward", "claire", json={"to": "DZ"})
        assert forwarded.status_code == 403
        assert forwarded.json()["code"] == "handling_restricted"

        # Before expiry, VN sends the follow-up MLA request citing the preservation.
        clock.advance(timedelta(days=20))
        assert clock.now().date() < until
        # It goes central authority to central authority: VN's officer may not send it.
        refused = vn.post(REQUESTS, "an", json=MLA | {"related_reference": "VN-2026-000001"})
        assert refused.status_code == 403
        mla = vn.post(REQUESTS, "vn-ca", json=MLA | {"related_reference": "VN-2026-000001"}).json()
        mid = mla["id"]
        assert errors(mla["problems"]) == []
        assert vn.view(mid, "an")["links"]["follow_up_of"]["request_id"] == pid
        assert vn.post(f"{REQUESTS}/{mid}/send", "vn-ca").json()["status"] == "sent"
        deliver(vn, fr)
        assert fr.view(pid, "claire")["links"]["follow_up"]["request_id"] == mid
        assert fr.view(mid, "claire")["links"]["follow_up_of"]["request_id"] == pid

        # FR's central authority executes the MLA request (Art. 40: it handles MLA).
        executed = fr.post(
            f"{REQUESTS}/{mid}/execute",
            "fr-ca",
            json={
                "partial": False,
                "results": {"summary": "Logs and disk images disclosed.", "evidence_ids": ["ev-1"]},
            },
        )
        assert executed.status_code == 200, executed.text
        assert executed.json()["status"] == "executed"
        deliver(vn, fr)
        assert vn.view(mid, "an")["results"] == [
            {"summary": "Logs and disk images disclosed.", "evidence_ids": ["ev-1"]}
        ]

        # Both nodes show the same sequence of shared actions, same desks, same messages.
        for rid, actions in (
            (pid, ["send", "receive", "acknowledge", "confirm_preservation"]),
            (mid, ["send", "receive", "execute"]),
        ):
            ours, theirs = (
                shared_timeline(vn.view(rid, "an")),
                shared_timeline(fr.view(rid, "claire")),
            )
            assert ours == theirs
            assert [action for action, _, _ in ours] == actions


def test_sending_where_no_instrument_binds_is_409_saying_why(tmp_path: Path) -> None:
    with api_nodes(tmp_path) as (vn, _, _):
        pid = vn.post(REQUESTS, "an", json=PRESERVATION | {"to": "JP"}).json()["id"]
        with vn.runtime.uow_factory() as uow:
            before = len(uow.audit.entries())

        refused = vn.post(f"{REQUESTS}/{pid}/send", "an")

        assert refused.status_code == 409
        assert refused.headers["content-type"] == PROBLEM_JSON
        problem = refused.json()
        assert problem["code"] == "no_legal_basis"
        assert "between VN and JP" in problem["detail"]
        assert "a central authority may record another legal basis" in problem["detail"]
        assert problem["states"] == ["VN", "JP"]
        with vn.runtime.uow_factory() as uow:
            assert len(uow.audit.entries()) == before  # the refusal changed nothing
        assert vn.view(pid, "an")["status"] == "draft"  # (a read: one audit entry, by design)

        # Only a central authority may record another basis; then the basis is no obstacle.
        basis = {
            "type": "reciprocity",
            "text": "Reciprocity assured by note verbale 12/2026.",
            "central_authority": "Ministry of Public Security",
        }
        denied = vn.post(f"{REQUESTS}/{pid}/other-basis", "an", json=basis)
        assert (denied.status_code, denied.json()["code"]) == (403, "permission_denied")
        assert vn.post(f"{REQUESTS}/{pid}/other-basis", "vn-ca", json=basis).status_code == 200
        no_node = vn.post(f"{REQUESTS}/{pid}/send", "an")
        assert no_node.json()["code"] == "no_pinned_peer"  # past the basis: JP has no node


def test_a_request_with_an_unknown_field_is_refused_and_nothing_is_stored(tmp_path: Path) -> None:
    with api_nodes(tmp_path) as (vn, _, _):
        refused = vn.post(REQUESTS, "an", json=PRESERVATION | {"neccessity": "typo"})
        assert refused.status_code == 422
        assert refused.json()["code"] == "unknown_field"
        assert [p["element"] for p in refused.json()["problems"]] == ["neccessity"]
        assert vn.get(REQUESTS, "an").json()["items"] == []


def test_only_a_draft_can_be_changed_and_an_unknown_id_is_404(tmp_path: Path) -> None:
    with api_nodes(tmp_path) as (vn, _, _):
        pid = vn.post(REQUESTS, "an", json=PRESERVATION).json()["id"]
        assert vn.post(f"{REQUESTS}/{pid}/send", "an").status_code == 200
        late = vn.patch(f"{REQUESTS}/{pid}", "an", json={"urgency": "routine"})
        assert (late.status_code, late.json()["code"]) == (409, "invalid_transition")
        basis = {"type": "reciprocity", "text": "Note 1/2026.", "central_authority": "MPS"}
        too_late = vn.post(f"{REQUESTS}/{pid}/other-basis", "vn-ca", json=basis)
        assert (too_late.status_code, too_late.json()["code"]) == (409, "invalid_transition")
        unknown = vn.get(f"{REQUESTS}/019ad000-0000-7000-8000-000000000000", "an")
        assert (unknown.status_code, unknown.json()["code"]) == (404, "unknown_request")
        assert unknown.headers["content-type"] == PROBLEM_JSON


def test_patch_merges_objects_and_null_removes_a_field(tmp_path: Path) -> None:
    with api_nodes(tmp_path) as (vn, _, _):
        pid = vn.post(REQUESTS, "an", json=PRESERVATION).json()["id"]
        patched = vn.patch(
            f"{REQUESTS}/{pid}",
            "an",
            content=json.dumps({"handling": {"no_onward_transfer": False}, "language": None}),
            headers={"Content-Type": "application/merge-patch+json"},
        )
        assert patched.status_code == 200, patched.text
        view = vn.view(pid, "an")
        assert view["handling"]["confidential"] is True  # kept: objects merge
        assert view["handling"]["no_onward_transfer"] is False
        assert "language" not in view["elements"]
