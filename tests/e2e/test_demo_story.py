"""Issue 4's end-to-end story on the three-node demo, through the JSON API alone.

`hanoi247 demo` runs VN, FR and DZ as real processes; an SMTP server in this test process
receives the nodes' e-mail. VN drafts a preservation for a national serious crime (a
kidnapping, 10 years: the national-offence form of docs/requests.md); told the missing
element with its article, a language FR does not accept, an offence below the serious-crime
threshold (Art. 2) and that the EU is no requested State, it completes and sends; FR's
on-duty officer is e-mailed, acknowledges and confirms preservation for at least 60 days;
VN's central authority sends the follow-up MLA before expiry, FR's central authority is
e-mailed and executes it with a file (the hosting logs, uploaded through the API), FR's
24/7 desk sees it linked to the preservation; FR sends the file, VN receives and verifies it
against the signed manifest; both nodes show the same timeline and the same chain of custody.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from hanoi247.entrypoints.localnet import KEY_FILES_DIR

pytestmark = pytest.mark.slow

PRESERVATION: dict[str, Any] = {
    "kind": "preservation",
    "to": "FR",
    "urgency": "urgent",
    "handling": {"confidential": True, "no_onward_transfer": True},
    "language": "en",
    "requesting_authority": "Viet Nam 24/7 point of contact (demo), officer on duty.",
    "offence": {
        "name": "Kidnapping",
        "provision": "Penal Code of Viet Nam, art. 157 (demo)",
        "max_penalty_years": 10,
    },
    "summary_of_facts": "A child was taken in Hanoi; the ransom demand came from 203.0.113.7.",
    "data_to_preserve": "Subscriber data and logs of the server at 203.0.113.7.",
    "relationship_to_offence": "203.0.113.7 sent the ransom demand.",
    "custodian_or_location": "Example Hosting SAS, France (fictional).",
    "mla_follow_up_intended": True,
    "identifiers": [
        {"type": "ip", "value": "203.0.113.7", "timestamp": "2026-11-28T21:14:03+07:00"}
    ],
    "date_range": {"from": "2026-11-20", "to": "2026-11-28"},
}
MLA: dict[str, Any] = {
    "kind": "mla",
    "to": "FR",
    "urgency": "urgent",
    "requesting_authority": "Ministry of Public Security of Viet Nam (demo), central authority.",
    "subject_matter": "Criminal investigation of the Hanoi hospital ransomware attack.",
    "summary_of_facts": "Ransomware attack on a hospital in Hanoi.",
    "assistance_sought": "Disclosure of the data preserved under the preservation request.",
    "purpose": "Identify and prosecute the attackers.",
    "offence": 10,
    "date_range": {"from": "2026-11-20", "to": "2026-11-28"},
}


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(content)))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for(condition: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class Api:
    def __init__(self, base: str, token: str) -> None:
        self.client = httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )

    def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return self.client.post(f"/api/v1{path}", json=body if body is not None else {})

    def patch(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return self.client.patch(f"/api/v1{path}", json=body)

    def get(self, path: str) -> Any:
        response = self.client.get(f"/api/v1{path}")
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture
def demo(
    tmp_path: Path, mailbox: tuple[Mailbox, int]
) -> Iterator[tuple[Path, list[dict[str, Any]]]]:
    _, smtp_port = mailbox
    state_dir = tmp_path / "demo"
    env = {
        **os.environ,
        "HANOI247_SMTP_HOST": "127.0.0.1",
        "HANOI247_SMTP_PORT": str(smtp_port),
        "HANOI247_SMTP_FROM": "hanoi247-demo@example.net",
        "HANOI247_SMTP_STARTTLS": "false",
        "HANOI247_ARGON2_FAST": "1",
        "HANOI247_OUTBOX_POLL_SECONDS": "0.1",
        "HANOI247_EVIDENCE_POLL_SECONDS": "0.5",
    }
    log = open(tmp_path / "demo.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "hanoi247", "demo", "--state-dir", str(state_dir)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        nodes_json = state_dir / "nodes.json"
        wait_for(lambda: nodes_json.exists() or process.poll() is not None, 120, "nodes.json")
        assert process.poll() is None, (tmp_path / "demo.log").read_text()
        nodes = json.loads(nodes_json.read_text())
        for node in nodes:
            wait_for(lambda n=node: _healthy(n["url"]), 90, f"{node['state']} /healthz")
        yield state_dir, nodes
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            assert process.wait(timeout=60) == 0, (tmp_path / "demo.log").read_text()[-3000:]
        finally:
            if process.poll() is None:
                process.kill()
            log.close()


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def timeline(view: dict[str, Any]) -> list[str]:
    return [e["action"] for e in view["timeline"] if e.get("message_id")]


def test_preservation_then_mla_story_on_the_demo(
    demo: tuple[Path, list[dict[str, Any]]], mailbox: tuple[Mailbox, int]
) -> None:
    state_dir, nodes = demo
    box, _ = mailbox
    by_state = {n["state"]: n for n in nodes}
    vn = Api(by_state["VN"]["url"], by_state["VN"]["api_token"])
    fr = Api(by_state["FR"]["url"], by_state["FR"]["api_token"])
    fr_ca = _central_authority(state_dir, by_state["FR"])
    vn_ca = _central_authority(state_dir, by_state["VN"])

    # The EU is a Party, not a requested State: a 24/7 measure to it is refused.
    to_eu = vn.post("/requests", PRESERVATION | {"to": "EU"})
    assert to_eu.status_code == 422, to_eu.text
    assert "not_a_requested_state" in to_eu.text

    # VN drafts without the necessity element, in Vietnamese (FR accepts fr, en) and with an
    # offence below the serious-crime threshold: each is named, with its article.
    below = PRESERVATION["offence"] | {"name": "Insult", "max_penalty_years": 2}
    drafted = vn.post("/requests", PRESERVATION | {"language": "vi", "offence": below})
    assert drafted.status_code == 201, drafted.text
    pid = drafted.json()["id"]
    errors = {
        (p["element"], p["code"], p["article"])
        for p in drafted.json()["problems"]
        if p["severity"] == "error"
    }
    assert errors == {
        ("necessity", "missing_element", "Art. 42(2)(e)"),
        ("language", "language_not_accepted", "Art. 40"),
        ("offence.max_penalty_years", "not_serious_crime", "Art. 2"),
    }
    assert vn.post(f"/requests/{pid}/send").status_code == 409  # lacks elements: docs/api.md
    fixed = {"language": "en", "offence": PRESERVATION["offence"]}
    assert vn.patch(f"/requests/{pid}", fixed).status_code == 200
    assert (
        vn.patch(
            f"/requests/{pid}", {"necessity": "Rented servers are wiped within days."}
        ).status_code
        == 200
    )
    sent = vn.post(f"/requests/{pid}/send")
    assert sent.status_code == 200, sent.text
    reference = sent.json().get("reference") or vn.get(f"/requests/{pid}")["reference"]

    # FR is notified: the e-mail reaches the SMTP server, addressed to FR's officer on duty.
    inbox = wait_for(
        lambda: [i for i in fr.get("/inbox")["items"] if i["id"] == pid], 60, "FR inbox"
    )
    assert inbox[0]["reference"] == reference
    mail = wait_for(
        lambda: [
            m
            for rcpt, m in box.messages
            if "fr.officer@example.net" in rcpt and reference in str(m["Subject"])
        ],
        60,
        "the e-mail to FR's officer",
    )
    body = mail[0].get_payload(decode=True) or b""
    assert b"203.0.113.7" not in body
    assert b"hospital" not in body

    # FR acknowledges and confirms preservation for at least 60 days (59 refused).
    assert fr.post(f"/requests/{pid}/acknowledge").json()["status"] == "acknowledged"
    today = datetime.now(UTC).date()
    short = fr.post(f"/requests/{pid}/preservation", {"until": str(today + timedelta(days=59))})
    assert short.status_code == 422
    assert short.json()["problems"][0]["article"].startswith("Art. 42")
    until = today + timedelta(days=90)
    assert (
        fr.post(f"/requests/{pid}/preservation", {"until": str(until)}).json()["status"]
        == "preservation_confirmed"
    )
    wait_for(
        lambda: vn.get(f"/requests/{pid}")["status"] == "preservation_confirmed",
        60,
        "confirmation at VN",
    )

    # The follow-up MLA goes central authority to central authority: VN's officer may not
    # send it, VN's central authority does; FR's central authority is e-mailed; FR's 24/7
    # desk sees it, linked to the preservation.
    assert vn.post("/requests", MLA | {"related_reference": reference}).status_code == 403
    mla = vn_ca.post("/requests", MLA | {"related_reference": reference})
    assert mla.status_code == 201, mla.text
    mid = mla.json()["id"]
    assert vn_ca.post(f"/requests/{mid}/send").status_code == 200
    wait_for(lambda: any(i["id"] == mid for i in fr.get("/inbox")["items"]), 60, "the MLA at FR")
    mla_reference = vn_ca.get(f"/requests/{mid}")["reference"]
    wait_for(
        lambda: [
            m
            for rcpt, m in box.messages
            if "fr.central@example.net" in rcpt and mla_reference in str(m["Subject"])
        ],
        60,
        "the e-mail to FR's central authority",
    )
    assert fr.get(f"/requests/{pid}")["links"]["follow_up"]["request_id"] == mid
    # Preservation continues once FR has received the follow-up (its receipt), at VN too.
    wait_for(
        lambda: (vn.get(f"/requests/{pid}")["links"]["follow_up"] or {}).get("request_id") == mid,
        60,
        "the follow-up linked at VN on FR's receipt",
    )
    # FR executes the MLA with a file: the hosting logs, uploaded to the request.
    logs = b"time,ip,port\n" + b"2026-11-21T03:14:07Z,203.0.113.7,443\n" * 20_000
    uploaded = _upload(fr_ca, mid, "hosting logs.csv", logs)
    assert uploaded["sha256"] == hashlib.sha256(logs).hexdigest()
    executed = fr_ca.post(
        f"/requests/{mid}/execute", {"partial": False, "results": {"summary": "Logs disclosed."}}
    )
    assert executed.status_code == 200, executed.text
    wait_for(lambda: vn_ca.get(f"/requests/{mid}")["status"] == "executed", 60, "execution at VN")

    # FR sends it; VN pulls the chunks, checks them against the signed manifest, verifies.
    fr_dir, vn_dir = _data_dir(state_dir, by_state["FR"]), _data_dir(state_dir, by_state["VN"])
    _cli("evidence", "send", mid, "--by", "fr-central-authority", "--data-dir", str(fr_dir))

    def vn_items() -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = vn_ca.get(f"/requests/{mid}/evidence")["items"]
        return items

    wait_for(lambda: [i["status"] for i in vn_items()] == ["verified"], 90, "VN verifies")
    [received] = vn_items()
    assert (received["item_id"], received["sha256"]) == (uploaded["item_id"], uploaded["sha256"])
    fr_node, vn_node = (
        json.loads(_cli("node", "card", "--data-dir", str(d)))["node_id"] for d in (fr_dir, vn_dir)
    )
    assert received["origin_node"] == fr_node

    # Both case pages show the same chain of custody: `evidence list` reads the custody the
    # case page renders (custody_for_request); compare the event kinds, nodes and hashes.
    def custody(data_dir: Path) -> list[tuple[str, str, str]]:
        listed = json.loads(_cli("evidence", "list", mid, "--data-dir", str(data_dir)))
        return [(e["action"], e["node_id"], e["sha256"]) for e in listed["custody"]]

    wait_for(lambda: custody(fr_dir) == custody(vn_dir), 60, "the same custody on both nodes")
    assert custody(vn_dir) == [
        ("added", fr_node, uploaded["sha256"]),
        ("sent", fr_node, uploaded["sha256"]),
        ("received", vn_node, uploaded["sha256"]),
        ("verified", vn_node, uploaded["sha256"]),
    ]

    # Both nodes show the same timeline.
    for rid in (pid, mid):
        wait_for(
            lambda r=rid: timeline(vn.get(f"/requests/{r}")) == timeline(fr.get(f"/requests/{r}")),
            30,
            "same timelines",
        )
    assert timeline(vn.get(f"/requests/{pid}")) == [
        "send",
        "receive",
        "acknowledge",
        "confirm_preservation",
    ]
    assert timeline(vn.get(f"/requests/{mid}")) == ["send", "receive", "execute"]


def _data_dir(state_dir: Path, node: dict[str, Any]) -> Path:
    return next(p for p in state_dir.iterdir() if p.name.startswith(node["state"].lower()))


def _cli(*args: str) -> str:
    """``hanoi247 ARGS`` on a demo node: with the node's own secret key, kept beside (never
    inside) its data directory, as ``localnet`` provisions it."""
    data_dir = Path(args[args.index("--data-dir") + 1])
    key_file = data_dir.parent / KEY_FILES_DIR / f"{data_dir.name}.key"
    done = subprocess.run(
        [sys.executable, "-m", "hanoi247", *args],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "HANOI247_SECRET_KEY_FILE": str(key_file)},
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _upload(api: Api, request_id: str, name: str, data: bytes) -> dict[str, Any]:
    """The resumable upload of the API, in one part: the evidence item."""
    start = api.post(
        f"/requests/{request_id}/evidence/uploads", {"file_name": name, "size": len(data)}
    )
    assert start.status_code == 201, start.text
    done = api.client.patch(
        f"/api/v1/evidence/uploads/{start.json()['upload_id']}",
        content=data,
        headers={"Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"},
    )
    assert done.status_code == 200, done.text
    item: dict[str, Any] = done.json()["item"]
    return item


def _central_authority(state_dir: Path, node: dict[str, Any]) -> Api:
    """The API as the demo node's central authority (its user is in nodes.json)."""
    data_dir = _data_dir(state_dir, node)
    username = node["central_authority"]["username"]
    token = subprocess.run(
        [sys.executable, "-m", "hanoi247", "user", "token", username, "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert token.returncode == 0, token.stderr
    out = token.stdout.strip()
    try:
        parsed = json.loads(out)
        value = str(parsed["token"])
    except (json.JSONDecodeError, KeyError, TypeError):
        value = out.split()[-1]
    return Api(node["url"], value)
