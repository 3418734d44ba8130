"""How fast the web desk serves ``GET /inbox`` on a node that holds 10,000 cases (SQLite)
and 100,000 cases (SQLite, and PostgreSQL in a throwaway cluster) — issue 14.

Setup (not timed): nodes VN and FR provisioned with ``localnet.provision`` in a temporary
directory, the demo's HYPOTHETICAL treaty status imported into both. VN's officer drafts
and sends one real urgent preservation request (the demo's ransomware case) through the
workflow; its ``request.submitted`` body is the template of 10,000 incoming requests that
FR stores through the real inbound path (``services.incoming.apply_incoming``: request
row, deadlines, kept queue columns, audit entry), 500 per transaction, each with its own id
and reference,
urgency mixed (5 % emergency, 25 % urgent, 70 % routine). FR's officer then acknowledges
every other one through the message bus (``AcknowledgeRequest``), so half of them still
wait for acknowledgement and all are open: the worst case for the inbox.

Measured: ``GET /inbox`` of FR's web desk for its signed-in officer (password + TOTP), in
process with Starlette's TestClient (no network, no background workers): 3 warm-up
requests, then 50 timed ones; p50 and p95 of the wall time of each request. The target is
150 ms at 10,000 cases and 50 ms (p95) at 100,000 (issue 14), each figure's baseline.
100,000: after the 10,000 are measured, the same node's incoming requests are copied
in SQL to 100,000 (``_clone``: timelines, deadlines and kept queue columns with them) and
``ANALYZE`` run; the timed requests then alternate between the first page and a page deep
in the queue (its ``next`` cursor followed 20 times first), so both ends of the keyset
are timed. On PostgreSQL only the 100,000 are measured.
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
from sqlalchemy import func

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
BIG = 100_000
DEEP = 20  # pages followed before timing a deep one
BATCH = 500
WARM_UP = 3
ROUNDS = 50
TARGET_MS = 150.0
TARGET_100K_MS = 50.0
NEXT = re.compile(r'id="inbox-next" href="(/inbox\?cursor=[A-Za-z0-9_-]+)"')
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


def _fill(
    fr: NodeRuntime, template: dict[str, Any], origin: str, now: datetime, cases: int
) -> list[str]:
    """``cases`` incoming requests through the real inbound path; their ids."""
    assert fr.context is not None
    ids: list[str] = []
    for start in range(0, cases, BATCH):
        with fr.uow_factory() as uow:
            for i in range(start, min(start + BATCH, cases)):
                received = now - timedelta(minutes=cases - i)
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


def _clone(fr: NodeRuntime, copies: int) -> None:
    """Multiply FR's incoming requests (with their timelines and deadlines) ``copies``
    times in SQL: each copy differs in id (its last two characters replaced by "z1", "z2"…:
    never hex, so never an original id) and reference (a suffix),
    keeps status, acknowledgement, deadlines and the kept queue columns of its original.
    The real inbound path stored the originals; copying them is what makes 100,000 cases
    take seconds instead of most of an hour on this machine. No audit entries are copied
    (the inbox does not read them). The inbox's counts follow by themselves (the triggers
    of ``request_tallies``); the copies' sealed content is sealed again for them
    (``_reseal``)."""
    from sqlalchemy import String, insert, select, text

    from hanoi247.adapters.db.schema.workflow import deadlines, request_events, requests

    def same(source: Any, name: str) -> Any:
        return source.c[name]

    originals = (
        requests.c.direction == "incoming",
        requests.c.reference.not_like("%-%-%-%"),  # VN-2026-000123, not VN-2026-000123-01
    )
    with fr.uow_factory() as uow:
        session = uow.session  # type: ignore[attr-defined]
        for k in range(1, copies):
            tag = f"z{k:x}"  # never a hex digit: no copy can equal an original id

            def new_id(value: Any, tag: str = tag) -> Any:
                return func.substr(value, 1, 34, type_=String()) + tag

            src = select(requests).where(*originals).subquery()
            names = [c.name for c in requests.columns]
            values = [
                new_id(src.c.id).label("id")
                if n == "id"
                else (src.c.reference + f"-{tag}").label("reference")
                if n == "reference"
                else same(src, n)
                for n in names
            ]
            session.execute(insert(requests).from_select(names, select(*values)))
            for child in (deadlines, request_events):
                names = [c.name for c in child.columns if c.name != "id"]
                original = child.join(requests, requests.c.id == child.c.request_id)
                picked = [
                    new_id(child.c.request_id).label(n) if n == "request_id" else child.c[n]
                    for n in names
                ]
                query = select(*picked).select_from(original).where(*originals)
                session.execute(insert(child).from_select(names, query))
        uow.commit()
    _reseal(fr)
    with fr.uow_factory() as uow:  # fresh planner statistics, as autovacuum would give them
        uow.session.execute(text("ANALYZE"))  # type: ignore[attr-defined]
        uow.commit()


def _reseal(fr: NodeRuntime) -> None:
    """Seal the copies' content again for their own rows: a sealed value is bound to its
    row (``adapters/db/sealed.py``), so a copied one fails its check where the inbox opens
    it (the subjects of a page) until it is sealed for the copy's id."""
    from sqlalchemy import (
        Column,
        Integer,
        MetaData,
        String,
        Table,
        Text,
        insert,
        select,
        update,
    )

    from hanoi247.adapters.db.schema.workflow import request_events, requests
    from hanoi247.adapters.db.sealed import REQUEST_JSON, cipher_of, row_key

    with fr.uow_factory() as uow:
        session = uow.session  # type: ignore[attr-defined]
        cipher = cipher_of(session)
        # a copy's id is its original's first 34 characters and a tag (``_clone``)
        originals = {
            ident[:34]: ident
            for ident in session.execute(
                select(requests.c.id).where(requests.c.id.not_like("%z_"))
            ).scalars()
        }
        copies = select(requests.c.id, *(requests.c[c] for c in REQUEST_JSON)).where(
            requests.c.id.like("%z_")
        )
        # The new values go into a temporary table, then one UPDATE … FROM per table: a
        # statement per copied row took most of an hour on PostgreSQL.
        kept = MetaData()
        sealed = Table(
            "bench_resealed_requests",
            kept,
            Column("row_id", String, primary_key=True),
            *(Column(c, requests.c[c].type) for c in REQUEST_JSON),
            prefixes=["TEMPORARY"],
        )
        notes = Table(
            "bench_resealed_notes",
            kept,
            Column("event_id", Integer, primary_key=True),
            Column("note", Text),
            prefixes=["TEMPORARY"],
        )
        kept.create_all(session.connection())
        values = []
        for row in session.execute(copies).all():
            original = originals[row.id[:34]]
            values.append(
                {"row_id": row.id}
                | {
                    column: cipher.seal_text(
                        cipher.open_text(
                            getattr(row, column), table="requests", column=column, row=original
                        ),
                        table="requests",
                        column=column,
                        row=row.id,
                    )
                    if getattr(row, column) is not None
                    else None
                    for column in REQUEST_JSON
                }
            )
        if values:
            session.execute(insert(sealed), values)
            # one statement over every copied row: PostgreSQL's tally triggers fire once for
            # it (migration 0025; the row trigger before it rewrote one tally row per request)
            session.execute(
                update(requests)
                .where(requests.c.id == sealed.c.row_id)
                .values({c: sealed.c[c] for c in REQUEST_JSON})
            )
        e = request_events.c
        events = []
        for row in session.execute(
            select(e.id, e.request_id, e.seq, e.note).where(e.request_id.like("%z_"))
        ).all():
            original = originals[row.request_id[:34]]
            note = cipher.seal_text(
                cipher.open_text(row.note, table="request_events", column="note",
                                 row=row_key(original, row.seq)),
                table="request_events", column="note", row=row_key(row.request_id, row.seq),
            )  # fmt: skip
            events.append({"event_id": row.id, "note": note})
        if events:
            session.execute(insert(notes), events)
            session.execute(
                update(request_events).where(e.id == notes.c.event_id).values(note=notes.c.note)
            )
        kept.drop_all(session.connection())
        uow.commit()


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


