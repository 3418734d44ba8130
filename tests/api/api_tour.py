"""A tour of every endpoint of the JSON API, recorded for docs/api.md.

``BODIES`` holds one valid body per mutating route (method, OpenAPI path): the tour sends
exactly these, and ``test_api_bad_input`` breaks each of them. ``tour(root)`` runs three
nodes (VN requests; FR is requested; DZ is a third State FR may forward to) and returns
every labelled exchange, in order.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from api_support import Exchange, add_users, api_node, api_nodes, deliver

from evidence_transfer_support import with_evidence_key
from federation_helpers import pin_each_other
from hanoi247.domain.accounts import Position, Role
from hanoi247.domain.directory import ContactKind, ContactPoint
from hanoi247.services import accounts
from workflow_harness import MLA, PRESERVATION

FR_CONTACT = ContactPoint(  # fictional
    state="FR",
    kind=ContactKind.POINT_OF_CONTACT_24_7,
    agency="Fictional FR 24/7 desk",
    phones=("+00 1 5550 0100",),
    emails=("duty@fr.example.net",),
    languages=("fr", "en"),
    channels=("hanoi247", "phone"),
    requires_dual_criminality=False,
    node_id="fr-oclctic",
    last_verified=date(2026, 10, 1),
    verified_by="vn-admin",
)

R = "/api/v1/requests"
ID = "/api/v1/requests/{request_id}"
BASIS = {
    "type": "reciprocity",
    "text": "Reciprocity assured by note verbale 12/2026 of 30 November 2026.",
    "central_authority": "Ministry of Public Security of Viet Nam",
}
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/v1/drills"): {"peers": ["fr-oclctic"], "window_minutes": 30},
    ("POST", "/api/v1/drills/{drill_id}/acknowledge"): {},
    ("POST", "/api/v1/providers"): {
        "name": "Example Hosting SAS",
        "legal_process": ["preservation order", "production order"],
        "preservation_days": 90,
        "emergency_contact": "+00 1 5550 0199 (abuse desk, 24/7)",
        "last_verified": "2026-11-02",
        "notes": "Answers preservation orders within 24 hours.",
    },
    ("POST", f"{ID}/provider-orders"): {"provider": "Example Hosting SAS"},
    ("POST", f"{ID}/provider-orders/{{order_id}}/confirmed"): {"confirmed_on": "2026-12-19"},
    ("POST", R): PRESERVATION,
    ("PATCH", ID): {"necessity": "Rented servers are deleted within days of an attack."},
    ("POST", f"{ID}/send"): {},
    ("POST", f"{ID}/evidence/uploads"): {"file_name": "ransom-note.txt", "size": 56},
    ("POST", f"{ID}/evidence/send"): {},
    ("POST", f"{ID}/other-basis"): BASIS,
    ("POST", f"{ID}/withdraw"): {"note": "Drafted twice; VN-2026-000003 goes instead."},
    ("POST", f"{ID}/close"): {"note": "The data came under the follow-up MLA request."},
    ("POST", f"{ID}/phone-contact"): {
        "at": "2026-11-29T15:55:00+07:00",
        "counterpart": "FR duty officer, OCLCTIC",
        "summary": "Announced the preservation request; FR will alert the provider.",
    },
    ("POST", f"{ID}/acknowledge"): {"note": "Taken up by the duty officer."},
    ("POST", f"{ID}/clarification"): {"question": "Which source ports were seen at 21:14?"},
    ("POST", f"{ID}/clarification/answer"): {"answer": "Ports 51234 and 51240."},
    ("POST", f"{ID}/preservation"): {"until": "2027-02-27"},
    ("POST", f"{ID}/preservation/at-risk"): {
        "note": "The provider rotates disk snapshots weekly; the images may be incomplete."
    },
    ("POST", f"{ID}/preservation/extend"): {"until": "2027-05-28"},
    ("POST", f"{ID}/refuse"): {
        "grounds": ["essential_interests"],
        "reasons": "Disclosing the person's location would endanger an ongoing operation.",
    },
    ("POST", f"{ID}/execute"): {
        "partial": False,
        "results": {"summary": "Logs and disk images disclosed.", "evidence_ids": ["ev-1"]},
    },
    ("POST", f"{ID}/consent-request"): {"to": "DZ"},
    ("POST", f"{ID}/consent"): {"to": "DZ", "granted": True},
    ("POST", f"{ID}/forward"): {"to": "DZ"},
}
LOCATE = {
    "kind": "locate_suspect",
    "to": "FR",
    "urgency": "routine",
    "requesting_authority": "Viet Nam 24/7 point of contact, officer N. V. An.",
    "offence": 10,
    "summary_of_facts": "The server renting account was paid by a person named below.",
    "person_sought": "A man using the name 'K. Dorn', born around 1995; address in Lille.",
}


def body(method: str, path: str) -> dict[str, Any]:
    return dict(BODIES[(method, path)])


def tour(root: Path) -> list[Exchange]:
    recorded: list[Exchange] = []
    with api_nodes(root, recorded=recorded) as (vn, fr, clock):
        dz = api_node(root, "dz-cert", "DZ", clock)
        pin_each_other(fr.node, dz.node)
        try:
            # Drafting and sending (VN).
            incomplete = {k: v for k, v in PRESERVATION.items() if k != "necessity"}
            pid = vn.post(R, "an", json=incomplete, label="draft").json()["id"]
            vn.post(f"{R}/{pid}/send", "an", label="send-incomplete")
            vn.patch(f"{R}/{pid}", "an", json=body("PATCH", ID), label="patch")
            vn.post(
                f"{R}/{pid}/phone-contact",
                "an",
                json=body("POST", f"{ID}/phone-contact"),
                label="phone-contact",
            )
            vn.post(f"{R}/{pid}/send", "an", json={}, label="send")
            deliver(vn, fr)
            clock.advance(timedelta(minutes=4))

            # The requested desk (FR).
            fr.get("/api/v1/inbox", "claire", label="inbox")
            fr.post(
                f"{R}/{pid}/acknowledge",
                "claire",
                json=body("POST", f"{ID}/acknowledge"),
                label="acknowledge",
            )
            fr.post(
                f"{R}/{pid}/clarification",
                "claire",
                json=body("POST", f"{ID}/clarification"),
                label="clarification",
            )
            deliver(vn, fr)
            vn.post(
                f"{R}/{pid}/clarification/answer",
                "an",
                json=body("POST", f"{ID}/clarification/answer"),
                label="clarification-answer",
            )
            deliver(vn, fr)
            clock.advance(timedelta(minutes=30))
            fr.post(
                f"{R}/{pid}/preservation",
                "claire",
                json={"until": "2027-01-27"},
                label="preservation-too-short",
            )
            fr.post(
                f"{R}/{pid}/preservation",
                "claire",
                json=body("POST", f"{ID}/preservation"),
                label="preservation",
            )
            fr.post(f"{R}/{pid}/forward", "claire", json={"to": "DZ"}, label="forward-restricted")
            fr.post(
                f"{R}/{pid}/preservation/extend",
                "claire",
                json=body("POST", f"{ID}/preservation/extend"),
                label="preservation-extend",
            )
            fr.post(
                f"{R}/{pid}/preservation/at-risk",
                "claire",
                json=body("POST", f"{ID}/preservation/at-risk"),
                label="preservation-at-risk",
            )
            deliver(vn, fr)
            vn.get(f"{R}/{pid}", "an", label="read")

            # FR asks VN's consent; VN's signed answer allows the forward (FR → DZ).
            fr.post(
                f"{R}/{pid}/consent-request",
                "claire",
                json=body("POST", f"{ID}/consent-request"),
                label="consent-request",
            )
            deliver(vn, fr)
            vn.post(f"{R}/{pid}/consent", "an", json=body("POST", f"{ID}/consent"), label="consent")
            deliver(vn, fr)
            fr.post(
                f"{R}/{pid}/forward", "claire", json=body("POST", f"{ID}/forward"), label="forward"
            )

            # The follow-up MLA request, executed by FR's central authority.
            clock.advance(timedelta(days=20))
            deliver(vn, fr, dz)
            mla = vn.post(R, "vn-ca", json=MLA | {"related_reference": "VN-2026-000001"})
            vn.post(f"{R}/{mla.json()['id']}/send", "vn-ca")
            mla = mla.json()["id"]
            deliver(vn, fr)
            fr.post(
                f"{R}/{mla}/execute", "fr-ca", json=body("POST", f"{ID}/execute"), label="execute"
            )
            deliver(vn, fr)
            vn.post(f"{R}/{pid}/close", "an", json=body("POST", f"{ID}/close"), label="close")

            # Refusal, withdrawal, another legal basis.
            lid = vn.post(R, "an", json=LOCATE).json()["id"]
            vn.post(f"{R}/{lid}/send", "an")
            deliver(vn, fr)
            fr.post(
                f"{R}/{lid}/refuse", "claire", json=body("POST", f"{ID}/refuse"), label="refuse"
            )
            deliver(vn, fr)
            twice = vn.post(R, "an", json=LOCATE).json()["id"]
            vn.post(
                f"{R}/{twice}/withdraw", "an", json=body("POST", f"{ID}/withdraw"), label="withdraw"
            )
            jp = vn.post(R, "an", json=PRESERVATION | {"to": "JP"}).json()["id"]
            vn.post(f"{R}/{jp}/send", "an", label="send-no-basis")
            vn.post(f"{R}/{jp}/other-basis", "vn-ca", json=BASIS, label="other-basis")
            vn.get(f"{R}?direction=outgoing&status=closed&status=refused", "an", label="list")

            # Reference data.
            for username, position in (("an", Position.PRIMARY), ("vn-ca", Position.BACKUP)):
                accounts.add_shift(
                    vn.runtime.uow_factory(),
                    username=username,
                    position=position,
                    starts_at=clock.now() - timedelta(hours=1),
                    ends_at=clock.now() + timedelta(hours=11),
                    now=clock.now(),
                    actor="test",
                )
            with vn.runtime.uow_factory() as uow:
                uow.contact_points.upsert(FR_CONTACT, at=clock.now())
                uow.commit()
            vn.get("/api/v1/directory", "an", label="directory")

            # Drills answered by a person: VN drills FR, FR's officer acknowledges.
            (drill,) = vn.post(
                "/api/v1/drills", "an", json=body("POST", "/api/v1/drills"), label="drills-start"
            ).json()["drills"]
            deliver(vn, fr)
            clock.advance(timedelta(minutes=3))
            fr.post(
                f"/api/v1/drills/{drill['id']}/acknowledge",
                "claire",
                json={},
                label="drill-acknowledge",
            )
            deliver(fr, vn)
            vn.get("/api/v1/drills", "an", label="drills")
            vn.get("/api/v1/treaty/between?a=VN&b=FR&on=2026-11-30", "an", label="treaty-between")
            vn.get(
                "/api/v1/treaty/status?instrument=uncc&on=2026-11-30", "an", label="treaty-status"
            )
            vn.get("/api/v1/treaty/grounds?instrument=uncc", "an", label="treaty-grounds")

            # Evidence: a resumable upload by offset (docs/api.md, "Evidence").
            with_evidence_key(vn.node)
            note = b"Your files are encrypted; pay 5 BTC to the address below"
            started = vn.post(
                f"{R}/{pid}/evidence/uploads", "an",
                json={"file_name": "ransom-note.txt", "size": len(note)},
                label="evidence-upload-start",
            ).json()  # fmt: skip
            upath = f"/api/v1/evidence/uploads/{started['upload_id']}"
            vn.patch(upath, "an", content=note[:24], headers={"Upload-Offset": "0"},
                     label="evidence-upload-part")  # fmt: skip
            vn.get(upath, "an", label="evidence-upload-status")
            vn.patch(upath, "an", content=note[:24], headers={"Upload-Offset": "0"},
                     label="evidence-upload-conflict")  # fmt: skip
            vn.patch(upath, "an", content=note[24:], headers={"Upload-Offset": "24"},
                     label="evidence-upload-last")  # fmt: skip
            vn.get(f"{R}/{pid}/evidence", "an", label="evidence-list")
            vn.post(f"{R}/{pid}/evidence/send", "an", json={}, label="evidence-send")

            # Service providers: FR's supervisor registers one; FR's officer orders it to
            # preserve a received request's data and records the day it confirmed.
            sid = vn.post(R, "an", json=PRESERVATION).json()["id"]
            vn.post(f"{R}/{sid}/send", "an")
            deliver(vn, fr)
            fr.post(f"{R}/{sid}/acknowledge", "claire")
            fr.tokens.update(add_users(fr.node, {"paul": Role.SUPERVISOR}, clock.now()))
            fr.post("/api/v1/providers", "paul", json=body("POST", "/api/v1/providers"),
                    label="provider-save")  # fmt: skip
            fr.get("/api/v1/providers", "claire", label="providers")
            order = fr.post(
                f"{R}/{sid}/provider-orders", "claire",
                json=body("POST", f"{ID}/provider-orders"), label="provider-order",
            ).json()  # fmt: skip
            clock.advance(timedelta(days=1))
            fr.post(
                f"{R}/{sid}/provider-orders/{order['id']}/confirmed", "claire",
                json=body("POST", f"{ID}/provider-orders/{{order_id}}/confirmed"),
                label="provider-confirmed",
            )  # fmt: skip
            fr.get(f"{R}/{sid}/provider-orders", "claire", label="provider-orders")
            deliver(vn, fr)

            # Errors every client meets.
            vn.get("/api/v1/inbox", None, label="unauthorized")
            vn.get(f"{R}/{pid}", "vn-admin", label="forbidden")
            vn.post(
                R,
                "an",
                json={"kind": "preservation", "to": "FR", "urgency": "urgent", "neccessity": "x"},
                label="unknown-field",
            )
            vn.post(
                f"{R}/{pid}/close",
                "an",
                content=b'{"note": "unfinished',
                headers={"Content-Type": "application/json"},
                label="malformed",
            )
            vn.post(
                R,
                "an",
                content=b"{" + b" " * 300_000 + b"}",
                headers={"Content-Type": "application/json"},
                label="too-large",
            )
        finally:
            dz.node.close()
    return recorded
