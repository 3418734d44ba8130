"""How fast the web desk serves ``GET /inbox`` on a node that holds 10,000 cases.

Setup (not timed): nodes VN and FR provisioned with ``localnet.provision`` in a temporary
directory, the demo's HYPOTHETICAL treaty status imported into both. VN's officer drafts
and sends one real urgent preservation request (the demo's ransomware case) through the
workflow; its ``request.submitted`` body is the template of 10,000 incoming requests that
FR stores through the real inbound path (``services.incoming.apply_incoming``: request
row, deadlines, audit entry), 500 per transaction, each with its own id and reference,
urgency mixed (5 % emergency, 25 % urgent, 70 % routine). FR's officer then acknowledges
every other one through the message bus (``AcknowledgeRequest``), so half of them still
wait for acknowledgement and all are open: the worst case for the inbox.

Measured: ``GET /inbox`` of FR's web desk for its signed-in officer (password + TOTP), in
process with Starlette's TestClient (no network, no background workers): 3 warm-up
requests, then 50 timed ones; p50 and p95 of the wall time of each request. The target is
150 ms (p50), the figure's baseline.
"""

from __future__ import annotations

import os
import re
import shutil
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyotp
from fastapi.testclient import TestClient

from benchmarks.figures import Figure
from hanoi247.bootstrap import NodeRuntime, build_runtime
from hanoi247.domain.accounts import Role
from hanoi247.domain.commands import AcknowledgeRequest, DraftRequest, SendRequest
from hanoi247.domain.federation import MessageType
from hanoi247.domain.ids import uuid7
from hanoi247.entrypoints.demo_scenario import demo_status, preservation_payload
from hanoi247.entrypoints.localnet import NodeSpec, provision
from hanoi247.entrypoints.web.app import create_app
from hanoi247.services.accounts import add_user
from hanoi247.services.incoming import apply_incoming
from hanoi247.services.message_builders import submitted_body
from hanoi247.services.treaty import TreatyCatalogue
from hanoi247.services.treaty_status import import_treaty_status

CASES = 10_000
BATCH = 500
WARM_UP = 3
ROUNDS = 50
TARGET_MS = 150.0
PASSWORD = "correct horse battery staple"
ENVIRON = {"HANOI247_ENV": "test", "HANOI247_DATABASE_URL": "", "HANOI247_ARGON2_FAST": "1"}
SPECS = (
    NodeSpec("VN", "Viet Nam 24/7 point of contact (bench)", "vn-bench"),
    NodeSpec("FR", "France 24/7 point of contact (bench)", "fr-bench"),
)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _officer(runtime: NodeRuntime, username: str, now: datetime) -> tuple[str, str]:
    """(user id, TOTP secret) of a new officer."""
    from hanoi247.bootstrap import make_authenticator

    added = add_user(
        runtime.uow_factory(),
        make_authenticator(runtime.settings),
        username=username,
        display_name=username,
        email=f"{username}@example.net",
        role=Role.OFFICER,
        now=now,
        actor="bench",
        password=PASSWORD,
        totp=True,
    )
    assert added.totp_secret is not None
    return added.user.id, added.totp_secret


def _template(vn: NodeRuntime, now: datetime) -> dict[str, Any]:
    officer, _ = _officer(vn, "vn.officer", now)
    payload = preservation_payload(now)
    draft = vn.handle(DraftRequest(by=officer, payload=payload, instrument="uncc"))
    vn.handle(SendRequest(by=officer, request_id=draft.request_id))
    with vn.uow_factory() as uow:
        request = uow.requests.get(draft.request_id)
    assert request is not None
    return submitted_body(request)


def _urgency(i: int) -> str:
    return "emergency" if i % 20 == 0 else "urgent" if i % 4 == 1 else "routine"


def _fill(fr: NodeRuntime, template: dict[str, Any], origin: str, now: datetime) -> list[str]:
    """10,000 incoming requests through the real inbound path; their ids."""
    assert fr.context is not None
    ids: list[str] = []
    for start in range(0, CASES, BATCH):
        with fr.uow_factory() as uow:
            for i in range(start, min(start + BATCH, CASES)):
                received = now - timedelta(minutes=CASES - i)
                request_id = uuid7(received)
                body = template | {
                    "request_id": request_id,
                    "reference": f"VN-2026-{i + 1:06d}",
                    "urgency": _urgency(i),
                }
                apply_incoming(
                    uow,
                    origin_node=origin,
                    message_type=MessageType.REQUEST_SUBMITTED,
                    message_id=uuid7(received),
                    case_id=request_id,
                    in_reply_to=None,
                    body=body,
                    sent_at=received - timedelta(seconds=2),
                    ctx=fr.context,
                    received_at=received,
                )
                ids.append(request_id)
            uow.commit()
    return ids


def _signed_in(fr: NodeRuntime, username: str, secret: str) -> TestClient:
    client = TestClient(create_app(fr), base_url="http://testserver", follow_redirects=False)
    form = client.get("/login")
    found = CSRF.search(form.text)
    assert found, "no CSRF token on the sign-in page"
    answer = client.post(
        "/login",
        data={
            "username": username,
            "password": PASSWORD,
            "totp": pyotp.TOTP(secret).now(),
            "csrf_token": found.group(1),
            "next": "/inbox",
        },
    )
    assert answer.status_code == 303, answer.text[:500]
    return client


def _percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run() -> list[Figure]:
    previous = {k: os.environ.get(k) for k in ENVIRON}
    os.environ.update(ENVIRON)
    root = Path(tempfile.mkdtemp(prefix="bench-inbox-"))
    runtimes: list[NodeRuntime] = []
    try:
        nodes = provision(root, SPECS, environ=ENVIRON)
        status = demo_status(TreatyCatalogue.packaged())
        vn, fr = (build_runtime(n.settings(ENVIRON)) for n in nodes)
        runtimes += [vn, fr]
        for runtime in runtimes:
            import_treaty_status(
                runtime.uow_factory, status, imported_by="bench", clock=runtime.clock
            )
        now = datetime.now(UTC)
        started = time.perf_counter()
        template = _template(vn, now)
        ids = _fill(fr, template, SPECS[0].node_id, now)
        officer, secret = _officer(fr, "fr.officer", now)
        for request_id in ids[::2]:
            fr.handle(AcknowledgeRequest(by=officer, request_id=request_id))
        print(f"   {CASES} cases stored in {time.perf_counter() - started:.1f} s", flush=True)

        client = _signed_in(fr, "fr.officer", secret)
        samples = []
        for i in range(WARM_UP + ROUNDS):
            began = time.perf_counter()
            page = client.get("/inbox")
            elapsed = (time.perf_counter() - began) * 1000
            assert page.status_code == 200, page.status_code
            if i >= WARM_UP:
                samples.append(elapsed)
        assert "VN-2026-" in page.text
        p50, p95 = statistics.median(samples), _percentile(samples, 0.95)
        rows = page.text.count('data-testid="inbox-row"')
        print(f"   /inbox: {len(page.content) / 1024:.0f} KiB, {rows} rows shown", flush=True)
    finally:
        for runtime in runtimes:
            runtime.close()
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(root, ignore_errors=True)
    return [
        Figure("web.inbox_10k_p50_ms", p50, "ms", baseline="target_ms", baseline_value=TARGET_MS),
        Figure("web.inbox_10k_p95_ms", p95, "ms", baseline="target_ms", baseline_value=TARGET_MS),
    ]
