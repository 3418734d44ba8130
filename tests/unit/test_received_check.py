"""The requested desk re-checks what a requesting State claims (docs/protocol.md §10): the
legal basis against its own treaty status on the day, and the required elements of the kind."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime

import pytest

from fakes import FakeClock
from hanoi247.domain import commands as c
from hanoi247.domain.accounts import Credentials, Role, User
from hanoi247.domain.basis import BasisFinding, OtherBasis, OtherBasisType, recheck_basis
from hanoi247.domain.errors import ActionNotAllowed, ErrorCode
from hanoi247.domain.federation import MessageType
from hanoi247.domain.lifecycle import RequestStatus
from hanoi247.domain.treaty import ActionKind, LegalBasis, TreatyAction
from hanoi247.services.incoming import apply_incoming
from hanoi247.services.queries import request_view
from workflow_harness import (
    CATALOGUE,
    PRESERVATION,
    Node,
    advance,
    sent,
    three_nodes,
    uncc_in_force,
)

T0 = datetime(2026, 11, 1, tzinfo=UTC)
UNTIL = date(2027, 3, 1)


def test_recheck_basis_names_what_this_node_does_not_recognise() -> None:
    in_force = [LegalBasis("uncc", date(2026, 4, 5))]
    assert recheck_basis(LegalBasis("uncc", date(2026, 4, 5)), in_force) is None
    assert recheck_basis(LegalBasis("uncc", date(2026, 1, 1)), in_force) is (
        BasisFinding.WRONG_SINCE
    )
    assert recheck_basis(LegalBasis("budapest", date(2004, 7, 1)), in_force) is (
        BasisFinding.NOT_IN_FORCE
    )
    assert recheck_basis(LegalBasis("uncc", date(2026, 4, 5)), []) is BasisFinding.NOT_IN_FORCE
    other = OtherBasis(OtherBasisType.RECIPROCITY, "Note 1/2026.", "MPS", "ca-1", T0)
    assert recheck_basis(other, in_force) is BasisFinding.OTHER_CLAIMED


def add_user(node: Node, user_id: str, role: Role) -> None:
    user = User(
        id=user_id,  # type: ignore[arg-type]
        username=user_id,
        display_name=user_id,
        email=f"{user_id}@example.fr",
        role=role,
        locale="fr",
        timezone="Europe/Paris",
        created_at=T0,
    )
    with node.uow as uow:
        uow.users.add(user, Credentials())
        uow.commit()


def without_vn() -> list[TreatyAction]:
    """FR's own status: the UN Convention in force among 40 States, Viet Nam not one of them."""
    members = [s for s, st in CATALOGUE.states.items() if not st.is_reio and s not in ("VN",)]
    chosen = ["FR", *[s for s in members if s != "FR"][:39]]
    return [TreatyAction(s, "uncc", ActionKind.RATIFICATION, date(2026, 1, 5)) for s in chosen]


def received(body_change: dict[str, object] | None = None) -> tuple[FakeClock, Node, str]:
    """VN (whose status shows UNCC in force with FR) sends a preservation; FR's own status
    does not show VN as a party. ``body_change`` edits the elements before FR receives it."""
    clock, vn, fr, _ = three_nodes()
    vn.import_status(uncc_in_force("VN", "FR"))
    fr.import_status(without_vn())
    pid = sent(vn, PRESERVATION)
    advance(clock, minutes=2)
    [entry] = vn.pending()
    body = copy.deepcopy(dict(entry.body))
    body["elements"].update(body_change or {})
    for key, value in (body_change or {}).items():
        if value is None:
            del body["elements"][key]
    with fr.uow as uow:
        apply_incoming(
            uow, origin_node=vn.node_id, message_type=entry.type.value,
            message_id=entry.message_id, case_id=entry.case_id, in_reply_to=None, body=body,
            sent_at=clock.now(), ctx=fr.ctx, received_at=clock.now(),
        )  # fmt: skip
        uow.commit()
    fr.bus.handle(c.AcknowledgeRequest(request_id=pid, by="fr-officer-7"))
    return clock, fr, pid


def view(node: Node, pid: str) -> dict[str, object]:
    with node.uow as uow:
        check = request_view(uow, pid, node.ctx)["received_check"]
    assert isinstance(check, dict)
    return check


def test_a_claimed_basis_this_node_does_not_recognise_is_shown_as_a_warning() -> None:
    _, fr, pid = received()
    check = view(fr, pid)
    assert check["basis_finding"] == "basis_not_in_force"
    assert check["claimed_instrument"] == "uncc"
    assert check["confirmation_needs_supervisor"] is True
    assert check["missing_elements"] == []


def test_an_officer_cannot_confirm_preservation_on_an_unrecognised_basis() -> None:
    _, fr, pid = received()
    add_user(fr, "fr-officer-7", Role.OFFICER)
    with pytest.raises(ActionNotAllowed) as refused:
        fr.bus.handle(c.ConfirmPreservation(request_id=pid, until=UNTIL, by="fr-officer-7"))
    assert refused.value.code is ErrorCode.BASIS_NOT_RECOGNISED
    assert fr.request(pid).status is RequestStatus.ACKNOWLEDGED
    # nothing told to the requesting State beyond the acknowledgement
    assert [e.type for e in fr.pending()] == [MessageType.REQUEST_ACKNOWLEDGED]


def test_a_supervisor_may_confirm_preservation_on_an_unrecognised_basis() -> None:
    _, fr, pid = received()
    add_user(fr, "fr-supervisor-1", Role.SUPERVISOR)
    fr.bus.handle(c.ConfirmPreservation(request_id=pid, until=UNTIL, by="fr-supervisor-1"))
    assert fr.request(pid).status is RequestStatus.PRESERVATION_CONFIRMED


def test_a_basis_recorded_by_this_nodes_central_authority_lets_an_officer_confirm() -> None:
    _, fr, pid = received()
    add_user(fr, "fr-officer-7", Role.OFFICER)
    fr.bus.handle(
        c.RecordOtherBasis(
            request_id=pid, type=OtherBasisType.RECIPROCITY, text="Note verbale 12/2026.",
            central_authority="Ministère de la Justice", by="fr-ca-1",
        )
    )  # fmt: skip
    assert view(fr, pid)["confirmation_needs_supervisor"] is False
    fr.bus.handle(c.ConfirmPreservation(request_id=pid, until=UNTIL, by="fr-officer-7"))
    assert fr.request(pid).status is RequestStatus.PRESERVATION_CONFIRMED


def test_missing_required_elements_are_listed_with_their_article() -> None:
    _, fr, pid = received({"necessity": None, "mla_follow_up_intended": False})
    missing = {(m["element"], m["article"]) for m in view(fr, pid)["missing_elements"]}  # type: ignore[attr-defined]
    assert missing == {
        ("necessity", "Art. 42(2)(e)"),
        ("mla_follow_up_intended", "Art. 42(2)(f)"),
    }
