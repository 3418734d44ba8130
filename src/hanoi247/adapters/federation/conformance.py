"""The conformance checks: another node, any implementation, exercised over the wire.

Each check is one requirement of docs/protocol.md, named by its section, and comes out as
one :class:`Result` (``PASS §5.1 …`` / ``FAIL §5.1 … (what came back)``), in the style of
Matrix's Complement. The node under test must have pinned the kit's card first
(docs/conformance.md). Nothing here trusts the node under test: answers are parsed
defensively and a wrong answer is a failed requirement, never an exception.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from hanoi247.adapters.crypto import jose_raw
from hanoi247.adapters.crypto.keys import PrivateKey, generate_node_keys, key_id
from hanoi247.adapters.crypto.public_keys import PublicKey, import_public_key
from hanoi247.adapters.federation import receipts, schemas, wire
from hanoi247.adapters.federation.canonical import canonical_json
from hanoi247.adapters.federation.conformance_kit import CARD_PATH, INBOX_PATH, Kit, KitInbox
from hanoi247.adapters.federation.node import ParsedCard

JOSE = "application/jose"


@dataclass(frozen=True, slots=True)
class Result:
    section: str
    requirement: str
    passed: bool
    detail: str = ""

    def line(self) -> str:
        mark = "PASS" if self.passed else "FAIL"
        tail = f" ({self.detail})" if self.detail and not self.passed else ""
        return f"{mark} {self.section:<7} {self.requirement}{tail}"


@dataclass
class Run:
    """One run against ``url``: the node's pinned card, the kit, the HTTP client."""

    url: str
    card: ParsedCard
    kit: Kit
    http: httpx.Client
    pong_timeout: float = 30.0

    @property
    def peer_id(self) -> str:
        return self.card.identity.node_id

    def peer_encryption_key(self) -> PublicKey:
        return import_public_key(dict(self.card.encryption_jwk))

    def peer_signing_key(self) -> PublicKey:
        return import_public_key(dict(self.card.signing_jwk))

    def header(self, message_type: str, **changes: Any) -> dict[str, Any]:
        now = datetime.now(UTC)
        fields: dict[str, Any] = {
            "protocol": wire.PROTOCOL,
            "message_id": wire.new_message_id(now),
            "type": message_type,
            "from_node": self.kit.identity.node_id,
            "to_node": self.peer_id,
            "sent_at": wire.format_time(now),
            "case_id": None,
            "in_reply_to": None,
        }
        return fields | changes

    def envelope(
        self,
        header: dict[str, Any],
        body: object,
        *,
        payload: bytes | None = None,
        jws_header: dict[str, Any] | None = None,
        outer: dict[str, str] | None = None,
        signing: PrivateKey | None = None,
    ) -> bytes:
        """An envelope built byte by byte: correct unless a test changes one piece."""
        key = signing or self.kit.keys.signing
        signed = (
            payload if payload is not None else canonical_json({"header": header, "body": body})
        )
        protected = jws_header or {
            "alg": "Ed25519",
            "kid": key_id(key),
            "typ": wire.MESSAGE_TYP,
        }
        token = jose_raw.sign_compact(protected, signed, key)
        jwe_header = {
            "alg": wire.JWE_ALG,
            "enc": wire.JWE_ENC,
            "kid": key_id(self.peer_encryption_key()),
            "cty": wire.MESSAGE_TYP,
            "from": header["from_node"],
            "to": header["to_node"],
        } | (outer or {})
        return jose_raw.encrypt_compact(
            jwe_header, token.encode("ascii"), self.peer_encryption_key()
        ).encode("ascii")

    def post(
        self, envelope: bytes, content_type: str = JOSE, path: str = INBOX_PATH
    ) -> tuple[int, dict[str, Any]]:
        try:
            response = self.http.post(
                self.url + path, content=envelope, headers={"Content-Type": content_type}
            )
        except httpx.HTTPError as exc:
            return 0, {"error": type(exc).__name__}
        try:
            data = response.json()
        except ValueError:
            data = {}
        return response.status_code, data if isinstance(data, dict) else {}


Check = Callable[[Run], Iterator[Result]]


def _expect_code(
    run: Run, section: str, what: str, envelope: bytes, status: int, code: str, **kw: str
) -> Result:
    got_status, answer = run.post(envelope, **kw)
    ok = (got_status, answer.get("code")) == (status, code)
    requirement = f"{what}: {status} {code}"
    return Result(section, requirement, ok, f"got {got_status} {answer.get('code')!r}")


def check_card(run: Run) -> Iterator[Result]:
    try:
        response = run.http.get(run.url + CARD_PATH)
        served: object = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        yield Result(
            "§1.4", "GET /federation/v1/card answers a JSON card", False, type(exc).__name__
        )
        return
    reason = schemas.problem("card.json", served)
    yield Result(
        "§1.4", "the card is valid against docs/schemas/card.json", reason is None, reason or ""
    )
    same = isinstance(served, dict) and served.get("keys") == [
        dict(run.card.signing_jwk),
        dict(run.card.encryption_jwk),
    ]
    yield Result("§1.4", "the card served holds the keys that were pinned", same, "keys differ")