def _timed(client: TestClient, cases: int) -> list[float]:
    """Wall times (ms) of the timed ``GET /inbox`` requests (a deep page too past 10,000)."""
    paths = ["/inbox"]
    if cases > CASES:
        deep = "/inbox"
        for _ in range(DEEP):
            found = NEXT.search(client.get(deep).text)
            assert found, "no next page"
            deep = found.group(1).replace("&amp;", "&")
        paths.append(deep)
    samples = []
    for i in range(WARM_UP + ROUNDS):
        began = time.perf_counter()
        page = client.get(paths[i % len(paths)])
        elapsed = (time.perf_counter() - began) * 1000
        assert page.status_code == 200, page.status_code
        if i >= WARM_UP:
            samples.append(elapsed)
    assert "VN-2026-" in page.text
    rows = page.text.count('data-testid="inbox-row"')
    print(f"   /inbox at {cases}: {len(page.content) / 1024:.0f} KiB, {rows} rows", flush=True)
    return samples


def _measure(
    root: Path, environ: dict[str, str], fr_env: dict[str, str], *, small: bool
) -> tuple[list[float], list[float]]:
    """Wall times (ms) of ``GET /inbox`` on FR holding 10,000 cases (if ``small``), then
    the same node grown to 100,000 (the 10,000 copied, ``_clone``)."""
    runtimes: list[NodeRuntime] = []
    try:
        nodes = provision(
            root,
            SPECS,
            environ=environ,
            node_environ={SPECS[1].node_id: fr_env} if fr_env else None,
        )
        status = demo_status(TreatyCatalogue.packaged())
        vn = build_runtime(nodes[0].settings(environ))
        runtimes.append(vn)
        fr = build_runtime(nodes[1].settings({**environ, **fr_env}))
        runtimes.append(fr)
        for runtime in runtimes:
            import_treaty_status(
                runtime.uow_factory, status, imported_by="bench", clock=runtime.clock
            )
        now = datetime.now(UTC)
        started = time.perf_counter()
        template = _template(vn, now)
        ids = _fill(fr, template, SPECS[0].node_id, now, CASES)
        officer, secret = _officer(fr, "fr.officer", now)
        for request_id in ids[::2]:
            fr.handle(AcknowledgeRequest(by=officer, request_id=request_id))
        print(f"   {CASES} cases stored in {time.perf_counter() - started:.1f} s", flush=True)
        client = _signed_in(fr, "fr.officer", secret)
        at_10k = _timed(client, CASES) if small else []
        _clone(fr, BIG // CASES)
        print(f"   grown to {BIG} in {time.perf_counter() - started:.1f} s", flush=True)
        return at_10k, _timed(client, BIG)
    finally:
        for runtime in runtimes:
            runtime.close()


def run() -> list[Figure]:
    from benchmarks.bench_signin_flood import _postgresql  # the throwaway cluster

    previous = {k: os.environ.get(k) for k in ENVIRON}
    os.environ.update(ENVIRON)
    root = Path(tempfile.mkdtemp(prefix="bench-inbox-"))
    figures: list[Figure] = []
    try:
        small, big = _measure(root / "sqlite", ENVIRON, {}, small=True)
        figures += [
            Figure("web.inbox_10k_p50_ms", statistics.median(small), "ms",
                   baseline="target_ms", baseline_value=TARGET_MS),
            Figure("web.inbox_10k_p95_ms", _percentile(small, 0.95), "ms",
                   baseline="target_ms", baseline_value=TARGET_MS),
        ]  # fmt: skip
        figures.append(
            Figure("web.inbox_100k_sqlite_p95_ms", _percentile(big, 0.95), "ms",
                   baseline="target_ms", baseline_value=TARGET_100K_MS)
        )  # fmt: skip
        with _postgresql() as url:
            _, big = _measure(root / "pg", ENVIRON, {"HANOI247_DATABASE_URL": url}, small=False)
        figures.append(
            Figure("web.inbox_100k_postgresql_p95_ms", _percentile(big, 0.95), "ms",
                   baseline="target_ms", baseline_value=TARGET_100K_MS)
        )  # fmt: skip
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(root, ignore_errors=True)
    return figures
