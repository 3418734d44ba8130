"""A peer's directory entry changes through its own signed card (``directory.card``): VN
publishes its contact points, FR records them under VN (the pinned sender's State, never
one the body could name), linked to VN's node, and counts the card as a check."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from drill_support import deliver, vn_and_fr
from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.directory import ContactKind, ContactPoint
from hanoi247.domain.federation import IncomingMessage
from hanoi247.services.directory import peer_standings
from hanoi247.services.directory_card import publish_card
from hanoi247.services.federation import UnprocessableMessage

VN_POC = ContactPoint(
    state="VN",
    kind=ContactKind.POINT_OF_CONTACT_24_7,
    agency="Fictional VN 24/7 desk",
    phones=("+84 24 5550 0100",),
    languages=("vi", "en"),
    channels=("hanoi247", "phone"),
    last_verified=date(2026, 11, 1),
    verified_by="vn-admin",
    hours="24/7",
    emergency_channel="+84 24 5550 0199",
)


def test_a_peer_card_sets_its_own_entry_and_counts_as_a_check() -> None:
    clock, vn, fr = vn_and_fr()
    with vn.uow as uow:
        uow.contact_points.upsert(VN_POC, at=clock.now())
        assert publish_card(uow, state="VN", by="vn-admin", at=clock.now()) == ["fr-247"]
        uow.commit()
    clock.advance(timedelta(days=200))
    deliver(vn, fr, clock)
    with fr.uow as uow:
        (point,) = uow.contact_points.for_state("VN")
        standing = peer_standings(uow, now=clock.now(), stale_after=timedelta(days=180))
        tags = [e.tag for e in uow.audit.entries()]
    assert (point.agency, point.hours, point.emergency_channel) == (
        "Fictional VN 24/7 desk",
        "24/7",
        "+84 24 5550 0199",
    )
    assert point.node_id == "vn-247"
    assert point.last_verified == clock.now().date()
    assert standing["vn-247"].freshness.channel == "card"
    assert standing["vn-247"].freshness.stale is False
    assert AuditTag.DIRECTORY_CARD_RECEIVED in tags


def test_a_card_with_missing_members_is_refused_and_changes_nothing() -> None:
    clock, _, fr = vn_and_fr()
    forged = IncomingMessage(
        origin_node="vn-247",
        message_id="019cade2-12ba-7000-8000-00000000000c",
        type="directory.card",
        case_id=None,
        in_reply_to=None,
        sent_at=clock.now(),
        received_at=clock.now(),
        body={"contact_points": [{"kind": "central_authority", "agency": "x"}]},
    )
    with fr.uow as uow, pytest.raises(UnprocessableMessage):
        fr.dispatcher(uow, forged)
    with fr.uow as uow:
        assert uow.contact_points.list() == []
