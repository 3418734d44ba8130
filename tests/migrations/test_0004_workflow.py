"""Migration 0004 (workflow): up with real rows, down to 0003, up again."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from at_rest_support import session_cipher
from hanoi247.adapters.db import migrate
from hanoi247.adapters.db.engine import make_engine
from hanoi247.adapters.db.uow import make_uow_factory
from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.cooperation import CooperationRequest
from hanoi247.domain.offences import NationalProvision, OffenceMapping
from hanoi247.domain.references import Links
from hanoi247.domain.requests import Urgency
from hanoi247.domain.schedule import DeadlineKind
from hanoi247.domain.treaty import LegalBasis
from migration_support import table_names

WORKFLOW = {"requests", "request_events", "deadlines", "national_provisions", "reference_counters"}
AT = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def store_and_read_real_rows(url: str) -> None:
    engine = make_engine(url)
    try:
        with make_uow_factory(engine, cipher=session_cipher())() as uow:
            number = uow.references.next("VN", 2026)
            request, _ = CooperationRequest.draft(
                request_id="019ad7a0-5c00-7abc-8def-0123456789ab",
                reference=f"VN-2026-{number:06d}",
                origin_node="vn-247",
                requesting_state="VN",
                instrument="uncc",
                kind="preservation",
                requested_state="FR",
                urgency=Urgency.EMERGENCY,
                payload={"kind": "preservation", "to": "FR", "urgency": "emergency"},
                links=Links(),
                by="vn-1",
                at=AT,
            )
            request.send(
                LegalBasis("uncc", date(2026, 4, 5)),
                peer_node="fr-247",
                origin="VN",
                by="vn-1",
                at=AT,
                message_id="019ad7a0-5c00-7abc-8def-0000000000aa",
            )
            uow.requests.add(request)
            uow.deadlines.open(
                request_id=request.id,
                reference=request.reference,
                key="acknowledgement",
                kind=DeadlineKind.ACKNOWLEDGEMENT,
                due_at=AT + timedelta(minutes=15),
                at=AT,
            )
            uow.national_provisions.add(
                OffenceMapping(
                    NationalProvision("FR", "Code pénal art. 323-2", "Entrave"),
                    "uncc",
                    10,
                    dual_criminality_required=False,
                )
            )
            uow.audit.append(
                at=AT,
                actor="vn-1",
                tag=AuditTag.REQUEST_SENT,
                subject=request.id,
                details={"reference": request.reference},
            )
            uow.commit()
        with make_uow_factory(engine, cipher=session_cipher())() as uow:
            loaded = uow.requests.get("019ad7a0-5c00-7abc-8def-0123456789ab")
            assert loaded is not None
            assert [e.action for e in loaded.timeline] == ["draft", "send"]
            assert [d.due_at for d in uow.deadlines.due(AT + timedelta(hours=1))] == [
                AT + timedelta(minutes=15)
            ]
            assert len(uow.national_provisions.list("FR")) == 1
            assert uow.audit.verify() is None
    finally:
        engine.dispose()


def test_upgrade_with_real_rows_downgrade_and_upgrade_again(empty_db_url: str) -> None:
    migrate.upgrade(empty_db_url, "0003", cipher=session_cipher())
    assert not WORKFLOW & table_names(empty_db_url)

    migrate.upgrade(empty_db_url, "0004", cipher=session_cipher())
    assert migrate.current(empty_db_url) == "0004"
    assert table_names(empty_db_url) >= WORKFLOW
    # Rows are written by today's repositories, so at today's schema (0011 added columns
    # to requests); the way down to 0003 then passes 0004 with them in its tables.
    migrate.upgrade(empty_db_url, "head", cipher=session_cipher())
    store_and_read_real_rows(empty_db_url)

    migrate.downgrade(empty_db_url, "0003", cipher=session_cipher())
    assert migrate.current(empty_db_url) == "0003"
    remaining = table_names(empty_db_url)
    assert not WORKFLOW & remaining
    assert {"audit_log", "outbox", "peers"} <= remaining  # earlier revisions untouched

    migrate.upgrade(empty_db_url, "head", cipher=session_cipher())
    store_and_read_real_rows(empty_db_url)  # the counter starts again: the tables were dropped
