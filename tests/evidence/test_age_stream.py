"""The streaming age check used while evidence arrives (adapters/crypto/age_stream.py)
against files that pyrage (rage) writes, fed in pieces of every awkward size."""

from __future__ import annotations

import hashlib
import os

import pyrage
import pytest

from hanoi247.adapters.crypto.age_stream import (
    AgeFormatError,
    AgeStreamDecryptor,
    PlaintextCheck,
    identity_secret,
)
from hanoi247.domain.errors import IntegrityError

SEGMENT = 64 * 1024


def _identity() -> pyrage.x25519.Identity:
    return pyrage.x25519.Identity.generate()


def _decrypt(ciphertext: bytes, identity: object, piece: int) -> AgeStreamDecryptor:
    decryptor = AgeStreamDecryptor([identity_secret(str(identity))])
    for at in range(0, len(ciphertext), piece):
        decryptor.feed(ciphertext[at : at + piece])
    decryptor.finish()
    return decryptor


@pytest.mark.parametrize("size", [0, 1, SEGMENT - 1, SEGMENT, SEGMENT + 1, 3 * SEGMENT, 1_000_003])
@pytest.mark.parametrize("piece", [1_000, 7_777, 4 * 1024 * 1024])
def test_a_pyrage_file_to_two_recipients_decrypts_for_each_to_the_same_sha256(
    size: int, piece: int
) -> None:
    first, second = _identity(), _identity()
    plaintext = os.urandom(size)
    ciphertext = pyrage.encrypt(plaintext, [first.to_public(), second.to_public()])
    for identity in (first, second):
        decryptor = _decrypt(ciphertext, identity, piece)
        assert decryptor.sha256.hexdigest() == hashlib.sha256(plaintext).hexdigest()
        assert decryptor.size == size


@pytest.mark.parametrize("piece", [SEGMENT + 16, 2 * (SEGMENT + 16), 4 * 1024 * 1024])
def test_segments_spanning_pieces_of_transfer_chunk_and_segment_sizes_decrypt(piece: int) -> None:
    """Segments opened in place in each piece, the rest of one carried to the next: pieces
    that end exactly on a segment boundary, and 4 MiB transfer chunks of a 9 MiB file."""
    identity = _identity()
    plaintext = os.urandom(9 * 1024 * 1024 + 3)
    ciphertext = pyrage.encrypt(plaintext, [identity.to_public()])
    decryptor = _decrypt(ciphertext, identity, piece)
    assert decryptor.sha256.hexdigest() == hashlib.sha256(plaintext).hexdigest()
    assert decryptor.size == len(plaintext)


@pytest.mark.parametrize("where", [30, 100, -1, -20, -(SEGMENT + 40)])
def test_a_flipped_byte_anywhere_is_refused(where: int) -> None:
    identity = _identity()
    ciphertext = bytearray(pyrage.encrypt(os.urandom(3 * SEGMENT + 5), [identity.to_public()]))
    ciphertext[where] ^= 0x01
    with pytest.raises(AgeFormatError):
        _decrypt(bytes(ciphertext), identity, 7_777)


def test_a_header_byte_that_is_no_longer_base64_is_a_format_error() -> None:
    """A flipped bit can turn a stanza's base64 into a character outside the alphabet:
    that is the refusal above too, not a stray ``binascii.Error`` (was 1 run in 8)."""
    identity = _identity()
    ciphertext = bytearray(pyrage.encrypt(b"evidence", [identity.to_public()]))
    share = ciphertext.index(b"-> X25519 ") + len(b"-> X25519 ")
    ciphertext[share] = ord("!")
    with pytest.raises(AgeFormatError, match="base64"):
        _decrypt(bytes(ciphertext), identity, 7_777)


