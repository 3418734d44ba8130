"""Two real desks in one process for the case-work pages: node VN and node FR, pinned to
each other, the UN Convention in force between them (a hypothetical status), an officer
signed in on each, one shared FakeClock; ``deliver`` runs both outbox senders over
in-process HTTP until nothing is left to send.

    pair = make_pair(tmp_path)
    draft_id = pair.start_draft("preservation")          # on VN, through the pages
    pair.vn_client.post(f"/compose/{draft_id}", data=pair.vn_form(COMPLETE, step="send"))
    pair.deliver()
    pair.fr_client.get("/inbox/fragment")
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from web_desk import T0, Desk, csrf_of

from fakes import FakeClock
from federation_helpers import deliver_all, make_node, pin_each_other
from hanoi247.domain.accounts import Role
from workflow_harness import uncc_in_force

# Every element of a preservation request (Art. 42(2)), as the composer posts them; the
# values are Vietnamese so that no English UI string can hide among them.
COMPLETE_PRESERVATION: dict[str, str] = {
    "urgency": "urgent",
    "el-requesting_authority": "Cục An ninh mạng, sĩ quan Lan, +84 24 0000 0000",
    "el-offence": "7",
    "el-summary_of_facts": "Truy cập trái phép vào hệ thống ngân hàng ngày 28/2.",
    "el-data_to_preserve": "Nhật ký đăng nhập của tài khoản nạn nhân.",
    "el-relationship_to_offence": "Kẻ tấn công đăng nhập từ địa chỉ này.",
    "el-custodian_or_location": "Nhà cung cấp dịch vụ tại Pháp.",
    "el-necessity": "Dữ liệu bị xoá sau 30 ngày.",
    "el-mla_follow_up_intended": "true",
    "id-0-type": "ip",
    "id-0-value": "192.0.2.44",
    "id-0-when": "2026-02-28T21:14",
    "id-0-zone": "Asia/Ho_Chi_Minh",
    "range-from": "2026-02-27",
    "range-to": "2026-03-01",
}


@dataclass
class Pair:
    vn: Desk
    fr: Desk
    clock: FakeClock
    vn_client: TestClient
    fr_client: TestClient

    def deliver(self) -> int:
        return deliver_all(self.vn.node, self.fr.node)

    def token(self, client: TestClient, path: str = "/inbox") -> str:
        return csrf_of(client.get(path).text)

    def start_draft(self, kind: str = "preservation", urgency: str = "urgent") -> str:
        """A draft on VN for FR, started through ``POST /compose``; its id."""
        answer = self.vn_client.post(
            "/compose",
            data={
                "csrf_token": self.token(self.vn_client, "/compose"),
                "kind": kind,
                "to": "FR",
                "urgency": urgency,
            },
        )
        assert answer.status_code == 303, answer.text
        return answer.headers["location"].rsplit("/", 1)[1]

    def send_complete(self) -> str:
        """A complete preservation request sent from VN and delivered to FR; its id."""
        draft = self.start_draft()
        data = {**COMPLETE_PRESERVATION, "step": "send"}
        data["csrf_token"] = self.token(self.vn_client, f"/compose/{draft}")
        sent = self.vn_client.post(f"/compose/{draft}", data=data)
        assert sent.status_code == 303, sent.text
        assert sent.headers["location"].startswith(f"/requests/{draft}")
        assert self.deliver() >= 1
        return draft

    def central_authority(self, desk: Desk, name: str = "ca") -> TestClient:
        """A client signed in as ``desk``'s central authority (MLA: Art. 40)."""
        user = desk.add_user(name, Role.CENTRAL_AUTHORITY)
        client = desk.client()
        assert desk.sign_in(client, user).status_code == 303
        return client

    def act(self, client: TestClient, request_id: str, action: str, **form: Any) -> Any:
        token = self.token(client, f"/requests/{request_id}")
        return client.post(
            f"/requests/{request_id}/actions/{action}", data={"csrf_token": token, **form}
        )


def make_pair(tmp_path: Path) -> Pair:
    clock = FakeClock(T0)
    vn = Desk(make_node(tmp_path / "vn", node_id="vn-a05", state="VN", clock=clock), clock)
    fr = Desk(make_node(tmp_path / "fr", node_id="fr-oclctic", state="FR", clock=clock), clock)
    pin_each_other(vn.node, fr.node)
    for desk in (vn, fr):
        with desk.node.runtime.uow_factory() as uow:
            uow.treaty_actions.replace_all(
                uncc_in_force("VN", "FR", on=date(2025, 11, 3)),
                source="hypothetical.csv",
                as_of=date(2025, 11, 3),
                imported_by="test",
                at=clock.now(),
                hypothetical=True,
            )
            uow.commit()
    clients = []
    for desk, name in ((vn, "lan"), (fr, "claire")):
        user = desk.add_user(name, Role.OFFICER)
        client = desk.client()
        assert desk.sign_in(client, user).status_code == 303
        clients.append(client)
    return Pair(vn, fr, clock, clients[0], clients[1])
