"""``/api/v1/…/evidence``: a streamed, resumable upload by offset, on a real node."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

from api_support import ApiNode, api_nodes, deliver

from evidence_transfer_support import with_evidence_key
from hanoi247.services import evidence as ev
from workflow_harness import PRESERVATION


def _with_evidence_key(node: ApiNode) -> None:
    with_evidence_key(node.node)


def test_upload_resumes_by_offset_and_completes_into_a_verified_item(tmp_path: Path) -> None:
    with api_nodes(tmp_path) as (vn, _fr, _clock):
        _with_evidence_key(vn)
        request_id = vn.post("/api/v1/requests", "an", json=PRESERVATION).json()["id"]
        data = b"%PDF-1.7\n" + os.urandom(3_000_000)
        start = vn.post(
            f"/api/v1/requests/{request_id}/evidence/uploads", "an",
            json={"file_name": "ransom note.pdf", "size": len(data)},
        )  # fmt: skip
        assert start.status_code == 201, start.text
        upload = start.json()["upload_id"]
        path = f"/api/v1/evidence/uploads/{upload}"
        first = vn.patch(path, "an", content=data[:1_000_000], headers={"Upload-Offset": "0"})
        assert first.status_code == 200, first.text
        assert (first.json()["offset"], first.json()["item"]) == (1_000_000, None)
        assert first.headers["Upload-Offset"] == "1000000"
        # The client lost its connection and does not know what arrived: it asks.
        asked = vn.get(path, "an")
        assert asked.json()["offset"] == 1_000_000
        stale = vn.patch(path, "an", content=data[:1_000_000], headers={"Upload-Offset": "0"})
        assert stale.status_code == 409
        assert stale.json()["code"] == "offset_mismatch"
        too_much = vn.patch(
            path, "an", content=data[1_000_000:] + b"x", headers={"Upload-Offset": "1000000"}
        )
        assert too_much.status_code == 409
        done = vn.patch(path, "an", content=data[1_000_000:], headers={"Upload-Offset": "1000000"})
        assert done.status_code == 200, done.text
        item = done.json()["item"]
        assert item["sha256"] == hashlib.sha256(data).hexdigest()
        assert item["size"] == len(data)
        assert item["media_type"] == "application/pdf"
        listed = vn.get(f"/api/v1/requests/{request_id}/evidence", "an").json()
        assert [i["item_id"] for i in listed["items"]] == [item["item_id"]]
        out = io.BytesIO()
        ev.open_evidence(vn.runtime.evidence, item["item_id"], out, actor="an")
        assert out.getvalue() == data
        # The segments were removed: only the item's ciphertext is left in the store.
        assert list(vn.runtime.evidence.store.iter_ids()) == [
            ev.get_item(vn.runtime.evidence, item["item_id"]).blob_id
        ]


def test_upload_with_a_hostile_name_is_refused_before_any_byte(tmp_path: Path) -> None:
    with api_nodes(tmp_path) as (vn, _fr, _clock):
        _with_evidence_key(vn)
        request_id = vn.post("/api/v1/requests", "an", json=PRESERVATION).json()["id"]
        # A bidi control is refused by the API's text guard for every body (invalid_text);
        # a path or an overlong name by the evidence file-name rules (evidence_rejected).
        for name, code in (
            ("../../etc/passwd", "evidence_rejected"),
            ("a\u202egnp.exe", "invalid_text"),
            ("x" * 10_000, "evidence_rejected"),
        ):
            refused = vn.post(
                f"/api/v1/requests/{request_id}/evidence/uploads", "an",
                json={"file_name": name, "size": 10},
            )  # fmt: skip
            assert refused.status_code == 422, refused.text
            assert refused.json()["code"] == code


def test_send_through_the_api_offers_the_manifest_at_once_and_only_once(tmp_path: Path) -> None:
    with api_nodes(tmp_path) as (vn, fr, _clock):
        _with_evidence_key(vn)
        _with_evidence_key(fr)
        pulls: list[bool] = []  # FR's evidence puller is woken when the offer lands
        fr.node.runtime.receiver.after_offer = lambda: pulls.append(True)
        request_id = vn.post("/api/v1/requests", "an", json=PRESERVATION).json()["id"]
        assert vn.post(f"/api/v1/requests/{request_id}/send", "an").status_code == 200
        deliver(vn, fr)
        data = b"%PDF-1.7\n" + os.urandom(100_000)
        upload = vn.post(
            f"/api/v1/requests/{request_id}/evidence/uploads", "an",
            json={"file_name": "logs.pdf", "size": len(data)},
        ).json()["upload_id"]  # fmt: skip
        done = vn.patch(
            f"/api/v1/evidence/uploads/{upload}", "an", content=data,
            headers={"Upload-Offset": "0"},
        )  # fmt: skip
        item_id = done.json()["item"]["item_id"]
        sent = vn.post(f"/api/v1/requests/{request_id}/evidence/send", "an")
        assert sent.status_code == 200, sent.text
        assert [i["item_id"] for i in sent.json()["sent"]] == [item_id]
        assert pulls == []  # the request itself, delivered before, woke no puller
        deliver(vn, fr)  # the manifest went through the outbox: FR now receives the item
        assert pulls == [True]
        with fr.node.runtime.uow_factory() as uow:
            received = uow.evidence.get(item_id)
        assert received is not None
        assert received.status.value == "receiving"
        assert received.sha256 == hashlib.sha256(data).hexdigest()
        again = vn.post(f"/api/v1/requests/{request_id}/evidence/send", "an")
        assert again.status_code == 422
        assert "already sent" in again.json()["detail"]