def check_rejections(run: Run) -> Iterator[Result]:
    ping = run.header("drill.ping")
    good = run.envelope(ping, {"note": "conformance"})
    yield _expect_code(
        run,
        "§5.1",
        "an envelope sent as text/plain is refused",
        good,
        415,
        "unsupported_media_type",
        content_type="text/plain",
    )
    yield _expect_code(
        run, "§5.2", "garbage is refused", b"not.a.jose.envelope.x", 400, "malformed"
    )
    no_kid = {"alg": "Ed25519", "typ": wire.MESSAGE_TYP}
    yield _expect_code(
        run,
        "§4",
        "a JWS without kid is refused",
        run.envelope(run.header("drill.ping"), {}, jws_header=no_kid),
        400,
        "malformed",
    )
    spaced = canonical_json({"header": run.header("drill.ping"), "body": {}}).replace(b":", b": ")
    yield _expect_code(
        run,
        "§2.2",
        "a non-canonical payload is refused",
        run.envelope(ping, {}, payload=spaced),
        400,
        "malformed",
    )
    big = canonical_json({"header": run.header("drill.ping"), "body": {}})[:-1]
    big += b',"n":9007199254740993}'
    yield _expect_code(
        run,
        "§2.2",
        "an integer beyond 2^53-1 is refused",
        run.envelope(ping, {}, payload=big),
        400,
        "malformed",
    )
    elsewhere = run.header("drill.ping", to_node="conformance-elsewhere")
    yield _expect_code(
        run,
        "§5.2",
        "an envelope for another node is refused",
        run.envelope(elsewhere, {}),
        421,
        "wrong_recipient",
    )
    stranger = run.header("drill.ping", from_node="conformance-stranger")
    yield _expect_code(
        run,
        "§5.2",
        "an envelope from an unpinned node is refused",
        run.envelope(stranger, {}),
        403,
        "unknown_sender",
    )
    forged = run.envelope(run.header("drill.ping"), {}, signing=generate_node_keys().signing)
    yield _expect_code(
        run, "§5.2", "a signature by an unpinned key is refused", forged, 401, "bad_signature"
    )
    hour_ago = datetime.now(UTC) - timedelta(hours=1)
    old = run.header(
        "drill.ping", message_id=wire.new_message_id(hour_ago), sent_at=wire.format_time(hour_ago)
    )
    yield _expect_code(
        run,
        "§5.4",
        "a sent_at outside the replay window is refused",
        run.envelope(old, {}),
        401,
        "stale",
    )
    later = run.header(
        "drill.ping", message_id=wire.new_message_id(datetime.now(UTC) + timedelta(minutes=1))
    )
    yield _expect_code(
        run,
        "§5.2",
        "a message id made after sent_at is refused",
        run.envelope(later, {}),
        400,
        "malformed",
    )
    status, answer = run.post(run.envelope(run.header("conformance.unheard_of"), {}))
    reason = answer.get("reason")
    yield Result(
        "§5.3",
        "an unknown message type is refused: 422 unprocessable with a reason",
        (status, answer.get("code")) == (422, "unprocessable")
        and isinstance(reason, str)
        and reason.startswith("unknown_type:"),
        f"got {status} {answer.get('code')!r} reason {reason!r}",
    )
    status, answer = run.post(run.envelope(run.header("drill.ping"), {"note": "n", "extra": 1}))
    yield Result(
        "§9.3",
        "a drill.ping body with an unknown member is refused: 422",
        (status, answer.get("reason")) == (422, "message_rejected:unknown_field:extra"),
        f"got {status} reason {answer.get('reason')!r}",
    )


def receipt_problem(run: Run, answer: dict[str, Any], envelope: bytes, message_id: str) -> str:
    """Empty when ``answer`` carries a receipt for ``envelope``; else what is wrong."""
    try:
        receipt = receipts.verify_receipt(
            str(answer.get("receipt")), sender_keys=[run.peer_signing_key()]
        )
    except Exception as exc:  # noqa: BLE001 - any failure is the finding
        return f"receipt does not verify ({type(exc).__name__})"
    digest = hashlib.sha256(envelope).hexdigest()
    if not receipt.confirms(message_id=message_id, envelope_sha256=digest):
        return "receipt names another envelope"
    if receipt.receiver_node != run.peer_id:
        return "receipt names another node"
    return ""


def check_ping_pong(run: Run, inbox: KitInbox) -> Iterator[Result]:
    header = run.header("drill.ping")
    envelope = run.envelope(header, {"note": "conformance drill"})
    status, answer = run.post(envelope)
    yield Result("§9.3", "a drill.ping is accepted: 200", status == 200, f"got {status}")
    problem = receipt_problem(run, answer, envelope, header["message_id"])
    yield Result(
        "§6",
        "its receipt verifies with the card's key and names the envelope",
        status == 200 and not problem,
        problem,
    )
    again_status, again = run.post(envelope)
    same = again.get("receipt") == answer.get("receipt") and again.get("duplicate") is True
    yield Result(
        "§5.4",
        "the same envelope again: 200, duplicate, the original receipt",
        again_status == 200 and same,
        f"got {again_status} duplicate={again.get('duplicate')}",
    )
    pong = inbox.wait_for(
        lambda m: m.header.type == "drill.pong" and m.body.get("ping_id") == header["message_id"],
        run.pong_timeout,
    )
    yield Result(
        "§9.3",
        "the node answers with a drill.pong naming the ping",
        pong is not None,
        f"no pong within {run.pong_timeout:.0f} s",
    )
    if pong is not None:
        reason = schemas.body_problem("drill.pong", pong.body)
        yield Result(
            "§9.3",
            "the pong body is valid (ping_sent_at in UTC with Z)",
            reason is None and pong.header.in_reply_to == header["message_id"],
            reason or "in_reply_to is not the ping",
        )
