"""A node created before Web Push gets its VAPID key without manual surgery, and replacing
the key says what becomes of the devices subscribed under the old one (issue 12)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from at_rest_support import session_seal
from fakes import FakeClock
from hanoi247.adapters.crypto.key_files import is_sealed_file
from hanoi247.adapters.crypto.web_push import load_vapid_key, subscriber_keys
from hanoi247.adapters.federation.node import KEYS_DIR
from hanoi247.adapters.notify.push import PushChannel
from hanoi247.adapters.notify.push_key import FilePushKeyStore
from hanoi247.bootstrap import build_runtime
from hanoi247.domain.accounts import Credentials, Role, User, new_user_id
from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.push import PushSubscription
from hanoi247.entrypoints.cli import app
from node_support import make_node, mode, runtime, settings
from workflow_harness import START


def without_vapid_key(tmp_path: Path, clock: FakeClock) -> Path:
    """A node as a version before Web Push left it: every key but ``keys/vapid.pem``."""
    data_dir = make_node(tmp_path, clock)
    (data_dir / KEYS_DIR / "vapid.pem").unlink()
    return data_dir


def audit_tags(data_dir: Path, clock: FakeClock) -> list[str]:
    with runtime(data_dir, clock) as node, node.uow_factory() as uow:
        return [e.tag for e in uow.audit.entries() if e.tag.startswith("node:push_key:")]


def test_a_node_without_a_vapid_key_makes_one_sealed_and_audited_when_it_starts(
    tmp_path: Path,
) -> None:
    clock = FakeClock(START)
    data_dir = without_vapid_key(tmp_path, clock)
    key_file = data_dir / KEYS_DIR / "vapid.pem"

    node = build_runtime(settings(data_dir), clock=clock, make_push_key=True)  # as `serve`
    try:
        made = node.local.vapid_key
        assert made is not None
        assert any(isinstance(c, PushChannel) for c in node.deadlines.delivery.channels)
    finally:
        node.close()

    assert mode(key_file) == 0o600
    assert is_sealed_file(key_file.read_bytes())  # sealed like the node's other key files
    stored = load_vapid_key(key_file.parent, seal=session_seal())
    assert stored is not None
    assert stored.public_b64() == made.public_b64()
    again = build_runtime(settings(data_dir), clock=clock, make_push_key=True)
    try:  # the next start keeps it
        assert again.local.vapid_key is not None
        assert again.local.vapid_key.public_b64() == made.public_b64()
    finally:
        again.close()
    assert audit_tags(data_dir, clock) == [AuditTag.NODE_PUSH_KEY_CREATED.value]


def test_node_push_key_makes_the_missing_key_and_rotate_leaves_old_devices_to_resubscribe(
    tmp_path: Path,
) -> None:
    clock = FakeClock(START)
    data_dir = without_vapid_key(tmp_path, clock)
    where = ["--data-dir", str(data_dir)]
    runner = CliRunner()

    made = runner.invoke(app, ["node", "push-key", *where])

    assert made.exit_code == 0, made.output
    first = json.loads(made.stdout)
    assert (first["created"], first["rotated"]) == (True, False)
    assert json.loads(runner.invoke(app, ["node", "push-key", *where]).stdout)["created"] is False

    _, p256dh, _, auth = subscriber_keys()
    with runtime(data_dir, clock) as node, node.uow_factory() as uow:
        officer = User(
            id=new_user_id(START), username="lan", display_name="Lan", email="lan@example.vn",
            role=Role.OFFICER, locale="vi", timezone="Asia/Ho_Chi_Minh", created_at=START,
        )  # fmt: skip
        uow.users.add(officer, Credentials())
        # one device stored before keys were recorded, one under the current key
        uow.push_subscriptions.add(
            PushSubscription(officer.id, "https://push.example/a", p256dh, auth), at=START
        )
        uow.push_subscriptions.add(
            PushSubscription(
                officer.id, "https://push.example/b", p256dh, auth, first["public_key"]
            ),
            at=START,
        )
        uow.commit()

    rotated = runner.invoke(app, ["node", "push-key", "--rotate", *where])

    assert rotated.exit_code == 0, rotated.output
    second = json.loads(rotated.stdout)
    assert second["rotated"] is True
    assert second["public_key"] != first["public_key"]
    assert second["devices_to_subscribe_again"] == 2
    assert "turn notifications on again" in rotated.stderr
    assert not (data_dir / KEYS_DIR / ".vapid.pem.new").exists()
    with runtime(data_dir, clock) as node:
        assert node.local.vapid_key is not None
        assert node.local.vapid_key.public_b64() == second["public_key"]
        with node.uow_factory() as uow:
            devices = uow.push_subscriptions.for_user(officer.id)
    assert [d.server_key for d in devices] == [first["public_key"]] * 2
    assert not any(d.made_under(second["public_key"]) for d in devices)
    assert audit_tags(data_dir, clock) == [
        AuditTag.NODE_PUSH_KEY_CREATED.value,
        AuditTag.NODE_PUSH_KEY_ROTATED.value,
    ]


def test_of_two_processes_making_the_key_at_once_one_writes_it_and_the_other_reads_it(
    tmp_path: Path,
) -> None:
    keys_dir = without_vapid_key(tmp_path, FakeClock(START)) / KEYS_DIR
    first = FilePushKeyStore(keys_dir, seal=session_seal())
    second = FilePushKeyStore(keys_dir, seal=session_seal())

    made, created = first.create()
    found, again = second.create()  # it had seen no key, and finds the first one's

    assert (created, again) == (True, False)
    assert found == made
