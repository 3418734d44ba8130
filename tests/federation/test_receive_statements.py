"""SQL statements per received message: the inbox hot path must not grow (issue 14).

Every statement the database driver executes while FR receives one drill ping (a new
message: store, answer with a pong, audit) and the same ping again (a duplicate: answer the
stored receipt) is counted with an SQLAlchemy ``before_cursor_execute`` listener; the
ceilings are the figures the lean path reached. A change that adds a statement to the hot
path fails here and must say why in the commit that raises the ceiling.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event
from test_inbox_batch import post_batch
from test_inbox_endpoint import Scene, post
from test_inbox_endpoint import scene as scene  # the fixture

# BEGIN IMMEDIATE; INSERT inbox ... ON CONFLICT DO NOTHING RETURNING id; INSERT outbox (the
# pong) RETURNING id; SELECT the audit head (seq, hash); INSERT two audit entries (drill
# answered, message received: the second chains on the first without a read). Was 20 in
# three transactions before issue 14.
NEW_MESSAGE_CEILING = 6
# BEGIN IMMEDIATE; the INSERT that finds the message stored; SELECT its receipt. Was 7.
DUPLICATE_CEILING = 3


@contextmanager
def counted() -> Iterator[list[str]]:
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(Engine, "before_cursor_execute", count)


def test_a_new_ping_is_received_in_one_transaction_of_six_statements(scene: Scene) -> None:
    post(scene, scene.envelope())  # warm: the peer's keys are read once, then cached
    envelope = scene.envelope()
    with counted() as statements:
        status, body = post(scene, envelope)
    assert status == 200, body
    assert body["duplicate"] is False
    assert len(statements) <= NEW_MESSAGE_CEILING, "\n".join(statements)
    assert sum(s.startswith("BEGIN") for s in statements) == 1


def test_a_duplicate_ping_is_answered_in_one_transaction_of_three_statements(
    scene: Scene,
) -> None:
    envelope = scene.envelope()
    post(scene, envelope)
    with counted() as statements:
        status, body = post(scene, envelope)
    assert status == 200, body
    assert body["duplicate"] is True
    assert len(statements) <= DUPLICATE_CEILING, "\n".join(statements)
    assert sum(s.startswith("BEGIN") for s in statements) == 1


# A batch of new pings (docs/protocol.md §5.5): BEGIN IMMEDIATE and the audit head once;
# per envelope the inbox INSERT, the pong's INSERT and the two audit INSERTs.
BATCH_FIXED_CEILING = 2
BATCH_PER_ENVELOPE_CEILING = 4


def test_a_batch_of_new_pings_is_received_in_one_transaction_of_four_statements_each(
    scene: Scene,
) -> None:
    post(scene, scene.envelope())  # warm: the peer's keys are read once, then cached
    envelopes = [scene.envelope(body={"note": f"n{i}"}) for i in range(10)]
    with counted() as statements:
        status, answer = post_batch(scene, envelopes)
    assert status == 200, answer
    assert [i["duplicate"] for i in answer["results"]] == [False] * 10
    ceiling = BATCH_FIXED_CEILING + BATCH_PER_ENVELOPE_CEILING * len(envelopes)
    assert len(statements) <= ceiling, "\n".join(statements)
    assert sum(s.startswith("BEGIN") for s in statements) == 1
