"""The last step of the story: FR executes the MLA with a file, VN receives and verifies it,
and both case pages show the same chain of custody."""

from __future__ import annotations

import io
import os
import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from web_desk import Desk

from evidence_transfer_support import Pair, deliver, vn_fr_pair
from federation_helpers import InProcessNode
from hanoi247.domain.accounts import Role
from hanoi247.services import evidence as ev
from hanoi247.services.evidence_pull import pull_pending
from hanoi247.services.evidence_transfer import offer_evidence

ROW = re.compile(
    r'<tr data-action="([a-z]+)">\s*<td>[^<]*</td>\s*<td><bdi>([^<]+)</bdi>'
)  # the node by its name, never its id


def _custody_on_page(pair: Pair, node: InProcessNode, request_id: str) -> list[tuple[str, str]]:
    desk = Desk(node=node, clock=pair.clock)
    officer = desk.add_user(f"officer-{node.node_id}", Role.SUPERVISOR)
    client = desk.client()
    desk.sign_in(client, officer)
    page = client.get(f"/requests/{request_id}")
    assert page.status_code == 200
    section = page.text.split('data-testid="custody"', 1)[1].split("</table>", 1)[0]
    return ROW.findall(section)


def test_fr_executes_with_a_file_vn_verifies_and_both_case_pages_show_the_same_custody(
    tmp_path: Path,
) -> None:
    with vn_fr_pair(tmp_path) as pair:
        fr_desk = pair.fr.runtime.evidence
        assert fr_desk is not None
        ev.add_evidence(
            fr_desk, ref=pair.request_id, file_name="subscriber records.csv",
            source=io.BytesIO(b"ip,ts\n" + os.urandom(5 * 1024 * 1024)), actor="fr-officer-1",
        )  # fmt: skip
        offer_evidence(fr_desk, pair.request_id, actor="fr-officer-1")
        deliver(pair.fr, pair.vn)
        vn_desk, staging = pair.vn.runtime.evidence, pair.vn.runtime.staging
        assert vn_desk is not None
        assert staging is not None
        with TestClient(pair.fr.app, base_url=pair.fr.url) as client:
            [item] = pull_pending(vn_desk, staging, pair.source(pair.vn, client))
        assert item.status.value == "verified"
        deliver(pair.vn, pair.fr)
        vn_rows = _custody_on_page(pair, pair.vn, pair.request_id)
        fr_rows = _custody_on_page(pair, pair.fr, pair.request_id)
        fr_name = pair.fr.runtime.local.identity.name
        vn_name = pair.vn.runtime.local.identity.name
    expected = [
        ("added", fr_name),
        ("sent", fr_name),
        ("received", vn_name),
        ("verified", vn_name),
    ]
    assert vn_rows == expected
    assert fr_rows == expected


def test_the_case_page_uploads_a_file_streamed_and_lists_it_with_its_custody(
    tmp_path: Path,
) -> None:
    from urllib.parse import quote

    from web_desk import csrf_of, make_desk

    from evidence_transfer_support import with_evidence_key
    from hanoi247.domain import commands as c
    from workflow_harness import MLA

    desk = make_desk(tmp_path)
    try:
        with_evidence_key(desk.node)
        request_id = desk.node.runtime.handle(c.DraftRequest(payload=MLA, by="x")).request_id
        lan = desk.add_user("lan", Role.SUPERVISOR)
        client = desk.client()
        desk.sign_in(client, lan)
        page = client.get(f"/requests/{request_id}")
        assert "data-evidence-upload" in page.text
        token = csrf_of(page.text)
        data = b"\x89PNG\r\n\x1a\n" + os.urandom(200_000)
        headers = {
            "X-File-Name": quote("ransom note ü.png"),
            "Content-Type": "application/octet-stream",
        }
        refused = client.post(f"/requests/{request_id}/evidence", content=data, headers=headers)
        assert refused.status_code == 403  # no CSRF token
        stored = client.post(
            f"/requests/{request_id}/evidence", content=data,
            headers={**headers, "X-CSRF-Token": token},
        )  # fmt: skip
        assert stored.status_code == 201, stored.text
        bad = client.post(
            f"/requests/{request_id}/evidence", content=data,
            headers={**headers, "X-CSRF-Token": token, "X-File-Name": quote("../x.png")},
        )  # fmt: skip
        assert bad.status_code == 422
        page = client.get(f"/requests/{request_id}")
        assert "ransom note ü.png" in page.text
        assert stored.json()["sha256"] in page.text
        assert '<tr data-action="added">' in page.text
    finally:
        desk.node.close()


def test_a_full_store_tells_the_uploader_what_to_do_and_never_shows_the_server_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from urllib.parse import quote

    from web_desk import csrf_of, make_desk

    from evidence_transfer_support import with_evidence_key
    from hanoi247.domain import commands as c
    from hanoi247.domain.errors import StorageFailed
    from workflow_harness import MLA

    place = "/srv/hanoi247/evidence/blobs/9f/86d0: [Errno 28] No space left on device"

    def full(*_args: object, **_kwargs: object) -> object:
        raise StorageFailed(f"the evidence store cannot be written: {place}")

    desk = make_desk(tmp_path)
    try:
        with_evidence_key(desk.node)
        request_id = desk.node.runtime.handle(c.DraftRequest(payload=MLA, by="x")).request_id
        lan = desk.add_user("lan", Role.SUPERVISOR)
        client = desk.client()
        desk.sign_in(client, lan)
        token = csrf_of(client.get(f"/requests/{request_id}").text)
        monkeypatch.setattr(ev, "add_evidence", full)
        answer = client.post(
            f"/requests/{request_id}/evidence", content=b"bytes",
            headers={"X-File-Name": quote("note.txt"), "X-CSRF-Token": token,
                     "Content-Type": "application/octet-stream"},
        )  # fmt: skip
    finally:
        desk.node.close()
    assert answer.status_code == 507
    assert answer.json()["code"] == "storage_failed"
    assert "free space" in answer.json()["detail"]  # what to do
    assert "/srv/" not in answer.text
    assert "Errno" not in answer.text