@pytest.mark.parametrize("cut", [SEGMENT + 16, 2 * (SEGMENT + 16), 10])
def test_a_file_cut_at_a_segment_boundary_or_in_its_header_is_refused(cut: int) -> None:
    identity = _identity()
    ciphertext = pyrage.encrypt(os.urandom(3 * SEGMENT + 5), [identity.to_public()])
    payload_start = len(ciphertext) - (3 * (SEGMENT + 16) + 5 + 16)  # after the nonce
    end = payload_start + cut if cut > 100 else cut
    with pytest.raises(AgeFormatError):
        _decrypt(ciphertext[:end], identity, 7_777)


def test_a_file_for_another_node_is_refused() -> None:
    ciphertext = pyrage.encrypt(b"evidence", [_identity().to_public()])
    with pytest.raises(AgeFormatError, match="not encrypted to this node"):
        _decrypt(ciphertext, _identity(), 7_777)


def test_the_threaded_check_compares_the_plaintext_with_the_expected_sha256() -> None:
    identity = _identity()
    plaintext = os.urandom(5 * SEGMENT + 3)
    ciphertext = pyrage.encrypt(plaintext, [identity.to_public()])
    secrets = [identity_secret(str(identity))]
    good = PlaintextCheck(secrets, expected_sha256=hashlib.sha256(plaintext).hexdigest())
    bad = PlaintextCheck(secrets, expected_sha256=hashlib.sha256(b"other").hexdigest())
    for check in (good, bad):
        for at in range(0, len(ciphertext), 100_000):
            check.feed(ciphertext[at : at + 100_000])
    assert good.finish() == len(plaintext)
    with pytest.raises(IntegrityError, match="manifest's SHA-256"):
        bad.finish()


def test_an_abandoned_check_stops_its_worker_thread() -> None:
    identity = _identity()
    check = PlaintextCheck([identity_secret(str(identity))], expected_sha256="0" * 64)
    check.feed(pyrage.encrypt(b"x" * 100, [identity.to_public()])[:50])
    check.close()
    assert not check._worker.is_alive()


def test_a_piece_the_check_says_it_is_done_with_may_be_overwritten_at_once() -> None:
    """The node's HTTP source reads later chunks into buffers the check gave back: each
    piece is zeroed the moment ``done`` is called, and the plaintext still verifies (the
    decryptor kept no reference into it, even for segments that span two pieces)."""
    identity = _identity()
    plaintext = os.urandom(7 * SEGMENT + 11)
    ciphertext = pyrage.encrypt(plaintext, [identity.to_public()])
    pieces = [bytearray(ciphertext[at : at + 100_000]) for at in range(0, len(ciphertext), 100_000)]
    returned: list[int] = []

    def done(piece: object) -> None:
        assert isinstance(piece, bytearray)
        returned.append(next(n for n, p in enumerate(pieces) if p is piece))
        piece[:] = bytes(len(piece))

    check = PlaintextCheck(
        [identity_secret(str(identity))],
        expected_sha256=hashlib.sha256(plaintext).hexdigest(),
        done=done,  # type: ignore[arg-type]
    )
    for piece in pieces:
        check.feed(piece)  # type: ignore[arg-type]
    assert check.finish() == len(plaintext)
    assert returned == list(range(len(pieces)))  # each once, in order


def test_pieces_after_a_failure_are_not_given_back_as_checked() -> None:
    identity = _identity()
    ciphertext = bytearray(pyrage.encrypt(os.urandom(3 * SEGMENT), [identity.to_public()]))
    ciphertext[SEGMENT + 500] ^= 1  # the second segment is altered
    pieces = [bytes(ciphertext[at : at + 50_000]) for at in range(0, len(ciphertext), 50_000)]
    returned: list[bytes] = []
    check = PlaintextCheck(
        [identity_secret(str(identity))], expected_sha256="0" * 64, done=returned.append
    )
    for piece in pieces:
        check.feed(piece)
    with pytest.raises(IntegrityError, match="does not decrypt"):
        check.finish()
    assert 0 < len(returned) < len(pieces)
    assert returned == pieces[: len(returned)]
