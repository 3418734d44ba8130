"""The conformance checks that send real traffic: a request, and a batch (§5.5).

Like :mod:`hanoi247.adapters.federation.conformance`, each requirement comes out as one
:class:`Result`, and nothing the node under test answers is trusted.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from hanoi247.adapters.crypto.keys import generate_node_keys
from hanoi247.adapters.federation import schemas, wire
from hanoi247.adapters.federation.batch import BATCH_PATH, batch_body
from hanoi247.adapters.federation.conformance import (
    Result,
    Run,
    check_card,
    check_ping_pong,
    check_rejections,
    receipt_problem,
)
from hanoi247.adapters.federation.conformance_kit import KitInbox


def check_request(run: Run) -> Iterator[Result]:
    now = datetime.now(UTC)
    request_id = wire.new_message_id(now)
    body = submitted_body(run, request_id, now)
    header = run.header("request.submitted", case_id=request_id)
    envelope = run.envelope(header, body)
    status, answer = run.post(envelope)
    problem = receipt_problem(run, answer, envelope, header["message_id"]) if status == 200 else ""
    yield Result(
        "§9.2",
        "a request.submitted (preservation) is accepted with a receipt",
        status == 200 and not problem,
        problem or f"got {status} {answer.get('code')!r} {answer.get('reason')!r}",
    )
    retry_header = header | {"sent_at": wire.format_time(datetime.now(UTC))}
    status2, again = run.post(run.envelope(retry_header, body))
    yield Result(
        "§5.4",
        "the request re-sealed (a retry): duplicate with the original receipt",
        status2 == 200
        and again.get("duplicate") is True
        and again.get("receipt") == answer.get("receipt"),
        f"got {status2} duplicate={again.get('duplicate')}",
    )
    broken = {k: v for k, v in body.items() if k != "links"}
    other_id = wire.new_message_id(datetime.now(UTC))
    broken["request_id"] = other_id
    status3, refused = run.post(
        run.envelope(run.header("request.submitted", case_id=other_id), broken)
    )
    yield Result(
        "§5.3",
        "a request body without a required member: 422 with its reason",
        (status3, refused.get("reason")) == (422, "message_rejected:missing_field:links"),
        f"got {status3} reason {refused.get('reason')!r}",
    )


def check_batch(run: Run) -> Iterator[Result]:
    """§5.5, optional: a batch of an authentic drill.ping and a forged one is answered item
    by item (the ping stored and receipted alone, the forgery refused alone); a node that
    does not take batches answers 404 or 405 and passes (its peers send one per POST)."""
    ping = run.header("drill.ping")
    good = run.envelope(ping, {"note": "conformance batch"})
    forged = run.envelope(run.header("drill.ping"), {}, signing=generate_node_keys().signing)
    status, data = run.post(batch_body([good, forged]), "application/json", BATCH_PATH)
    if status in (404, 405):
        yield Result(
            "§5.5", f"batches are optional: not taken here ({status}); peers send one by one", True
        )
        return
    results = data.get("results")
    problem = schemas.problem("inbox-batch-results.json", data) if status == 200 else None
    whole = status == 200 and problem is None and isinstance(results, list) and len(results) == 2
    yield Result(
        "§5.5",
        "a batch of two envelopes: 200 with one item each (inbox-batch-results.json)",
        whole,
        problem or f"got {status} {_short(data)}",
    )
    if not whole or not isinstance(results, list):
        return
    first, second = (item if isinstance(item, dict) else {} for item in results)
    problem = receipt_problem(run, first, good, ping["message_id"])
    yield Result(
        "§5.5",
        "the authentic envelope of the batch is stored and receipted alone",
        first.get("status") == 200 and not problem,
        problem or f"got {_short(first)}",
    )
    yield Result(
        "§5.5",
        "the forged envelope of the batch is refused alone: 401 bad_signature",
        (second.get("status"), second.get("code")) == (401, "bad_signature"),
        f"got {_short(second)}",
    )
    again_status, again = run.post(good)
    yield Result(
        "§5.4",
        "the batched message sent again alone: duplicate, the batch's receipt",
        again_status == 200
        and again.get("duplicate") is True
        and again.get("receipt") == first.get("receipt"),
        f"got {again_status} duplicate={again.get('duplicate')}",
    )
    empty_status, empty = run.post(b'{"envelopes":[]}', "application/json", BATCH_PATH)
    yield Result(
        "§5.5",
        "a batch without envelopes is refused whole: 400 malformed",
        (empty_status, empty.get("code")) == (400, "malformed"),
        f"got {empty_status} {empty.get('code')!r}",
    )


def _short(answer: object) -> str:
    """What the node answered, cut short for a result line (never trusted, never long)."""
    text = repr(answer)
    return text if len(text) <= 120 else text[:117] + "..."


def submitted_body(run: Run, request_id: str, now: datetime) -> dict[str, Any]:
    """A complete preservation request from the kit's State to the tested node's State."""
    return {
        "v": 1,
        "request_id": request_id,
        "reference": f"{run.kit.identity.state}-CONFORMANCE-{uuid.UUID(request_id).hex[-6:]}",
        "at": wire.format_time(now),
        "actor": "conformance-kit",
        "kind": "preservation",
        "instrument": "uncc",
        "urgency": "routine",
        "requesting_state": run.kit.identity.state,
        "requested_state": run.card.identity.state,
        "legal_basis": {"instrument": "uncc", "in_force_since": "2026-04-05"},
        "handling": {"confidential": True, "use_limited_to": None, "no_onward_transfer": True},
        "elements": {
            "requesting_authority": "Conformance kit (test traffic, no real case).",
            "offence": 7,
            "summary_of_facts": "Test traffic of the hanoi247 conformance kit.",
            "data_to_preserve": "None: this is a conformance test.",
            "relationship_to_offence": "None: this is a conformance test.",
            "custodian_or_location": "None: this is a conformance test.",
            "necessity": "None: this is a conformance test.",
            "mla_follow_up_intended": True,
        },
        "links": {"related": None, "follow_up_of": None, "extends": None, "forwarded_from": None},
        "phone_contacts": [],
    }


def run_all(run: Run, inbox: KitInbox) -> list[Result]:
    """Every check, in order; the kit's inbox must be listening."""
    results = [*check_card(run), *check_rejections(run)]
    results += [*check_ping_pong(run, inbox), *check_request(run), *check_batch(run)]
    return results
