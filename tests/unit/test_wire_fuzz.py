"""Whatever arrives at the inbox, ``open_envelope`` answers with ``EnvelopeRejected`` or a message.

Nothing else may escape: an unexpected exception would become a 500 and, worse, a
difference an attacker can probe.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from hanoi247.adapters.crypto.keys import NodeKeys, generate_node_keys
from hanoi247.adapters.federation.wire import (
    EnvelopeRejected,
    MessageHeader,
    RejectionCode,
    new_message_id,
    open_envelope,
    seal,
)

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
CODES = set(RejectionCode)
FUZZ = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@pytest.fixture(scope="module")
def nodes() -> tuple[NodeKeys, NodeKeys]:
    return generate_node_keys(), generate_node_keys()


@pytest.fixture(scope="module")
def envelope(nodes: tuple[NodeKeys, NodeKeys]) -> bytes:
    fr, vn = nodes
    header = MessageHeader(
        message_id=new_message_id(NOW),
        type="example.ping",
        from_node="FR",
        to_node="VN",
        sent_at=NOW,
    )
    return seal(
        header,
        {"note": "fuzz"},
        sender_signing_key=fr.signing,
        recipient_encryption_public_key=vn.public_encryption_key(),
    )


def attempt(data: bytes, nodes: tuple[NodeKeys, NodeKeys]) -> RejectionCode | None:
    """Open ``data`` as VN; the rejection code, or None if it opened."""
    fr, vn = nodes
    try:
        open_envelope(
            data,
            my_node_id="VN",
            my_encryption_keys=[vn.encryption],
            resolve_sender={"FR": [fr.public_signing_key()]}.get,
            now=NOW,
            replay_window=timedelta(minutes=5),
            max_bytes=4096,
        )
    except EnvelopeRejected as rejected:
        code, message = rejected.code, str(rejected)
    else:
        return None
    assert code in CODES
    assert message  # always a human message
    return code


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@FUZZ
@given(data=st.binary(max_size=6000))
def test_arbitrary_bytes_are_only_ever_rejected(
    nodes: tuple[NodeKeys, NodeKeys], data: bytes
) -> None:
    assert attempt(data, nodes) is not None


@FUZZ
@given(parts=st.lists(st.text(max_size=80), min_size=1, max_size=7))
def test_arbitrary_text_with_dots_is_only_ever_rejected(
    nodes: tuple[NodeKeys, NodeKeys], parts: list[str]
) -> None:
    assert attempt(".".join(parts).encode("utf-8", "surrogatepass"), nodes) is not None


@FUZZ
@given(parts=st.lists(st.text(alphabet=B64URL, max_size=120), min_size=5, max_size=5))
def test_five_base64url_segments_are_only_ever_rejected(
    nodes: tuple[NodeKeys, NodeKeys], parts: list[str]
) -> None:
    assert attempt(".".join(parts).encode(), nodes) is not None


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)


@FUZZ
@given(
    header=st.dictionaries(
        st.sampled_from(["alg", "enc", "kid", "cty", "from", "to", "epk", "zip", "crit"]),
        JSON_VALUES | st.sampled_from(["ECDH-ES+A256KW", "A256GCM", "hanoi247+jws", "FR", "VN"]),
    ),
    rest=st.lists(st.binary(max_size=64), min_size=4, max_size=4),
)
def test_forged_outer_headers_are_only_ever_rejected(
    nodes: tuple[NodeKeys, NodeKeys], header: dict[str, Any], rest: list[bytes]
) -> None:
    segment = b64(json.dumps(header).encode())
    data = ".".join([segment, *(b64(part) for part in rest)]).encode()

    assert attempt(data, nodes) is not None


@FUZZ
@given(
    position=st.integers(min_value=0),
    replacement=st.binary(min_size=0, max_size=3),
    width=st.integers(min_value=0, max_value=3),
)
def test_mutations_of_a_valid_envelope_are_only_ever_rejected(
    nodes: tuple[NodeKeys, NodeKeys],
    envelope: bytes,
    position: int,
    replacement: bytes,
    width: int,
) -> None:
    index = position % (len(envelope) + 1)
    mutated = envelope[:index] + replacement + envelope[index + width :]
    assume(mutated != envelope)

    assert attempt(mutated, nodes) is not None


@FUZZ
@given(cut=st.integers(min_value=0))
def test_truncations_of_a_valid_envelope_are_only_ever_rejected(
    nodes: tuple[NodeKeys, NodeKeys], envelope: bytes, cut: int
) -> None:
    assert attempt(envelope[: cut % len(envelope)], nodes) is not None


def test_the_fuzzed_envelope_itself_opens(
    nodes: tuple[NodeKeys, NodeKeys], envelope: bytes
) -> None:
    # Guards the mutation tests: they would pass vacuously if the original never opened.
    assert attempt(envelope, nodes) is None
